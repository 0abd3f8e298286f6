"""The catalogs: every message translated in every language, none fuzzy, placeholders
kept, and each committed .mo compiled from its .po (the image runs without gettext)."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.LOCALE_PATHS[0])
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# %(name)s for Python and Django templates, {name} for the script's messages.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def catalog(code: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / code / "LC_MESSAGES" / "django.po"))


def compiled(code: str) -> polib.MOFile:
    return polib.mofile(str(LOCALE / code / "LC_MESSAGES" / "django.mo"))


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def key(entry: polib.POEntry | polib.MOEntry) -> tuple[str | None, str]:
    return entry.msgctxt, entry.msgid


def translations(entry: polib.POEntry | polib.MOEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[form] for form in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(code):
    po = catalog(code)
    assert len(po) > 100  # the catalog was extracted, not left empty
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []
    assert not po.metadata_is_fuzzy  # msgfmt would leave a fuzzy header (its plurals) out
    for entry in po:
        assert all(text.strip() for text in translations(entry)), entry.msgid


@pytest.mark.parametrize("code", TRANSLATED)
def test_placeholders_are_kept_in_every_translation(code):
    wrong = []
    for entry in catalog(code):
        expected = placeholders(entry.msgid) | placeholders(entry.msgid_plural or "")
        for text in translations(entry):
            if placeholders(text) != expected:
                wrong.append((entry.msgid, text))
    assert wrong == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalog_is_the_po_file_compiled(code):
    po = {key(entry): translations(entry) for entry in catalog(code) if not entry.obsolete}
    mo = {key(entry): translations(entry) for entry in compiled(code) if entry.msgid}
    assert mo == po, "run `make messages` and commit the .mo files"
    assert compiled(code).metadata.get("Plural-Forms") == catalog(code).metadata["Plural-Forms"]


def test_a_catalog_for_every_language_the_site_offers():
    found = sorted(path.parent.parent.name for path in LOCALE.glob("*/LC_MESSAGES/django.po"))
    assert found == sorted(TRANSLATED)


def test_the_checks_catch_what_they_are_for():
    broken = polib.POEntry(msgid="In %(place)s", msgstr="In {place}")
    assert placeholders(broken.msgid) != placeholders(broken.msgstr)
    assert placeholders("Suggestions: {count}, %(n)d.") == {"{count}", "%(n)d"}
