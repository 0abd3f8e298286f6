"""Browser fixtures: Debian's Chromium, driven by Playwright, against a live server.

The live server is pytest-django's (the real app in a thread of this process, on
127.0.0.1), pointed by ``live_settings`` at a real OpenBao server and the fake
OpenWeather server. Every page a test opens is watched: a console error, an
uncaught exception, a Content-Security-Policy violation or a failed request fails
the test, whichever page it happened on.

Screenshots go to ``reports/screenshots/`` (a CI artifact, not committed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    sync_playwright,
)

# Playwright's sync API keeps an asyncio loop running in this thread, which Django's
# guard against ORM calls from async code mistakes for one; the tests' ORM calls are sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
REPORTS = Path(os.environ.get("E2E_REPORTS_DIR", ROOT / "reports"))
SCREENSHOTS = REPORTS / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Playwright adds --headless and a fresh --user-data-dir itself. The rest keep Chromium
# from phoning home (background networking, component updates, sync) and let it run as
# root in a container (no sandbox) without a GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
# Filled by test_lighthouse.py, printed (and saved) when the run ends.
LIGHTHOUSE_SCORES: dict[str, dict[str, Any]] = {}
PHONE = {"width": 320, "height": 640}

# Reports every CSP violation to the test, from every document the page loads. Init
# scripts are injected by the browser itself, so the page's own policy does not apply.
_WATCH_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`
  );
});
"""


@dataclass
class PageWatch:
    """What went wrong in the browser while a test ran."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    # Documents a test expects to answer with an error status (e.g. 404 for "not found").
    expected_statuses: dict[str, int] = field(default_factory=dict)

    def add_csp_violation(self, text: str) -> None:
        self.csp_violations.append(text)

    def expect_status(self, path_and_query: str, status: int) -> None:
        self.expected_statuses[path_and_query] = status

    def problems(self) -> list[str]:
        return [
            *(f"console error: {text}" for text in self.console_errors),
            *(f"uncaught exception: {text}" for text in self.page_errors),
            *(f"CSP violation: {text}" for text in self.csp_violations),
            *(f"failed request: {text}" for text in self.failed_requests),
        ]

    def assert_clean(self) -> None:
        assert self.problems() == []


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _watch(page: Page, watch: PageWatch) -> None:
    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # Chromium reports a document's own error status in the console; an expected one
        # (the 404 of "no such place") is the page working, not a problem.
        location = message.location.get("url", "") if message.location else ""
        expected = watch.expected_statuses.get(_path_and_query(location))
        if expected and f"status of {expected}" in message.text:
            return
        watch.console_errors.append(f"{message.text} ({location})")

    def on_response(response: Response) -> None:
        if response.status < 400:
            return
        target = _path_and_query(response.url)
        if watch.expected_statuses.get(target) == response.status:
            return
        watch.failed_requests.append(f"{response.status} {target}")

    def on_failed(request: Request) -> None:
        # A navigation away cancels the page's pending suggestion fetches; that is fine.
        if request.failure and "ERR_ABORTED" in request.failure:
            return
        watch.failed_requests.append(f"{request.failure} {_path_and_query(request.url)}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.on("response", on_response)
    page.on("requestfailed", on_failed)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test against a database file, as the app runs, not Django's in-memory one.

    The live server answers requests in parallel threads. An in-memory database shares
    one cache between them and fails a busy write at once ("database table is locked");
    a file gets the settings' WAL journal and busy timeout, so writers wait their turn.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("e2e-db") / "weather.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, live_settings) -> str:
    """The live server's URL, the app wired to real OpenBao and the fake upstream."""
    # Production cookies are Secure-only; this server speaks plain HTTP on loopback.
    live_settings.SESSION_COOKIE_SECURE = False
    live_settings.CSRF_COOKIE_SECURE = False
    url: str = live_server.url
    return url


@pytest.fixture
def watch() -> PageWatch:
    return PageWatch()


@pytest.fixture
def new_page(browser: Browser, site, watch) -> Iterator[Callable[..., Page]]:
    """Open watched pages, each in a fresh context (no cookies); ``options`` go to the context."""
    contexts: list[BrowserContext] = []

    def open_page(**options) -> Page:
        options = {"viewport": DESKTOP, "color_scheme": "light", **options}
        context = browser.new_context(
            base_url=site, locale="en-GB", timezone_id="UTC", service_workers="block", **options
        )
        contexts.append(context)
        context.expose_function("reportCspViolation", watch.add_csp_violation)
        context.add_init_script(script=_WATCH_CSP)
        context.set_default_timeout(10_000)
        page = context.new_page()
        _watch(page, watch)
        return page

    yield open_page
    for context in contexts:
        context.close()
    watch.assert_clean()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A desktop-sized page, light colour scheme."""
    return new_page()


@pytest.fixture
def phone(new_page: Callable[..., Page]) -> Page:
    """A 320 px wide touch page, dark colour scheme."""
    return new_page(
        viewport=PHONE, color_scheme="dark", is_mobile=True, has_touch=True, device_scale_factor=2
    )


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under reports/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    viewport = page.viewport_size
    assert viewport is not None, "pages here are opened with a viewport"
    if full_page:
        # A viewport as tall as the page, rather than full_page=True: parts styled with
        # content-visibility: auto are only painted inside the viewport.
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": viewport["width"], "height": height})
    page.screenshot(path=str(path), animations="disabled")
    page.set_viewport_size(viewport)
    return path


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the Lighthouse scores, passing or not, and keep them beside the reports."""
    if not LIGHTHOUSE_SCORES:
        return
    terminalreporter.section("Lighthouse scores (mobile, simulated throttling; median of runs)")
    for name, result in LIGHTHOUSE_SCORES.items():
        scores = "  ".join(
            f"{category} {round(score * 100)}" for category, score in result["scores"].items()
        )
        runs = ", ".join(str(round(score * 100)) for score in result["performance_runs"])
        terminalreporter.write_line(f"{name:<7} {result['url']:<14} {scores}")
        terminalreporter.write_line(
            f"        performance in each run: {runs} (the median is judged)"
        )
        for retry in result["retried"]:
            terminalreporter.write_line(f"        run again after a Lighthouse error: {retry}")
        for category, audits in result["misses"].items():
            terminalreporter.write_line(f"        below the bar in {category}: {', '.join(audits)}")
    out = REPORTS / "lighthouse"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scores.json").write_text(json.dumps(LIGHTHOUSE_SCORES, indent=2) + "\n")
