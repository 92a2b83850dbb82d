"""The mission dataset as an immutable snapshot: records, versions, a spatial index and pre-serialised bodies.

A ``Dataset`` is built once per dataset version and then shared read-only by every thread of a worker. It holds
everything a read request needs so that a request does no parsing and little serialising: each Feature's JSON
bytes, the whole collection's bytes (and gzip), the ETags, and column arrays for filtering.

Features are assumed valid (validation lives in ``yurt.missions.schemas.dataset``); coordinates are GeoJSON
``[lon, lat]`` and
are converted to ``lat``/``lon`` columns here, once.
"""

from __future__ import annotations

import gzip
import hashlib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from yurt.geo.spatial_index import Neighbour, SpatialIndex
from yurt.missions.model.filter_columns import FilterColumns
from yurt.missions.model.open_now import OpenNow


def fold(text: str) -> str:
    """Case- and accent-insensitive form for text search ("Zürich" ~ "zurich", "Алматы" ~ "алматы")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def content_hash(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def dataset_etag(meta: Mapping[str, Any], features: Iterable[Mapping[str, Any]]) -> str:
    """Strong ETag of the whole collection: a hash of its content, independent of feature order."""
    ordered = sorted(features, key=lambda f: str(f["properties"]["id"]))
    return '"' + content_hash({"meta": meta, "features": ordered})[:32] + '"'


@dataclass(frozen=True, slots=True)
class MissionRecord:
    """One stored mission: its Feature and its revision (incremented by every write, never reused)."""

    feature: Mapping[str, Any]
    rev: int

    @property
    def id(self) -> str:
        return str(self.feature["properties"]["id"])

    @property
    def etag(self) -> str:
        # Revision plus content hash: a re-seeded store that restarts revisions can never produce an ETag that
        # matches different content a phone cached earlier.
        return f'"{self.rev}.{content_hash(self.feature)[:16]}"'


@dataclass(frozen=True)
class Dataset:
    """An immutable, indexed snapshot of all missions at one dataset version."""

    meta: Mapping[str, Any]
    records: tuple[MissionRecord, ...]
    generation: int
    etag: str
    index: SpatialIndex
    by_id: Mapping[str, int]
    lats: tuple[float, ...]
    lons: tuple[float, ...]
    feature_bytes: tuple[bytes, ...]
    collection_bytes: bytes
    collection_gzip: bytes
    search_text: tuple[str, ...]
    properties: tuple[Mapping[str, Any], ...] = field(repr=False)
    etags: tuple[str, ...] = field(repr=False)
    # Host countries where a point's subdivision can matter: some post there publishes districts or has a seat.
    subdivision_countries: frozenset[str] = field(repr=False)
    open_now: OpenNow = field(repr=False, compare=False)
    # Each post's seat subdivision (ISO 3166-2, from the locator at the post's own point); None where unknown.
    seats: tuple[str | None, ...] = field(repr=False, default=())
    by_country: Mapping[str, tuple[int, ...]] = field(repr=False, default_factory=dict)
    # Sub-indexes over the missions one fixed filter accepts (``subset_index``), built on first use.
    _subsets: dict[str, SubsetIndex] = field(repr=False, compare=False, default_factory=dict)
    # ``select``'s column arrays (``FilterColumns``), built on first use.
    _lazy: dict[str, FilterColumns] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def build(cls, meta: Mapping[str, Any], records: Iterable[MissionRecord], generation: int,
              seat_of: Callable[[float, float, str], str | None] | None = None) -> Dataset:
        """Index ``records``; ``seat_of(lat, lon, country)`` gives a post's seat subdivision (the locator)."""
        ordered = tuple(sorted(records, key=lambda r: r.id))
        props = tuple(r.feature["properties"] for r in ordered)
        lons = tuple(float(r.feature["geometry"]["coordinates"][0]) for r in ordered)
        lats = tuple(float(r.feature["geometry"]["coordinates"][1]) for r in ordered)
        ids = [p["id"] for p in props]
        feature_bytes = tuple(orjson.dumps(r.feature) for r in ordered)
        collection = collection_body(meta, feature_bytes)
        etag = dataset_etag(meta, [r.feature for r in ordered])
        search = tuple(
            fold(" ".join([p["city"], p["name"]["en"], p["name"]["kk"], p["name"]["ru"], p["id"]]))
            for p in props
        )
        return cls(
            meta=meta,
            records=ordered,
            generation=generation,
            etag=etag,
            index=SpatialIndex(lats, lons, ids),
            by_id={mission_id: i for i, mission_id in enumerate(ids)},
            lats=lats,
            lons=lons,
            feature_bytes=feature_bytes,
            collection_bytes=collection,
            collection_gzip=gzip.compress(collection, compresslevel=6, mtime=0),
            search_text=search,
            properties=props,
            etags=tuple(r.etag for r in ordered),
            subdivision_countries=frozenset(p["host_country"] for p in props if p["districts"] or p["type"] in (
                "embassy", "diplomatic_mission", "consulate_general", "consulate")),
            open_now=OpenNow(props),
            seats=tuple(seat_of(lat, lon, p["host_country"]) if seat_of is not None else None
                        for lat, lon, p in zip(lats, lons, props, strict=True)),
            by_country=_group_by_country(props),
        )

    def __len__(self) -> int:
        return len(self.records)

    def subset_index(self, name: str, accept: Callable[[Mapping[str, Any]], bool]) -> SubsetIndex:
        """An index over the missions whose properties ``accept`` takes, for a filter that every request of a
        kind applies (``name`` names it; the same name must always come with the same filter): a query then
        needs no per-candidate filter call and no widening past rejected points. Built once per dataset."""
        found = self._subsets.get(name)
        if found is None:  # two threads may both build it: the same immutable value, one is kept
            found = self._subsets[name] = SubsetIndex(self, [i for i, p in enumerate(self.properties) if accept(p)])
        return found

    def get(self, mission_id: str) -> MissionRecord | None:
        i = self.by_id.get(mission_id)
        return None if i is None else self.records[i]

    def select(
        self,
        *,
        country: str | None = None,
        type_: str | None = None,
        service: str | None = None,
        status: str | None = None,
        text: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> list[int]:
        """Indices of missions matching every given filter, in id order.

        ``bbox`` is ``(min_lon, min_lat, max_lon, max_lat)``; when ``min_lon > max_lon`` it crosses the
        antimeridian (RFC 7946 §5.2) and matches longitudes ``>= min_lon`` or ``<= max_lon``.
        """
        columns = self._lazy.get("columns")
        if columns is None:  # built on first use (a race builds it twice, the same)
            columns = self._lazy["columns"] = FilterColumns(self.properties, self.lons, self.lats, self.search_text)
        return columns.select(country=country, type_=type_, service=service, status=status,
                              needle=fold(text) if text else None, bbox=bbox)


class SubsetIndex:
    """A ``SpatialIndex`` over some of a dataset's missions, answering with the dataset's positions.

    The same answers as the dataset's index with a filter that accepts exactly those missions: distances and
    bearings come from the same geodesics, and ties order by id, then position, in both (the subset keeps the
    dataset's order, so its id ranks and positions order as the dataset's do)."""

    __slots__ = ("_index", "_positions", "mask")

    def __init__(self, dataset: Dataset, positions: list[int]) -> None:
        self._positions = tuple(positions)
        # The same subset as a mask over the dataset's positions, for ``SpatialIndex.nearest_and_rank``.
        self.mask = np.zeros(len(dataset.properties), dtype=np.bool_)
        self.mask[positions] = True
        self.mask.flags.writeable = False
        self._index = SpatialIndex([dataset.lats[i] for i in positions], [dataset.lons[i] for i in positions],
                                   [str(dataset.properties[i]["id"]) for i in positions])

    def nearest(self, lat: float, lon: float, limit: int) -> list[Neighbour]:
        positions = self._positions
        return [Neighbour(positions[h.index], h.distance_km, h.bearing_deg)
                for h in self._index.nearest(lat, lon, limit)]


def _group_by_country(props: Sequence[Mapping[str, Any]]) -> dict[str, tuple[int, ...]]:
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(props):
        groups.setdefault(p["host_country"], []).append(i)
    return {country: tuple(indices) for country, indices in groups.items()}


def collection_body(meta: Mapping[str, Any] | None, feature_bytes: Sequence[bytes], **members: Any) -> bytes:
    """Assemble a FeatureCollection from pre-serialised Features without re-encoding them."""
    head: dict[str, Any] = {"type": "FeatureCollection"}
    if meta is not None:
        head["dataset"] = meta
    head.update(members)
    prefix = orjson.dumps(head)[:-1]  # drop the closing brace, append the features array
    return prefix + b',"features":[' + b",".join(feature_bytes) + b"]}"
