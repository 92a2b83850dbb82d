"""The console's history of a post in Chromium: each change's fields before → after, and an undo of a single
edit and of a bulk replace, each through the server's 409 when it would revert later edits."""

from __future__ import annotations

import orjson
import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import BERLIN, api_get, open_post, patch_as, sign_in, staff
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_history_diff_and_undo_with_the_409(page: Page, live_server: LiveServer) -> None:
    patch_as(live_server, BERLIN, {"email": "one@mfa.kz"}, "bob")
    patch_as(live_server, BERLIN, {"email": "two@mfa.kz"}, "carol")
    sign_in(page, live_server)
    open_post(page, BERLIN)
    entries = page.locator("#history > li")
    expect(entries).to_have_count(2)
    newest, older = entries.nth(0), entries.nth(1)
    expect(newest).to_contain_text("carol")
    expect(newest.locator('[data-path="properties.email"] del')).to_have_text("one@mfa.kz")
    expect(newest.locator('[data-path="properties.email"] ins')).to_have_text("two@mfa.kz")
    expect(older.locator('[data-path="properties.email"] del')).to_have_text("—")
    expect(older.locator('[data-path="properties.email"] ins')).to_have_text("one@mfa.kz")

    # Undoing bob's entry would also revert carol's later edit: the server's 409 is shown, nothing is written.
    older.locator("button.undo").click()
    expect(page.locator("#undo-conflict")).to_contain_text(BERLIN)
    assert api_get(live_server, BERLIN)[0]["properties"]["email"] == "two@mfa.kz"  # type: ignore[index]
    page.click("#undo-anyway")
    expect(page.locator("#history-status")).to_contain_text("Undone")
    assert api_get(live_server, BERLIN)[0]["properties"]["email"] is None  # type: ignore[index]
    expect(page.locator("#f-properties\\.email")).to_have_value("")
    restore = page.locator("#history > li").first
    expect(restore).to_contain_text("undone")
    expect(restore.locator('[data-path="properties.email"] del')).to_have_text("two@mfa.kz")

    # The newest entry (the undo) can itself be undone: no later edit, no 409.
    restore.locator("button.undo").click()
    expect(page.locator("#history-status")).to_contain_text("Undone")
    assert api_get(live_server, BERLIN)[0]["properties"]["email"] == "two@mfa.kz"  # type: ignore[index]


def test_undo_of_a_bulk_replace_shows_the_409_for_later_edits(page: Page, live_server: LiveServer) -> None:
    collection = requests.get(f"{live_server.url}/v1/missions", timeout=5)
    edited = orjson.loads(collection.content)
    next(f for f in edited["features"] if f["id"] == BERLIN)["properties"]["email"] = "bulk@mfa.kz"
    bulk = requests.put(f"{live_server.url}/v1/missions", json=edited, timeout=5,
                        headers={**staff("bob"), "If-Match": collection.headers["ETag"]})
    assert bulk.status_code == 200, bulk.text
    patch_as(live_server, BERLIN, {"email": "later@mfa.kz"}, "carol")
    sign_in(page, live_server)
    open_post(page, BERLIN)
    entry = page.locator("#history > li", has_text="whole dataset replaced")
    expect(entry.locator('[data-path="properties.email"] ins')).to_have_text("bulk@mfa.kz")
    entry.locator("button.undo").click()
    expect(page.locator("#undo-conflict")).to_contain_text(BERLIN)  # the hardening issue's 409, shown
    assert api_get(live_server, BERLIN)[0]["properties"]["email"] == "later@mfa.kz"  # type: ignore[index]
    page.click("#undo-anyway")
    expect(page.locator("#history-status")).to_contain_text("Undone")
    assert api_get(live_server, BERLIN)[0]["properties"]["email"] is None  # type: ignore[index]
    expect(page.locator("#f-properties\\.email")).to_have_value("")
