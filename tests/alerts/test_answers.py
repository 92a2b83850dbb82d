"""``nearest`` and ``responsible`` carry the alerts in force for the query point (id, severity, title in three
languages), current at every request; country and subdivision alerts match
through the responsible lookup; an alert store never reached gives ``alerts: null``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.alerts.helpers import BERLIN_BOX, FIJI, TITLE, clocked, published, staff
from tests.travellers.helpers import T0, Clock
from yurt.alerts.service.answers import point_summaries
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
