"""The missions as OGC API – Features, Part 1: Core (OGC 17-069r4), so QGIS and GDAL read them as they are.

Conformance classes: core, geojson, oas30. Items are GeoJSON (CRS84, ``[lon, lat]``), paged with ``limit`` /
``offset`` and ``next``/``prev`` links; ``bbox`` may cross the antimeridian (minLon > maxLon, §7.15.3).

Links are absolute (the standard's examples are): from ``YURT_BASE_URL``, else from the request's ``Host``.
The ``Host`` header is the client's to choose, so without ``YURT_BASE_URL`` the answers that carry links are
served ``Cache-Control: private`` with ``Vary: Host`` (``_cache_headers``), never ``public``: a shared cache
that keys on something other than the client's Host (a CDN fronting several names, or nginx, whose default
``proxy_cache_key`` is ``$scheme$proxy_host$request_uri``, the upstream's name) would otherwise store links to
an attacker's host and hand them to everyone. ``private`` still lets the asking client's own cache keep them
(it can only poison itself). Validating Host against an allowlist was the alternative, but it needs the very
configuration whose absence is the problem; an operator who wants shared caching sets ``YURT_BASE_URL``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, request

from yurt.core.http.contract import response, revalidated
from yurt.core.http.conventions import GEOJSON, conditional, json_response, use_query
from yurt.core.http.problems import Problem
from yurt.geo.instants import utc_iso
from yurt.missions.http import service
from yurt.missions.http.queries import OgcItemsQuery, OgcQuery
from yurt.missions.model.dataset import collection_body
from yurt.missions.schemas.ogc import (
    OgcCollectionSchema,
    OgcCollectionsSchema,
    OgcConformanceSchema,
    OgcItemSchema,
    OgcItemsSchema,
    OgcLandingPageSchema,
)

bp = Blueprint("ogc", __name__)

COLLECTION_ID = "missions"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CACHE = "public, max-age=60"  # answers that carry no link, or links from YURT_BASE_URL
CACHE_PER_HOST = "private, max-age=60"  # answers whose links come from the client's Host header


def _base() -> str:
    configured = service().base_url
    return (configured or request.host_url).rstrip("/")


def _cache_headers() -> dict[str, str]:
    """Cache headers of an answer whose body holds links (see the module docstring)."""
    if service().base_url:
        return {"Cache-Control": CACHE}
    return {"Cache-Control": CACHE_PER_HOST, "Vary": "Host"}


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _collection() -> dict[str, Any]:
    base = _base()
    dataset = service().catalogue.current()
    return {
        "id": COLLECTION_ID,
        "title": "Diplomatic and consular missions of the Republic of Kazakhstan",
        "description": f"{len(dataset)} embassies, consulates and permanent missions abroad",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]], "crs": CRS84}},
        "links": [
            _link(f"{base}/collections/{COLLECTION_ID}", "self", "application/json"),
            _link(f"{base}/collections/{COLLECTION_ID}/items", "items", GEOJSON, "Missions"),
        ],
    }


@bp.get("/")
@response(OgcLandingPageSchema, description="Links to the API definition, the conformance classes and the collections")
@use_query(OgcQuery())
def landing(**_: Any) -> Response:
    """OGC API landing page."""
    base = _base()
    return json_response({
        "title": "Yurt Geo",
        "description": "Kazakhstan's missions abroad, nearest and responsible posts, compatriots nearby",
        "links": [
            _link(f"{base}/", "self", "application/json", "This document"),
            _link(f"{base}/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0",
                  "API definition"),
            _link(f"{base}/docs", "service-doc", "text/html", "API documentation"),
            _link(f"{base}/conformance", "conformance", "application/json", "Conformance classes"),
            _link(f"{base}/collections", "data", "application/json", "Collections"),
        ],
    }, headers=_cache_headers())


@bp.get("/conformance")
@response(OgcConformanceSchema)
@use_query(OgcQuery())
def conformance(**_: Any) -> Response:
    """Conformance classes implemented."""
    return json_response({"conformsTo": CONFORMANCE}, headers={"Cache-Control": CACHE})


@bp.get("/collections")
@response(OgcCollectionsSchema)
@use_query(OgcQuery())
def collections(**_: Any) -> Response:
    """The feature collections (one: missions)."""
    base = _base()
    return json_response({
        "links": [_link(f"{base}/collections", "self", "application/json")],
        "collections": [_collection()],
    }, headers=_cache_headers())


def _require_collection(collection_id: str) -> None:
    if collection_id != COLLECTION_ID:
        raise Problem(404, f"no collection {collection_id!r}; the only one is {COLLECTION_ID!r}")


@bp.get("/collections/<collection_id>")
@response(OgcCollectionSchema)
@use_query(OgcQuery())
def collection(collection_id: str, **_: Any) -> Response:
    """The missions collection's metadata."""
    _require_collection(collection_id)
    return json_response(_collection(), headers=_cache_headers())


