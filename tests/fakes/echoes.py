"""The ways an upstream can send the API key back so that it reads as the key once decoded
and cleaned, enumerated by class rather than listed by example, and an independent check
of whether a reader would see the key in a text.

Each form is the JSON text of one string literal, as a hostile upstream would put it in
an answer: the app decodes it (JSON escapes become letters), cleans it (invisible
characters go) and must mask what is left, on every surface.
"""

from __future__ import annotations

import functools
import html
import json
import re
import sys
import unicodedata
from urllib.parse import quote, unquote

# Categories a reader does not see; the boundary removes them (weather.redaction).
INVISIBLE = ("Cc", "Cf", "Zl", "Zp", "Co", "Cs")


@functools.cache
def invisible_characters() -> tuple[str, ...]:
    """Every control, format and separator character, and the ends of each private-use and
    surrogate range (thousands of code points that all behave alike)."""
    chars = [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in {"Cc", "Cf", "Zl", "Zp"}
    ]
    ends = [0xE000, 0xF8FF, 0xF0000, 0xFFFFD, 0x100000, 0x10FFFD, 0xD800, 0xDBFF, 0xDC00, 0xDFFF]
    return (*chars, *map(chr, ends))


def _escaped(char: str) -> str:
    """``char`` as a JSON escape (two surrogate escapes beyond the BMP)."""
    return json.dumps(char, ensure_ascii=True)[1:-1]


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _all_escaped(text: str) -> str:
    return '"' + "".join(f"\\u{ord(char):04x}" for char in text) + '"'


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def echo_forms(key: str) -> dict[str, str]:
    """Name -> JSON string literal that decodes and cleans to text a reader sees as ``key``."""
    middle = len(key) // 2
    forms = {
        "plain": _literal(key),
        "json-escaped letters": _all_escaped(key),
        "json-escaped every other letter": '"'
        + "".join(f"\\u{ord(c):04x}" if i % 2 else c for i, c in enumerate(key))
        + '"',
        "upper case": _literal(key.upper()),
        "fullwidth (NFKC)": _literal(_fullwidth(key)),
        "inside other text": _literal(f"Invalid API key {key}. Please see the FAQ"),
        "percent-encoded": _literal(quote(key, safe="")),
        "every character percent-encoded": _literal("".join(f"%{ord(c):02X}" for c in key)),
        "HTML character references": _literal("".join(f"&#{ord(c)};" for c in key)),
        "escapes as repr() prints them": _literal("".join(f"\\x{ord(c):02x}" for c in key)),
        "zero-width space between every letter": '"' + "\\u200b".join(key) + '"',
    }
    for char in invisible_characters():
        name = f"split by U+{ord(char):04X} {unicodedata.name(char, unicodedata.category(char))}"
        forms[name] = f'"{key[:middle]}{_escaped(char)}{key[middle:]}"'
    return forms


_ESCAPES = re.compile(r"\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})")


def reader_sees(key: str, text: str) -> bool:
    """Whether a reader would see ``key`` in ``text``: after undoing the escapes a page, a
    log line or a URL may show (character references, backslash escapes, percent-escapes),
    dropping what is invisible, folding compatibility forms and case."""
    decoded = _ESCAPES.sub(lambda m: chr(int(next(g for g in m.groups() if g), 16)), text)
    decoded = unquote(html.unescape(decoded))
    visible = "".join(c for c in decoded if unicodedata.category(c) not in INVISIBLE)
    return key.casefold() in unicodedata.normalize("NFKC", visible).casefold()
