"""Reading pages in tests: the part of a page a test is about."""

from __future__ import annotations

import re


def section_of(html: str, pattern: str) -> str:
    """The first part of ``html`` that ``pattern`` matches (across lines); fail if none."""
    match = re.search(pattern, html, re.S)
    assert match is not None, f"no {pattern!r} in the page"
    return match.group(0)
