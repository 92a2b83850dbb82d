"""The alert record, its time window, severity order, trips and the bands reach is told in. Pure: the standard
library, orjson and the pure domain core only.

An alert is stored as a JSON document (``doc``) with a revision; the public Feature, the index and the answers
are all derived from it. Instants are ISO 8601 in UTC with a ``Z`` (``yurt.geo.instants.utc_iso``); an alert
is *in force* from ``valid_from`` (inclusive) to ``valid_to`` (exclusive, or for ever when null), and
*upcoming* before that.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from yurt.geo.privacy import K_ANONYMITY
from yurt.travellers.model.area_counts import count_band

SEVERITIES = ("info", "advisory", "warning", "evacuation")  # mildest first
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
LANGUAGES = ("en", "kk", "ru")
# Members of the stored document a client may write; the rest (id, area_countries, created_at, updated_at) the
# service sets.
WRITABLE = ("severity", "title", "body", "valid_from", "valid_to", "area", "countries", "subdivisions",
            "missions", "sources")
READ_ONLY = ("id", "area_countries", "created_at", "updated_at")


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def epoch_s(text: str | None) -> float:
    """Seconds since the epoch of a stored instant; +inf for an open end."""
    return math.inf if text is None else parse_instant(text).timestamp()


def content_hash(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One stored alert: its document and its revision (incremented by every write, never reused)."""

    doc: Mapping[str, Any]
    rev: int

    @property
    def id(self) -> str:
        return str(self.doc["id"])

    @property
    def etag(self) -> str:
        # Revision plus content hash, as missions do: a store that restarts revisions cannot produce an ETag
        # that matches different content a client saw earlier.
        return f'"{self.rev}.{content_hash(self.doc)[:16]}"'


def summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What ``nearest`` and ``responsible`` carry for an alert: enough to show it and to fetch the rest."""
    return {"id": doc["id"], "severity": doc["severity"], "title": dict(doc["title"])}


def feature(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The public GeoJSON Feature of an alert: its area as the geometry (null for countries/subdivisions)."""
    properties = {k: v for k, v in doc.items() if k != "area"}
    return {"type": "Feature", "id": doc["id"], "geometry": doc.get("area"), "properties": properties}


# -- trips -------------------------------------------------------------------------------------------------------

# A trip's dates are the traveller's local dates, and the service does not know the zone: a trip is taken to be
# under way from its first date's midnight in the earliest zone on Earth (UTC+14) to its last date's midnight
# in the latest (UTC-12), so it covers those dates wherever the traveller is.
EARLIEST_OFFSET = timedelta(hours=14)
LATEST_OFFSET = timedelta(hours=12)
MAX_TRIPS = 20
MAX_TRIP_AHEAD = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Trip:
    countries: tuple[str, ...]
    starts: date
    ends: date  # inclusive

    @property
    def begins_s(self) -> float:
        return (datetime.combine(self.starts, datetime.min.time(), UTC) - EARLIEST_OFFSET).timestamp()

    @property
    def finishes_s(self) -> float:
        end = datetime.combine(self.ends, datetime.min.time(), UTC) + timedelta(days=1) + LATEST_OFFSET
        return end.timestamp()

    def under_way(self, now_s: float) -> bool:
        return self.begins_s <= now_s < self.finishes_s

    def to_json(self) -> dict[str, Any]:
        return {"countries": list(self.countries), "from": self.starts.isoformat(), "to": self.ends.isoformat()}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Trip:
        return cls(tuple(raw["countries"]), date.fromisoformat(raw["from"]), date.fromisoformat(raw["to"]))


def trips_expire_s(trips: list[Trip]) -> float:
    """When the last of these trips is over: the stored list may go then."""
    return max((t.finishes_s for t in trips), default=0.0)


# -- reach -------------------------------------------------------------------------------------------------------

def reach_band(count: int) -> str:
    """``"<3"`` below k, else the band of the area counts holding ``count`` (``area_counts.count_band``: 3–4,
    5–9, 10–19, 20–49, ...), so one traveller more or less shows only at a band edge, and two overlapping areas
    cannot be subtracted to single one out."""
    if count < K_ANONYMITY:
        return f"<{K_ANONYMITY}"
    return count_band(count)[1]
