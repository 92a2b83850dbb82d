"""Issue 11's location-privacy attacks, played against real gunicorn (2 workers) and a real Redis.

* A binary search on ``radius_km`` (the probe needed about 36 requests to learn the distance to a victim's
  cell to 1e-9 km): it must learn the band and nothing finer, and every radius within a band must give the
  same answer.
* Sybils lifting a lone victim's area over k: up to 5 accounts whose tokens were issued within the last 24 hours
  (or that carry no ``iat``, so the store's first sight of them is now) share presence in the victim's cell and
  read ``GET /v1/travellers/areas``; the victim's area must stay hidden. Established accounts still count, and
  a caller's own presence never does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import h3
import jwt
import pytest
import requests
from pyproj import Geod

from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from tests.harness.gunicorn import GunicornServer
from yurt.core.auth import mint
from yurt.geo.privacy import centre_distances_km, presence_cell

pytestmark = pytest.mark.slow

GEOD = Geod(ellps="WGS84")
DUBAI = (25.2048, 55.2708)
ALMATY = (43.2380, 76.9450)
RADIUS_EDGES_KM = (2.0, 5.0, 10.0, 25.0, 50.0)  # the band edges issue 11 names


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, redis_server_url: str) -> Iterator[GunicornServer]:
    import redis

    url = redis_server_url
    redis.Redis.from_url(url).flushdb()
    tmp = tmp_path_factory.mktemp("privacy")
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp / "var"),
           "YURT_JWT_SECRET": JWT_SECRET, "YURT_REDIS_URL": url}
    gunicorn = GunicornServer(env, tmp, workers=2)
    gunicorn.start()
    try:
        yield gunicorn
    finally:
        gunicorn.kill()
        redis.Redis.from_url(url).flushdb()


def token(sub: str, issued_hours_ago: float | None = 0.0) -> dict[str, str]:
    """A traveller token valid for an hour; ``issued_hours_ago=None``: a token with no ``iat`` at all."""
    now = time.time()
    if issued_hours_ago is None:
        raw = jwt.encode({"sub": sub, "scope": "traveller", "exp": int(now) + 3600}, JWT_SECRET, algorithm="HS256")
    else:
        raw = mint(JWT_SECRET, sub, ["traveller"], 60 + issued_hours_ago * 60, now=now - issued_hours_ago * 3600)
    return {"Authorization": f"Bearer {raw}"}


def share(server: GunicornServer, auth: dict[str, str], point: tuple[float, float], name: str) -> None:
    body = {"lat": point[0], "lon": point[1], "display_name": name, "languages": ["kk"], "share_minutes": 60}
    response = requests.put(server.url + "/v1/travellers/me/presence", json=body, headers=auth, timeout=10)
    assert response.status_code == 200, response.text


def offset(point: tuple[float, float], bearing_deg: float, km: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(point[1], point[0], bearing_deg, km * 1000)
    return lat, lon


def nearby(server: GunicornServer, auth: dict[str, str], radius_km: float) -> dict[str, Any]:
    response = requests.get(server.url + "/v1/travellers/nearby", params={"radius_km": repr(radius_km),
                                                                          "limit": 50}, headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


def test_binary_search_on_radius_learns_only_the_band(server: GunicornServer) -> None:
    viewer = token("radius-viewer")
    share(server, viewer, DUBAI, "Viewer")
    victims = {f"V{km}": offset(DUBAI, 50 + 40 * i, km) for i, km in enumerate((3.1, 7.3, 13.7, 31.9))}
    for name, point in victims.items():
        share(server, token(f"radius-{name}"), point, name)
    centre_km = dict(zip(victims, centre_distances_km(presence_cell(*DUBAI),
                                                      [presence_cell(*p) for p in victims.values()]), strict=True))
    for name in victims:
        low, high = 1.0, 50.0  # the attacker's search: the smallest radius that shows the victim
        for _ in range(36):
            mid = (low + high) / 2
            shown = any(r["display_name"] == name for r in nearby(server, viewer, mid)["results"])
            low, high = (low, mid) if shown else (mid, high)
        # Without snapping, `high` converges on the centre distance (to 1e-9 km). Now it converges on the band
        # edge below the victim's band: the attacker learns the band, as the band label already says.
        below = max(edge for edge in (1.0, *RADIUS_EDGES_KM) if edge <= centre_km[name])
        assert abs(high - below) < 1e-6, (name, high, centre_km[name])
        assert abs(high - centre_km[name]) > 0.05
    # Every radius within one band gives byte-identical answers (the same results, order and snapped radius).
    for lower, upper in zip((1.0, *RADIUS_EDGES_KM[:-1]), RADIUS_EDGES_KM, strict=True):
        radii = [lower + 1e-9 if lower > 1 else 1.0, (lower + upper) / 2, upper - 1e-9, upper]
        answers = [nearby(server, viewer, r) for r in radii]
        assert all(a == answers[0] for a in answers), (lower, upper)
        assert answers[0]["radius_km"] == upper
    spec = requests.get(server.url + "/openapi.json", timeout=10).json()
    params = spec["paths"]["/v1/travellers/nearby"]["get"]["parameters"]
    radius = next(p for p in params if p["name"] == "radius_km")
    assert "snapped up to the next band edge (2, 5, 10, 25 or 50 km)" in radius["description"].lower()


def areas(server: GunicornServer, auth: dict[str, str], around: tuple[float, float]) -> dict[str, dict[str, Any]]:
    bbox = f"{around[1] - 1},{around[0] - 1},{around[1] + 1},{around[0] + 1}"
    response = requests.get(server.url + "/v1/travellers/areas", params={"bbox": bbox}, headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    return {a["cell"]: a for a in response.json()["areas"]}


def test_sybils_cannot_lift_a_lone_victim_over_k(server: GunicornServer) -> None:
    victim_point = h3.cell_to_latlng(presence_cell(*ALMATY))  # a cell's centre: 50 m around it is the same cell
    area = h3.cell_to_parent(presence_cell(*victim_point), 5)
    observer = token("sybil-observer", issued_hours_ago=24 * 30)  # an old account that shares nothing
    share(server, token("sybil-victim", issued_hours_ago=24 * 3), victim_point, "Victim")
    assert area not in areas(server, observer, ALMATY)  # alone: hidden by k = 3

    # Five fresh accounts: tokens issued between now and 23.5 hours ago, one without an iat claim; all share
    # presence in the victim's very cell, within the last hour.
    sybils = [token(f"sybil-{i}", hours) for i, hours in enumerate((0.0, 1.0, 6.0, 23.5, None))]
    for i, auth in enumerate(sybils):
        share(server, auth, offset(victim_point, 72 * i, 0.05), f"Sybil {i}")
        assert presence_cell(*offset(victim_point, 72 * i, 0.05)) == presence_cell(*victim_point)
    for auth in [*sybils, observer]:
        assert area not in areas(server, auth, ALMATY)  # 6 presences, 1 established: still hidden

    # Established accounts do count: two more lift the area to k for an observer...
    established = [token(f"sybil-old-{i}", issued_hours_ago=24 * 2) for i in range(2)]
    for i, auth in enumerate(established):
        share(server, auth, offset(victim_point, 180 + 90 * i, 0.05), f"Old {i}")
    shown = areas(server, observer, ALMATY)
    assert (shown[area]["count"], shown[area]["count_band"]) == (3, "3–4")
    # ...but never one's own presence: each of them sees the victim and one other, under k.
    for auth in established:
        assert area not in areas(server, auth, ALMATY)
