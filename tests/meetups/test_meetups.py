"""Meetup endpoints: validation, organiser-only attendee lists, search exactness, capacity under concurrency."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from werkzeug.test import TestResponse

from tests.conftest import LiveServer
from tests.harness.problems import assert_problem
from tests.travellers.helpers import all_nearby, auth, install_clock, share
from yurt import create_app
from yurt.core.settings import Settings
from yurt.geo import privacy
from yurt.meetups.http.schemas import MeetupOut
from yurt.meetups.stores.meetups import EmbeddedMeetupStore, Meetup

GEOD = Geod(ellps="WGS84")
SAFA_PARK = (25.1866, 55.2530)


def body(**changes: Any) -> dict[str, Any]:
    base = {"title": "Nauryz picnic", "description": "Baursaks", "starts_at": "2026-03-21T14:00:00+04:00",
            "ends_at": "2026-03-21T18:00:00+04:00", "lat": SAFA_PARK[0], "lon": SAFA_PARK[1],
            "place_name": "Safa Park", "capacity": 2}
    return {**base, **changes}


def js(response: TestResponse) -> dict[str, Any]:
    """The JSON object a response carries (typed, for mypy)."""
    data = response.get_json()
    assert isinstance(data, dict), data
    return data


def create(client: FlaskClient, sub: str = "org", **changes: Any) -> dict[str, Any]:
    response = client.post("/v1/meetups", json=body(**changes), headers=auth(sub))
    assert response.status_code == 201, response.json
    return js(response)


def test_create_shows_utc_and_venue_time(app: Flask, client: FlaskClient) -> None:
    install_clock(app)
    created = create(client)
    assert created["starts_at"] == {"utc": "2026-03-21T10:00:00Z", "local": "2026-03-21T14:00:00+04:00",
                                    "time_zone": "Asia/Dubai"}
    assert created["venue"] == {"lat": SAFA_PARK[0], "lon": SAFA_PARK[1], "place_name": "Safa Park"}
    assert created["attending"] == 0 and created["you_organise"] and created["status"] == "active"


@pytest.mark.parametrize(("changes", "status"), [
    ({"title": None}, 422), ({"capacity": 0}, 422), ({"capacity": "5"}, 422), ({"lat": 95}, 422),
    ({"starts_at": "2026-03-21T14:00:00"}, 422),  # no UTC offset
    ({"ends_at": "2026-03-21T13:00:00+04:00"}, 422), ({"ends_at": "2026-04-21T13:00:00+04:00"}, 422),
    ({"title": "x" * 121}, 422), ({"organiser": "someone"}, 422),
    ({"ends_at": "2026-03-20T13:00:00+04:00", "starts_at": "2026-03-20T12:00:00+04:00"}, 422),  # over
])
def test_bad_meetups_are_problems(app: Flask, client: FlaskClient, changes: dict[str, Any], status: int) -> None:
    install_clock(app)
    assert_problem(client.post("/v1/meetups", json=body(**changes), headers=auth("org")), status)


def test_attendance_and_organiser_only_identities(app: Flask, client: FlaskClient) -> None:
    install_clock(app)
    mid = create(client)["id"]
    url = f"/v1/meetups/{mid}/attendance"
    assert client.post(url, headers=auth("u1")).json == {"attending": 1, "you_attend": True}
    client.post(url, headers=auth("u2"))
    assert_problem(client.post(url, headers=auth("u3")), 409)
    assert_problem(client.post(url, headers=auth("org")), 409)  # the organiser is not counted
    seen_by_org = js(client.get(f"/v1/meetups/{mid}", headers=auth("org")))
    seen_by_u1 = js(client.get(f"/v1/meetups/{mid}", headers=auth("u1")))
    assert [a["display_name"] for a in seen_by_org["attendees"]] == [None, None]  # neither shares a profile
    assert "attendees" not in seen_by_u1 and seen_by_u1["attending"] == 2 and seen_by_u1["you_attend"]
    assert client.delete(url, headers=auth("u2")).json == {"attending": 1, "you_attend": False}
    assert_problem(client.get("/v1/meetups/nope", headers=auth("u1")), 404)


def test_update_and_cancel_are_organiser_only(app: Flask, client: FlaskClient) -> None:
    install_clock(app)
    mid = create(client)["id"]
    client.post(f"/v1/meetups/{mid}/attendance", headers=auth("u1"))
    assert_problem(client.patch(f"/v1/meetups/{mid}", json={"title": "Mine"}, headers=auth("u1")), 403)
    assert_problem(client.patch(f"/v1/meetups/{mid}", json={"capacity": 0}, headers=auth("org")), 422)
    assert_problem(client.patch(f"/v1/meetups/{mid}", json={"ends_at": "2026-03-21T13:00:00+04:00"},
                                headers=auth("org")), 422)
    moved = js(client.patch(f"/v1/meetups/{mid}", json={"lat": 51.1282, "lon": 71.4307, "place_name": "Astana"},
                            headers=auth("org")))
    assert moved["starts_at"]["time_zone"] == "Asia/Almaty" and moved["starts_at"]["local"].endswith("+05:00")
    near_astana = js(client.get("/v1/meetups/nearby", query_string={"lat": 51.13, "lon": 71.43},
                                headers=auth("u1")))["results"]
    assert [m["id"] for m in near_astana] == [mid]
    assert_problem(client.delete(f"/v1/meetups/{mid}", headers=auth("u1")), 403)
    assert js(client.delete(f"/v1/meetups/{mid}", headers=auth("org")))["status"] == "cancelled"
    assert js(client.get("/v1/meetups/nearby", query_string={"lat": 51.13, "lon": 71.43},
                         headers=auth("u1")))["results"] == []


def test_nearby_orders_by_distance_and_drops_ended(app: Flask, client: FlaskClient) -> None:
    clock = install_clock(app)
    ids = {}
    for name, km in (("far", 20), ("near", 1), ("mid", 8)):
        lon, lat, _ = GEOD.fwd(SAFA_PARK[1], SAFA_PARK[0], 60, km * 1000)
        ids[name] = create(client, lat=lat, lon=lon, title=name)["id"]
    create(client, title="later", starts_at="2026-03-22T14:00:00+04:00", ends_at="2026-03-22T18:00:00+04:00")
    query = {"lat": SAFA_PARK[0], "lon": SAFA_PARK[1], "radius_km": 10, "to": "2026-03-21T23:00:00+04:00"}
    results = js(client.get("/v1/meetups/nearby", query_string=query, headers=auth("u")))["results"]
    assert [r["title"] for r in results] == ["near", "mid"]
    assert results[0]["distance_km"] == pytest.approx(1.0, abs=1e-6)
    clock.advance(hours=10)  # 19:00 in Dubai: all of the 21st's meetups have ended
    query.pop("to")
    results = js(client.get("/v1/meetups/nearby", query_string=query, headers=auth("u")))["results"]
    assert [r["title"] for r in results] == ["later"]
    assert_problem(client.get("/v1/meetups/nearby", query_string={"lat": 1}, headers=auth("u")), 400)
    assert_problem(client.get("/v1/meetups/nearby", query_string={"lat": 1, "lon": 2, "radius_km": 101},
                              headers=auth("u")), 400)


venues = st.lists(st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5)), min_size=0, max_size=40)
crowd = st.lists(st.tuples(st.floats(-0.01, 0.01), st.floats(-0.01, 0.01)), min_size=0, max_size=60)


@settings(max_examples=80, deadline=None)
@given(venues, crowd, st.floats(-1, 1), st.floats(-1, 1), st.floats(1, 100), st.sampled_from([0.0, 60.0, 179.0]),
       st.integers(1, 30), st.booleans())
def test_search_equals_brute_force(offsets: list[tuple[float, float]], crowded: list[tuple[float, float]],
                                   dlat: float, dlon: float, radius_km: float, base_lon: float, limit: int,
                                   near_crowd: bool) -> None:
    """The index search == a scan of every meetup, first ``limit`` (also across the antimeridian at 179°, and
    beside a crowd, where the search takes its fast path)."""
    store = EmbeddedMeetupStore()
    points = [(10 + a, (base_lon + b + 180) % 360 - 180) for a, b in offsets + crowded]
    for i, (lat, lon) in enumerate(points):
        meetup = Meetup(f"m{i:02d}", "o", "t", "", 0, 1e12, lat, lon, "p", 5, None)
        store.create(meetup, "o-tid", 0, 1000)
    qlat, qlon = 10 + dlat, (base_lon + dlon + 180) % 360 - 180
    if near_crowd:
        qlat, qlon = 10 + dlat / 200, (base_lon + dlon / 200 + 180) % 360 - 180
    got = [(m.id, d) for m, d in store.search(qlat, qlon, radius_km, limit, 0, float("inf"), 0)]
    if points:
        arr = np.array(points)
        _, _, metres = GEOD.inv(np.full(len(arr), qlon), np.full(len(arr), qlat), arr[:, 1], arr[:, 0])
        km = np.atleast_1d(metres) / 1000
    else:
        km = np.array([])
    want = sorted(((f"m{i:02d}", float(d)) for i, d in enumerate(km) if d <= radius_km),
                  key=lambda x: (round(x[1] * 1e6), x[0]))[:limit]
    assert [g[0] for g in got] == [w[0] for w in want]
    assert [g[1] for g in got] == pytest.approx([w[1] for w in want], abs=1e-9)


@pytest.fixture
def redis_app(redis_settings: Settings) -> Iterator[Flask]:
    application = create_app(redis_settings.replace(rate_limit="100000/minute"))
    yield application
    application.extensions["yurt"].close()


def test_hundred_simultaneous_joins_over_http_on_redis(redis_app: Flask) -> None:
    created = redis_app.test_client().post("/v1/meetups", json=body(capacity=10, starts_at="2099-01-01T10:00:00Z",
                                                                     ends_at="2099-01-01T12:00:00Z"),
                                           headers=auth("org"))
    assert created.status_code == 201
    mid = js(created)["id"]
    with LiveServer(redis_app) as server:
        barrier = threading.Barrier(100)
        statuses: list[int] = []
        lock = threading.Lock()
        tokens = [auth(f"u{i}") for i in range(100)]

        def join(i: int) -> None:
            request = urllib.request.Request(f"{server.url}/v1/meetups/{mid}/attendance", method="POST",
                                             headers=tokens[i])
            barrier.wait()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=join, args=(i,)) for i in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert statuses.count(200) == 10 and statuses.count(409) == 90
    final = js(redis_app.test_client().get(f"/v1/meetups/{mid}", headers=auth("org")))
    assert final["attending"] == 10 and len(final["attendees"]) == 10


ATTENDEE_SUBS = ("auth0|attendee-aigerim-7f3a", "auth0|attendee-bolat-91c2")


def test_organiser_sees_handles_never_subs(mode_app: Flask) -> None:
    """Attendees appear to the organiser as the organiser's own nearby handles, with their shared profile."""
    install_clock(mode_app)
    client = mode_app.test_client()
    organiser, aigerim, bolat = "auth0|organiser-55e1", *ATTENDEE_SUBS
    assert share(client, organiser, *SAFA_PARK).status_code == 200
    assert share(client, aigerim, *SAFA_PARK, display_name="Aigerim", about="Almaty").status_code == 200
    mid = create(client, organiser)["id"]
    for sub in (aigerim, bolat):  # Bolat shares no presence: a handle, no profile
        assert client.post(f"/v1/meetups/{mid}/attendance", headers=auth(sub)).status_code == 200
    response = client.get(f"/v1/meetups/{mid}", headers=auth(organiser))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for sub in ATTENDEE_SUBS:
        assert sub not in text and sub.split("|")[1] not in text
    seen = MeetupOut().load(js(response))  # the documented schema, unknown keys refused
    attendees = seen["attendees"]
    assert len(attendees) == 2 and [a["handle"] for a in attendees] == sorted(a["handle"] for a in attendees)
    nearby_handle = next(r["handle"] for r in all_nearby(client, organiser) if r["display_name"] == "Aigerim")
    shown = {a["handle"]: a for a in attendees}
    assert shown[nearby_handle] == {"handle": nearby_handle, "display_name": "Aigerim", "languages": ["kk", "ru"],
                                    "about": "Almaty"}
    (bolat_handle,) = set(shown) - {nearby_handle}
    assert shown[bolat_handle] == {"handle": bolat_handle, "display_name": None, "languages": None, "about": None}

    # Bolat was never in the organiser's nearby results, yet a report with the attendee handle reaches him.
    filed = client.post("/v1/travellers/reports", json={"handle": bolat_handle, "reason": "no-show"},
                        headers=auth(organiser))
    assert filed.status_code == 202
    secret = mode_app.extensions["yurt"].travellers.secret
    (report,) = js(client.get("/v1/staff/traveller-reports", headers=auth("boss", "staff")))["reports"]
    assert report["target"] == privacy.handle_for(secret, "staff", privacy.traveller_id(secret, bolat))
    assert report["reporter"] == privacy.handle_for(secret, "staff", privacy.traveller_id(secret, organiser))

    # Blocking by the attendee handle hides both from each other; the list keeps the seat, not the profile, and
    # the seat's handle no longer follows Aigerim's presence session (it would tell when she stops sharing).
    assert client.post("/v1/travellers/me/blocks", json={"handle": nearby_handle},
                       headers=auth(organiser)).status_code == 204
    assert all_nearby(client, organiser) == [] and all_nearby(client, aigerim) == []
    after = {a["handle"]: a["display_name"] for a in js(client.get(f"/v1/meetups/{mid}",
                                                                   headers=auth(organiser)))["attendees"]}
    assert len(after) == 2 and set(after.values()) == {None}
    assert bolat_handle in after and nearby_handle not in after


