"""The nearest missions to a point, and the missions responsible for a point or a country: the answers' bodies,
computed for each request (``yurt.missions.http.nearest`` says why there is no result cache).

Both answers carry ``alerts``: the travel alerts in force for the query point (``yurt.alerts.service.answers``),
which vary by point and by the clock.

Defaults a traveller can act on: without ``types``, ``nearest`` answers career posts only (an embassy, a
consulate general or a consulate; a permanent mission or an honorary consul only when ``types`` or ``service``
asks for it), and without ``statuses`` only open and limited posts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from yurt.alerts.service.answers import country_summaries, point_alerts_json, point_summaries
from yurt.geo.hours import OpenState
from yurt.geo.instants import utc_iso
from yurt.geo.spatial_index import Neighbour
from yurt.missions.model.dataset import Dataset, SubsetIndex
from yurt.missions.model.responsibility import CAREER_TYPES, HOME_COUNTRY, Responsibility, responsible
from yurt.missions.service.mission_service import MissionService

NEAREST_OPEN_LIMIT = 3
DEFAULT_STATUSES = frozenset({"open", "limited"})


@dataclass(frozen=True)
class Answer:
    body: bytes  # the JSON answer
    dataset_version: str  # the dataset ETag it was computed from, unquoted (X-Dataset-Version)


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

    if types == CAREER_TYPES and statuses == DEFAULT_STATUSES and service is None and not open_now:
        return career_open_index(dataset).nearest(lat, lon, limit)  # the default query, and responsible's
    filtered = types is not None or statuses is not None or service is not None or open_now
    return dataset.index.nearest(lat, lon, limit, accept if filtered else None)


def _career_open(p: Mapping[str, Any]) -> bool:
    return p["type"] in CAREER_TYPES and p["status"] in DEFAULT_STATUSES


def career_open_index(dataset: Dataset) -> SubsetIndex:
    """The career posts that are open or limited: what a traveller is sent to when they ask nothing more."""
    return dataset.subset_index("career_open", _career_open)


def _country(svc: MissionService, code: str | None) -> dict[str, Any] | None:
    return None if code is None else {"code": code, "name": svc.locator.country_name(code)}


def nearest_answer(svc: MissionService, lat: float, lon: float, limit: int, *, open_now: bool,
                   types: frozenset[str] | None, statuses: frozenset[str] | None, service: str | None,
                   now: datetime) -> Answer:
    """The nearest missions to a point, by geodesic distance on the WGS-84 ellipsoid, with the point's country
    and alerts; ``types`` / ``statuses`` None: the defaults above."""
    dataset = svc.catalogue.current()
    statuses = statuses if statuses is not None else DEFAULT_STATUSES
    hits = nearest_hits(dataset, lat, lon, limit, types=default_types(types, service), statuses=statuses,
                        service=service, open_now=open_now, now=now)
    country = svc.locator.country_of_point(lat, lon)
    alerts = point_alerts_json(svc.alerts, svc.locator, lat, lon, now.timestamp(), country=country)
    head = orjson.dumps({"country": _country(svc, country), "at_home": country == HOME_COUNTRY})
    body = (head[:-1] + b',"alerts":' + alerts + b',"results":['
            + b",".join(result_bytes(dataset, h, now) for h in hits) + b"]}")
    return Answer(body, dataset.etag.strip('"'))


def _decide(dataset: Dataset, country: str | None, subdivisions: tuple[str, ...], ambiguous: bool,
            ranked: Mapping[int, Neighbour] | None) -> Responsibility:
    """The responsibility decision; ``ranked`` holds the exact geodesics from the point to the host country's
    posts (what an ``assumed`` post is chosen by), None without a point."""
    hosted = dataset.by_country.get(country, ()) if country is not None else ()
    distance_km = (lambda i: ranked[i].distance_km) if ranked is not None and hosted else None
    return responsible(dataset.properties, country, subdivisions, subdivision_ambiguous=ambiguous,
                       seats=dataset.seats, distance_km=distance_km, hosted=hosted)


def _point_decision(dataset: Dataset, lat: float, lon: float, country: str | None, subdivisions: tuple[str, ...],
                    ambiguous: bool) -> tuple[Responsibility, dict[int, Neighbour], list[Neighbour]]:
    """The decision at a point, the geodesics to the posts it lists, and the nearest open career posts.

    One geodesic call serves them all in the usual case (``SpatialIndex.nearest_and_rank``): with posts in the
    host country the decision needs their distances, so those are ranked with the nearest open posts; without
    any it needs none, so the posts it lists are. A listed post of another country beside hosted ones (rare)
    takes a second call."""
    hosted = dataset.by_country.get(country, ()) if country is not None else ()
    decision = None if hosted else _decide(dataset, country, subdivisions, ambiguous, None)
    extra = hosted if decision is None else decision.mission_indices
    hits, ranked_extra = dataset.index.nearest_and_rank(lat, lon, NEAREST_OPEN_LIMIT,
                                                        career_open_index(dataset).mask, extra)
    ranked = {h.index: h for h in ranked_extra}
    if decision is None:
        decision = _decide(dataset, country, subdivisions, ambiguous, ranked)
    unranked = [i for i in decision.mission_indices if i not in ranked]
    if unranked:
        ranked.update((h.index, h) for h in dataset.index.rank(lat, lon, unranked, len(unranked)))
    return decision, ranked, hits


def responsible_answer(svc: MissionService, point: tuple[float, float] | None, country: str | None, *,
                       now: datetime) -> Answer:
    """The missions responsible for ``point`` (or, without one, for ``country``), the rule that chose them, and
    the nearest open career posts."""
    dataset = svc.catalogue.current()
    subdivisions: tuple[str, ...] | None = None
    ambiguous = False
    if point is not None:
        # The subdivision decides only where a post has a seat or publishes districts: look it up only there
        # (it is the costly half of the lookup); elsewhere it is null.
        place = svc.locator.locate(point[0], point[1], subdivision_wanted=dataset.subdivision_countries.__contains__)
        country, subdivisions, ambiguous = place.country, place.subdivisions, place.subdivision_ambiguous
    missions: list[bytes] = []
    nearest_open: list[bytes] = []
    if point is not None:
        decision, ranked, hits = _point_decision(dataset, point[0], point[1], country, subdivisions or (),
                                                 ambiguous)
        missions = [result_bytes(dataset, ranked[item.index], now, district_source=item.source)
                    for item in decision.listed]
        nearest_open = [result_bytes(dataset, h, now) for h in hits]
    else:
        decision = _decide(dataset, country, (), ambiguous, None)
        missions = [b'{"mission":' + dataset.feature_bytes[item.index] + b"," +
                    orjson.dumps({"district_source": item.source})[1:] for item in decision.listed]

    if point is not None:
        alerts = point_summaries(svc.alerts, svc.locator, point[0], point[1], now.timestamp(),
                                 country=country, subdivisions=subdivisions)
    else:
        alerts = country_summaries(svc.alerts, country, now.timestamp()) if country is not None else []
    head = {
        "country": _country(svc, country),
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
    return Answer(body, dataset.etag.strip('"'))
