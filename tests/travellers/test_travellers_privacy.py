"""Issue 11's smaller location-privacy leaks, through the app in both modes (embedded and real Redis):

* repeated noisy updates from one spot near a cell edge used to flip the cell (the statistics are in
  tests/geo/test_sticky_cells.py; here: the service keeps one cell);
* the public visible-travellers gauge showed one person turning presence on or off;
* a mission report's ``reporter`` was an unkeyed hash of the token's ``sub``.
"""

from __future__ import annotations

import hashlib
import time

import h3
import numpy as np
from flask import Flask
from pyproj import Geod

from tests.travellers.helpers import auth, install_clock, share
from yurt import create_app
from yurt.api.metrics import VisibleTravellers
from yurt.core.settings import Settings
from yurt.geo import privacy

GEOD = Geod(ellps="WGS84")
ALMATY = (43.2380, 76.9450)


def near_an_edge(cell: str, edge: int, inside_m: float) -> tuple[float, float]:
    """A point ``inside_m`` metres inside ``cell`` from the middle of its ``edge``-th boundary edge."""
    ring = h3.cell_to_boundary(cell)
    (lat1, lon1), (lat2, lon2) = ring[edge % len(ring)], ring[(edge + 1) % len(ring)]
    mid_lat, mid_lon = (lat1 + lat2) / 2, (lon1 + lon2) / 2
    centre = h3.cell_to_latlng(cell)
    bearing, _, _ = GEOD.inv(mid_lon, mid_lat, centre[1], centre[0])
    lon, lat, _ = GEOD.fwd(mid_lon, mid_lat, bearing, inside_m)
    return lat, lon


def test_noisy_updates_from_one_spot_keep_one_cell(mode_app: Flask) -> None:
    clock = install_clock(mode_app)
    client = mode_app.test_client()
    home = privacy.presence_cell(*ALMATY)
    rng = np.random.default_rng(5)
    would_have_flipped = 0
    for victim in range(6):
        spot = near_an_edge(home, victim, inside_m=40)
        shown, snapped = [], []
        for _ in range(48):  # a day's budget, one update every 30 minutes, GPS noise of 50 m per axis
            east, north = rng.normal(0, 50, 2)
            lon, lat, _ = GEOD.fwd(spot[1], spot[0], 90, east)
            lon, lat, _ = GEOD.fwd(lon, lat, 0, north)
            response = share(client, f"victim-{victim}", lat, lon)
            assert response.status_code == 200, response.json
            shown.append(response.json["cell"])
            snapped.append(privacy.presence_cell(lat, lon))
            clock.advance(minutes=30)
        assert len(set(shown)) == 1, victim  # the attacker sees one cell, 48 times
        would_have_flipped += len(set(snapped)) > 1
    assert would_have_flipped >= 5  # plain snapping would have told which side of the edge each stood


def exposed_gauge(app: Flask) -> float:
    """What ``/metrics`` would expose as ``yurt_visible_travellers`` now."""
    with app.app_context():
        (family,) = list(VisibleTravellers().collect())
    return float(family.samples[0].value)


def test_one_traveller_toggling_presence_does_not_show_in_the_gauge(mode_app: Flask) -> None:
    client = mode_app.test_client()  # the real clock: the gauge reads the store at scrape time
    assert exposed_gauge(mode_app) == 0

    def toggle(sub: str) -> list[float]:
        values = [exposed_gauge(mode_app)]
        assert share(client, sub, *ALMATY).status_code == 200
        values.append(exposed_gauge(mode_app))
        assert client.delete("/v1/travellers/me/presence", headers=auth(sub)).status_code == 204
        values.append(exposed_gauge(mode_app))
        return values

    assert toggle("alone") == [0, 0, 0]  # the first traveller of a quiet deployment
    for i in range(13):
        assert share(client, f"crowd-{i}", *ALMATY).status_code == 200
    assert toggle("one-more") == [10, 10, 10]
    for i in range(13, 20):
        assert share(client, f"crowd-{i}", *ALMATY).status_code == 200
    assert exposed_gauge(mode_app) == 20  # it still follows the crowd, in steps of 10
    with mode_app.app_context():
        assert mode_app.extensions["yurt"].travellers.presence.visible_count(time.time()) == 20


def test_mission_reporter_is_keyed(settings: Settings) -> None:
    """The pseudonym is computed before the store (either mode) sees the report: the embedded mode shows it."""
    sub = "auth0|1001"  # a guessable sub: an unkeyed hash of it is reversed by hashing candidates
    reporters = []
    for key in ("first-deployment-secret-0123456789abcdef", "second-deployment-secret-0123456789abcdef"):
        app = create_app(settings.replace(traveller_secret=key))
        try:
            client = app.test_client()
            body = {"category": "phone", "text": "the main number is disconnected"}
            assert client.post("/v1/missions/kz-embassy-de-berlin/reports", json=body,
                               headers=auth(sub)).status_code == 201
            listed = client.get("/v1/reports", headers=auth("boss", "staff")).json["reports"][0]  # the newest
            assert listed["reporter"] == privacy.mission_reporter_id(key.encode(), sub)
            reporters.append(listed["reporter"])
        finally:
            app.extensions["yurt"].close()
    assert reporters[0] != reporters[1]  # a function of the secret, not of the sub alone
    unkeyed = {digest(prefix + sub.encode()).hexdigest()[:n] for digest in (hashlib.sha256, hashlib.sha1,
                                                                           hashlib.md5, hashlib.blake2b)
               for prefix in (b"", b"yurt-report:") for n in (16, 32)}
    assert not unkeyed & set(reporters)
    assert len(reporters[0]) == 16 and sub not in reporters[0]
