"""Travel alerts in the staff console, in a real headless Chromium against the real app over HTTP: an alert
created from pasted GeoJSON is drawn on the map, listed and answered by the API, with the referral of a post it
names; an invalid polygon shows shapely's reason at the area; a stale ETag shows the 412 message and a reload,
and the history undoes the newest edit;
a country alert made with the picker is drawn from the world outline and deleted after a confirmation."""

from __future__ import annotations

import orjson
import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import patch_as, sign_in, staff
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

KYIV, BERLIN = "kz-embassy-ua-kyiv", "kz-embassy-de-berlin"
ALERT_AREA = '#map path[stroke="#b00020"]'  # the alert's style; the world outline is drawn in another colour
AROUND_KYIV = {"type": "Polygon", "coordinates": [[[29.5, 49.8], [31.5, 49.8], [31.5, 51.0], [29.5, 51.0],
                                                   [29.5, 49.8]]]}


def new_alert(page: Page, title: str) -> None:
    page.click("#tab-alerts")
    page.click("#new-alert")
    expect(page.locator("#alert-editor-title")).to_have_text("New alert")
    page.select_option("#a-severity", "evacuation")
    for lang in ("en", "kk", "ru"):
        page.fill(f"#a-title-{lang}", f"{title} ({lang})")
        page.fill(f"#a-body-{lang}", f"Leave by the northern road ({lang}).")


def alerts_at(live_server: LiveServer, lat: float, lon: float) -> list[str]:
    answer = requests.get(f"{live_server.url}/v1/alerts", params={"lat": lat, "lon": lon}, timeout=5).json()
    return [f["properties"]["title"]["en"] for f in answer["features"]]


def test_create_by_pasted_geojson_drawn_listed_and_the_referral_beside(page: Page, live_server: LiveServer) -> None:
    patch_as(live_server, KYIV, {"refer_to": BERLIN}, "bob")
    sign_in(page, live_server)
    new_alert(page, "Evacuate Kyiv")
    page.fill("#a-area", orjson.dumps({"type": "Feature", "properties": {}, "geometry": AROUND_KYIV}).decode())
    page.click("#a-show")
    expect(page.locator(ALERT_AREA)).to_have_count(1)
    expect(page.locator("#area-status")).to_have_text("The area is drawn on the map.")
    page.fill("#a-missions", f"{KYIV}, {BERLIN}")
    page.locator("#a-missions").dispatch_event("change")
    expect(page.locator(f'#a-contacts [data-mission="{KYIV}"]')).to_contain_text("refers travellers to")
    page.click("#a-save")
    expect(page.locator("#alert-status")).to_have_text("Saved.")
    expect(page.locator("#alert-editor-title")).to_contain_text("Alert al-")
    expect(page.locator(ALERT_AREA)).to_have_count(1)

    listed = page.locator('#alert-list [data-state="inForce"] button.alert-item')
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Evacuate Kyiv (en)")
    expect(listed.locator(".tag")).to_have_text("evacuation")
    expect(page.locator('#alert-list [data-state="inForce"] [data-mission="kz-embassy-ua-kyiv"]')).to_contain_text(
        "refers travellers to")
    expect(page.locator("#alerts-badge")).to_have_text("1")
    assert alerts_at(live_server, 50.45, 30.52) == ["Evacuate Kyiv (en)"]
    assert alerts_at(live_server, 52.5, 13.4) == []

    # The post's editor shows the alerts that concern it with its referral beside them; the alert opens from there.
    page.click("#tab-posts")
    page.fill("#search", "Kyiv")
    page.click(f'#missions [data-id="{KYIV}"]')
    expect(page.locator('#post-alerts [data-alert] button')).to_have_text("Evacuate Kyiv (en)")
    expect(page.locator("#post-alerts [data-alert]")).to_contain_text("names this post, covers its location")
    expect(page.locator("#post-alerts .referral")).to_contain_text(BERLIN)
    expect(page.locator("#map .leaflet-marker-icon")).to_be_visible()  # the map came back to the post
    page.click("#post-alerts [data-alert] button")
    expect(page.locator("#alert-editor-title")).to_contain_text("Alert al-")
    expect(page.locator("#a-title-en")).to_have_value("Evacuate Kyiv (en)")


