"""``nearest`` and ``responsible`` carry the alerts in force for the query point (id, severity, title in three
languages), current at every request; country and subdivision alerts match
through the responsible lookup; an alert store never reached gives ``alerts: null``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from flask import Flask
from flask.testing import FlaskClient

from tests.alerts.helpers import BERLIN_BOX, FIJI, TITLE, clocked, published, staff
from tests.travellers.helpers import T0, Clock
from yurt.alerts.model.record import AlertRecord
from yurt.alerts.service.answers import at_point, point_alerts_json, point_summaries
from yurt.alerts.service.book import AlertBook
from yurt.alerts.stores.embedded import AlertState, EmbeddedAlertStore
from yurt.core.store_errors import StoreUnavailable
from yurt.geo.places import Locator

__all__ = ["clocked"]  # fixtures

BERLIN = {"lat": 52.52, "lon": 13.40}
FRANKFURT = {"lat": 50.11, "lon": 8.68}


def ids(answer: dict[str, Any]) -> list[str]:
    return [a["id"] for a in answer["alerts"]]


def nearest(client: FlaskClient, **query: Any) -> tuple[dict[str, Any], str]:
    response = client.get("/v1/missions/nearest", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json(), response.headers["X-Cache"]


def responsible(client: FlaskClient, **query: Any) -> dict[str, Any]:
    response = client.get("/v1/missions/responsible", query_string=query)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def test_nearest_carries_the_alerts_in_force_at_every_request(clocked: tuple[Flask, Clock]) -> None:
    app, clock = clocked
    client = app.test_client()
    answer, _ = nearest(client, **BERLIN)
    assert answer["alerts"] == []
    alert, etag = published(client, severity="evacuation", valid_to=(T0 + timedelta(hours=1)).isoformat())
    answer, _ = nearest(client, **BERLIN)
    assert answer["alerts"] == [{"id": alert["id"], "severity": "evacuation", "title": TITLE}]
    assert answer["results"][0]["mission"]["properties"]["id"] == "kz-embassy-de-berlin"
    client.patch(f"/v1/alerts/{alert['id']}", json={"severity": "advisory"}, headers={**staff(), "If-Match": etag})
    assert nearest(client, **BERLIN)[0]["alerts"][0]["severity"] == "advisory"
    assert nearest(client, **FRANKFURT)[0]["alerts"] == []
    clock.advance(hours=1)  # it ends by the clock
    assert nearest(client, **BERLIN)[0]["alerts"] == []


def test_responsible_matches_areas_countries_and_subdivisions(clocked: tuple[Flask, Clock]) -> None:
    app, _ = clocked
    client = app.test_client()
    area, _ = published(client, severity="warning", area=BERLIN_BOX)
    germany, _ = published(client, severity="info", area=None, countries=["DE"])
    berlin, _ = published(client, severity="evacuation", area=None, subdivisions=["DE-BE"],
                          missions=["kz-cg-de-frankfurt-am-main"])
    fiji, _ = published(client, severity="advisory", area=FIJI)
    assert ids(responsible(client, **BERLIN)) == [berlin["id"], area["id"], germany["id"]]
    assert ids(responsible(client, **FRANKFURT)) == [germany["id"]]
    assert ids(responsible(client, lat=-17.0, lon=-180.0)) == [fiji["id"]]
    assert ids(responsible(client, lat=46.95, lon=7.45)) == []
    # A question about a whole country: the alerts for it and its subdivisions (an area needs a point).
    assert ids(responsible(client, country="DE")) == [berlin["id"], germany["id"]]
    assert ids(responsible(client, country="CH")) == []
    assert ids(nearest(client, **BERLIN)[0]) == [berlin["id"], area["id"], germany["id"]]


def test_an_alert_store_never_reached_answers_null_not_none(tmp_path: Any) -> None:
    class Unreachable(EmbeddedAlertStore):
        def generation(self) -> int:
            raise StoreUnavailable("down")

        def load(self) -> AlertState:
            raise StoreUnavailable("down")

    book = AlertBook(Unreachable(tmp_path), reload_interval_s=0.01)
    assert point_summaries(book, Locator(), 52.52, 13.40, T0.timestamp()) is None
    assert point_alerts_json(book, Locator(), 52.52, 13.40, T0.timestamp(), country="DE") == b"null"


def test_a_store_outage_keeps_serving_the_last_alerts(tmp_path: Any) -> None:
    store = EmbeddedAlertStore(tmp_path)
    store.create({"id": "al-0000000001", "severity": "warning", "title": TITLE, "area": BERLIN_BOX,
                  "valid_from": "2026-01-01T00:00:00Z", "valid_to": None}, author="alice")
    book = AlertBook(store, reload_interval_s=0.0)

    def down() -> int:
        raise StoreUnavailable("down")

    store.generation = down  # type: ignore[method-assign]
    summaries = point_summaries(book, Locator(), 52.52, 13.40, T0.timestamp())
    assert summaries is not None and [s["id"] for s in summaries] == ["al-0000000001"]


def _record(i: int, **members: Any) -> AlertRecord:
    doc = {"id": f"al-{i:010x}", "severity": ("info", "advisory", "warning", "evacuation")[i % 4], "title": TITLE,
           "body": TITLE, "valid_from": "2026-01-01T00:00:00Z", "valid_to": None, "countries": [],
           "subdivisions": [], "area": None, "area_countries": [], "missions": [], "sources": [], **members}
    return AlertRecord(doc, i + 1)


# (lat, lon): in Berlin (an area, a country and a subdivision alert), Paris (a subdivision alert), Fiji on both
# sides of the antimeridian (an area; no place alert for FJ), Vienna and the open sea (none), the North Pole.
PROBES = [(52.52, 13.40), (52.3, 13.0), (48.86, 2.35), (-17.0, 179.5), (-16.5, -179.9), (-17.0, 180.0),
          (48.21, 16.37), (40.0, -40.0), (90.0, 0.0)]


def test_the_spliced_alerts_and_the_areas_only_path_answer_as_the_full_lookup(tmp_path: Any) -> None:
    """``nearest`` splices ``point_alerts_json`` (each alert's pre-serialised summary) into its answer: the same
    bytes as the summaries' JSON; and where the caller's country has no country or subdivision alert, the areas
    alone answer, as the full lookup would."""
    records = [_record(0, area=BERLIN_BOX), _record(1, area=FIJI), _record(2, countries=["DE"]),
               _record(3, subdivisions=["DE-BE"]), _record(4, subdivisions=["FR-75C"]),
               _record(5, area=BERLIN_BOX, valid_to="2026-01-02T00:00:00Z")]  # ended: never listed
    store = EmbeddedAlertStore(tmp_path)
    for record in records:
        store.create(record.doc, author="alice")
    book = AlertBook(store, reload_interval_s=60.0)
    snapshot, locator, now_s = book.current(), Locator(), T0.timestamp()
    assert snapshot.place_countries == {"DE", "FR"}
    seen = set()
    for lat, lon in PROBES:
        country = locator.country_of_point(lat, lon)
        full = at_point(snapshot, locator, lat, lon, now_s)  # country, subdivisions: looked up here
        assert at_point(snapshot, locator, lat, lon, now_s, country=country) == full
        spliced = point_alerts_json(book, locator, lat, lon, now_s, country=country)
        assert spliced == orjson.dumps(point_summaries(book, locator, lat, lon, now_s)), (lat, lon)
        seen.update(a.id for a in full)
    assert seen == {r.id for r in records[:5]}
