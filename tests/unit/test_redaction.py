"""The API key never prints itself: not in a repr, a log line, a traceback or an error page."""

from __future__ import annotations

import json
import logging
import pickle
import re
import sys

import pytest
from django.test import Client

from tests.fakes.echoes import echo_forms, reader_sees
from tests.unit.conftest import STUB_KEY, UPSTREAM
from weather.clients.schema import clean_text
from weather.redaction import MASK, ApiKey, MaskingExceptionReporter, mask

SECRET = "0123456789abcdef0123456789abcdef"


def test_an_api_key_masks_itself_wherever_it_is_printed():
    key = ApiKey(SECRET)
    printed = [repr(key), str(key), f"{key}", f"{key!r}", "%s" % key, repr({"appid": key})]  # noqa: UP031
    assert all(SECRET not in text for text in printed)
    assert key.reveal() == SECRET
    assert key == ApiKey(SECRET)
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(key)


def test_a_remembered_key_is_masked_plain_quoted_and_after_appid():
    ApiKey("key+with/odd chars")
    assert mask("a key+with/odd chars b") == f"a {MASK} b"
    assert mask("q=key%2Bwith%2Fodd%20chars") == f"q={MASK}"
    assert mask("url?appid=anything-else&x=1") == f"url?appid={MASK}&x=1"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("url?appid=anything&x=1", f"url?appid={MASK}&x=1"),
        ("url?APPID=anything", f"url?APPID={MASK}"),
        ("url?AppId=anything é", f"url?AppId={MASK} é"),
        # The regex's case-insensitive "i" matches the dotted capital I, which lower()
        # turns into two characters: text that is not ASCII is always searched.
        ("url?appİd=anything", f"url?appİd={MASK}"),
        ("q=London&units=metric", "q=London&units=metric"),
    ],
)
def test_an_appid_value_is_masked_in_any_case_without_a_remembered_key(text, masked):
    assert mask(text) == masked


def test_any_logger_s_line_holding_the_key_is_masked(caplog):
    ApiKey(SECRET)
    caplog.set_level(logging.INFO)
    logging.getLogger("some.library").warning("the upstream said: bad key %s", SECRET)
    try:
        raise ValueError(f"rejected {SECRET}")
    except ValueError:
        logging.getLogger("weather.views").exception("lookup failed")
    assert "the upstream said: bad key" in caplog.text
    assert "ValueError: rejected" in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.django_db
def test_the_debug_error_page_does_not_show_the_key(settings, stubbed_services):
    """DEBUG on (as `make run` has it): a crash inside the client shows its frames, whose
    variables hold the request's parameters; the page must still not show the key."""
    settings.DEBUG = True
    stubbed_services.get(
        re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/weather\?.*"), exc=RuntimeError("boom")
    )
    response = Client(raise_request_exception=False).get("/", {"q": "London"})
    page = response.content.decode()
    assert response.status_code == 500
    assert "RuntimeError" in page
    assert "_receive" in page  # the client's own frame, with its variables, is on the page
    assert STUB_KEY not in page


# --- The key in any form a reader would recognise ----------------------------------------

ECHOES = echo_forms(SECRET)


def test_the_enumeration_covers_every_class_of_echo():
    names = " ".join(ECHOES)
    for kind in ("json-escaped", "upper case", "fullwidth", "percent", "HTML", "repr", "U+0000"):
        assert kind in names
    for char in ("\u200b", "\u202e", "\u2066", "\u2069", "\ufeff", "\u2028", "\u2029", "\x85"):
        assert f"U+{ord(char):04X}" in names
    assert len(ECHOES) > 250  # 65 controls, 170 format characters, 2 separators, ...
    # Each form, decoded and cleaned, is what a reader sees as the key.
    assert all(reader_sees(SECRET, json.loads(literal)) for literal in ECHOES.values())


@pytest.mark.parametrize("name", list(ECHOES))
def test_upstream_text_that_reads_as_the_key_is_masked_once_decoded_and_cleaned(name):
    ApiKey(SECRET)
    shown = clean_text(json.loads(ECHOES[name]))
    assert not reader_sees(SECRET, shown), shown
    assert MASK in shown


@pytest.mark.parametrize("name", list(ECHOES))
def test_a_log_line_holding_the_key_in_any_form_is_masked(name, caplog):
    ApiKey(SECRET)
    caplog.set_level(logging.INFO)
    logging.getLogger("weather.views").warning("upstream said %s", json.loads(ECHOES[name]))
    logging.getLogger("weather.views").warning("upstream said %r", json.loads(ECHOES[name]))
    assert not reader_sees(SECRET, caplog.text)


def test_clean_text_masks_before_it_cuts_so_no_part_of_the_key_is_left():
    ApiKey(SECRET)
    shown = clean_text("x" * 190 + SECRET, limit=200)
    assert SECRET[:10] not in shown
    assert shown.endswith(MASK)


def test_invisible_characters_are_removed_from_upstream_text():
    assert clean_text("Paris\u202egnp.exe\u2066\u2069\u200b\ufeff\u2028\u2029") == "Parisgnp.exe"
    assert clean_text("Zürich, 東京") == "Zürich, 東京"


@pytest.mark.parametrize(
    "name",
    ["json-escaped letters", "split by U+0000 Cc", "split by U+202E RIGHT-TO-LEFT OVERRIDE"],
)
def test_the_error_page_masks_the_key_in_frame_variables_whatever_its_form(name, rf):
    ApiKey(SECRET)
    echoed = json.loads(ECHOES[name])

    def crash(answer: str) -> None:
        raise ValueError("the upstream answered something odd")

    try:
        crash(echoed)
    except ValueError:
        reporter = MaskingExceptionReporter(rf.get("/"), *sys.exc_info())
        html, text = reporter.get_traceback_html(), reporter.get_traceback_text()
    assert "crash" in text  # the frame, with its variables, is on the page
    assert not reader_sees(SECRET, html)
    assert not reader_sees(SECRET, text)
