"""Public: the nearest missions to a point, and the mission responsible for it.

Nearest is exact on the WGS-84 ellipsoid (``SpatialIndex``). The result cache never trades that away: an entry
for a query-grid cell holds *candidates* that provably contain the exact top-k for every point of the cell
(``SpatialIndex.cache_candidates``: d(centre, m) <= D_k(centre) + 2r, by the triangle inequality), and every
request still ranks those candidates exactly from its own coordinates. ``open_now=true`` queries skip the
candidate cache: which missions are open changes with the clock, and a cell entry cannot know when.

Responsible is cached by the resolved (country, subdivisions), never by cell, because a border can cross a
cell. Every key carries the dataset ETag, so an answer from an older dataset is never served.

Whether the nearest cache pays was measured (bench/bench_cache.py, README): the exact index answers in about
45 µs at any size up to 100,000 missions, while a shared-cache hit costs a Redis round trip plus the ranking
(about 90 µs) and a miss about 200 µs. So it is used only from ``YURT_NEAREST_CACHE_MIN_MISSIONS`` missions
on (X-Cache: bypass below that); responsible answers, keyed by country, are nearly always in-process hits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, Response, g

from yurt.api.conventions import json_response, use_query
from yurt.api.queries import NearestQuery, ResponsibleQuery
from yurt.domain.hours import OpenState
from yurt.domain.missions import Dataset
from yurt.domain.query_grid import cell_geometry, query_cell
from yurt.domain.responsibility import responsible
from yurt.domain.spatial_index import Neighbour
from yurt.errors import Problem
from yurt.metrics import record_cache
from yurt.services import services

bp = Blueprint("nearest", __name__)

CANDIDATES_TTL_S = 3600.0  # keys carry the dataset ETag; the TTL only bounds memory
RESPONSIBLE_TTL_S = 3600.0
NEAREST_OPEN_LIMIT = 3


def utc_now() -> datetime:
    """The request clock; tests replace ``g.now`` to pin it."""
    now = g.get("now")
    return now if isinstance(now, datetime) else datetime.now(UTC)


def _time(value: datetime | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"local": value.isoformat(), "utc": value.astimezone(UTC).isoformat().replace("+00:00", "Z")}


def _open_fields(state: OpenState) -> dict[str, Any]:
    return {
        "open_now": state.state == "open" if state.state != "unknown" else "unknown",
        "opens_at": _time(state.opens_at),
        "closes_at": _time(state.closes_at),
    }


def result_bytes(dataset: Dataset, hit: Neighbour, now: datetime) -> bytes:
    """One result: the Feature as in /v1/missions/<id>, and beside it the per-request values."""
    extra = {
        "distance_km": round(hit.distance_km, 6),
        "bearing_deg": round(hit.bearing_deg, 2),
        **_open_fields(dataset.open_now.state(hit.index, now)),
    }
    return b'{"mission":' + dataset.feature_bytes[hit.index] + b"," + orjson.dumps(extra)[1:]


def nearest_hits(dataset: Dataset, lat: float, lon: float, limit: int, *, type_: str | None = None,
                 service: str | None = None, open_now: bool = False, now: datetime) -> tuple[list[Neighbour], str]:
    """Exact nearest missions, through the candidate cache when it applies. Returns (hits, cache status)."""
    props = dataset.properties

    def accept(i: int) -> bool:
        p = props[i]
        if type_ is not None and p["type"] != type_:
            return False
        if service is not None and service not in p["services"]:
            return False
        return not open_now or dataset.open_now.is_open(i, now)

    filtered = type_ is not None or service is not None or open_now
    svc = services()
    settings = svc.settings
    if open_now or not settings.cache_enabled or len(dataset) < settings.nearest_cache_min_missions:
        return dataset.index.nearest(lat, lon, limit, accept if filtered else None), "bypass"
    cell = query_cell(lat, lon)
    key = f"yurt:nearest:{dataset.etag.strip(chr(34))}:{cell}:{limit}:{type_ or ''}:{service or ''}"
    cached = svc.cache.get(key)
    if cached is not None:
        candidates = [dataset.by_id[mission_id] for mission_id in orjson.loads(cached)]
        status = "hit"
    else:
        centre_lat, centre_lon, radius_km = cell_geometry(cell)
        candidates = dataset.index.cache_candidates(centre_lat, centre_lon, radius_km, limit,
                                                    accept if filtered else None)
        svc.cache.set(key, orjson.dumps([props[i]["id"] for i in candidates]), CANDIDATES_TTL_S)
        status = "miss"
    return dataset.index.rank(lat, lon, candidates, limit), status


@bp.get("/v1/missions/nearest")
@use_query(NearestQuery())
def nearest(*, lat: float, lon: float, limit: int, open_now: bool, type: str | None = None,
            service: str | None = None) -> Response:
    """The nearest missions to a point, by geodesic distance on the WGS-84 ellipsoid."""
    dataset = services().catalogue.current()
    now = utc_now()
    hits, cache_status = nearest_hits(dataset, lat, lon, limit, type_=type, service=service,
                                      open_now=open_now, now=now)
    record_cache("nearest", cache_status)
    body = b'{"results":[' + b",".join(result_bytes(dataset, h, now) for h in hits) + b"]}"
    return json_response(body, headers={"X-Cache": cache_status, "Cache-Control": "no-store",
                                        "X-Dataset-Version": dataset.etag.strip('"')})


def _responsibility(dataset: Dataset, country: str | None, subdivisions: tuple[str, ...], ambiguous: bool
                    ) -> tuple[dict[str, Any], str]:
    svc = services()
    key = (f"yurt:responsible:{dataset.etag.strip(chr(34))}:{country or '-'}:{','.join(subdivisions)}:"
           f"{int(ambiguous)}")
    cached = svc.cache.get(key) if svc.settings.cache_enabled else None
    if cached is not None:
        return orjson.loads(cached), "hit"
    decision = responsible(dataset.properties, country, subdivisions, subdivision_ambiguous=ambiguous)
    answer = {"basis": decision.basis, "ids": [dataset.properties[i]["id"] for i in decision.mission_indices],
              "conflict": decision.conflict}
    if svc.settings.cache_enabled:
        svc.cache.set(key, orjson.dumps(answer), RESPONSIBLE_TTL_S)
    return answer, "miss" if svc.settings.cache_enabled else "bypass"


@bp.get("/v1/missions/responsible")
@use_query(ResponsibleQuery())
def responsible_mission(*, lat: float | None = None, lon: float | None = None, country: str | None = None
                        ) -> Response:
    """The mission responsible for a point (or a country), and the nearest open ones."""
    has_point = lat is not None or lon is not None
    if has_point == (country is not None) or (has_point and (lat is None or lon is None)):
        raise Problem(400, "give either lat and lon, or country", errors={
            "lat": ["give lat and lon together, or country alone"],
            "country": ["give lat and lon together, or country alone"]})
    svc = services()
    dataset = svc.catalogue.current()
    now = utc_now()
    subdivisions: tuple[str, ...] | None = None
    ambiguous = False
    if lat is not None and lon is not None:
        # The subdivision decides only between posts with consular districts: look it up only where some
        # post in the country publishes them (it is the costly half of the lookup); elsewhere it is null.
        place = svc.locator.locate(lat, lon, subdivision_wanted=dataset.district_countries.__contains__)
        country, subdivisions, ambiguous = place.country, place.subdivisions, place.subdivision_ambiguous
    answer, cache_status = _responsibility(dataset, country, subdivisions or (), ambiguous)
    record_cache("responsible", cache_status)

    missions: list[bytes] = []
    nearest_open: list[bytes] = []
    if lat is not None and lon is not None:
        indices = [dataset.by_id[i] for i in answer["ids"]]
        missions = [result_bytes(dataset, h, now) for h in dataset.index.rank(lat, lon, indices, len(indices))]
        hits = dataset.index.nearest(lat, lon, NEAREST_OPEN_LIMIT,
                                     lambda i: dataset.properties[i]["status"] in ("open", "limited"))
        nearest_open = [result_bytes(dataset, h, now) for h in hits]
    else:
        missions = [b'{"mission":' + dataset.feature_bytes[dataset.by_id[i]] + b"}" for i in answer["ids"]]

    head = {
        "country": None if country is None else {"code": country, "name": svc.locator.country_name(country)},
        "subdivisions": None if subdivisions is None else list(subdivisions),
        "subdivision_ambiguous": ambiguous,
        "basis": answer["basis"],
        "conflict": answer["conflict"],
        "consular_hotline": dataset.meta.get("consular_hotline"),
    }
    body = (orjson.dumps(head)[:-1] + b',"missions":[' + b",".join(missions) + b'],"nearest":['
            + b",".join(nearest_open) + b"]}")
    return json_response(body, headers={"X-Cache": cache_status, "Cache-Control": "no-store",
                                        "X-Dataset-Version": dataset.etag.strip('"')})
