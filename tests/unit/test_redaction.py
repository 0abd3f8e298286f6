"""The API key never prints itself: not in a repr, a log line, a traceback or an error page."""

from __future__ import annotations

import logging
import pickle
import re

import pytest
from django.test import Client

from tests.unit.conftest import STUB_KEY, UPSTREAM
from weather.redaction import MASK, ApiKey, mask

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
    assert "_get_once" in page  # the client's own frame, with its variables, is on the page
    assert STUB_KEY not in page
