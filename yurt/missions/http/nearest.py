"""Public: the nearest missions to a point, and the mission responsible for it.

Nearest is exact on the WGS-84 ellipsoid (``SpatialIndex``), computed for each request. There is no result
cache, by measurement (bench/bench_cache.py, README "Nearest: no result cache"): the exact index answers faster
than a bare Redis GET at every size up to 1,000,000 missions, so a shared cache could only add a round trip; an
in-process cache needed 86-89 % hits to break even (10,000 to 100,000 missions) and lost at 1,000,000.
Both answers say ``X-Cache: bypass``, as they did whenever the cache was off.

Responsible is computed for each request too: since a post nearer than the embassy can be ``assumed``
responsible, the answer depends on the point, not only on its (country, subdivision); and the decision itself
is a pass over the posts of one country (a few µs).

Both answers carry ``alerts``: the travel alerts in force for the query point (``yurt.alerts.service.answers``), which
vary by point and by the clock.

Defaults a traveller can act on: without ``type``, ``nearest`` answers career posts only (an embassy, a
consulate general or a consulate; a permanent mission or an honorary consul only when ``type`` or ``service``
asks for it), and without ``status`` only open and limited posts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from flask import Blueprint, Response

from yurt.alerts.service.answers import country_summaries, point_summaries
from yurt.composition import services
from yurt.core.http.clock import request_now
from yurt.core.http.contract import response
from yurt.core.http.conventions import json_response, use_query
from yurt.core.http.problems import Problem
from yurt.core.meters import record_cache
from yurt.geo.hours import OpenState
from yurt.geo.instants import utc_iso
from yurt.geo.spatial_index import Neighbour
from yurt.missions.http.queries import NearestQuery, ResponsibleQuery
from yurt.missions.model.dataset import Dataset
from yurt.missions.model.responsibility import CAREER_TYPES, HOME_COUNTRY, Responsibility, responsible
from yurt.missions.schemas.answers import NearestAnswerSchema, ResponsibleAnswerSchema

bp = Blueprint("nearest", __name__)

NEAREST_OPEN_LIMIT = 3
DEFAULT_STATUSES = frozenset({"open", "limited"})


def _time(value: datetime | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"local": value.isoformat(), "utc": utc_iso(value, "auto")}


def _open_fields(state: OpenState) -> dict[str, Any]:
    return {
        "open_now": state.state == "open" if state.state != "unknown" else "unknown",
        "opens_at": _time(state.opens_at),
        "closes_at": _time(state.closes_at),
    }


def distance_fields(dataset: Dataset, hit: Neighbour) -> dict[str, Any]:
    """The distance as precise as the point is: to the metre for a building, to 100 m for a city centre.

    A city-level point stands for a post somewhere in its city, so its distance carries the dataset's
    ``city_location_uncertainty_km`` (the 95th percentile of building-to-city-centre offsets of the posts whose
    building is known, ``tools/city_uncertainty.py``); null where the dataset does not state it.
    """
    if dataset.properties[hit.index]["location_precision"] == "building":
        return {"distance_km": round(hit.distance_km, 3), "distance_uncertainty_km": 0.0}
    uncertainty = dataset.meta.get("city_location_uncertainty_km")
    return {"distance_km": round(hit.distance_km, 1),
            "distance_uncertainty_km": float(uncertainty) if uncertainty is not None else None}


def result_bytes(dataset: Dataset, hit: Neighbour, now: datetime, **members: Any) -> bytes:
    """One result: the Feature as in /v1/missions/<id>, and beside it the per-request values."""
    extra = {
        **distance_fields(dataset, hit),
        "bearing_deg": round(hit.bearing_deg, 2),
        **_open_fields(dataset.open_now.state(hit.index, now)),
        **members,
    }
    return b'{"mission":' + dataset.feature_bytes[hit.index] + b"," + orjson.dumps(extra)[1:]


def default_types(types: frozenset[str] | None, service: str | None) -> frozenset[str] | None:
    """``type`` absent: career posts, unless a service is asked for (then every type that offers it)."""
    if types is None and service is None:
        return CAREER_TYPES
    return types


def nearest_hits(dataset: Dataset, lat: float, lon: float, limit: int, *, types: frozenset[str] | None = None,
                 statuses: frozenset[str] | None = None, service: str | None = None, open_now: bool = False,
                 now: datetime) -> list[Neighbour]:
    """Exact nearest missions that pass the filters; ``types`` / ``statuses`` None means any."""
    props = dataset.properties

    def accept(i: int) -> bool:
        p = props[i]
        if types is not None and p["type"] not in types:
            return False
        if statuses is not None and p["status"] not in statuses:
            return False
        if service is not None and service not in p["services"]:
            return False
        return not open_now or dataset.open_now.is_open(i, now)

    filtered = types is not None or statuses is not None or service is not None or open_now
    return dataset.index.nearest(lat, lon, limit, accept if filtered else None)


def _country(code: str | None) -> dict[str, Any] | None:
    return None if code is None else {"code": code, "name": services().locator.country_name(code)}


@bp.get("/v1/missions/nearest")
@use_query(NearestQuery())
@response(NearestAnswerSchema, description="The nearest missions, nearest first, with the query point's country "
                                           "and alerts")
def nearest(*, lat: float, lon: float, limit: int, open_now: bool, type: frozenset[str] | None = None,
            status: frozenset[str] | None = None, service: str | None = None) -> Response:
    """The nearest missions to a point, by geodesic distance on the WGS-84 ellipsoid."""
    svc = services()
    dataset = svc.catalogue.current()
    now = request_now()
    statuses = status if status is not None else DEFAULT_STATUSES
    hits = nearest_hits(dataset, lat, lon, limit, types=default_types(type, service), statuses=statuses,
                        service=service, open_now=open_now, now=now)
    record_cache("nearest", "bypass")
    country = svc.locator.country_of_point(lat, lon)
    alerts = point_summaries(svc.alerts.book, svc.locator, lat, lon, now.timestamp(), country=country)
    head = orjson.dumps({"country": _country(country), "at_home": country == HOME_COUNTRY, "alerts": alerts})
    body = head[:-1] + b',"results":[' + b",".join(result_bytes(dataset, h, now) for h in hits) + b"]}"
    return json_response(body, headers={"X-Cache": "bypass", "Cache-Control": "no-store",
                                        "X-Dataset-Version": dataset.etag.strip('"')})


def _decide(dataset: Dataset, country: str | None, subdivisions: tuple[str, ...], ambiguous: bool,
            point: tuple[float, float] | None) -> Responsibility:
    """The responsibility decision; distances (for an ``assumed`` post) are exact geodesics from the point."""
    distance_km = None
    if point is not None and country is not None:
        in_country = list(dataset.by_country.get(country, ()))
        ranked = dataset.index.rank(point[0], point[1], in_country, len(in_country))
        km = {h.index: h.distance_km for h in ranked}
        distance_km = km.__getitem__
    return responsible(dataset.properties, country, subdivisions, subdivision_ambiguous=ambiguous,
                       seats=dataset.seats, distance_km=distance_km)


@bp.get("/v1/missions/responsible")
@use_query(ResponsibleQuery())
@response(ResponsibleAnswerSchema, description="The responsible posts, the rule that chose them, and the nearest "
                                               "open career posts")
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
    now = request_now()
    subdivisions: tuple[str, ...] | None = None
    ambiguous = False
    point = (lat, lon) if lat is not None and lon is not None else None
    if point is not None:
        # The subdivision decides only where a post has a seat or publishes districts: look it up only there
        # (it is the costly half of the lookup); elsewhere it is null.
        place = svc.locator.locate(point[0], point[1], subdivision_wanted=dataset.subdivision_countries.__contains__)
        country, subdivisions, ambiguous = place.country, place.subdivisions, place.subdivision_ambiguous
    decision = _decide(dataset, country, subdivisions or (), ambiguous, point)
    record_cache("responsible", "bypass")

    missions: list[bytes] = []
    nearest_open: list[bytes] = []
    if point is not None:
        by_index = {h.index: h for h in dataset.index.rank(point[0], point[1], list(decision.mission_indices),
                                                           len(decision.mission_indices))}
        missions = [result_bytes(dataset, by_index[item.index], now, district_source=item.source)
                    for item in decision.listed]
        statuses = DEFAULT_STATUSES

        def career_open(i: int) -> bool:
            p = dataset.properties[i]
            return p["type"] in CAREER_TYPES and p["status"] in statuses

        hits = dataset.index.nearest(point[0], point[1], NEAREST_OPEN_LIMIT, career_open)
        nearest_open = [result_bytes(dataset, h, now) for h in hits]
    else:
        missions = [b'{"mission":' + dataset.feature_bytes[item.index] + b"," +
                    orjson.dumps({"district_source": item.source})[1:] for item in decision.listed]

    if point is not None:
        alerts = point_summaries(svc.alerts.book, svc.locator, point[0], point[1], now.timestamp(),
                                 country=country, subdivisions=subdivisions)
    else:
        alerts = country_summaries(svc.alerts.book, country, now.timestamp()) if country is not None else []
    head = {
        "country": _country(country),
        "at_home": country == HOME_COUNTRY,
        "alerts": alerts,
        "subdivisions": None if subdivisions is None else list(subdivisions),
        "subdivision_ambiguous": ambiguous,
        "basis": decision.basis,
        "uncertain": decision.uncertain,
        "conflict": decision.conflict,
        "consular_hotline": dataset.meta.get("consular_hotline"),
    }
    body = (orjson.dumps(head)[:-1] + b',"missions":[' + b",".join(missions) + b'],"nearest":['
            + b",".join(nearest_open) + b"]}")
    return json_response(body, headers={"X-Cache": "bypass", "Cache-Control": "no-store",
                                        "X-Dataset-Version": dataset.etag.strip('"')})
