"""Public missions API (read-only, no auth): the whole dataset for offline phones, filters, one mission.

Bodies come pre-serialised from the ``Dataset`` snapshot; a request only picks, joins and answers 304s.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response

from yurt.core.http.contract import response, revalidated
from yurt.core.http.conventions import GEOJSON, conditional, use_query
from yurt.core.http.problems import Problem
from yurt.missions.http import service
from yurt.missions.http.queries import MissionListQuery
from yurt.missions.model.dataset import collection_body
from yurt.missions.schemas.answers import MissionCollectionSchema
from yurt.missions.schemas.record import MissionFeatureSchema

bp = Blueprint("missions", __name__)

# A phone keeps the whole dataset offline: revalidate every 5 minutes with If-None-Match (a 304 costs a few
# bytes), keep using the stale copy while revalidating (a day) and when the server cannot be reached (30 days).
COLLECTION_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400, stale-if-error=2592000"
MISSION_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=86400, stale-if-error=2592000"


@bp.get("/v1/missions")
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
