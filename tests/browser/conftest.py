"""Browser fixtures: Debian's chromium driven by Playwright, and a guard that fails a test on any request that
would leave the machine (every request is intercepted; one to a non-loopback host is aborted and recorded)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert shutil.which(CHROMIUM), "Debian's chromium is required (scripts/test.sh installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Guarded:
    """A page whose context aborts and records every request to a host other than loopback, and records
    script errors and CSP refusals."""

    def __init__(self, browser: Browser, width: int, height: int) -> None:
        self.outside: list[str] = []
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        # HTTP error statuses the tests provoke on purpose are not problems.
        self.page.on("console", lambda m: self.problems.append(m.text)
                     if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


@pytest.fixture
def guarded(browser: Browser) -> Iterator[Guarded]:
    guard = Guarded(browser, 1280, 900)
    yield guard
    guard.context.close()
    assert guard.outside == [], f"requests left the machine: {guard.outside}"
    assert guard.problems == [], guard.problems


@pytest.fixture
def page(guarded: Guarded) -> Page:
    return guarded.page
