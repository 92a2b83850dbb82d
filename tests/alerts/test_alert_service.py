"""``AlertService`` without Flask: staff writes, public reads, a traveller's alerts and trips, and reach, on
embedded stores with a fixed clock and a stand-in for the travellers' presence reads (``Presences``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import pytest

from tests.alerts.helpers import BERLIN_BOX, TEXT, TITLE
from yurt.alerts.model.record import reach_band
from yurt.alerts.service.alerts import AlertService, UnknownAlert
from yurt.alerts.service.book import AlertBook
from yurt.alerts.service.trips import TripsInvalid
from yurt.alerts.service.writes import AlertInvalid
from yurt.alerts.stores.embedded import EmbeddedAlertStore
from yurt.alerts.stores.trips import EmbeddedTripStore
from yurt.core.store_errors import StalePrecondition
from yurt.geo import privacy
from yurt.geo.places import Locator

SECRET = b"k" * 32
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0 = NOW.timestamp()
BERLIN_CELL = h3.latlng_to_cell(52.52, 13.40, privacy.PRESENCE_RES)
CAP_S = 300


@dataclass(frozen=True)
class Shared:
    cell: str


@dataclass
class Presences:
    """Travellers sharing presence: pseudonym → cell, all established."""

    cells: dict[str, str] = field(default_factory=dict)

    def get_presence(self, tid: str, now_s: float, /) -> Shared | None:
        cell = self.cells.get(tid)
        return Shared(cell) if cell is not None else None

    def occupied(self, index_cells: Sequence[str], now_s: float, /, established_only: bool = False
                 ) -> Mapping[str, int]:
        wanted = set(index_cells)
        counts: dict[str, int] = {}
        for cell in self.cells.values():
            if h3.cell_to_parent(cell, privacy.INDEX_RES) in wanted:
                counts[cell] = counts.get(cell, 0) + 1
        return counts


@pytest.fixture(scope="module")
def locator() -> Locator:
    return Locator()


@pytest.fixture
def presences() -> Presences:
    return Presences()


@pytest.fixture
def alerts(tmp_path: Path, locator: Locator, presences: Presences) -> Iterator[AlertService]:
    store = EmbeddedAlertStore(tmp_path)
    service = AlertService(store, AlertBook(store, reload_interval_s=60.0), EmbeddedTripStore(), presences,
                           locator, SECRET, {"kz-embassy-de-berlin"}.__contains__, max_vertices=1000,
                           max_age_cap_s=CAP_S)
    yield service
    service.close()


def loaded(**extra: Any) -> dict[str, Any]:
    """An alert body as the schema loads it."""
    return {"severity": "warning", "title": TITLE, "body": TEXT, "area": BERLIN_BOX, "countries": [],
            "subdivisions": [], "valid_from": None, "valid_to": None, "missions": [], "sources": [], **extra}


def tid(sub: str) -> str:
    return privacy.traveller_id(SECRET, sub)


def test_staff_writes_show_at_once_in_the_public_reads(alerts: AlertService) -> None:
    assert alerts.public(T0).listing is not None and alerts.public(T0).max_age_s == CAP_S
    record = alerts.create(loaded(valid_to=NOW + timedelta(minutes=2)), author="alice", now=NOW)
    assert alerts.get(record.id).etag == record.etag and record.doc["area_countries"] == ["DE"]
    at_berlin = alerts.public(T0, (52.52, 13.40))
    assert [a.id for a in at_berlin.at_point] == [record.id]
    assert at_berlin.max_age_s == 120  # never past the alert's end
    listing = alerts.public(T0).listing
    assert listing is not None and record.id.encode() in listing.body
    assert alerts.public(T0, (48.85, 2.35)).at_point == []

    changed = alerts.replace(record.id, loaded(severity="evacuation"), if_match=record.etag, author="bob", now=NOW)
    assert alerts.public(T0, (52.52, 13.40)).at_point[0].record.doc["severity"] == "evacuation"
    [summary] = alerts.staff_summaries()
    assert summary["id"] == record.id and summary["area_type"] == "Polygon" and "area" not in summary
    with pytest.raises(StalePrecondition):
        alerts.delete(record.id, if_match=record.etag, author="bob")
    alerts.delete(record.id, if_match=changed.etag, author="bob")
    with pytest.raises(UnknownAlert):
        alerts.get(record.id)
    assert alerts.public(T0, (52.52, 13.40)).at_point == []
    assert [e.action for e in alerts.audit(record.id, 10, None)] == ["delete", "replace", "create"]
    assert alerts.staff_summaries() == []


def test_rules_across_fields_and_other_features_name_the_member(alerts: AlertService) -> None:
    with pytest.raises(AlertInvalid) as raised:
        alerts.create(loaded(missions=["kz-embassy-de-berlin", "kz-nowhere"], valid_to=NOW - timedelta(hours=1)),
                      author="alice", now=NOW)
    assert sorted(raised.value.errors) == ["missions[1]", "valid_to"]
    with pytest.raises(AlertInvalid) as raised:
        alerts.create(loaded(countries=["DE"]), author="alice", now=NOW)
    assert list(raised.value.errors) == ["area"]
    for bad in ("al-nothex00000", "x" * 80):
        with pytest.raises(UnknownAlert):
            alerts.get(bad)
        with pytest.raises(UnknownAlert):
            alerts.audit(bad, 10, None)
        with pytest.raises(UnknownAlert):
            alerts.reach(bad, T0)


def test_a_traveller_gets_the_alerts_of_their_cell_and_trips(alerts: AlertService, presences: Presences) -> None:
    area = alerts.create(loaded(), author="alice", now=NOW)
    portugal = alerts.create(loaded(area=None, countries=["PT"]), author="alice", now=NOW)
    presences.cells[tid("ann")] = BERLIN_CELL
    mine = alerts.for_traveller("ann", T0)
    assert [(a.id, why) for a, why in mine.found] == [(area.id, ["presence"])]
    assert mine.presence_shared and mine.trip_countries == []

    today = NOW.date()
    with pytest.raises(TripsInvalid) as raised:
        alerts.put_trips("bob", [{"countries": ["PT"], "starts": today - timedelta(days=9),
                                  "ends": today - timedelta(days=2)}], T0)
    assert list(raised.value.errors) == ["trips[0].to"]
    trips = alerts.put_trips("bob", [{"countries": ["PT"], "starts": today, "ends": today + timedelta(days=3)}], T0)
    assert alerts.trips_of("bob", T0) == trips and alerts.trips.get(tid("bob"), T0) == trips  # under the pseudonym
    bobs = alerts.for_traveller("bob", T0)
    assert [(a.id, why) for a, why in bobs.found] == [(portugal.id, ["trip"])]
    assert not bobs.presence_shared and bobs.trip_countries == ["PT"]
    alerts.forget_trips("bob")
    assert alerts.trips_of("bob", T0) == [] and alerts.for_traveller("bob", T0).found == []


def test_reach_counts_travellers_in_bands(alerts: AlertService, presences: Presences) -> None:
    area = alerts.create(loaded(), author="alice", now=NOW)
    portugal = alerts.create(loaded(area=None, countries=["PT"]), author="alice", now=NOW)
    presences.cells.update({tid(f"t{i}"): BERLIN_CELL for i in range(6)})
    presences.cells[tid("far")] = h3.latlng_to_cell(48.85, 2.35, privacy.PRESENCE_RES)
    counted = alerts.reach(area.id, T0)
    assert counted["sharing_presence"] == reach_band(6) and counted["on_trips"] is None
    for i in range(3):
        alerts.put_trips(f"p{i}", [{"countries": ["PT"], "starts": date(2026, 3, 1), "ends": date(2026, 3, 5)}],
                         T0)
    assert alerts.reach(portugal.id, T0)["on_trips"] == reach_band(3)
