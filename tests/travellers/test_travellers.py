"""Traveller endpoints over the embedded store, plus the Redis privacy scan and fail-closed behaviour."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import h3
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from pyproj import Geod
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.conftest import running_app
from tests.harness.problems import assert_problem
from tests.travellers.helpers import all_nearby, auth, install_clock, nearby, share
from yurt.core.settings import Settings
from yurt.travellers.stores.presence import TravellerStores
from yurt.travellers.stores.presence_redis import RedisPresenceStore

DUBAI = (25.2048, 55.2708)
GEOD = Geod(ellps="WGS84")


def offset(lat: float, lon: float, bearing_deg: float, distance_km: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, bearing_deg, distance_km * 1000)
    return lat2, lon2


def expected_band(a: tuple[float, float], b: tuple[float, float]) -> str | None:
    """Independent oracle: geodesic between the two resolution-7 cell centres, then the band table."""
    ca, cb = (h3.cell_to_latlng(h3.latlng_to_cell(p[0], p[1], 7)) for p in (a, b))
    _, _, metres = GEOD.inv(ca[1], ca[0], cb[1], cb[0])
    km = metres / 1000
    for label, upper in (("<2 km", 2), ("2–5 km", 5), ("5–10 km", 10), ("10–25 km", 25), ("25–50 km", 50)):
        if km < upper:
            return label
    return None


def test_auth_required_and_scope_checked(client: FlaskClient) -> None:
    assert_problem(client.get("/v1/travellers/nearby"), 401)
    assert_problem(client.get("/v1/travellers/nearby", headers=auth("a", "staff")), 403)
    assert_problem(client.get("/v1/staff/traveller-reports", headers=auth("a")), 403)


def test_presence_is_a_cell_and_deletes_at_once(app: Flask, client: FlaskClient) -> None:
    install_clock(app)
    response = share(client, "aigerim", *DUBAI, share_minutes=15, about="Astana → Dubai")
    assert response.status_code == 200
    body = response.json
    assert body["cell"] == h3.latlng_to_cell(*DUBAI, 7) and body["cell_resolution"] == 7
    assert body["expires_at"] == "2026-03-21T09:15:00Z"
    assert "lat" not in body and "lon" not in body
    assert client.get("/v1/travellers/me/presence", headers=auth("aigerim")).json == body
    assert client.delete("/v1/travellers/me/presence", headers=auth("aigerim")).status_code == 204
    assert_problem(client.get("/v1/travellers/me/presence", headers=auth("aigerim")), 404)


@pytest.mark.parametrize(("body", "status"), [
    ({"lon": 55.2, "display_name": "A", "languages": ["kk"]}, 422),                       # missing
    ({"lat": "25.2", "lon": 55.2, "display_name": "A", "languages": ["kk"]}, 422),        # wrong type
    ({"lat": True, "lon": 55.2, "display_name": "A", "languages": ["kk"]}, 422),          # boolean
    ({"lat": 91, "lon": 55.2, "display_name": "A", "languages": ["kk"]}, 422),            # out of range
    ({"lat": 1e309, "lon": 55.2, "display_name": "A", "languages": ["kk"]}, 400),         # inf: not JSON
    ({"lat": 25, "lon": 55, "display_name": "A" * 65, "languages": ["kk"]}, 422),         # oversized
    ({"lat": 25, "lon": 55, "display_name": "A", "languages": ["kk"], "share_minutes": 10}, 422),
    ({"lat": 25, "lon": 55, "display_name": "A", "languages": ["Kazakh"]}, 422),
    ({"lat": 25, "lon": 55, "display_name": "A", "languages": ["kk"], "origin": [1, 2]}, 422),  # unknown
    ([1, 2], 400),
])
def test_bad_presence_bodies_are_problems(client: FlaskClient, body: Any, status: int) -> None:
    assert_problem(client.put("/v1/travellers/me/presence", json=body, headers=auth("a")), status)


def test_malformed_json_nan_and_content_type(client: FlaskClient) -> None:
    headers = {**auth("a"), "Content-Type": "application/json"}
    assert_problem(client.put("/v1/travellers/me/presence", data="{", headers=headers), 400)
    assert_problem(client.put("/v1/travellers/me/presence", data='{"lat": NaN}', headers=headers), 400)
    assert_problem(client.put("/v1/travellers/me/presence", data="lat=1", headers=auth("a")), 415)


def test_update_limits(app: Flask, client: FlaskClient) -> None:
    clock = install_clock(app)
    assert share(client, "a", *DUBAI).status_code == 200
    clock.advance(seconds=20)
    soon = assert_problem(share(client, "a", *DUBAI), 429)
    assert soon["status"] == 429
    assert share(client, "a", *DUBAI).headers["Retry-After"] == "40"
    assert client.delete("/v1/travellers/me/presence", headers=auth("a")).status_code == 204
    assert_problem(share(client, "a", *DUBAI), 429)  # deleting does not reset the limiter
    clock.advance(minutes=2)
    assert_problem(share(client, "a", 51.5, -0.12), 422)  # Dubai → London in 2 minutes
    assert share(client, "a", *offset(*DUBAI, 90, 20)).status_code == 200  # 20 km in 2 min = 600 km/h
    for _ in range(46):
        clock.advance(minutes=2)  # back and forth in 2 minutes is well under 1,000 km/h
        assert share(client, "a", *DUBAI).status_code == 200
    clock.advance(minutes=1)
    budget = share(client, "a", *DUBAI)
    assert_problem(budget, 429)
    assert int(budget.headers["Retry-After"]) > 20 * 3600


def test_nearby_bands_handles_and_no_distances(app: Flask, client: FlaskClient) -> None:
    install_clock(app)
    assert_problem(nearby(client, "viewer"), 409)  # not visible yourself: nothing to search around
    share(client, "viewer", *DUBAI)
    places = {f"p{d}": offset(*DUBAI, 45, d) for d in (0.3, 3.5, 7, 15, 35, 60)}
    for sub, point in places.items():
        share(client, sub, *point)
    results = all_nearby(client, "viewer", radius_km=50)
    assert all(set(r) == {"handle", "display_name", "languages", "about", "band"} for r in results)
    got = {r["display_name"].lower(): r["band"] for r in results}
    want = {sub: expected_band(DUBAI, p) for sub, p in places.items()}
    assert got == {sub: band for sub, band in want.items() if band is not None}
    bands = [r["band"] for r in results]
    order = ["<2 km", "2–5 km", "5–10 km", "10–25 km", "25–50 km"]
    assert bands == sorted(bands, key=order.index)
    # Radius cuts by cell-centre distance; handles are per viewer.
    assert {r["display_name"] for r in all_nearby(client, "viewer", radius_km=5)} <= {"P0.3", "P3.5"}
    other = {r["display_name"]: r["handle"] for r in all_nearby(client, "p0.3", radius_km=50)}
    mine = {r["display_name"]: r["handle"] for r in results}
    assert not set(other.values()) & set(mine.values())


def test_origin_parameter_is_refused(client: FlaskClient) -> None:
    share(client, "viewer", *DUBAI)
    assert_problem(nearby(client, "viewer", lat=0, lon=0), 400)
    assert_problem(nearby(client, "viewer", radius_km=51), 400)
    assert_problem(nearby(client, "viewer", radius_km="nan"), 400)


def test_pagination_covers_everyone_once_and_cursor_is_bound(app: Flask, client: FlaskClient) -> None:
    clock = install_clock(app)
    share(client, "viewer", *DUBAI)
    for i in range(37):
        share(client, f"t{i}", *offset(*DUBAI, i * 10, (i % 9) * 1.3))
    pages = all_nearby(client, "viewer", limit=5, radius_km=25)
    assert sorted(r["display_name"] for r in pages) == sorted(f"T{i}" for i in range(37))
    assert pages == all_nearby(client, "viewer", limit=5, radius_km=25)  # a stable order for this viewer
    first = nearby(client, "viewer", limit=5).json
    assert_problem(nearby(client, "t1", limit=5, cursor=first["next_cursor"]), 400)
    assert_problem(nearby(client, "viewer", limit=5, cursor="garbage!"), 400)
    clock.advance(minutes=2)
    share(client, "viewer", *offset(*DUBAI, 0, 4))
    assert_problem(nearby(client, "viewer", limit=5, cursor=first["next_cursor"]), 400)


def test_expired_presence_vanishes_exactly(app: Flask, client: FlaskClient) -> None:
    clock = install_clock(app)
    share(client, "viewer", *DUBAI, share_minutes=120)
    share(client, "short", *DUBAI, share_minutes=15)
    clock.advance(minutes=15, microseconds=-1000)
    assert [r["display_name"] for r in all_nearby(client, "viewer")] == ["Short"]
    clock.advance(microseconds=1000)
    assert all_nearby(client, "viewer") == []


def test_blocks_hide_both_ways(client: FlaskClient) -> None:
    for sub in ("a", "b", "c"):
        share(client, sub, *DUBAI)
    handle_b = next(r["handle"] for r in all_nearby(client, "a") if r["display_name"] == "B")
    assert_problem(client.post("/v1/travellers/me/blocks", json={"handle": "t_" + "a" * 26},
                               headers=auth("a")), 404)
    assert client.post("/v1/travellers/me/blocks", json={"handle": handle_b}, headers=auth("a")).status_code == 204
    assert {r["display_name"] for r in all_nearby(client, "a")} == {"C"}
    assert {r["display_name"] for r in all_nearby(client, "b")} == {"C"}


def test_reports_reach_staff_who_suspend(client: FlaskClient) -> None:
    for sub in ("a", "scammer"):
        share(client, sub, *DUBAI)
    handle = all_nearby(client, "a")[0]["handle"]
    filed = client.post("/v1/travellers/reports", json={"handle": handle, "reason": "asks for money"},
                        headers=auth("a"))
    assert filed.status_code == 202
    reports = client.get("/v1/staff/traveller-reports", headers=auth("boss", "staff")).json["reports"]
    assert [r["reason"] for r in reports] == ["asks for money"]
    target = reports[0]["target"]
    assert target != handle  # staff see their own handles
    response = client.post(f"/v1/staff/travellers/{target}/suspension", headers=auth("boss", "staff"))
    assert response.status_code == 200
    assert all_nearby(client, "a") == []
    assert_problem(share(client, "scammer", *DUBAI), 403)


def test_areas_are_k_anonymous(client: FlaskClient) -> None:
    for i in range(3):  # accounts known for two days (token iat): their presence counts
        share(client, f"dubai{i}", *offset(*DUBAI, 0, i), issued_days_ago=2)
    for i in range(2):
        share(client, f"abu{i}", 24.4539, 54.3773, issued_days_ago=2)
    response = client.get("/v1/travellers/areas", query_string={"bbox": "54,24,56,26"}, headers=auth("x"))
    assert response.status_code == 200
    areas = response.json["areas"]
    assert [(a["count"], a["count_band"]) for a in areas] == [(3, "3–4")]
    assert areas[0]["cell"] == h3.cell_to_parent(h3.latlng_to_cell(*DUBAI, 7), 5)
    assert_problem(client.get("/v1/travellers/areas", query_string={"bbox": "-180,-80,180,80"},
                              headers=auth("x")), 400)
    assert_problem(client.get("/v1/travellers/areas", headers=auth("x")), 400)


def test_erase_me(client: FlaskClient) -> None:
    share(client, "a", *DUBAI)
    share(client, "b", *DUBAI)
    handle = all_nearby(client, "a")[0]["handle"]
    client.post("/v1/travellers/me/blocks", json={"handle": handle}, headers=auth("a"))
    assert client.delete("/v1/travellers/me", headers=auth("a")).status_code == 204
    assert_problem(client.get("/v1/travellers/me/presence", headers=auth("a")), 404)
    assert all_nearby(client, "b") == []
    assert_problem(client.post("/v1/travellers/me/blocks", json={"handle": handle}, headers=auth("a")), 404)


@pytest.fixture
def redis_app(redis_settings: Settings) -> Iterator[Flask]:
    with running_app(redis_settings) as application:
        yield application


def _needles(lat: float, lon: float) -> list[str]:
    out = []
    for value in (lat, lon):
        out += [repr(value), f"{value:.6f}", f"{value:.5f}", f"{value:.4f}", f"{value:.3f}", f"{value:.2f}"]
    return out


def test_coordinates_never_reach_redis_or_logs(redis_app: Flask, redis_url: str) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("yurt")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        client = redis_app.test_client()
        lat, lon = 25.187_613_9, 55.274_387_1
        assert share(client, "a", lat, lon).status_code == 200
        share(client, "b", *offset(lat, lon, 30, 2.2))
        client.get("/v1/travellers/nearby?lat=25.1876139&lon=55.2743871", headers=auth("a"))
        assert len(all_nearby(client, "a")) == 1
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    raw = redis.Redis.from_url(redis_url)
    dump = []
    for key in raw.scan_iter(count=1000):
        dump.append(key)
        kind = raw.type(key)
        if kind == b"hash":
            dump += [b"%s=%s" % kv for kv in raw.hgetall(key).items()]
        elif kind == b"zset":
            dump += [b"%s=%r" % (m, s) for m, s in raw.zrange(key, 0, -1, withscores=True)]
        elif kind == b"set":
            dump += list(raw.smembers(key))
        elif kind == b"list":
            dump += raw.lrange(key, 0, -1)
        elif kind == b"string":
            dump.append(raw.get(key) or b"")
    text = b"\n".join(dump).decode(errors="replace")
    assert "{t:" in text and "{g:" in text  # the scan saw the traveller keys
    logs = stream.getvalue()
    for needle in _needles(lat, lon):
        assert needle not in text, needle
        assert needle not in logs, needle
    assert "aigerim" not in text  # the token's sub is not a key either (pseudonyms)


def test_redis_outage_fails_closed_with_503(redis_app: Flask) -> None:
    service = redis_app.extensions["yurt.travellers"]
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.1, socket_timeout=0.1,
                       retry=Retry(NoBackoff(), 0))
    service.stores = TravellerStores(RedisPresenceStore(dead), service.stores.secret)
    client = redis_app.test_client()
    response = share(client, "a", *DUBAI)
    assert_problem(response, 503)
    assert response.headers["Retry-After"]
    assert_problem(nearby(client, "a"), 503)
