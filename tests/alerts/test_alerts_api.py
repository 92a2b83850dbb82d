"""Alert endpoints in embedded and Redis mode: publish, read, edit with If-Match (428/412), withdraw, audit
entries of their own kind, the public listing (strong ETag that follows the clock, 304, gzip, max-age) and
point queries (edge inside, antimeridian, countries and subdivisions through the locator)."""

from __future__ import annotations

import gzip
from datetime import timedelta
from typing import Any

import orjson
from flask import Flask
from flask.testing import FlaskClient

from tests.alerts.helpers import BERLIN_BOX, FIJI, TEXT, TITLE, body, clocked, publish, published, staff
from tests.harness.problems import assert_problem
from tests.travellers.helpers import T0, Clock, auth
from yurt import create_app
from yurt.core.settings import Settings

__all__ = ["clocked"]  # fixtures


def iso(delta: timedelta) -> str:
    return (T0 + delta).isoformat().replace("+00:00", "Z")


def features(client: FlaskClient, **query: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/alerts", query_string=query)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    return list(orjson.loads(response.data)["features"])


def test_publish_read_edit_and_withdraw(clocked: tuple[Flask, Clock]) -> None:
    app, _ = clocked
    client = app.test_client()
    response = publish(client, missions=["kz-embassy-de-berlin"])
    assert response.status_code == 201
    alert = response.get_json()
    etag = response.headers["ETag"]
    assert response.headers["Location"] == f"/v1/alerts/{alert['id']}"
    assert alert["id"].startswith("al-") and alert["valid_from"] == "2026-03-21T09:00:00Z"
    assert alert["valid_to"] is None and alert["area_countries"] == ["DE"]
    assert alert["title"] == TITLE and alert["area"] == BERLIN_BOX
    got = client.get(f"/v1/alerts/{alert['id']}")
    assert got.get_json() == alert and got.headers["ETag"] == etag
    assert client.get(f"/v1/alerts/{alert['id']}", headers={"If-None-Match": etag}).status_code == 304

    patched = client.patch(f"/v1/alerts/{alert['id']}", json={"severity": "evacuation", "valid_to": iso(
        timedelta(days=2))}, headers={**staff("bob"), "If-Match": etag,
                                      "Content-Type": "application/merge-patch+json"})
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["severity"] == "evacuation" and patched.get_json()["created_at"] == alert["created_at"]
    assert patched.get_json()["area"] == BERLIN_BOX and patched.headers["ETag"] != etag
    replaced = client.put(f"/v1/alerts/{alert['id']}", json={**patched.get_json(), "severity": "advisory"},
                          headers={**staff(), "If-Match": patched.headers["ETag"]})
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.get_json()["severity"] == "advisory"
    gone = client.delete(f"/v1/alerts/{alert['id']}", headers={**staff(), "If-Match": replaced.headers["ETag"]})
    assert gone.status_code == 204
    assert_problem(client.get(f"/v1/alerts/{alert['id']}"), 404)
    assert_problem(client.get("/v1/alerts/not-an-alert"), 404)
    assert features(client) == []


def test_every_write_needs_the_current_etag(clocked: tuple[Flask, Clock]) -> None:
    app, _ = clocked
    client = app.test_client()
    alert, etag = published(client)
    url = f"/v1/alerts/{alert['id']}"
    for method in ("put", "patch", "delete"):
        payload = body() if method != "delete" else None
        for header in ({}, {"If-Match": "*"}, {"If-Match": f"W/{etag}"}, {"If-Match": f"{etag}, {etag}"}):
            assert_problem(getattr(client, method)(url, json=payload, headers={**staff(), **header}), 428)
    changed = client.patch(url, json={"severity": "info"}, headers={**staff("bob"), "If-Match": etag})
    assert changed.status_code == 200
    for method in ("put", "patch", "delete"):
        payload = body() if method != "delete" else None
        stale = getattr(client, method)(url, json=payload, headers={**staff("carol"), "If-Match": etag})
        problem = assert_problem(stale, 412)
        assert problem["current"]["severity"] == "info"
        assert stale.headers["ETag"] == problem["current_etag"] == changed.headers["ETag"]
    assert_problem(client.put("/v1/alerts/al-00000000ff", json=body(), headers={**staff(), "If-Match": etag}), 404)
    wrong_id = client.put(url, json={**body(), "id": "al-00000000ff"},
                          headers={**staff(), "If-Match": changed.headers["ETag"]})
    assert assert_problem(wrong_id, 422)["errors"] == {"id": ["must be " + repr(alert["id"])]}
    for method in ("post", "put", "patch", "delete"):
        target = "/v1/alerts" if method == "post" else url
        assert_problem(getattr(client, method)(target, json=body(), headers=auth("traveller")), 403)
        assert_problem(getattr(client, method)(target, json=body()), 401)


BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}
UNSPLIT = {"type": "Polygon", "coordinates": [[[179, -18], [-179, -18], [-179, -16], [179, -16], [179, -18]]]}


INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({"area": BOWTIE}, "area", "invalid geometry: Self-intersection[1 1]"),
    ({"area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}}, "area", "not closed"),
    ({"area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}}, "area", "at least 4 positions"),
    ({"area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]]}}, "area", "outside"),
    ({"area": UNSPLIT}, "area", "split the area at ±180 into a MultiPolygon"),
    ({"area": {"type": "Point", "coordinates": [0, 0]}}, "area", "Polygon or MultiPolygon"),
    ({"countries": ["DE"]}, "area", "either area, or countries"),
    ({"area": None}, "area", "give an area, or countries"),
    ({"missions": ["kz-embassy-de-berlin", "kz-nowhere"]}, "missions[1]", "no mission with id 'kz-nowhere'"),
    ({"valid_from": "2026-03-22T00:00:00Z", "valid_to": "2026-03-21T12:00:00Z"}, "valid_to", "after valid_from"),
    ({"valid_from": "2026-03-21T07:00:00Z", "valid_to": "2026-03-21T08:00:00Z"}, "valid_to", "already past"),
    ({"valid_from": "2026-03-22T00:00:00"}, "valid_from", "aware datetime"),
    ({"area": None, "countries": ["XX"]}, "countries[0]", "not an ISO 3166-1"),
    ({"area": None, "subdivisions": ["DE-XX"]}, "subdivisions[0]", "not an ISO 3166-2"),
    ({"severity": "panic"}, "severity", "Must be one of"),
    ({"title": {"en": "x", "ru": "y"}}, "title.kk", "required"),
    ({"colour": "red"}, "colour", "Unknown field"),
]


def test_invalid_bodies_are_422_naming_the_member(clocked: tuple[Flask, Clock]) -> None:
    app, _ = clocked
    client = app.test_client()
    alert, etag = published(client)
    for changes, member, text in INVALID:
        writes = [("post", "/v1/alerts", staff()), ("put", f"/v1/alerts/{alert['id']}", {**staff(), "If-Match": etag})]
        for method, url, headers in writes[:1] if text == "already past" else writes:  # an edit may end it now
            response = getattr(client, method)(url, json={**body(), **changes}, headers=headers)
            problem = assert_problem(response, 422)
            assert member in problem["errors"], (changes, problem)
            assert any(text.lower() in m.lower() for m in problem["errors"][member]), (changes, problem)
        if text not in ("already past", "required"):  # a merge patch may end it now, or keep the other titles
            patched = client.patch(f"/v1/alerts/{alert['id']}", json=changes, headers={**staff(), "If-Match": etag})
            assert patched.status_code == 422, changes
    assert [f["id"] for f in features(client)] == [alert["id"]]
    assert client.get(f"/v1/alerts/{alert['id']}").headers["ETag"] == etag


def test_the_vertex_limit_is_a_setting(settings: Settings) -> None:
    app = create_app(settings.replace(alert_max_vertices=5))
    client = app.test_client()
    six = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 1], [1, 2], [0, 1], [0, 0]]]}
    problem = assert_problem(client.post("/v1/alerts", json=body(area=six), headers=staff()), 422)
    assert problem["errors"]["area"] == ["the area has 6 positions; at most 5 are accepted"]
    assert publish(client, area=BERLIN_BOX).status_code == 201
    app.extensions["yurt"].close()


def test_audit_entries_of_their_own_kind_and_a_mission_restore_never_touches_alerts(
        clocked: tuple[Flask, Clock]) -> None:
    app, _ = clocked
    client = app.test_client()
    facts = client.get("/v1/dataset", headers=staff())
    bulk = client.put("/v1/dataset", json={**facts.get_json(), "title": "Before the alerts"},
                      headers={**staff("editor"), "If-Match": facts.headers["ETag"]})
    assert bulk.status_code == 200
    seq = client.get("/v1/audit?limit=1", headers=staff()).get_json()["entries"][0]["seq"]
    alert, etag = published(client, sub="alice")
    edited = client.patch(f"/v1/alerts/{alert['id']}", json={"severity": "evacuation"},
                          headers={**staff("bob"), "If-Match": etag})
    trail = client.get("/v1/audit/alerts", headers=staff()).get_json()["entries"]
    assert [(e["kind"], e["action"], e["author"], e["alert_id"]) for e in trail] == [
        ("alert", "patch", "bob", alert["id"]), ("alert", "create", "alice", alert["id"])]
    assert trail[0]["before"]["severity"] == "warning" and trail[0]["after"]["severity"] == "evacuation"
    history = client.get(f"/v1/alerts/{alert['id']}/history?limit=1", headers=staff()).get_json()
    assert [e["action"] for e in history["entries"]] == ["patch"] and "before=" in history["next"]
    mission_audit = client.get("/v1/audit", headers=staff()).get_json()["entries"]
    assert all("alert_id" not in e for e in mission_audit)

    restored = client.post(f"/v1/audit/{seq}/restore", json={},
                           headers={**staff("carol"), "If-Match": client.get("/v1/missions").headers["ETag"]})
    assert restored.status_code == 200, restored.get_json()
    assert client.get(f"/v1/alerts/{alert['id']}").headers["ETag"] == edited.headers["ETag"]
    assert client.get("/v1/audit/alerts", headers=staff()).get_json()["entries"] == trail
    assert_problem(client.get("/v1/audit/alerts"), 401)
    assert_problem(client.get("/v1/audit/alerts", headers=auth("traveller")), 403)


def test_listing_follows_the_clock_with_strong_etag_304_gzip_and_max_age(clocked: tuple[Flask, Clock]) -> None:
    app, clock = clocked
    client = app.test_client()
    now_alert, _ = published(client, severity="warning", valid_from=iso(timedelta(hours=-1)),
                             valid_to=iso(timedelta(hours=2)))
    later, _ = published(client, severity="evacuation", area=None, countries=["FJ"],
                         valid_from=iso(timedelta(hours=1)))
    first = client.get("/v1/alerts")
    listed = orjson.loads(first.data)["features"]
    assert [(f["id"], f["properties"]["upcoming"]) for f in listed] == [(later["id"], True), (now_alert["id"], False)]
    assert listed[0]["geometry"] is None and listed[0]["properties"]["countries"] == ["FJ"]
    assert listed[1]["geometry"] == BERLIN_BOX and listed[1]["type"] == "Feature"
    etag = first.headers["ETag"]
    assert not etag.startswith("W/") and first.headers["Cache-Control"] == "public, max-age=60"
    assert client.get("/v1/alerts", headers={"If-None-Match": etag}).status_code == 304
    zipped = client.get("/v1/alerts", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == first.data

    clock.advance(minutes=59, seconds=30)  # 30 s before the upcoming alert starts
    same = client.get("/v1/alerts")
    assert same.headers["ETag"] == etag and same.headers["Cache-Control"] == "public, max-age=30"
    at_point = client.get("/v1/alerts", query_string={"lat": 52.52, "lon": 13.4})
    assert at_point.headers["Cache-Control"] == "public, max-age=30" and "ETag" not in at_point.headers
    clock.advance(seconds=30)  # it starts: the ETag changes although nobody wrote anything
    started = client.get("/v1/alerts", headers={"If-None-Match": etag})
    assert started.status_code == 200 and started.headers["ETag"] != etag
    assert [f["properties"]["upcoming"] for f in orjson.loads(started.data)["features"]] == [False, False]
    assert started.headers["Cache-Control"] == "public, max-age=60"
    clock.advance(hours=1)  # the first one ends
    ended = orjson.loads(client.get("/v1/alerts").data)["features"]
    assert [f["id"] for f in ended] == [later["id"]]
    clock.advance(days=3000)
    assert client.get("/v1/alerts").headers["Cache-Control"] == "public, max-age=60"


def test_a_staff_edit_changes_the_listing_etag_at_once(clocked: tuple[Flask, Clock]) -> None:
    app, _ = clocked
    client = app.test_client()
    alert, etag = published(client)
    before = client.get("/v1/alerts").headers["ETag"]
    client.patch(f"/v1/alerts/{alert['id']}", json={"title": {"en": "Curfew"}}, headers={**staff(), "If-Match": etag})
    after = client.get("/v1/alerts")
    assert after.headers["ETag"] != before
    assert orjson.loads(after.data)["features"][0]["properties"]["title"] == {**TITLE, "en": "Curfew"}


def test_point_queries_most_severe_then_newest_edge_inside(clocked: tuple[Flask, Clock]) -> None:
    app, _ = clocked
    client = app.test_client()
    older, _ = published(client, severity="warning", valid_from=iso(timedelta(hours=-2)))
    evacuation, _ = published(client, severity="evacuation", valid_from=iso(timedelta(hours=-3)))
    newer, _ = published(client, severity="warning", valid_from=iso(timedelta(hours=-1)))
    published(client, severity="evacuation", valid_from=iso(timedelta(hours=1)))  # upcoming: not in force
    published(client, severity="info", area={"type": "Polygon", "coordinates": [
        [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]})  # elsewhere
    at_berlin = features(client, lat=52.52, lon=13.40)
    assert [f["id"] for f in at_berlin] == [evacuation["id"], newer["id"], older["id"]]
    assert all(f["properties"]["upcoming"] is False for f in at_berlin)
    assert [f["id"] for f in features(client, lat=52.3, lon=13.4)] == [f["id"] for f in at_berlin]  # on the edge
    assert [f["id"] for f in features(client, lat=52.7, lon=13.8)] == [f["id"] for f in at_berlin]  # a corner
    assert features(client, lat=52.2999, lon=13.4) == []
    for query in ({"lat": 52.5}, {"lon": 13.4}):
        problem = assert_problem(client.get("/v1/alerts", query_string=query), 400)
        assert set(problem["errors"]) == {"lat", "lon"}
    for query in ({"lat": 91, "lon": 0}, {"lat": "x", "lon": 0}, {"lat": 1, "lon": 1, "radius": 3}):
        assert_problem(client.get("/v1/alerts", query_string=query), 400)


def test_antimeridian_and_places(clocked: tuple[Flask, Clock]) -> None:
    app, _ = clocked
    client = app.test_client()
    fiji, _ = published(client, severity="advisory", area=FIJI)
    assert fiji["area_countries"] == ["FJ"]
    germany, _ = published(client, severity="info", area=None, countries=["DE"])
    berlin_state, _ = published(client, severity="warning", area=None, subdivisions=["DE-BE"])
    for lat, lon in ((-18.1416, 178.4419), (-17.0, 180.0), (-17.0, -180.0), (-16.5, -179.9)):
        assert [f["id"] for f in features(client, lat=lat, lon=lon)] == [fiji["id"]], (lat, lon)
    assert features(client, lat=-17.0, lon=0.0) == []
    assert [f["id"] for f in features(client, lat=52.52, lon=13.40)] == [berlin_state["id"], germany["id"]]
    assert [f["id"] for f in features(client, lat=50.11, lon=8.68)] == [germany["id"]]  # Frankfurt
    assert features(client, lat=46.95, lon=7.45) == []  # Bern
    assert features(client, lat=54.5, lon=7.0) == []  # the North Sea, outside any country


def test_missing_text_in_one_language_names_it(clocked: tuple[Flask, Clock]) -> None:
    app, _ = clocked
    problem = assert_problem(app.test_client().post(
        "/v1/alerts", json=body(body={**TEXT, "ru": ""}), headers=staff()), 422)
    assert "body.ru" in problem["errors"]


def test_the_staff_list_has_ended_alerts_too_without_areas(clocked: tuple[Flask, Clock]) -> None:
    app, clock = clocked
    client = app.test_client()
    assert_problem(client.get("/v1/staff/alerts"), 401)
    assert_problem(client.get("/v1/staff/alerts", headers=auth("tourist", "traveller")), 403)
    short = publish(client, valid_to=iso(timedelta(hours=1))).get_json()
    later = publish(client, severity="evacuation", countries=["UA"], area=None,
                    valid_from=iso(timedelta(days=1))).get_json()
    clock.advance(hours=2)  # the first has ended: gone from the public listing, kept for staff
    assert [f["id"] for f in features(client)] == [later["id"]]
    response = client.get("/v1/staff/alerts", headers=staff())
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    listed = response.get_json()
    assert listed["now"] == iso(timedelta(hours=2))
    assert [a["id"] for a in listed["alerts"]] == [later["id"], short["id"]]  # newest valid_from first
    first, second = listed["alerts"]
    assert first["area_type"] is None and first["countries"] == ["UA"]
    assert second["area_type"] == "Polygon" and second["valid_to"] == short["valid_to"]
    assert "area" not in second and "body" not in second and second["title"] == TITLE
