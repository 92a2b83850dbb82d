"""Generate ``yurt/console/world.json``: the country outlines the staff console draws under its map.

Source: Natural Earth's admin-0 countries at 1:50 million (public domain), as npm's ``world-atlas`` package
(version pinned below, ISC licence) ships them in TopoJSON. This script decodes the TopoJSON (quantised,
delta-encoded arcs shared between neighbours) into a plain GeoJSON FeatureCollection with each country's
English name, rounds coordinates to ``DIGITS`` decimals (about 100 m: finer than the 1:50 m source) and drops
repeated points, so the console needs no TopoJSON library and no tile server: it works offline.

Run (the npm client is only needed to fetch the package once; the output is committed):

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python tools/make_world_outline.py package/countries-50m.json
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

WORLD_ATLAS_VERSION = "2.0.2"
DIGITS = 2
OUT = Path(__file__).resolve().parent.parent / "yurt" / "console" / "world.json"

Ring = list[list[float]]


def decode_arcs(topology: dict[str, Any]) -> list[Ring]:
    """Absolute [lon, lat] positions of every arc (undo quantisation and delta encoding)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append([round(x * sx + tx, DIGITS), round(y * sy + ty, DIGITS)])
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[Ring]) -> Ring:
    """One ring from arc indexes; a negative index ``~i`` is arc ``i`` reversed. Joints are not repeated."""
    out: Ring = []
    for index in indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        for point in points[1:] if out else points:
            if not out or point != out[-1]:
                out.append(point)
    return out


def geometry(obj: dict[str, Any], arcs: list[Ring]) -> dict[str, Any] | None:
    if obj["type"] == "Polygon":
        polygons = [obj["arcs"]]
    elif obj["type"] == "MultiPolygon":
        polygons = obj["arcs"]
    else:
        return None
    coordinates = [[ring(r, arcs) for r in polygon] for polygon in polygons]
    coordinates = [[r for r in polygon if len(r) >= 4] for polygon in coordinates]
    coordinates = [polygon for polygon in coordinates if polygon]
    return {"type": "MultiPolygon", "coordinates": coordinates} if coordinates else None


def convert(topology: dict[str, Any]) -> dict[str, Any]:
    arcs = decode_arcs(topology)
    features = []
    for obj in topology["objects"]["countries"]["geometries"]:
        shape = geometry(obj, arcs)
        if shape is not None:
            features.append({"type": "Feature", "properties": {"name": obj.get("properties", {}).get("name")},
                             "geometry": shape})
    return {"type": "FeatureCollection",
            "note": f"Natural Earth admin-0 countries 1:50m (public domain) via world-atlas {WORLD_ATLAS_VERSION}",
            "features": features}


def main(source: Path) -> None:
    world = convert(orjson.loads(source.read_bytes()))
    OUT.write_bytes(orjson.dumps(world))
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB, {len(world['features'])} countries)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
