"""``Dataset.select``'s filters over column arrays built once per dataset version.

A mask per property value (host country, type, status, service offered), longitudes and latitudes as float64
arrays (the dataset's own floats, converted exactly): a bbox over the shipped 128 missions is a few array
comparisons instead of a Python walk over every mission's properties (about 50 µs). The text search still
walks the few missions the other filters leave. tests/missions/test_bbox_lean.py checks ``select`` against a
per-mission predicate over generated filters (bbox edges on the posts' own coordinates, the antimeridian).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Mask = npt.NDArray[np.bool_]


def _masks(values: Sequence[Any]) -> dict[Any, Mask]:
    """For each value, which missions have it."""
    column = np.array(values, dtype=object)
    return {value: column == value for value in set(values)}


class FilterColumns:
    def __init__(self, properties: Sequence[Mapping[str, Any]], lons: Sequence[float], lats: Sequence[float],
                 search_text: Sequence[str]) -> None:
        self._lons = np.array(lons, dtype=np.float64)
        self._lats = np.array(lats, dtype=np.float64)
        self._search = search_text
        self._none = np.zeros(len(properties), dtype=np.bool_)
        offered = {service for p in properties for service in p["services"]}
        self._country = _masks([p["host_country"] for p in properties])
        self._type = _masks([p["type"] for p in properties])
        self._status = _masks([p["status"] for p in properties])
        self._service = {service: np.array([service in p["services"] for p in properties], dtype=np.bool_)
                         for service in offered}

    def select(self, *, country: str | None, type_: str | None, service: str | None, status: str | None,
               needle: str | None, bbox: tuple[float, float, float, float] | None) -> list[int]:
        """Indices matching every given filter, ascending; ``needle`` is the folded search text."""
        mask: Mask | None = None
        if bbox is not None:
            min_lon, min_lat, max_lon, max_lat = bbox
            lons, lats = self._lons, self._lats
            mask = lats >= min_lat
            mask &= lats <= max_lat
            if min_lon <= max_lon:
                mask &= lons >= min_lon
                mask &= lons <= max_lon
            else:  # crosses the antimeridian (RFC 7946 §5.2)
                mask &= (lons >= min_lon) | (lons <= max_lon)
        for masks, value in ((self._country, country), (self._type, type_), (self._status, status),
                             (self._service, service)):
            if value is not None:
                found = masks.get(value, self._none)  # shared: never changed in place
                mask = found if mask is None else mask & found
        indices: list[int] = list(range(len(self._none))) if mask is None else np.flatnonzero(mask).tolist()
        if needle:
            search = self._search
            indices = [i for i in indices if needle in search[i]]
        return indices
