"""Staff tools: the data quality report, and the approximate outlines of consular districts.

- ``quality``: what each post lacks (phone, hours, emergency line, districts, building point, recent source),
  as of ``today`` (``yurt.missions.model.quality``).
- ``district_features``: per ISO 3166-2 code, the labelled places the subdivision lookup uses and their convex
  hull, marked approximate (``yurt.geo.district_outline``), as GeoJSON Features.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import pycountry

from yurt.missions.model.quality import quality_report
from yurt.missions.service.mission_service import MissionService


@lru_cache(maxsize=1)
def subdivision_names() -> dict[str, str]:
    """ISO 3166-2 code → name (pycountry)."""
    return {s.code: s.name for s in pycountry.subdivisions}


def quality(svc: MissionService, today: date) -> dict[str, Any]:
    """The data quality report of the current dataset."""
    return quality_report(svc.catalogue.current().properties, today)


def district_features(svc: MissionService, codes: Sequence[str]) -> list[dict[str, Any]]:
    """Approximate outlines of subdivisions (known ISO 3166-2 codes): their labelled places and convex hull."""
    from yurt.geo.district_outline import hull_ring, unwrapped  # shapely: imported when first used

    features: list[dict[str, Any]] = []
    for code in codes:
        places = unwrapped(svc.locator.subdivision_places(code))
        props = {"code": code, "name": subdivision_names().get(code), "places": len(places),
                 "approximate": True}
        ring = hull_ring(places)
        if ring is not None:
            features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                             "properties": {**props, "kind": "outline"}})
        if places:
            features.append({"type": "Feature", "properties": {**props, "kind": "places"},
                             "geometry": {"type": "MultiPoint", "coordinates": [[lon, lat] for lat, lon in places]}})
    return features
