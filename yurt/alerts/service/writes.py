"""Alert use cases: turn a checked body into the stored document, and write it through the store.

Functions take the store, the clock reading (``now``) and the rules (``AlertRules``: the vertex limit, which
mission ids exist, the point → country lookup) as arguments, so tests and benches call them without Flask.
Marshmallow has already checked each field's own shape (``yurt.alerts.http.schemas``); here are the rules across
fields and against other data, each failure an ``AlertInvalid`` naming the member (``area`` with shapely's
reason, ``valid_to``, ``missions[2]``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yurt.alerts.model.geometry import AreaError, parse_area, sample_points
from yurt.alerts.model.record import AlertRecord
from yurt.alerts.stores.embedded import AlertStore
from yurt.core.store_errors import NotFound
from yurt.geo.instants import utc_iso

ID_PREFIX = "al-"


class AlertInvalid(Exception):
    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("the alert is invalid: " + ", ".join(sorted(errors)))
        self.errors = dict(errors)


@dataclass(frozen=True)
class AlertRules:
    max_vertices: int
    mission_exists: Callable[[str], bool]
    country_of_point: Callable[[float, float], str | None]


def new_id() -> str:
    """``al-`` and 10 random hex digits (40 bits; ``secrets``): not guessable, not ordered."""
    return ID_PREFIX + secrets.token_hex(5)


def is_alert_id(value: str) -> bool:
    return len(value) == 13 and value.startswith(ID_PREFIX) and all(c in "0123456789abcdef" for c in value[3:])


def _where(loaded: Mapping[str, Any], rules: AlertRules, errors: dict[str, list[str]]) -> tuple[Any, list[str]]:
    """The checked area (GeoJSON) and the countries it reaches; errors go to ``errors``."""
    area = loaded.get("area")
    by_place = bool(loaded.get("countries") or loaded.get("subdivisions"))
    if area is not None and by_place:
        errors["area"] = ["give either area, or countries and/or subdivisions, not both"]
        return None, []
    if area is None and not by_place:
        errors["area"] = ["give an area, or countries and/or subdivisions"]
        return None, []
    if area is None:
        return None, []
    try:
        parsed = parse_area(area, max_vertices=rules.max_vertices)
    except AreaError as exc:
        errors["area"] = [str(exc)]
        return None, []
    # Which countries the area reaches, so a traveller's registered trip finds it: its vertices and a grid of
    # interior points, each located like a nearest/responsible query point.
    reached = {rules.country_of_point(lat, lon) for lat, lon in sample_points(parsed.geometry)}
    return parsed.geojson, sorted(c for c in reached if c is not None)


def build_doc(loaded: Mapping[str, Any], *, alert_id: str, now: datetime, rules: AlertRules,
              created_at: str | None = None) -> dict[str, Any]:
    """The stored document for a body marshmallow loaded; ``AlertInvalid`` for rules across fields."""
    errors: dict[str, list[str]] = {}
    area, area_countries = _where(loaded, rules, errors)
    valid_from: datetime = loaded.get("valid_from") or now
    valid_to: datetime | None = loaded.get("valid_to")
    if valid_to is not None and valid_to <= valid_from:
        errors["valid_to"] = ["must be after valid_from"]
    elif valid_to is not None and created_at is None and valid_to <= now:
        errors["valid_to"] = ["is already past: an alert that has ended reaches no one"]
    for i, mission_id in enumerate(loaded.get("missions") or ()):
        if not rules.mission_exists(mission_id):
            errors[f"missions[{i}]"] = [f"no mission with id {mission_id!r}"]
    if errors:
        raise AlertInvalid(errors)
    stamp = utc_iso(now)
    return {
        "id": alert_id,
        "severity": loaded["severity"],
        "title": dict(loaded["title"]),
        "body": dict(loaded["body"]),
        "valid_from": utc_iso(valid_from),
        "valid_to": None if valid_to is None else utc_iso(valid_to),
        "countries": sorted(loaded.get("countries") or ()),
        "subdivisions": sorted(loaded.get("subdivisions") or ()),
        "area": area,
        "area_countries": area_countries,
        "missions": list(loaded.get("missions") or ()),
        "sources": list(loaded.get("sources") or ()),
        "created_at": created_at or stamp,
        "updated_at": stamp,
    }


def editable(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The members a client writes, as GET shows them: the base a merge patch applies to."""
    return {k: v for k, v in doc.items() if k not in ("id", "area_countries", "created_at", "updated_at")}


def create_alert(store: AlertStore, loaded: Mapping[str, Any], *, author: str, now: datetime,
                 rules: AlertRules) -> AlertRecord:
    return store.create(build_doc(loaded, alert_id=new_id(), now=now, rules=rules), author=author)


def replace_alert(store: AlertStore, alert_id: str, loaded: Mapping[str, Any], *, if_match: str, author: str,
                  now: datetime, rules: AlertRules, action: str = "replace") -> AlertRecord:
    """Replace (or, with ``action="patch"``, record a merge patch of) an alert whose ETag is ``if_match``."""
    current = store.get(alert_id)
    if current is None:
        raise NotFound(alert_id)
    doc = build_doc(loaded, alert_id=alert_id, now=now, rules=rules, created_at=current.doc["created_at"])
    return store.update(alert_id, doc, if_match=if_match, author=author, action=action)