@bp.get("/collections/<collection_id>/items")
@response(OgcItemsSchema, mimetype=GEOJSON, description="One page of missions")
@use_query(OgcItemsQuery())
def items(collection_id: str, *, limit: int, offset: int, **filters: Any) -> Response:
    """Missions as GeoJSON, paged; ``bbox`` may cross the antimeridian."""
    _require_collection(collection_id)
    dataset = service().catalogue.current()
    selected = dataset.select(country=filters.get("country"), type_=filters.get("type"), bbox=filters.get("bbox"))
    page = selected[offset:offset + limit]
    base = f"{_base()}/collections/{COLLECTION_ID}/items"
    args = {k: v for k, v in request.args.items() if k not in {"offset"}}
    links = [_link(f"{base}?{urlencode({**args, 'offset': offset})}", "self", GEOJSON)]
    if offset + limit < len(selected):
        links.append(_link(f"{base}?{urlencode({**args, 'offset': offset + limit})}", "next", GEOJSON))
    if offset > 0:
        links.append(_link(f"{base}?{urlencode({**args, 'offset': max(0, offset - limit)})}", "prev", GEOJSON))
    body = collection_body(
        None,
        [dataset.feature_bytes[i] for i in page],
        numberMatched=len(selected),
        numberReturned=len(page),
        timeStamp=utc_iso(datetime.now(UTC)),
        links=links,
    )
    return Response(body, mimetype=GEOJSON, headers=_cache_headers())


@bp.get("/collections/<collection_id>/items/<mission_id>")
@response(OgcItemSchema, mimetype=GEOJSON, description="The mission, with its links")
@revalidated()
@use_query(OgcQuery())
def item(collection_id: str, mission_id: str, **_: Any) -> Response:
    """One mission as a GeoJSON Feature."""
    _require_collection(collection_id)
    dataset = service().catalogue.current()
    i = dataset.by_id.get(mission_id)
    if i is None:
        raise Problem(404, f"no mission with id {mission_id!r}")
    base = f"{_base()}/collections/{COLLECTION_ID}"
    links = orjson.dumps([
        _link(f"{base}/items/{mission_id}", "self", GEOJSON),
        _link(base, "collection", "application/json"),
    ])
    # /req/core/f-links: splice the links into the pre-serialised Feature instead of re-encoding it.
    body = dataset.feature_bytes[i][:-1] + b',"links":' + links + b"}"
    headers = _cache_headers()
    etag = dataset.etags[i]
    if "Vary" in headers:  # a strong ETag names one representation: the bytes differ by Host here
        etag = f'{etag[:-1]}.{hashlib.sha256(base.encode()).hexdigest()[:12]}"'
    response = conditional(etag, body, mimetype=GEOJSON, cache_control=headers["Cache-Control"])
    if "Vary" in headers:
        response.headers.add("Vary", headers["Vary"])
    return response
