"""Keeping the API key out of everything the app prints: logs, error pages, reprs.

The key is held as an ``ApiKey``, which masks itself wherever it is printed and gives
its value only to ``reveal()`` (called where the upstream request is built). Because
that value then travels inside a URL, every value an ``ApiKey`` was made from is also
remembered here, and masked wherever it appears:

- in every log record, whichever logger made it and whichever handler (gunicorn's,
  pytest's, ours) receives it: a log record factory formats each record once and
  masks the result, ``appid=`` values included;
- on Django's error pages, the DEBUG page included, where frame variables would
  otherwise show the request's parameters (``sensitive_variables`` only acts with
  DEBUG off): ``MaskingExceptionReporter`` masks the rendered page.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
import unicodedata
from collections import deque
from typing import Any, NoReturn
from urllib.parse import quote_plus

from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter

from weather.caching import NO_SETTING, PROCESS_CACHES

MASK = "********"
# Values this short could be ordinary words; a real key is 32 characters.
_MIN_SECRET_LENGTH = 8
_APPID = re.compile(r"(appid=)[^&\s'\"]+", re.IGNORECASE)

_lock = threading.Lock()


class _Remembered:
    """The current key and a few it rotated from, with every form of them ``mask`` looks
    for, kept as one tuple so that masking (every field of every log line) reads it
    without a lock. Only clear_all() forgets them: a changed setting does not make a
    key that was read any less secret."""

    def __init__(self) -> None:
        self.secrets: deque[_Secret] = deque(maxlen=8)
        self.forms: tuple[str, ...] = ()

    def add(self, value: str) -> None:
        with _lock:
            if all(known.value != value for known in self.secrets):
                self.secrets.append(_Secret(value))
                self.forms = tuple(form for secret in self.secrets for form in secret.forms)

    def clear(self) -> None:
        with _lock:
            self.secrets.clear()
            self.forms = ()


_remembered = PROCESS_CACHES.register(
    _Remembered(), name="redaction.secrets", cleared_by=NO_SETTING
)


class ApiKey:
    """A secret that does not print itself: ``repr``, ``str`` and ``format`` show a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember(value)

    def reveal(self) -> str:
        """The value itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return f"ApiKey({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("An ApiKey is not pickled: it would leave the process in clear")


def remember(value: str) -> None:
    """Mask ``value`` wherever it is printed from now on."""
    if len(value) >= _MIN_SECRET_LENGTH:
        _remembered.add(value)


class _Secret:
    """A remembered secret and the forms of it a reader would recognise, as skeletons."""

    __slots__ = ("forms", "value")

    def __init__(self, value: str) -> None:
        self.value = value
        # quote_plus: "+" stands for a space only in a query string, so it is its own form.
        self.forms = tuple({_skeleton(form)[0] for form in (value, quote_plus(value))} - {""})

    def __repr__(self) -> str:
        return f"_Secret({MASK!r})"


# Characters a reader does not see: control (Cc), format (Cf: zero-width, bidi
# embeddings and isolates, BOM, soft hyphen), surrogates (Cs), private use (Co), and the
# line and paragraph separators (Zl, Zp). Removing them is what ``clean`` does to text
# from the upstream; skipping them is how ``mask`` finds a secret they were put into.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})

# What a reader decodes in their head: escapes as a log line or a repr() prints them
# (\x61, \u0061, \U00000061), HTML character references (&#97; &#x61;), and URL
# percent-escapes (%61); otherwise one character.
_TOKEN = re.compile(
    r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}"
    r"|&#[0-9]{1,7};|&#[xX][0-9a-fA-F]{1,6};|%[0-9a-fA-F]{2}|.",
    re.DOTALL,
)
# Text a reader sees as it is: printable ASCII with no escape in it (the fast path).
_NEEDS_DECODING = re.compile(r"[^\x20-\x7e]|\\[xuU]|&#|%")


def clean(text: str) -> str:
    """``text`` without the characters a reader does not see (``INVISIBLE_CATEGORIES``)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) not in INVISIBLE_CATEGORIES)


def _decoded(token: str) -> str:
    if len(token) == 1:
        return token
    digits = token.lstrip("\\xuU&#%").rstrip(";")
    hexadecimal = token[1] in "xuUX" or token[0] == "%" or token[:3].lower() == "&#x"
    try:
        return chr(int(digits.lstrip("xX"), 16 if hexadecimal else 10))
    except (ValueError, OverflowError):
        return token


def _skeleton(text: str) -> tuple[str, list[tuple[int, int]]]:
    """What a reader sees of ``text``, compared loosely: escapes decoded, invisible
    characters dropped, compatibility forms folded (NFKC: fullwidth letters are letters)
    and case folded; with the span of ``text`` each skeleton character came from."""
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(text):
        char = _decoded(match.group())
        if len(char) == 1 and unicodedata.category(char) in INVISIBLE_CATEGORIES:
            continue
        for folded in unicodedata.normalize("NFKC", char).casefold():
            chars.append(folded)
            spans.append(match.span())
    return "".join(chars), spans


def _found(haystack: str, needles: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where each needle occurs in ``haystack``, as (start, end) skeleton positions."""
    found = []
    for needle in needles:
        start = haystack.find(needle)
        while start != -1:
            found.append((start, start + len(needle)))
            start = haystack.find(needle, start + 1)
    return found


def mask(text: str) -> str:
    """``text`` with every remembered secret, in any form a reader would recognise as it,
    and every ``appid=`` value masked.

    A secret is found in what a reader sees (``_skeleton``): spelt with escapes, split by
    invisible characters, in fullwidth or other case. So masking works on text as it is
    printed, whatever was decoded or cleaned on its way there."""
    if forms := _remembered.forms:
        if _NEEDS_DECODING.search(text):
            skeleton, spans = _skeleton(text)
            found = [(spans[start][0], spans[end - 1][1]) for start, end in _found(skeleton, forms)]
            text = _replaced(text, found)
        # Printable ASCII: its skeleton is itself, lower-cased, position for position.
        elif found := _found(text.lower(), forms):
            text = _replaced(text, found)
    # Most text masked (every field of every log line) has no "appid=", which _APPID
    # needs; in ASCII text a lower-cased search finds it as the regex would. Not in other
    # text: there the regex's case-insensitive "i" also matches "İ", which lower() splits.
    if "=" in text and (not text.isascii() or "appid=" in text.lower()):
        return _APPID.sub(r"\1" + MASK, text)
    return text


def _replaced(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span (merged where they overlap) replaced by the mask."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + MASK + text[end:]
    return text


class MaskingExceptionReporter(ExceptionReporter):
    """Django's error reports (the DEBUG page, admin e-mails) with every secret masked."""

    def get_traceback_html(self) -> SafeString:
        # Masking only removes text from a page Django has already escaped.
        return mark_safe(mask(super().get_traceback_html()))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(mask(super().get_traceback_text()))  # noqa: S308


def install_log_masking() -> None:
    """Mask secrets in every log record from now on (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record  # a malformed record: logging reports it as it would have
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            # Handlers reuse exc_text when it is set, so the traceback is masked too.
            record.exc_text = mask(_TRACEBACK_FORMATTER.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(masked_record)


_installed = False
_TRACEBACK_FORMATTER = logging.Formatter()
