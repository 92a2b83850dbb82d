"""What travellers and operators learn in aggregate: k-anonymous, Sybil-resistant area counts and a coarse gauge.

``GET /v1/travellers/areas`` shows how many travellers share presence per resolution-5 cell (252 km²). A count
is a sum of resolution-7 counts, so it says nothing finer than the area; cells under ``K_ANONYMITY`` people are
left out. Against Sybils (fresh accounts placed beside a lone victim to lift a cell over k), the store counts
only *established* presences (``ACCOUNT_AGE_FOR_AREAS_S``), the endpoint removes the caller's own presence,
and what is shown is a band (``count_band``). The residual is in the README's privacy section.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import h3

from yurt.geo.privacy import AREA_RES, K_ANONYMITY, cell_centre

# Area counts resist Sybils (tests/system/test_privacy_hardening.py): presence counts only from accounts known for at
# least this long (the earliest of the token's ``iat`` and the first share the store saw), the caller's own
# presence never counts, and what is shown is a band's lower edge. A first-seen record is kept this long after
# the traveller's last share (and goes with an erase).
ACCOUNT_AGE_FOR_AREAS_S = 86_400.0
FIRST_SEEN_RETENTION_S = 30 * 86_400.0


# Lower edges of the count bands: k, 5, then 1-2-5 steps (10, 20, 50, 100, …).
_COUNT_EDGES = (K_ANONYMITY, 5, *(m * 10**e for e in range(1, 10) for m in (1, 2, 5)))


def count_band(count: int) -> tuple[int, str]:
    """(lower edge, label) of the band holding ``count`` ≥ k: 3–4, 5–9, 10–19, 20–49, 50–99, 100–199, …, so one
    traveller more or less changes what is shown only at a band edge."""
    i = max(j for j, edge in enumerate(_COUNT_EDGES) if edge <= count)
    return _COUNT_EDGES[i], f"{_COUNT_EDGES[i]}–{_COUNT_EDGES[i + 1] - 1}"


@dataclass(frozen=True)
class AreaCount:
    cell: str
    count: int  # the lower edge of the band: at least this many
    count_band: str
    lat: float
    lon: float


def area_counts(counts: Iterable[tuple[str, int]], k: int = K_ANONYMITY) -> list[AreaCount]:
    """Sum resolution-7 counts into resolution-5 cells, drop cells with fewer than ``k`` travellers, band the
    rest (``count_band``)."""
    totals: dict[str, int] = {}
    for cell, n in counts:
        parent = str(h3.cell_to_parent(cell, AREA_RES)) if h3.get_resolution(cell) > AREA_RES else cell
        totals[parent] = totals.get(parent, 0) + n
    out = []
    for cell in sorted(totals):
        if totals[cell] >= k:
            lat, lon = cell_centre(cell)
            lower, label = count_band(totals[cell])
            out.append(AreaCount(cell, lower, label, lat, lon))
    return out


# The public visible-travellers gauge moves in steps of this many, so one traveller turning presence on or off
# changes it only when the count crosses a multiple of the step (tests/system/test_privacy_hardening.py).
VISIBLE_GAUGE_STEP = 10


def coarse_visible_count(count: int) -> int:
    """The visible-travellers count as the metrics gauge shows it: rounded down to a multiple of the step."""
    return count // VISIBLE_GAUGE_STEP * VISIBLE_GAUGE_STEP


def area_cells_in_bbox(min_lon: float, min_lat: float, max_lon: float, max_lat: float,
                       limit: int) -> list[str] | None:
    """Resolution-5 cells overlapping a bbox (no antimeridian crossing), or None if more than ``limit``."""
    shape = h3.LatLngPoly([(min_lat, min_lon), (min_lat, max_lon), (max_lat, max_lon), (max_lat, min_lon)])
    cells = h3.h3shape_to_cells_experimental(shape, AREA_RES, contain="overlap")
    if len(cells) > limit:
        return None
    return sorted(str(c) for c in cells)
