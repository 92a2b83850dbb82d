"""Travellers' alerts (their stored cell's polygon, their trips), trip registration and erasure, and the
banded reach staff see, in embedded and Redis mode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import h3
import orjson
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from tests.alerts.helpers import BERLIN_BOX, FIJI, clocked, published, staff
from tests.harness.problems import assert_problem
from tests.travellers.helpers import Clock, auth, install_clock, share
from yurt import create_app
from yurt.core.settings import Settings

__all__ = ["clocked"]  # fixtures

BERLIN = (52.52, 13.40)
FRANKFURT = (50.11, 8.68)
LISBON_BOX = {"type": "Polygon", "coordinates": [[[-9.3, 38.6], [-9.0, 38.6], [-9.0, 38.8], [-9.3, 38.8],
                                                  [-9.3, 38.6]]]}
PORTUGAL_TRIP = {"countries": ["PT"], "from": "2026-03-20", "to": "2026-03-28"}


def mine(client: FlaskClient, sub: str) -> dict[str, Any]:
    response = client.get("/v1/travellers/me/alerts", headers=auth(sub))
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return dict(orjson.loads(response.data))


def matched(answer: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(f["id"], f["matched_by"]) for f in answer["features"]]


def put_trips(client: FlaskClient, sub: str, *trips: dict[str, Any]) -> Any:
    return client.put("/v1/travellers/me/trips", json={"trips": list(trips)}, headers=auth(sub))


def test_alerts_meet_the_stored_cell_polygon_not_a_point(clocked: tuple[Flask, Clock]) -> None:
    app, _ = clocked
    client = app.test_client()
    area, _ = published(client, severity="warning", area=BERLIN_BOX)
    germany, _ = published(client, severity="info", area=None, countries=["DE"])
    berlin, _ = published(client, severity="evacuation", area=None, subdivisions=["DE-BE"])
    published(client, severity="evacuation", area=FIJI)
    assert mine(client, "aigerim") == {"type": "FeatureCollection", "presence_shared": False, "trip_countries": [],
                                       "features": []}
    assert share(client, "aigerim", *BERLIN).status_code == 200
    answer = mine(client, "aigerim")
    assert answer["presence_shared"] is True
    assert matched(answer) == [(berlin["id"], ["presence"]), (area["id"], ["presence"]),
                               (germany["id"], ["presence"])]
    # An area that only clips a corner of the traveller's cell meets the cell, though not its centre.
    cell = h3.latlng_to_cell(*BERLIN, 7)
    v_lat, v_lon = h3.cell_to_boundary(cell)[0]
    corner = {"type": "Polygon", "coordinates": [[[v_lon - 1e-4, v_lat - 1e-4], [v_lon + 1e-4, v_lat - 1e-4],
                                                  [v_lon + 1e-4, v_lat + 1e-4], [v_lon - 1e-4, v_lat + 1e-4],
                                                  [v_lon - 1e-4, v_lat - 1e-4]]]}
    clip, _ = published(client, severity="advisory", area=corner)
    assert clip["id"] in [i for i, _ in matched(mine(client, "aigerim"))]
    c_lat, c_lon = h3.cell_to_latlng(cell)
    at_centre = client.get("/v1/alerts", query_string={"lat": c_lat, "lon": c_lon}).get_json()["features"]
    assert clip["id"] not in [f["id"] for f in at_centre]
    assert share(client, "frankfurt", *FRANKFURT).status_code == 200
    assert matched(mine(client, "frankfurt")) == [(germany["id"], ["presence"])]
    assert_problem(client.get("/v1/travellers/me/alerts"), 401)
    assert_problem(client.get("/v1/travellers/me/alerts", headers=staff()), 403)


def test_trips_bring_the_alerts_of_their_countries_while_under_way(clocked: tuple[Flask, Clock]) -> None:
    app, clock = clocked
    client = app.test_client()
    portugal, _ = published(client, severity="warning", area=None, countries=["PT"])
    lisbon_area, _ = published(client, severity="advisory", area=LISBON_BOX)
    assert lisbon_area["area_countries"] == ["PT"]
    lisbon, _ = published(client, severity="evacuation", area=None, subdivisions=["PT-11"])
    iran, _ = published(client, severity="evacuation", area=None, countries=["IR"])
    stored = put_trips(client, "dana", PORTUGAL_TRIP, {"countries": ["IR", "IQ"], "from": "2026-04-10",
                                                       "to": "2026-04-20"})
    assert stored.status_code == 200, stored.get_json()
    answer = mine(client, "dana")
    assert answer["trip_countries"] == ["PT"] and answer["presence_shared"] is False
    assert matched(answer) == [(lisbon["id"], ["trip"]), (portugal["id"], ["trip"]),
                               (lisbon_area["id"], ["trip"])]
    assert share(client, "dana", 38.72, -9.14).status_code == 200  # in Lisbon as well
    assert matched(mine(client, "dana"))[0] == (lisbon["id"], ["presence", "trip"])
    clock.advance(days=21)  # the Iran trip is under way, the Portugal one over
    assert [i for i, _ in matched(mine(client, "dana"))] == [iran["id"]]
    assert mine(client, "someone-else")["features"] == []


def test_trip_registration_validated_replaced_and_erased(clocked: tuple[Flask, Clock]) -> None:
    app, clock = clocked
    client = app.test_client()
    for trips, member in (
        ([{"countries": ["PT"], "from": "2026-03-28", "to": "2026-03-20"}], "trips[0].to"),
        ([{"countries": ["PT"], "from": "2026-04-01", "to": "2027-04-01"}], "trips[0].to"),
        ([{"countries": ["PT"], "from": "2026-03-01", "to": "2026-03-10"}], "trips[0].to"),
        ([{"countries": ["XX"], "from": "2026-04-01", "to": "2026-04-02"}], "trips[0].countries[0]"),
        ([{"countries": [], "from": "2026-04-01", "to": "2026-04-02"}], "trips[0].countries"),
        ([{"countries": ["PT"], "from": "2026-02-30", "to": "2026-04-02"}], "trips[0].from"),
        ([{"countries": ["PT"], "from": "2026-04-01"}], "trips[0].to"),
        ([{"countries": ["PT"], "from": "2026-04-01", "to": "2026-04-02", "lat": 1}], "trips[0].lat"),
        ([PORTUGAL_TRIP] * 21, "trips"),
    ):
        problem = assert_problem(put_trips(client, "erin", *trips), 422)
        assert member in problem["errors"], (trips[:1], problem)
    assert_problem(client.put("/v1/travellers/me/trips", json=[PORTUGAL_TRIP], headers=auth("erin")), 400)
    assert client.get("/v1/travellers/me/trips", headers=auth("erin")).get_json() == {"trips": []}
    assert put_trips(client, "erin", *[PORTUGAL_TRIP] * 20).status_code == 200
    assert put_trips(client, "erin", PORTUGAL_TRIP).get_json() == {"trips": [PORTUGAL_TRIP]}
    assert client.get("/v1/travellers/me/trips", headers=auth("erin")).get_json() == {"trips": [PORTUGAL_TRIP]}
    assert client.get("/v1/travellers/me/trips", headers=auth("frank")).get_json() == {"trips": []}
    assert client.delete("/v1/travellers/me/trips", headers=auth("erin")).status_code == 204
    assert client.get("/v1/travellers/me/trips", headers=auth("erin")).get_json() == {"trips": []}
    assert put_trips(client, "erin", PORTUGAL_TRIP).status_code == 200
    assert client.delete("/v1/travellers/me", headers=auth("erin")).status_code == 204
    assert client.get("/v1/travellers/me/trips", headers=auth("erin")).get_json() == {"trips": []}
    assert put_trips(client, "erin", PORTUGAL_TRIP).status_code == 200
    clock.advance(days=8, hours=2, minutes=59)  # 11:59Z on the 29th: still the 28th at UTC-12
    assert client.get("/v1/travellers/me/trips", headers=auth("erin")).get_json() == {"trips": [PORTUGAL_TRIP]}
    clock.advance(minutes=1)  # 2026-03-29T12:00Z: the 28th is over everywhere on Earth
    assert client.get("/v1/travellers/me/trips", headers=auth("erin")).get_json() == {"trips": []}


def test_trips_are_stored_under_the_pseudonym_only(redis_settings: Settings) -> None:
    app = create_app(redis_settings)
    install_clock(app)
    client = app.test_client()
    sub = "raw-sub-7f3a9c"
    assert put_trips(client, sub, PORTUGAL_TRIP).status_code == 200
    raw = redis.Redis.from_url(str(redis_settings.redis_url))
    keys = raw.keys("*")
    assert any(k.endswith(b":trips") for k in keys)
    for key in keys:
        dumped = raw.dump(key) or b""
        assert sub.encode() not in key and sub.encode() not in dumped, key
    raw.close()
    app.extensions["yurt"].close()


@pytest.fixture
def real_time(mode_settings: Settings) -> Iterator[Flask]:
    """An app on the real clock: area counts judge an account's age from its token's ``iat`` (a real time)."""
    application = create_app(mode_settings)
    install_clock(application, datetime.now(UTC))
    yield application
    application.extensions["yurt"].close()


def test_reach_is_banded_and_never_names_anyone(real_time: Flask) -> None:
    client = real_time.test_client()
    trip = {"countries": ["DE", "FR"], "from": datetime.now(UTC).date().isoformat(),
            "to": datetime.now(UTC).date().isoformat()}
    area, _ = published(client, severity="warning", area=BERLIN_BOX)
    germany, _ = published(client, severity="info", area=None, countries=["DE"])
    berlin_state, _ = published(client, severity="warning", area=None, subdivisions=["DE-BE"])

    def reach(alert: dict[str, Any]) -> dict[str, Any]:
        response = client.get(f"/v1/alerts/{alert['id']}/reach", headers=staff())
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json())

    assert reach(area)["sharing_presence"] == "<3" and reach(area)["on_trips"] is None
    for i in range(2):
        share(client, f"berliner{i}", BERLIN[0] + i * 0.01, BERLIN[1], issued_days_ago=2)
    for i in range(5):  # fresh accounts (Sybils placed beside a lone traveller) never count
        share(client, f"sybil{i}", *BERLIN)
    assert reach(area)["sharing_presence"] == "<3"
    share(client, "berliner2", *BERLIN, issued_days_ago=2)
    assert reach(area)["sharing_presence"] == "3–4"
    for i in range(3, 6):
        share(client, f"berliner{i}", BERLIN[0], BERLIN[1] + i * 0.01, issued_days_ago=2)
    share(client, "frankfurter", *FRANKFURT, issued_days_ago=2)
    assert reach(area)["sharing_presence"] == "5–9"
    assert reach(berlin_state)["sharing_presence"] == "5–9"
    assert reach(germany)["sharing_presence"] == "5–9"
    body = reach(germany)
    assert set(body) == {"id", "sharing_presence", "on_trips", "counted_at"} and body["on_trips"] == "<3"
    for i in range(3):
        assert put_trips(client, f"visitor{i}", trip).status_code == 200
    assert reach(germany)["on_trips"] == "3–4"
    assert_problem(client.get(f"/v1/alerts/{area['id']}/reach", headers=auth("berliner0")), 403)
    assert_problem(client.get("/v1/alerts/al-00000000ff/reach", headers=staff()), 404)
