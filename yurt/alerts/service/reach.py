"""How many travellers an alert reaches, told to staff in bands only (``GET /v1/alerts/<id>/reach``).

Two counts, never who:

- *presence*: travellers sharing presence whose stored resolution-7 cell meets the alert exactly as
  ``GET /v1/travellers/me/alerts`` decides it (the cell's polygon meets the area; for a country or
  subdivision alert, the locator puts the cell's centre there). The presence store is asked only about the
  resolution-5 index cells that can hold such a cell: those overlapping the area's bounding boxes, or, for a
  country or subdivision alert, the bounding boxes of the time-zone polygons the locator assigns to the country
  (``data/country_boxes.json``, ``tools/build_country_boxes.py``), each box widened by ``MARGIN_KM``;
- *trips*, for an alert naming countries: travellers with a registered trip under way there now.

The presence count uses the area counts' defence against Sybils (``yurt.travellers.model.area_counts``): only
*established* presences count (accounts known for a day), and each count is shown as ``"<3"`` below k = 3, else
as its band (3–4, 5–9, 10–19, 20–49, ...), so one traveller more or less shows only at a band edge and two
overlapping areas cannot be subtracted to single one out. A count over more than ``MAX_INDEX_CELLS`` index
cells (two thirds of the Earth's land) is refused rather than left to run for minutes.
"""

from __future__ import annotations

import importlib.resources
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import h3
import orjson

from yurt.alerts.model.geometry import cell_area
from yurt.alerts.model.record import AlertRecord, reach_band
from yurt.alerts.model.snapshot import AlertSnapshot
from yurt.alerts.service.answers import point_locate
from yurt.alerts.service.presence import Presences
from yurt.alerts.stores.trips import TripStore
from yurt.geo.instants import utc_iso
from yurt.geo.places import Locator
from yurt.geo.privacy import INDEX_RES, cell_centre

# A resolution-7 cell's centre lies within 9.7 km of its resolution-5 parent's centre (measured, see
# yurt.geo.privacy) and within 1.5 km of any point of the cell: a parent of a cell meeting a box has its centre
# within 11.2 km of the box, so the parent overlaps the box widened by MARGIN_KM.
MARGIN_KM = 15.0
KM_PER_DEGREE = 111.0
# H3 joins polygon vertices by great circles, not by parallels: boxes are cut into slices at most this wide,
# where a great circle departs from the parallel by under 0.3 km, well inside the margin.
SLICE_DEG = 2.0
MAX_INDEX_CELLS = 400_000
CHUNK = 5_000
Box = Sequence[float]  # min_lon, min_lat, max_lon, max_lat


class ReachTooLarge(Exception):
    pass


@lru_cache(maxsize=1)
def country_boxes() -> dict[str, list[list[float]]]:
    raw = (importlib.resources.files("yurt.alerts") / "data" / "country_boxes.json").read_bytes()
    boxes: dict[str, list[list[float]]] = orjson.loads(raw)
    return boxes


def _widened(box: Box) -> Box:
    min_lon, min_lat, max_lon, max_lat = box
    dlat = MARGIN_KM / KM_PER_DEGREE
    top = min(89.9, max(abs(min_lat), abs(max_lat)) + dlat)
    dlon = dlat / max(math.cos(math.radians(top)), 1e-3)
    if dlon >= 90:
        return (-180.0, max(-89.9, min_lat - dlat), 180.0, min(89.9, max_lat + dlat))
    return (max(-180.0, min_lon - dlon), max(-89.9, min_lat - dlat), min(180.0, max_lon + dlon),
            min(89.9, max_lat + dlat))


def index_cells(boxes: Iterable[Box]) -> list[str]:
    """Resolution-5 cells overlapping any of the boxes (each widened by ``MARGIN_KM``)."""
    cells: set[str] = set()
    for box in boxes:
        min_lon, min_lat, max_lon, max_lat = _widened(box)
        slices = max(1, math.ceil((max_lon - min_lon) / SLICE_DEG))
        step = (max_lon - min_lon) / slices
        for i in range(slices):
            west, east = min_lon + i * step, min_lon + (i + 1) * step
            shape = h3.LatLngPoly([(min_lat, west), (min_lat, east), (max_lat, east), (max_lat, west)])
            cells.update(h3.h3shape_to_cells_experimental(shape, INDEX_RES, contain="overlap"))
            if len(cells) > MAX_INDEX_CELLS:
                raise ReachTooLarge(f"the alert covers more than {MAX_INDEX_CELLS} resolution-5 cells")
    return sorted(cells)


@lru_cache(maxsize=16)
def country_cells(countries: tuple[str, ...]) -> list[str]:
    """The index cells of whole countries: the same for every alert naming them (Russia: 1.8 s to compute)."""
    return index_cells([box for country in countries for box in country_boxes().get(country, [])])


def _cells(snapshot: AlertSnapshot) -> list[str]:
    alert = snapshot.alerts[0]
    if alert.area is not None:
        return index_cells([part.bounds for part in getattr(alert.area, "geoms", [alert.area])])
    countries = alert.countries | {code.split("-")[0] for code in alert.subdivisions}
    return country_cells(tuple(sorted(countries)))


def presence_count(record: AlertRecord, presence: Presences, locator: Locator, now_s: float) -> int:
    """Established travellers sharing presence now whose cell meets the alert (as their own alerts decide)."""
    one = AlertSnapshot([record], 0)
    alert = one.alerts[0]
    cells = _cells(one)
    total = 0
    for start in range(0, len(cells), CHUNK):
        for cell, count in presence.occupied(cells[start:start + CHUNK], now_s, established_only=True).items():
            lat, lon = cell_centre(cell)
            if one.meeting(cell_area(cell), alert.starts_s, point_locate(locator, lat, lon)):
                total += count
    return total


def reach(record: AlertRecord, presence: Presences, trips: TripStore, locator: Locator,
          now_s: float) -> dict[str, Any]:
    countries = frozenset(record.doc.get("countries") or ())
    on_trips = reach_band(trips.travellers_in(countries, now_s)) if countries else None
    return {
        "id": record.id,
        "sharing_presence": reach_band(presence_count(record, presence, locator, now_s)),
        "on_trips": on_trips,
        "counted_at": utc_iso(now_s),
    }
