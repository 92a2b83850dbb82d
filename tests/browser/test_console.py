"""The staff console end to end in a real headless Chromium (Debian's, driven by Playwright): sign in, edit a
phone number and see it through the public API, get a validation error shown at the field, get a 412 conflict
shown with the other person's change, see the map preview and handle a traveller report."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import orjson
import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import JWT_SECRET, LiveServer
from yurt.auth import mint

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
BERLIN = "kz-embassy-de-berlin"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert shutil.which(CHROMIUM), "Debian's chromium is required (scripts/test.sh installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def _api(live_server: LiveServer, mission_id: str) -> tuple[dict[str, object], str]:
    response = requests.get(f"{live_server.url}/v1/missions/{mission_id}", timeout=5)
    return orjson.loads(response.content), response.headers["ETag"]


def test_console_edit_validation_and_conflict(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []
    # Script errors and CSP refusals; HTTP error statuses the test provokes on purpose are not problems.
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    report = requests.post(f"{live_server.url}/v1/missions/{BERLIN}/reports", timeout=5,
                           json={"category": "phone", "text": "main number does not answer"},
                           headers={"Authorization": "Bearer " + mint(JWT_SECRET, "t1", ["traveller"], 10)})
    assert report.status_code == 201

    # A token without the staff scope is refused, with the server's message.
    page.goto(live_server.url + "/staff/")
    page.fill("#token", mint(JWT_SECRET, "tourist", ["traveller"], 10))
    page.click("#sign-in-button")
    expect(page.locator("#sign-in-error")).to_contain_text("staff")

    page.fill("#token", mint(JWT_SECRET, "alice", ["staff"], 10))
    page.click("#sign-in-button")
    page.fill("#search", "berlin")
    page.click(f'#missions li[data-id="{BERLIN}"]')
    expect(page.locator("#editor-title")).to_contain_text(BERLIN)
    assert page.locator("#land path").count() > 50  # the offline world outline
    assert abs(float(page.get_attribute("#pin", "cx") or "nan") - 13.3777) < 1e-6

    # Edit a phone number; the public API serves it at once.
    page.fill('[data-path="properties.phones[0].number"]', "+49 30 111 2222")
    page.click("#save")
    expect(page.locator("#status")).to_have_text("Saved.")
    feature, _ = _api(live_server, BERLIN)
    assert feature["properties"]["phones"][0]["number"] == "+49 30 111 2222"  # type: ignore[index]
    expect(page.locator("#history li").first).to_contain_text("alice")

    # A validation error from the server's schema appears at the field; nothing is written.
    page.fill("#f-properties\\.email", "not-an-address")
    page.click("#save")
    error = page.locator('.field-error[data-error-for="properties.email"]')
    expect(error).to_contain_text("e-mail")
    expect(page.locator("#f-properties\\.email")).to_have_class("invalid")
    assert _api(live_server, BERLIN)[0]["properties"]["email"] is None  # type: ignore[index]
    page.fill("#f-properties\\.email", "")

    # Bob saves a change meanwhile; Alice's save is refused and shows Bob's change.
    _, etag = _api(live_server, BERLIN)
    bob = requests.patch(f"{live_server.url}/v1/missions/{BERLIN}", timeout=5,
                         json={"properties": {"email": "bob@mfa.kz"}},
                         headers={"Authorization": "Bearer " + mint(JWT_SECRET, "bob", ["staff"], 10),
                                  "If-Match": etag})
    assert bob.status_code == 200
    page.fill("#f-properties\\.city", "Berlin-Mitte")
    page.click("#save")
    expect(page.locator("#conflict")).to_be_visible()
    expect(page.locator('#conflict-rows tr[data-path="properties.email"] .theirs')).to_contain_text("bob@mfa.kz")
    expect(page.locator("#conflict-who")).to_contain_text("bob")
    assert _api(live_server, BERLIN)[0]["properties"]["city"] == "Berlin"  # type: ignore[index]

    # Load the saved version, redo the edit, save: both changes are kept.
    page.click("#take-theirs")
    expect(page.locator("#f-properties\\.email")).to_have_value("bob@mfa.kz")
    page.fill("#f-properties\\.city", "Berlin-Mitte")
    page.click("#save")
    expect(page.locator("#status")).to_have_text("Saved.")
    saved = _api(live_server, BERLIN)[0]["properties"]
    assert saved["city"] == "Berlin-Mitte" and saved["email"] == "bob@mfa.kz"  # type: ignore[index]

    # The traveller's report is listed and can be resolved.
    expect(page.locator("#reports li").first).to_contain_text("main number does not answer")
    page.click("#reports li button")
    expect(page.locator("#reports")).to_contain_text("No open reports.")
    assert problems == [], problems
