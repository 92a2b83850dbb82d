"""Generate ``yurt/console/world.json``: a small world land outline for the staff console's map preview.

Source: the time zone boundary polygons shipped inside the ``timezonefinder`` package (derived from
timezone-boundary-builder, which is built from OpenStreetMap data, ODbL). Land zones are merged (ocean zones
``Etc/*`` dropped), simplified with shapely (Douglas-Peucker, ``TOLERANCE_DEG``) and rounded, so the console
works offline without any tile server. The outline follows territorial waters, not the coast: fine for a
preview that only has to show roughly where a post is.

Run: ``python tools/make_world_outline.py`` (takes about a minute); the output is committed.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union
from timezonefinder import TimezoneFinder

TOLERANCE_DEG = 0.25
MIN_AREA_DEG2 = 0.5  # drop islets smaller than this after merging: invisible at preview scale
OUT = Path(__file__).resolve().parent.parent / "yurt" / "console" / "world.json"


def land_polygons() -> list[Polygon]:
    finder = TimezoneFinder()
    polygons: list[Polygon] = []
    for name in finder.timezone_names:
        if name.startswith("Etc/"):
            continue
        for part in finder.get_geometry(tz_name=name, coords_as_pairs=True):
            shell, *holes = part
            polygon = Polygon(shell, holes).buffer(0)  # buffer(0) repairs self-touching rings
            simplified = polygon.simplify(TOLERANCE_DEG / 4, preserve_topology=True)
            if not simplified.is_empty:
                polygons.append(simplified)
    return polygons


def rings(geometry: Polygon | MultiPolygon) -> list[list[list[float]]]:
    parts = geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]
    out = []
    for part in parts:
        if part.area < MIN_AREA_DEG2:
            continue
        ring = [[round(lon, 2), round(lat, 2)] for lon, lat in part.exterior.coords]
        if len(ring) >= 4:
            out.append(ring)
    return out


def main() -> None:
    merged = unary_union(land_polygons()).simplify(TOLERANCE_DEG, preserve_topology=True)
    outline = {"type": "MultiPolygon", "note": "land outline from timezonefinder's zone boundaries (ODbL)",
               "coordinates": [[ring] for ring in rings(merged)]}
    OUT.write_bytes(orjson.dumps(outline))
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB, {len(outline['coordinates'])} polygons)")


if __name__ == "__main__":
    main()
