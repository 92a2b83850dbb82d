"""The alerts that answers carry: for a query point (``nearest``, ``responsible``, ``GET /v1/alerts?lat&lon``),
for a country question, and for a traveller's cell and trips.

Country and subdivision alerts match through the same lookup as ``responsible`` (``Locator``: the point's
country from the time-zone polygons, its ISO 3166-2 candidates from the nearest labelled places); the costly
subdivision lookup runs only when an alert in force names a subdivision of that country. Alerts vary by point
and by the clock, so they are attached to an answer after any result cache and never stored in one.

Failure policy: fail open. If no alert data could ever be loaded (the store unreachable since start), an
answer carries ``alerts: null`` (unknown), never an empty list that would claim there is no alert.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

from yurt.alerts.model.geometry import cell_area
from yurt.alerts.model.record import Trip
from yurt.alerts.model.snapshot import Alert, AlertSnapshot, Locate
from yurt.alerts.service.book import AlertBook
from yurt.alerts.service.subdivision_reach import SubdivisionReach
from yurt.core.store_errors import StoreUnavailable
from yurt.geo.places import Locator
from yurt.geo.privacy import cell_centre

_UNSET: Any = object()


def point_locate(locator: Locator, lat: float, lon: float, *, country: str | None = _UNSET,
                 subdivisions: Sequence[str] | None = None, reach: SubdivisionReach | None = None) -> Locate:
    """``Locate`` for a point; ``country`` (and ``subdivisions``) when the caller already looked them up.

    With ``reach``, the costly subdivision lookup is skipped where no alerted subdivision can be a candidate
    (``SubdivisionReach``: exact, the lookup would have named none of them)."""

    def wanted_here(wanted: frozenset[str]) -> Callable[[str], bool]:
        if reach is None:
            return wanted.__contains__
        return lambda code: code in wanted and reach.may_name(code, lat, lon)

    def locate(wanted: frozenset[str]) -> tuple[str | None, Sequence[str]]:
        if country is _UNSET:  # one lookup: the country, and its subdivisions only where an alert names one
            place = locator.locate(lat, lon, subdivision_wanted=wanted_here(wanted))
            return place.country, place.subdivisions or ()
        if country is None or not wanted_here(wanted)(country):
            return country, ()
        return country, subdivisions or locator.subdivision_candidates(lat, lon, country)

    return locate


_REACH: weakref.WeakKeyDictionary[AlertSnapshot, SubdivisionReach] = weakref.WeakKeyDictionary()


def subdivision_reach(snapshot: AlertSnapshot, locator: Locator) -> SubdivisionReach | None:
    """The snapshot's ``SubdivisionReach`` for this locator (made on first use; None without subdivision
    alerts)."""
    if not snapshot.subdivision_codes:
        return None
    reach = _REACH.get(snapshot)
    if reach is None or reach.locator is not locator:
        reach = _REACH[snapshot] = SubdivisionReach(locator, snapshot.subdivision_codes)
    return reach


def at_point(snapshot: AlertSnapshot, locator: Locator, lat: float, lon: float, now_s: float, *,
             country: str | None = _UNSET, subdivisions: Sequence[str] | None = None) -> list[Alert]:
    if country is not _UNSET and country not in snapshot.place_countries:  # the caller's country: areas only
        return snapshot.areas_at(lat, lon, now_s)
    return snapshot.at_point(lat, lon, now_s, point_locate(locator, lat, lon, country=country,
                                                           subdivisions=subdivisions,
                                                           reach=subdivision_reach(snapshot, locator)))


def point_summaries(book: AlertBook, locator: Locator, lat: float, lon: float, now_s: float, *,
                    country: str | None = _UNSET, subdivisions: Sequence[str] | None = None
                    ) -> list[dict[str, Any]] | None:
    """``alerts`` for an answer about a point: id, severity and title of each alert in force there."""
    try:
        snapshot = book.current()
    except StoreUnavailable:
        return None
    found = at_point(snapshot, locator, lat, lon, now_s, country=country, subdivisions=subdivisions)
    return [a.summary for a in found]


def point_alerts_json(book: AlertBook, locator: Locator, lat: float, lon: float, now_s: float, *,
                      country: str | None = _UNSET, subdivisions: Sequence[str] | None = None) -> bytes:
    """``point_summaries`` as the JSON an answer carries (``null`` when unknown), from each alert's
    pre-serialised summary: the same bytes as ``orjson.dumps(point_summaries(...))``."""
    try:
        snapshot = book.current()
    except StoreUnavailable:
        return b"null"
    found = at_point(snapshot, locator, lat, lon, now_s, country=country, subdivisions=subdivisions)
    return b"[" + b",".join([a.summary_json for a in found]) + b"]"


def country_summaries(book: AlertBook, country: str, now_s: float) -> list[dict[str, Any]] | None:
    """``alerts`` for an answer about a whole country: the alerts in force for it or for a subdivision of it
    (an area alert is matched by points, so a country question does not list it)."""
    try:
        snapshot = book.current()
    except StoreUnavailable:
        return None
    found = snapshot.in_countries(frozenset({country}), now_s)
    return [a.summary for a in found if a.area is None]


def for_traveller(snapshot: AlertSnapshot, locator: Locator, cell: str | None, trips: Sequence[Trip],
                  now_s: float) -> list[tuple[Alert, list[str]]]:
    """The alerts in force for a traveller, each with why (``presence``: they meet the stored cell;
    ``trip``: a trip under way is to a country the alert is for or reaches), in answer order."""
    reasons: dict[str, list[str]] = {}
    if cell is not None:
        lat, lon = cell_centre(cell)
        for alert in snapshot.meeting(cell_area(cell), now_s, point_locate(locator, lat, lon)):
            reasons.setdefault(alert.id, []).append("presence")
    countries = frozenset(c for trip in trips if trip.under_way(now_s) for c in trip.countries)
    if countries:
        for alert in snapshot.in_countries(countries, now_s):
            reasons.setdefault(alert.id, []).append("trip")
    return [(a, reasons[a.id]) for a in snapshot.alerts if a.id in reasons]
