"""Take the README's screenshots of the staff console (docs/console.png, docs/console-360.png).

Runs the app on the shipped dataset in a temporary data folder, signs in with a development token in Debian's
chromium (Playwright, as the browser tests do), filters the work list by a missing field and opens a consulate
general whose district is drawn on the map. Run: ``.venv/bin/python tools/console_screenshot.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import JWT_SECRET, LiveServer  # noqa: E402
from yurt import create_app  # noqa: E402
from yurt.auth import mint  # noqa: E402
from yurt.settings import Settings  # noqa: E402

POST = "kz-cg-de-frankfurt-am-main"


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
        browser.close()
    app.extensions["yurt"].close()


if __name__ == "__main__":
    main()
