"""Every stored alert at one store generation, indexed for the questions the service asks. Pure.

Built once per generation and shared read-only by a worker's threads. Areas are parsed once per alert version
(a rebuild reuses the parsed polygons of alerts whose ETag did not change; their rasters are coded again, on first use)
and sit in an ``AreaIndex``;
country and subdivision alerts sit in dictionaries. Time is not part of the snapshot: every query takes
``now_s``, and ``phase(now_s)`` names the stretch of time between two consecutive starts or ends, inside which
the set of alerts in force and upcoming cannot change.

Order of an answer: most severe first, then newest (latest ``valid_from``), then id.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from shapely.geometry.base import BaseGeometry

from yurt.alerts.model.geometry import AreaIndex, stored_area
from yurt.alerts.model.record import SEVERITY_RANK, AlertRecord, epoch_s, feature, summary
from yurt.geo.subdivisions import subdivision_closure

# (country, subdivision candidates) of a point, asked only when some alert needs it; the argument names the
# countries whose subdivisions matter (the caller may skip the costly subdivision lookup elsewhere).
Locate = Callable[[frozenset[str]], tuple[str | None, Sequence[str]]]


@dataclass(frozen=True, slots=True)
class Alert:
    record: AlertRecord
    rank: int
    starts_s: float
    ends_s: float
    countries: frozenset[str]
    subdivisions: frozenset[str]
    area_countries: frozenset[str]
    area: BaseGeometry | None
    feature_head: bytes  # the public Feature's JSON without its last two bytes, to append "upcoming"
    summary: dict[str, Any]  # what nearest and responsible carry (model.summary), made once; shared: read only
    summary_json: bytes  # the same as JSON, spliced into answers as it is (orjson.dumps(summary))

    @property
    def id(self) -> str:
        return self.record.id

    def in_force(self, now_s: float) -> bool:
        return self.starts_s <= now_s < self.ends_s

    def feature_bytes(self, upcoming: bool) -> bytes:
        return self.feature_head + (b',"upcoming":true}}' if upcoming else b',"upcoming":false}}')

    def sort_key(self) -> tuple[int, float, str]:
        return (-self.rank, -self.starts_s, self.id)


def _alert(record: AlertRecord, area: BaseGeometry | None) -> Alert:
    doc = record.doc
    head = orjson.dumps(feature(doc))
    assert head.endswith(b"}}")  # properties come last in the Feature, and are never empty
    brief = summary(doc)
    return Alert(record, SEVERITY_RANK[doc["severity"]], epoch_s(doc["valid_from"]), epoch_s(doc.get("valid_to")),
                 frozenset(doc.get("countries") or ()), frozenset(doc.get("subdivisions") or ()),
                 frozenset(doc.get("area_countries") or ()), area, head[:-2], brief, orjson.dumps(brief))


class AlertSnapshot:
    def __init__(self, records: Iterable[AlertRecord], generation: int,
                 previous: AlertSnapshot | None = None) -> None:
        # An unchanged alert (same ETag: revision and content hash) keeps its parsed, prepared area and bytes.
        reuse = {a.record.etag: a for a in previous.alerts} if previous is not None else {}
        alerts = []
        for record in records:
            kept = reuse.get(record.etag) if reuse else None  # an ETag hashes the whole doc: only when useful
            if kept is not None:
                alerts.append(kept)
                continue
            area = record.doc.get("area")
            # Stored areas were checked when written (and a later, lower vertex limit does not drop them).
            geometry = None if area is None else stored_area(area)
            alerts.append(_alert(record, geometry))
        alerts.sort(key=Alert.sort_key)
        self.generation = generation
        self.alerts: tuple[Alert, ...] = tuple(alerts)
        self.by_id: Mapping[str, Alert] = {a.id: a for a in alerts}
        self._areal: list[int] = [i for i, a in enumerate(alerts) if a.area is not None]
        self._index = AreaIndex([alerts[i].area for i in self._areal])
        self._by_country: dict[str, list[int]] = {}
        self._by_subdivision_country: dict[str, list[int]] = {}
        for i, a in enumerate(alerts):
            for country in a.countries:
                self._by_country.setdefault(country, []).append(i)
            for code in a.subdivisions:
                self._by_subdivision_country.setdefault(code.split("-")[0], []).append(i)
        self.subdivision_countries = frozenset(self._by_subdivision_country)
        # country -> the subdivision codes alerts name there (in force or not)
        self.subdivision_codes: dict[str, frozenset[str]] = {
            country: frozenset(code for i in positions for code in alerts[i].subdivisions
                               if code.split("-")[0] == country)
            for country, positions in self._by_subdivision_country.items()}
        self.needs_place = bool(self._by_country or self._by_subdivision_country)
        # the countries where a point may match an alert by country or subdivision (elsewhere: areas only)
        self.place_countries = frozenset(self._by_country) | self.subdivision_countries
        self._closures: dict[str, frozenset[str]] = {}  # subdivision code -> it and its parents (pycountry)
        self._boundaries = sorted({t for a in alerts for t in (a.starts_s, a.ends_s) if t != float("inf")})

    def __len__(self) -> int:
        return len(self.alerts)

    # -- time ------------------------------------------------------------------------------------------------

    def phase(self, now_s: float) -> int:
        """How many starts and ends have passed: the alerts in force and upcoming are fixed within a phase."""
        return bisect.bisect_right(self._boundaries, now_s)

    def next_change_s(self, now_s: float) -> float | None:
        """The next start or end after ``now_s``, if any."""
        i = self.phase(now_s)
        return self._boundaries[i] if i < len(self._boundaries) else None

    def listing(self, now_s: float) -> list[tuple[Alert, bool]]:
        """Every alert in force or upcoming, with its upcoming flag, in answer order."""
        return [(a, a.starts_s > now_s) for a in self.alerts if now_s < a.ends_s]

    # -- where -----------------------------------------------------------------------------------------------

    def _place_matches(self, locate: Locate) -> set[int]:
        if not self.needs_place:
            return set()
        country, subdivisions = locate(self.subdivision_countries)
        if country is None:
            return set()
        hits = set(self._by_country.get(country, ()))
        candidates = self._by_subdivision_country.get(country, ())
        if candidates and subdivisions:
            # A point near a subdivision border has several candidates: warn for each (a doubt costs less than
            # a missed evacuation); a code matches its own subdivisions and those below it (ISO 3166-2 parents).
            closures = set().union(*(self._closure(code) for code in subdivisions))
            hits.update(i for i in candidates if self.alerts[i].subdivisions & closures)
        return hits

    def _closure(self, code: str) -> frozenset[str]:
        closure = self._closures.get(code)
        if closure is None:  # a function of the code alone, asked of pycountry once per code
            closure = self._closures[code] = subdivision_closure(code)
        return closure

    def _answer(self, positions: set[int], now_s: float) -> list[Alert]:
        alerts = self.alerts
        return [a for a in (alerts[i] for i in sorted(positions)) if a.starts_s <= now_s < a.ends_s]

    def at_point(self, lat: float, lon: float, now_s: float, locate: Locate) -> list[Alert]:
        """Alerts in force whose area covers the point (edge included) or whose country/subdivision holds it."""
        if not self.needs_place:
            return self.areas_at(lat, lon, now_s)
        hits = self._place_matches(locate)
        areal = self._areal
        hits.update(areal[i] for i in self._index.covering(lat, lon))
        return self._answer(hits, now_s)

    def areas_at(self, lat: float, lon: float, now_s: float) -> list[Alert]:
        """Alerts in force whose area covers the point: ``at_point`` where no country or subdivision alert can
        match (no such alert, or the point's country is not in ``place_countries``)."""
        alerts, areal = self.alerts, self._areal
        # covering() answers ascending positions into _areal, which ascends: the answer order, without a sort
        return [a for a in (alerts[areal[i]] for i in self._index.covering(lat, lon)) if a.starts_s <= now_s < a.ends_s]

    def meeting(self, area: BaseGeometry, now_s: float, locate: Locate) -> list[Alert]:
        """Alerts in force whose area meets ``area`` (a traveller's cell), or whose country/subdivision holds
        the point ``locate`` answers for (the cell's centre)."""
        areal = self._areal
        hits = {areal[i] for i in self._index.meeting(area).tolist()}
        return self._answer(hits | self._place_matches(locate), now_s)

    def in_countries(self, countries: frozenset[str], now_s: float) -> list[Alert]:
        """Alerts in force for these countries: by country, by a subdivision in them, or an area reaching them."""
        hits = {i for c in countries for i in self._by_country.get(c, ())}
        hits.update(i for c in countries for i in self._by_subdivision_country.get(c, ()))
        hits.update(i for i in self._areal if self.alerts[i].area_countries & countries)
        return self._answer(hits, now_s)
