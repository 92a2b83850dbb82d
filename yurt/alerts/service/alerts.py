"""``AlertService``: every alert use case behind the HTTP edge, built once per app by the composition root.

Staff write alerts (``writes``: the rules across fields; a write refreshes this worker's ``book`` at once),
everyone reads them (``book``: the current snapshot and the public listing; ``answers``: the alerts at a point),
a traveller reads the alerts for their own cell and trips and keeps their trips, staff count an alert's
reach in bands (``reach``). What the service needs of other features comes in as values: ``presences`` (the
travellers' presence reads, ``Presences``) and ``mission_exists`` (missions). Methods take the clock reading
and raise domain errors (``UnknownAlert``, ``AlertInvalid``, ``TripsInvalid``, ``ReachTooLarge`` and the
stores' ``NotFound``, ``StalePrecondition``, ``StoreUnavailable``); they never read Flask or the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yurt.alerts.model.record import AlertRecord, Trip
from yurt.alerts.model.snapshot import Alert
from yurt.alerts.service import answers
from yurt.alerts.service.book import AlertBook, Listing, max_age_s
from yurt.alerts.service.presence import Presences
from yurt.alerts.service.reach import reach
from yurt.alerts.service.trips import checked_trips
from yurt.alerts.service.writes import AlertRules, create_alert, is_alert_id, replace_alert
from yurt.alerts.stores.embedded import AlertAuditEntry, AlertStore
from yurt.alerts.stores.trips import TripStore
from yurt.core.store_errors import StoreUnavailable
from yurt.geo import privacy
from yurt.geo.places import Locator


class UnknownAlert(LookupError):
    """No alert has this id (or the id is not one an alert can have)."""

    def __init__(self, alert_id: str) -> None:
        super().__init__(alert_id)
        self.alert_id = alert_id


@dataclass(frozen=True)
class PublicAlerts:
    """``GET /v1/alerts``: how long a copy may be kept, and the listing (no point) or the alerts at the point."""

    max_age_s: int
    listing: Listing | None
    at_point: list[Alert]


@dataclass(frozen=True)
class TravellerAlerts:
    """The alerts in force for a traveller, each with why (``presence``, ``trip``)."""

    found: list[tuple[Alert, list[str]]]
    presence_shared: bool
    trip_countries: list[str]


@dataclass
class AlertService:
    store: AlertStore
    book: AlertBook
    trips: TripStore
    presences: Presences
    locator: Locator
    secret: bytes  # keys the traveller pseudonym trips are stored under (``privacy.traveller_id``)
    mission_exists: Callable[[str], bool]
    max_vertices: int
    max_age_cap_s: int

    def close(self) -> None:
        self.store.close()

    # Staff writes.

    def rules(self) -> AlertRules:
        return AlertRules(self.max_vertices, self.mission_exists, self.locator.country_of_point)

    def create(self, loaded: Mapping[str, Any], *, author: str, now: datetime) -> AlertRecord:
        record = create_alert(self.store, loaded, author=author, now=now, rules=self.rules())
        self.book.refresh()
        return record

    def replace(self, alert_id: str, loaded: Mapping[str, Any], *, if_match: str, author: str, now: datetime,
                action: str = "replace") -> AlertRecord:
        """Replace (``action="patch"``: record a merge patch of) the alert whose ETag is ``if_match``."""
        record = replace_alert(self.store, alert_id, loaded, if_match=if_match, author=author, now=now,
                               rules=self.rules(), action=action)
        self.book.refresh()
        return record

    def delete(self, alert_id: str, *, if_match: str, author: str) -> None:
        self.store.delete(alert_id, if_match=if_match, author=author)
        self.book.refresh()

    # Reads.

    def get(self, alert_id: str) -> AlertRecord:
        """The stored alert; the last snapshot's copy while the store is out (reads fail open)."""
        if not is_alert_id(alert_id):
            raise UnknownAlert(alert_id)
        try:
            record = self.store.get(alert_id)
        except StoreUnavailable:
            kept = self.book.current().by_id.get(alert_id)
            record = kept.record if kept is not None else None
        if record is None:
            raise UnknownAlert(alert_id)
        return record

    def public(self, now_s: float, point: tuple[float, float] | None = None) -> PublicAlerts:
        """Without a point, every alert in force and upcoming (the offline copy); with one, those in force there.
        ``max_age_s`` is the settings' cap, never past the next start or end."""
        snapshot = self.book.current()
        age = max_age_s(snapshot.next_change_s(now_s), now_s, self.max_age_cap_s)
        if point is None:
            return PublicAlerts(age, self.book.listing(now_s), [])
        return PublicAlerts(age, None, answers.at_point(snapshot, self.locator, point[0], point[1], now_s))

    def staff_summaries(self) -> list[dict[str, Any]]:
        """Every stored alert, ended ones too, without its area's coordinates nor body; newest start first."""
        summaries = [{**{k: v for k, v in r.doc.items() if k not in ("area", "body")},
                      "area_type": (r.doc.get("area") or {}).get("type")} for r in self.store.load().records]
        summaries.sort(key=lambda doc: str(doc["valid_from"]), reverse=True)
        return summaries

    def audit(self, alert_id: str | None, limit: int, before: int | None) -> list[AlertAuditEntry]:
        """The audit trail, of one alert or of all, newest first."""
        if alert_id is not None and not is_alert_id(alert_id):
            raise UnknownAlert(alert_id)
        return self.store.audit(alert_id=alert_id, limit=limit, before_seq=before)

    def reach(self, alert_id: str, now_s: float) -> dict[str, Any]:
        """How many travellers the alert reaches now, in bands (``ReachTooLarge`` for a huge area)."""
        record = self.store.get(alert_id) if is_alert_id(alert_id) else None
        if record is None:
            raise UnknownAlert(alert_id)
        return reach(record, self.presences, self.trips, self.locator, now_s)

    # A traveller's own alerts and trips (``sub``: the token's subject; stored under its pseudonym only).

    def traveller_id(self, sub: str) -> str:
        return privacy.traveller_id(self.secret, sub)

    def for_traveller(self, sub: str, now_s: float) -> TravellerAlerts:
        tid = self.traveller_id(sub)
        presence = self.presences.get_presence(tid, now_s)
        trips = self.trips.get(tid, now_s)
        found = answers.for_traveller(self.book.current(), self.locator,
                                      presence.cell if presence is not None else None, trips, now_s)
        under_way = sorted({c for t in trips if t.under_way(now_s) for c in t.countries})
        return TravellerAlerts(found, presence is not None, under_way)

    def put_trips(self, sub: str, loaded: Sequence[Mapping[str, Any]], now_s: float) -> list[Trip]:
        """Replace the traveller's trips (``TripsInvalid`` for one over a year ahead or over already)."""
        trips = checked_trips(loaded, now_s)
        self.trips.put(self.traveller_id(sub), trips, now_s)
        return trips

    def trips_of(self, sub: str, now_s: float) -> list[Trip]:
        return self.trips.get(self.traveller_id(sub), now_s)

    def forget_trips(self, sub: str) -> None:
        self.trips.erase(self.traveller_id(sub))
