"""Public missions API (read-only, no auth): the whole dataset for offline phones, filters, one mission.

Bodies come pre-serialised from the ``Dataset`` snapshot; a request only picks, joins and answers 304s. The
whole collection without a query, the answer every phone asks for most (mostly as a 304), is also a lean route
(``LeanCollection``): answered before Flask, with the same bytes and headers as ``list_missions``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Flask, Response

from yurt.core.http.contract import response, revalidated
from yurt.core.http.conventions import GEOJSON, conditional, etag_matches, use_query
from yurt.core.http.problems import Problem
from yurt.core.limits import RateLimits, rate_limits
from yurt.core.observability import LeanAnswer, front
from yurt.core.store_errors import StoreUnavailable
from yurt.missions.http import EXTENSION, service
from yurt.missions.http.queries import MissionListQuery
from yurt.missions.model.dataset import Dataset, collection_body
from yurt.missions.schemas.answers import MissionCollectionSchema
from yurt.missions.schemas.record import MissionFeatureSchema
from yurt.missions.service.catalogue import Catalogue

bp = Blueprint("missions", __name__)

# A phone keeps the whole dataset offline: revalidate every 5 minutes with If-None-Match (a 304 costs a few
# bytes), keep using the stale copy while revalidating (a day) and when the server cannot be reached (30 days).
COLLECTION_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400, stale-if-error=2592000"
MISSION_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=86400, stale-if-error=2592000"
LIST_RULE = "/v1/missions"


@bp.get(LIST_RULE)
@use_query(MissionListQuery())
@response(MissionCollectionSchema, mimetype=GEOJSON, description="The missions (gzip when asked)")
@revalidated()
def list_missions(**filters: Any) -> Response:
    """All missions as a GeoJSON FeatureCollection, optionally filtered."""
    dataset = service().catalogue.current()
    if not filters:
        return conditional(dataset.etag, dataset.collection_bytes, gzipped=dataset.collection_gzip,
                           mimetype=GEOJSON, cache_control=COLLECTION_CACHE_CONTROL)
    indices = dataset.select(
        country=filters.get("country"),
        type_=filters.get("type"),
        service=filters.get("service"),
        status=filters.get("status"),
        text=filters.get("q"),
        bbox=filters.get("bbox"),
    )
    body = collection_body(dataset.meta, [dataset.feature_bytes[i] for i in indices],
                           numberMatched=len(indices))
    # The filtered view changes exactly when the dataset or the filters do.
    key = repr(sorted(filters.items())).encode()
    etag = f'"{dataset.etag.strip(chr(34))}-{hashlib.sha256(key).hexdigest()[:12]}"'
    return conditional(etag, body, mimetype=GEOJSON, cache_control=COLLECTION_CACHE_CONTROL)


@bp.get("/v1/missions/<mission_id>")
@response(MissionFeatureSchema, mimetype=GEOJSON, description="The mission; its ETag is its version")
@revalidated()
def get_mission(mission_id: str) -> Response:
    """One mission as a GeoJSON Feature; its ETag is the mission's version (used by staff If-Match)."""
    dataset = service().catalogue.current()
    i = dataset.by_id.get(mission_id)
    if i is None:
        raise Problem(404, f"no mission with id {mission_id!r}")
    return conditional(dataset.etags[i], dataset.feature_bytes[i], mimetype=GEOJSON,
                       cache_control=MISSION_CACHE_CONTROL)


class LeanCollection:
    """``GET /v1/missions`` with no query string, as a lean route of ``yurt.core.observability.Front``.

    The three answers ``list_missions`` gives for it (304, gzip, plain) depend only on the dataset version, so
    their header lists are built once per version; a request costs an ETag comparison and a rate-limit count.
    Anything else goes on to Flask (``None``): a bearer token (counted in the shared limit there), no dataset
    loaded yet (the 503), a client over its limit (the 429). tests/api/test_missions_lean.py compares every
    answer with Flask's own."""

    def __init__(self, catalogue: Catalogue, limits: RateLimits) -> None:
        self._catalogue = catalogue
        self._limits = limits
        self._built: tuple[Dataset, list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]] | None = None

    def _headers(self, dataset: Dataset) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
        built = self._built
        if built is None or built[0] is not dataset:
            common = [("ETag", dataset.etag), ("Cache-Control", COLLECTION_CACHE_CONTROL), ("Vary", "Accept-Encoding")]
            plain = [("Content-Type", GEOJSON), ("Content-Length", str(len(dataset.collection_bytes))), *common]
            gzipped = [("Content-Type", GEOJSON), ("Content-Length", str(len(dataset.collection_gzip))), *common,
                       ("Content-Encoding", "gzip")]
            self._built = built = (dataset, common, gzipped, plain)
        return built[1], built[2], built[3]

    def __call__(self, environ: dict[str, Any]) -> LeanAnswer | None:
        if "HTTP_AUTHORIZATION" in environ or environ.get("QUERY_STRING"):
            return None
        try:
            dataset = self._catalogue.current()
        except StoreUnavailable:
            return None
        if not self._limits.admit_anonymous_read(environ.get("REMOTE_ADDR")):
            return None
        not_modified, gzipped, plain = self._headers(dataset)
        if etag_matches(environ.get("HTTP_IF_NONE_MATCH"), dataset.etag):
            return "304 NOT MODIFIED", list(not_modified), [], LIST_RULE
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return "200 OK", list(gzipped), [dataset.collection_gzip], LIST_RULE
        return "200 OK", list(plain), [dataset.collection_bytes], LIST_RULE


def init_app(app: Flask) -> None:
    """Install the lean route (after ``limits.init_app``: it counts in the app's limiter)."""
    front(app).lean[LIST_RULE] = LeanCollection(app.extensions[EXTENSION].catalogue, rate_limits(app))
