"""Public missions API (read-only, no auth): the whole dataset for offline phones, filters, one mission.

Bodies come pre-serialised from the ``Dataset`` snapshot; a request only picks, joins and answers 304s.
``GET /v1/missions`` is also a lean route (``LeanCollection``), answered before Flask with the same bytes and
headers as ``list_missions``: the whole collection, the answer every phone asks for most (mostly as a 304), and
the filtered views (``bbox`` and the other filters; ``yurt.missions.http.collection_answers``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response

from yurt.core.http.contract import response, revalidated
from yurt.core.http.conventions import GEOJSON, conditional, etag_matches, fast_load, use_query
from yurt.core.http.problems import Problem
from yurt.core.limits import RateLimits, rate_limits
from yurt.core.observability import LeanAnswer, front
from yurt.core.store_errors import StoreUnavailable
from yurt.missions.http import EXTENSION, service
from yurt.missions.http.collection_answers import (
    COLLECTION_CACHE_CONTROL,
    FILTERS,
    LIST_RULE,
    FilteredAnswers,
    filtered_body,
    filtered_etag,
)
from yurt.missions.http.queries import MissionListQuery
from yurt.missions.model.dataset import Dataset
from yurt.missions.schemas.answers import MissionCollectionSchema
from yurt.missions.schemas.record import MissionFeatureSchema
from yurt.missions.service.catalogue import Catalogue

bp = Blueprint("missions", __name__)

MISSION_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=86400, stale-if-error=2592000"
# The list view's query schema: the view and its lean route load a query with this one instance.
LIST_QUERY = MissionListQuery()


@bp.get(LIST_RULE)
@use_query(LIST_QUERY)
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
    return conditional(filtered_etag(dataset, filters), filtered_body(dataset, indices), mimetype=GEOJSON,
                       cache_control=COLLECTION_CACHE_CONTROL)


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


Headers = list[tuple[str, str]]


class LeanCollection:
    """``GET /v1/missions`` as a lean route of ``yurt.core.observability.Front``: every answer ``list_missions``
    gives to an anonymous client within its limit, with the same status, headers and bytes.

    Without a query string, the three answers (304, gzip, plain) depend only on the dataset version, so their
    header lists are built once per version; a request costs an ETag comparison and a rate-limit count. A query
    is loaded by the view's own schema (``LIST_QUERY``, through ``fast_load``) and answered with the view's ETag
    and body from ``FilteredAnswers`` (``Dataset.select``'s indices from arrays built once per version, and the
    answers of recent query strings); a filtered answer is never gzipped, as the view's is not.

    Anything else goes on to Flask (``None``), before the request is counted: a bearer token (counted in the
    shared limit there), a query that does not load exactly as the fast path loads it (a repeated or unknown
    parameter, an invalid value: Flask's 400 names the parameter), no dataset loaded yet (the 503), a client
    over its limit (the 429). tests/missions/test_missions_lean.py and test_bbox_lean.py compare every answer
    with Flask's own."""

    def __init__(self, catalogue: Catalogue, limits: RateLimits) -> None:
        self._catalogue = catalogue
        self._limits = limits
        self._fast = fast_load(LIST_QUERY)
        self._built: tuple[Dataset, Headers, Headers, Headers] | None = None
        self._answers: FilteredAnswers | None = None

    def _headers(self, dataset: Dataset) -> tuple[Headers, Headers, Headers]:
        built = self._built
        if built is None or built[0] is not dataset:
            common = [("ETag", dataset.etag), ("Cache-Control", COLLECTION_CACHE_CONTROL), ("Vary", "Accept-Encoding")]
            plain = [("Content-Type", GEOJSON), ("Content-Length", str(len(dataset.collection_bytes))), *common]
            gzipped = [("Content-Type", GEOJSON), ("Content-Length", str(len(dataset.collection_gzip))), *common,
                       ("Content-Encoding", "gzip")]
            self._built = built = (dataset, common, gzipped, plain)
        return built[1], built[2], built[3]

    def _filters(self, query_string: str) -> dict[str, Any] | None:
        """The view's keyword arguments for this query, or ``None`` where the view's path must load it."""
        filters = self._fast.load_query(query_string)
        # No filter at all (``?&``): the view's whole collection, left to it (a query string nobody sends).
        return filters if filters and FILTERS.issuperset(filters) else None

    def _answers_for(self, dataset: Dataset) -> FilteredAnswers:
        answers = self._answers
        if answers is None or answers.dataset is not dataset:
            self._answers = answers = FilteredAnswers(dataset)
        return answers

    def _filtered(self, dataset: Dataset, query_string: str, environ: dict[str, Any]) -> LeanAnswer | None:
        answers = self._answers_for(dataset)
        kept = answers.get(query_string)
        if kept is None:
            filters = self._filters(query_string)
            if filters is None or not self._limits.admit_anonymous_read(environ.get("REMOTE_ADDR")):
                return None
            etag = filtered_etag(dataset, filters)
            if etag_matches(environ.get("HTTP_IF_NONE_MATCH"), etag):  # no body to compute
                return "304 NOT MODIFIED", _common(etag), [], LIST_RULE
            kept = etag, answers.body(filters)
            answers.keep(query_string, kept)
        elif not self._limits.admit_anonymous_read(environ.get("REMOTE_ADDR")):
            return None
        etag, body = kept
        if etag_matches(environ.get("HTTP_IF_NONE_MATCH"), etag):
            return "304 NOT MODIFIED", _common(etag), [], LIST_RULE
        return "200 OK", [("Content-Type", GEOJSON), ("Content-Length", str(len(body))), *_common(etag)], [body], \
            LIST_RULE

    def __call__(self, environ: dict[str, Any]) -> LeanAnswer | None:
        if "HTTP_AUTHORIZATION" in environ:
            return None
        try:
            dataset = self._catalogue.current()
        except StoreUnavailable:
            return None
        query_string = environ.get("QUERY_STRING")
        if query_string:
            return self._filtered(dataset, query_string, environ)
        if not self._limits.admit_anonymous_read(environ.get("REMOTE_ADDR")):
            return None
        not_modified, gzipped, plain = self._headers(dataset)
        if etag_matches(environ.get("HTTP_IF_NONE_MATCH"), dataset.etag):
            return "304 NOT MODIFIED", list(not_modified), [], LIST_RULE
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return "200 OK", list(gzipped), [dataset.collection_gzip], LIST_RULE
        return "200 OK", list(plain), [dataset.collection_bytes], LIST_RULE


def _common(etag: str) -> Headers:
    """The headers ``conditional`` gives every filtered answer, 304 or 200."""
    return [("ETag", etag), ("Cache-Control", COLLECTION_CACHE_CONTROL), ("Vary", "Accept-Encoding")]


def init_app(app: Flask) -> None:
    """Install the lean route (after ``limits.init_app``: it counts in the app's limiter)."""
    front(app).lean[LIST_RULE] = LeanCollection(app.extensions[EXTENSION].catalogue, rate_limits(app))
