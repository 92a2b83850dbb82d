"""Build ``yurt/alerts/data/country_boxes.json``: for each country, the bounding boxes of the time-zone polygons
the locator assigns to it, so that ``GET /v1/alerts/<id>/reach`` knows which resolution-5 cells can hold a
traveller in a country without any country polygons of our own.

The locator (``yurt.geo.places``) decides a point's country as "the zone of the timezonefinder polygon the
point lies in, mapped through tzdata's zone.tab". So every point the locator puts in country C lies in some
polygon of a zone mapped to C, hence in one of these boxes: a superset by construction, as reach needs. The
boxes come from timezonefinder's own per-polygon bounds (integers of 1e-7 degrees), rounded outwards to
0.01 degree; a box inside another of the same country is dropped.

Run: ``PYTHONPATH=. .venv/bin/python tools/build_country_boxes.py`` (rerun after upgrading timezonefinder or tzdata).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from timezonefinder import TimezoneFinder

from yurt.geo.places import load_zone_countries

OUT = Path(__file__).resolve().parent.parent / "yurt" / "alerts" / "data" / "country_boxes.json"
SCALE = 1e7  # timezonefinder stores coordinates as int32 of 1e-7 degrees


def boxes_by_country() -> dict[str, list[list[float]]]:
    finder = TimezoneFinder()
    bounds = finder.boundaries
    zone_countries = load_zone_countries()
    out: dict[str, list[list[float]]] = {}
    for zone_id, name in enumerate(finder.timezone_names):
        country = zone_countries.get(name)
        if country is None:  # Etc/* open-sea zones: no country
            continue
        for i in finder._iter_boundary_ids_of_zone(zone_id):  # private, but the only per-polygon bounds
            box = [math.floor(bounds.xmin[i] / SCALE * 100) / 100, math.floor(bounds.ymin[i] / SCALE * 100) / 100,
                   math.ceil(bounds.xmax[i] / SCALE * 100) / 100, math.ceil(bounds.ymax[i] / SCALE * 100) / 100]
            out.setdefault(country, []).append([max(-180.0, box[0]), max(-90.0, box[1]), min(180.0, box[2]),
                                                min(90.0, box[3])])
    return {c: _outermost(b) for c, b in sorted(out.items())}


def _inside(a: list[float], b: list[float]) -> bool:
    return b[0] <= a[0] and b[1] <= a[1] and a[2] <= b[2] and a[3] <= b[3]


def _outermost(boxes: list[list[float]]) -> list[list[float]]:
    kept: list[list[float]] = []
    for box in sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])):
        if not any(_inside(box, other) for other in kept):
            kept.append(box)
    return sorted(kept)


if __name__ == "__main__":
    data = boxes_by_country()
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(data)} countries, {sum(len(b) for b in data.values())} boxes")