def test_attendee_handles_differ_per_organiser_and_stay_hidden_from_others(mode_app: Flask) -> None:
    install_clock(mode_app)
    client = mode_app.test_client()
    aigerim, other = ATTENDEE_SUBS
    meetups = {org: create(client, org)["id"] for org in ("org-one", "org-two")}
    for mid in meetups.values():
        assert client.post(f"/v1/meetups/{mid}/attendance", headers=auth(aigerim)).status_code == 200
        assert client.post(f"/v1/meetups/{mid}/attendance", headers=auth(other)).status_code == 200
    handles = {}
    for org, mid in meetups.items():
        response = client.get(f"/v1/meetups/{mid}", headers=auth(org))
        text = response.get_data(as_text=True)
        assert all(sub not in text and sub.split("|")[1] not in text for sub in ATTENDEE_SUBS)
        handles[org] = {a["handle"] for a in js(response)["attendees"]}
    assert len(handles["org-one"]) == len(handles["org-two"]) == 2
    assert not handles["org-one"] & handles["org-two"]  # unlinkable across organisers
    for viewer in (aigerim, other, "stranger"):
        response = client.get(f"/v1/meetups/{meetups['org-one']}", headers=auth(viewer))
        seen = js(response)
        assert response.status_code == 200 and "attendees" not in seen and seen["attending"] == 2
        MeetupOut().load(seen)
    # A handle shown to one organiser means nothing to the other.
    foreign = next(iter(handles["org-one"]))
    assert_problem(client.post("/v1/travellers/me/blocks", json={"handle": foreign}, headers=auth("org-two")), 404)
