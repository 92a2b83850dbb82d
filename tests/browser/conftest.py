"""Browser fixtures: Debian's chromium driven by Playwright, and a guard that fails a test on any request that
would leave the machine (every request is intercepted; one to a non-loopback host is aborted and recorded)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import orjson
import pytest
import requests
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from tests.conftest import JWT_SECRET, LiveServer
from yurt.core.auth import mint

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
BERLIN = "kz-embassy-de-berlin"
FRANKFURT = "kz-cg-de-frankfurt-am-main"


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
    # Read the page's problems before closing: closing the context aborts fetches still in flight (the 1.4 MB
    # world outline on a loaded machine), whose "Failed to fetch" is the test's teardown, not the page's fault.
    problems = list(guard.problems)
    guard.context.close()
    assert guard.outside == [], f"requests left the machine: {guard.outside}"
    assert problems == [], problems


@pytest.fixture
def page(guarded: Guarded) -> Page:
    return guarded.page


# -- helpers shared by the console tests ----------------------------------------------------------------------

def api_get(live_server: LiveServer, mission_id: str) -> tuple[dict[str, object], str]:
    response = requests.get(f"{live_server.url}/v1/missions/{mission_id}", timeout=5)
    return orjson.loads(response.content), response.headers["ETag"]


def staff(sub: str = "alice", minutes: float = 60) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint(JWT_SECRET, sub, ["staff"], minutes)}


def patch_as(live_server: LiveServer, mission_id: str, props: dict[str, object], sub: str) -> None:
    _, etag = api_get(live_server, mission_id)
    done = requests.patch(f"{live_server.url}/v1/missions/{mission_id}", json={"properties": props}, timeout=5,
                          headers={**staff(sub), "If-Match": etag})
    assert done.status_code == 200, done.text


def sign_in(page: Page, live_server: LiveServer, sub: str = "alice", minutes: float = 60) -> None:
    page.goto(live_server.url + "/staff/")
    page.fill("#token", mint(JWT_SECRET, sub, ["staff"], minutes))
    page.click("#sign-in-button")
    expect(page.locator("#missions button.post").first).to_be_visible()


def open_post(page: Page, mission_id: str) -> None:
    page.click(f'#missions [data-id="{mission_id}"]')
    expect(page.locator("#editor-title")).to_contain_text(mission_id)
    expect(page.locator("#map .leaflet-marker-icon")).to_be_visible()
