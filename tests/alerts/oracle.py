"""A brute-force oracle for point-in-area: exact rational arithmetic, edges and vertices inside."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

Ring = Sequence[Sequence[float]]


def _on_or_crossing(x1: float, y1: float, x2: float, y2: float, px: float, py: float) -> tuple[bool, bool]:
    """(the point is on the edge, a ray from the point towards +x crosses the edge), exactly.

    Comparisons of floats are exact; only the products go through ``Fraction``.
    """
    if not (min(y1, y2) <= py <= max(y1, y2)):
        return False, False
    fx1, fy1, fx2, fy2, fpx, fpy = map(Fraction, (x1, y1, x2, y2, px, py))
    cross = (fx2 - fx1) * (fpy - fy1) - (fy2 - fy1) * (fpx - fx1)
    if cross == 0 and min(x1, x2) <= px <= max(x1, x2):
        return True, False
    crossing = (y1 > py) != (y2 > py) and fpx < fx1 + (fpy - fy1) * (fx2 - fx1) / (fy2 - fy1)
    return False, crossing


def covers(polygons: Iterable[Sequence[Ring]], lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies in or on any of ``polygons`` (each a list of rings, the exterior first).

    On a ring's edge counts as inside; otherwise the even-odd crossing rule over all of a polygon's rings (a
    point in a hole crosses the shell and the hole: even, outside).
    """
    for rings in polygons:
        crossings = 0
        for ring in rings:
            for (x1, y1, *_), (x2, y2, *_) in itertools.pairwise(ring):
                on, crossing = _on_or_crossing(x1, y1, x2, y2, lon, lat)
                if on:
                    return True
                crossings += crossing
        if crossings % 2 == 1:
            return True
    return False


def polygons_of(geojson: dict[str, Any]) -> list[Any]:
    return [geojson["coordinates"]] if geojson["type"] == "Polygon" else list(geojson["coordinates"])
