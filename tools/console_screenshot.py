"""Take the README's screenshots of the staff console (docs/console.png, docs/console-360.png,
docs/console-alerts.png).

Runs the app on the shipped dataset in a temporary data folder, signs in with a development token in Debian's
chromium (Playwright, as the browser tests do), filters the work list by a missing field and opens a consulate
general whose district is drawn on the map; then publishes three sample alerts and opens one on the alerts tab.
Run: ``.venv/bin/python tools/console_screenshot.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import requests
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import JWT_SECRET, LiveServer  # noqa: E402
from yurt import create_app  # noqa: E402
from yurt.core.auth import mint  # noqa: E402
from yurt.core.settings import Settings  # noqa: E402

POST = "kz-cg-de-frankfurt-am-main"
TEXT = {"en": "Sample text.", "kk": "Үлгі мәтін.", "ru": "Пример текста."}
SAMPLE_ALERTS = [
    {"severity": "evacuation", "title": {"en": "Leave Tehran by land", "kk": "Тегераннан құрлықпен кетіңіз",
                                         "ru": "Покиньте Тегеран по суше"},
     "area": {"type": "Polygon", "coordinates": [[[50.3, 35.2], [52.4, 34.9], [52.8, 36.2], [51.0, 36.6],
                                                  [50.3, 35.2]]]},
     "missions": ["kz-embassy-ir-tehran", "kz-embassy-az-baku"]},
    {"severity": "warning", "title": {"en": "Floods in Fiji", "kk": "Фиджидегі су тасқыны",
                                      "ru": "Наводнения на Фиджи"}, "countries": ["FJ"]},
    {"severity": "advisory", "title": {"en": "Strikes in Paris", "kk": "Париждегі ереуілдер",
                                       "ru": "Забастовки в Париже"}, "subdivisions": ["FR-75C"]},
]


def alerts_screenshot(browser: Browser, url: str) -> None:
    staff = {"Authorization": "Bearer " + mint(JWT_SECRET, "a.consul", ["staff"], 60)}
    ids = []
    for alert in SAMPLE_ALERTS:
        response = requests.post(f"{url}/v1/alerts", json={"body": TEXT, **alert}, headers=staff, timeout=30)
        response.raise_for_status()
        ids.append(response.json()["id"])
    page = browser.new_context(viewport={"width": 1280, "height": 1180}, locale="en-GB").new_page()
    page.goto(url + "/staff/")
    page.fill("#token", staff["Authorization"].removeprefix("Bearer "))
    page.click("#sign-in-button")
    page.wait_for_selector("#missions button.post")
    page.click("#tab-alerts")
    page.click(f'#alert-list [data-id="{ids[0]}"]')
    page.wait_for_selector('#map path[stroke="#b00020"]')
    page.wait_for_timeout(800)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ROOT / "docs" / "console-alerts.png"))
    print("wrote docs/console-alerts.png")


def main() -> None:
    settings = Settings(data_file=ROOT / "data" / "embassies.geojson", data_dir=Path(tempfile.mkdtemp()),
                        jwt_secret=JWT_SECRET, log_level="WARNING")
    app = create_app(settings)
    with LiveServer(app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for width, height, name in ((1280, 1180, "console.png"), (360, 760, "console-360.png")):
            page = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB").new_page()
            page.goto(server.url + "/staff/")
            page.fill("#token", mint(JWT_SECRET, "a.consul", ["staff"], 60))
            page.click("#sign-in-button")
            page.wait_for_selector("#missions button.post")
            page.select_option("#filter-type", "consulate_general")
            page.select_option("#filter-missing", "hours")
            page.click(f'#missions [data-id="{POST}"]')
            page.wait_for_selector("#map path.leaflet-interactive, #map .leaflet-marker-icon")
            page.wait_for_timeout(800)
            if width > 900:  # fold the sections above the map, as staff do
                for section in ("sIdentity", "sContacts", "sServices"):
                    page.click(f'details[data-section="{section}"] > summary')
                page.evaluate("window.scrollTo(0, 0)")
                page.mouse.move(0, height - 1)
                page.wait_for_timeout(300)
            page.screenshot(path=str(ROOT / "docs" / name))
            print(f"wrote docs/{name}")
        alerts_screenshot(browser, server.url)
        browser.close()
    app.extensions["yurt"].close()


if __name__ == "__main__":
    main()