def test_an_invalid_polygon_shows_the_servers_reason_at_the_area(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    new_alert(page, "Bow tie")
    page.fill("#a-area", '{"type": "Polygon", "coordinates": [[[50, 35], [52, 37], [52, 35], [50, 37], [50, 35]]]}')
    page.click("#a-save")
    error = page.locator('.field-error[data-error-for="area"]')
    expect(error).to_contain_text("Self-intersection")
    expect(page.locator("#a-area")).to_be_focused()
    expect(page.locator("#alert-status")).to_contain_text("Not saved")
    # Text that is not JSON is refused before any request.
    page.fill("#a-area", '{"type": "Polygon",')
    page.click("#a-save")
    expect(error).to_contain_text("This is not JSON")
    expect(page.locator("#alert-list button.alert-item")).to_have_count(0)


def test_an_edit_with_a_stale_etag_shows_the_412_message(page: Page, live_server: LiveServer) -> None:
    body = {"severity": "warning", "title": {"en": "Floods", "kk": "Су тасқыны", "ru": "Наводнение"},
            "body": {"en": "Roads closed.", "kk": "Жолдар жабық.", "ru": "Дороги закрыты."}, "area": AROUND_KYIV}
    created = requests.post(f"{live_server.url}/v1/alerts", json=body, headers=staff(), timeout=5)
    assert created.status_code == 201, created.text
    alert_id = created.json()["id"]
    sign_in(page, live_server)
    page.click("#tab-alerts")
    page.click(f'#alert-list [data-id="{alert_id}"]')
    expect(page.locator("#a-title-en")).to_have_value("Floods")
    expect(page.locator(ALERT_AREA)).to_have_count(1)

    changed = requests.patch(f"{live_server.url}/v1/alerts/{alert_id}", json={"title": {"en": "Floods (bob)"}},
                             headers={**staff("bob"), "If-Match": created.headers["ETag"]}, timeout=5)
    assert changed.status_code == 200, changed.text
    page.fill("#a-title-en", "Floods (alice)")
    page.click("#a-save")
    expect(page.locator("#alert-conflict")).to_be_visible()
    expect(page.locator("#alert-conflict")).to_contain_text("changed by someone else")
    expect(page.locator("#alert-reload")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#a-title-en")).to_have_value("Floods (bob)")
    expect(page.locator("#alert-conflict")).to_be_hidden()
    page.fill("#a-title-en", "Floods (alice)")
    page.click("#a-save")
    expect(page.locator("#alert-status")).to_have_text("Saved.")
    assert requests.get(f"{live_server.url}/v1/alerts/{alert_id}", timeout=5).json()["title"]["en"] == "Floods (alice)"

    # The history, newest first, with each field before → after; the newest edit is undone.
    entries = page.locator("#alert-history > li")
    expect(entries).to_have_count(3)
    expect(entries.nth(1)).to_contain_text("bob")
    expect(entries.nth(0).locator('[data-path="title.en"] del')).to_have_text("Floods (bob)")
    expect(entries.nth(0).locator('[data-path="title.en"] ins')).to_have_text("Floods (alice)")
    expect(page.locator("#alert-history button.undo")).to_have_count(1)
    entries.nth(0).locator("button.undo").click()
    expect(page.locator("#alert-history-status")).to_contain_text("Undone")
    expect(page.locator("#a-title-en")).to_have_value("Floods (bob)")
    expect(entries).to_have_count(4)
    assert requests.get(f"{live_server.url}/v1/alerts/{alert_id}", timeout=5).json()["title"]["en"] == "Floods (bob)"


def test_a_country_alert_by_the_picker_then_deleted(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    new_alert(page, "Leave Ukraine")
    page.check('input[name="area-kind"][value="place"]')
    expect(page.locator("#a-by-shape")).to_be_hidden()
    page.fill("#a-country", "Atlantis")
    page.press("#a-country", "Enter")
    expect(page.locator('.field-error[data-error-for="country"]')).to_have_text("No country by that name or code.")
    page.fill("#a-country", "Ukraine")
    page.press("#a-country", "Enter")
    expect(page.locator('#a-countries [data-country="UA"]')).to_contain_text("Ukraine (UA)")
    expect(page.locator(ALERT_AREA)).to_have_count(1)  # Ukraine's world outline
    expect(page.locator("#area-status")).to_contain_text("Drawn on the map: UA")
    page.click("#a-save")
    expect(page.locator("#alert-status")).to_have_text("Saved.")
    listed = page.locator('#alert-list [data-state="inForce"] button.alert-item')
    expect(listed).to_contain_text("Ukraine (UA)")
    assert alerts_at(live_server, 50.45, 30.52) == ["Leave Ukraine (en)"]

    page.click("#a-delete")
    expect(page.locator("#delete-confirm")).to_contain_text("Delete this alert?")
    page.keyboard.press("Enter")  # focus is on Cancel: nothing is deleted
    expect(page.locator("#delete-confirm")).to_be_hidden()
    expect(listed).to_have_count(1)
    page.click("#a-delete")
    page.click("#a-delete-yes")
    expect(page.locator("#alert-editor")).to_be_hidden()
    expect(page.locator("#alert-list button.alert-item")).to_have_count(0)
    assert alerts_at(live_server, 50.45, 30.52) == []
