"""Alert endpoints: staff publish and edit (scope ``staff``, ``If-Match`` as for missions), everyone reads.

``GET /v1/alerts`` without a point is the phone's offline copy: every alert in force and every upcoming one
(flagged ``upcoming``), with a strong ETag over the exact bytes (so it changes when a staff edit lands and when
an alert starts or ends by the clock), 304 for ``If-None-Match``, gzip, and ``Cache-Control: public, max-age``
no longer than ``YURT_ALERTS_MAX_AGE_S`` nor than the time to the next start or end. With ``lat`` and ``lon``:
the alerts in force covering that point. The views are thin: they parse, call ``AlertService``
(``yurt.alerts.service.alerts``) and map its errors to problems.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, g
from marshmallow import Schema, ValidationError

from yurt.alerts.http import service
from yurt.alerts.http.answer_schemas import AlertAuditPageSchema
from yurt.alerts.http.schemas import (
    AlertAuditQuery,
    AlertBodySchema,
    AlertCollectionSchema,
    AlertListQuery,
    AlertSchema,
    StaffAlertListSchema,
)
from yurt.alerts.model.record import AlertRecord
from yurt.alerts.service.alerts import UnknownAlert
from yurt.alerts.service.book import collection
from yurt.alerts.service.writes import AlertInvalid, editable
from yurt.core.auth import requires
from yurt.core.field_errors import field_errors
from yurt.core.http.clock import request_now
from yurt.core.http.contract import body, precondition, resource_links, response, revalidated
from yurt.core.http.conventions import GEOJSON, conditional, json_body, json_response, use_query
from yurt.core.http.merge_patch import merge_patch
from yurt.core.http.preconditions import required_etag, stale
from yurt.core.http.problems import Problem
from yurt.core.store_errors import NotFound, StalePrecondition
from yurt.geo.instants import utc_iso

bp = Blueprint("alerts", __name__)

ALERT_CACHE_CONTROL = "public, no-cache"  # one alert: always revalidate (a 304 is cheap), edits show at once


def loaded(raw: Any, schema: Schema | None = None) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise Problem(400, "the body must be a JSON object", errors={"$": ["expected an object"]})
    try:
        result: dict[str, Any] = (schema or AlertBodySchema()).load(raw)
    except ValidationError as exc:
        errors = field_errors(exc.messages)
        raise Problem(422, "the body is invalid: " + ", ".join(sorted(errors)), errors=errors) from None
    return result


def _invalid(exc: AlertInvalid) -> Problem:
    return Problem(422, str(exc), errors=exc.errors)


def unknown(exc: UnknownAlert) -> Problem:
    return Problem(404, f"no alert with id {exc.alert_id[:40]!r}")


def _written(record: AlertRecord, status: int = 200) -> Response:
    headers = {"ETag": record.etag, "Cache-Control": "no-store"}
    if status == 201:
        headers["Location"] = f"/v1/alerts/{record.id}"
    return json_response(dict(record.doc), status, headers=headers)


def _record(alert_id: str) -> AlertRecord:
    """The stored alert (404 for an id that cannot exist or does not); the last snapshot if the store is out."""
    try:
        return service().get(alert_id)
    except UnknownAlert as exc:
        raise unknown(exc) from None


@bp.post("/v1/alerts")
@requires("staff")
@body(AlertBodySchema, load=False)
@response(AlertSchema, 201, description="Published; `Location` names it, `ETag` is its version",
          links=resource_links("alert_id", "/id", {
              "GetAlert": "alerts.get_alert.get", "ReplaceAlert": "alerts.replace.put",
              "PatchAlert": "alerts.patch.patch", "DeleteAlert": "alerts.delete.delete",
              "AlertHistory": "alerts.history.get", "AlertReach": "alert_travellers.alert_reach.get"},
              if_match=True))
def create() -> Response:
    """Publish an alert for an area, or for countries and/or subdivisions."""
    body = loaded(json_body())
    try:
        record = service().create(body, author=str(g.principal.sub), now=request_now())
    except AlertInvalid as exc:
        raise _invalid(exc) from None
    return _written(record, 201)


@bp.get("/v1/alerts")
@use_query(AlertListQuery())
@response(AlertCollectionSchema, mimetype=GEOJSON, description="The alerts, most severe first, then newest")
@revalidated()
def list_alerts(lat: float | None = None, lon: float | None = None) -> Response:
    """Alerts in force and upcoming (GeoJSON); with lat and lon, those in force covering the point."""
    if (lat is None) != (lon is None):
        raise Problem(400, "give lat and lon together, or neither", errors={
            "lat": ["give lat and lon together, or neither"], "lon": ["give lat and lon together, or neither"]})
    found = service().public(request_now().timestamp(), None if lat is None or lon is None else (lat, lon))
    cache_control = f"public, max-age={found.max_age_s}"
    if found.listing is not None:
        listing = found.listing
        return conditional(listing.etag, listing.body, gzipped=listing.gzipped, mimetype=GEOJSON,
                           cache_control=cache_control)
    body = collection([alert.feature_bytes(False) for alert in found.at_point])
    return json_response(body, mimetype=GEOJSON, headers={"Cache-Control": cache_control})


@bp.get("/v1/alerts/<alert_id>")
@response(AlertSchema, description="The alert; `ETag` is its version")
@revalidated()
def get_alert(alert_id: str) -> Response:
    """One alert; its ETag is what staff send in If-Match to change it."""
    record = _record(alert_id)
    return conditional(record.etag, orjson.dumps(record.doc), cache_control=ALERT_CACHE_CONTROL)


@bp.get("/v1/staff/alerts")
@requires("staff")
@response(StaffAlertListSchema, description="Every stored alert, ended ones too, without areas")
def staff_list() -> Response:
    """Every stored alert, ended ones too, without its area's coordinates (the staff console's list)."""
    summaries = service().staff_summaries()
    return json_response({"alerts": summaries, "now": utc_iso(request_now())}, headers={"Cache-Control": "no-store"})


def _update(alert_id: str, body: dict[str, Any], if_match: str, action: str) -> Response:
    try:
        record = service().replace(alert_id, body, if_match=if_match, author=str(g.principal.sub),
                                   now=request_now(), action=action)
    except AlertInvalid as exc:
        raise _invalid(exc) from None
    except NotFound:
        raise Problem(404, f"no alert with id {alert_id!r}") from None
    except StalePrecondition as exc:
        raise stale(exc, "alert") from None
    return _written(record)


def _same_id(raw: Any, alert_id: str) -> None:
    if isinstance(raw, dict) and raw.get("id") not in (None, alert_id):
        raise Problem(422, "the body's id differs from the id in the URL", errors={"id": [f"must be {alert_id!r}"]})


@bp.put("/v1/alerts/<alert_id>")
@requires("staff")
@precondition("alert")
@body(AlertBodySchema, load=False)
@response(AlertSchema, description="Replaced; `ETag` is its new version")
def replace(alert_id: str) -> Response:
    """Replace an alert (If-Match: its ETag)."""
    if_match = required_etag("alert")
    _record(alert_id)
    raw = json_body()
    _same_id(raw, alert_id)
    return _update(alert_id, loaded(raw), if_match, "replace")


@bp.patch("/v1/alerts/<alert_id>")
@requires("staff")
@precondition("alert")
@body({"type": "object", "description": "JSON Merge Patch (RFC 7396) of the alert"}, load=False,
      mimetypes=("application/merge-patch+json", "application/json"))
@response(AlertSchema, description="Changed; `ETag` is its new version")
def patch(alert_id: str) -> Response:
    """Change an alert with a JSON Merge Patch (RFC 7396) of it (If-Match: its ETag)."""
    if_match = required_etag("alert")
    current = _record(alert_id)
    if current.etag != if_match:
        raise stale(StalePrecondition(current.etag, current.doc), "alert")
    raw = json_body()
    _same_id(raw, alert_id)
    merged = merge_patch(editable(current.doc), raw)
    return _update(alert_id, loaded(merged), if_match, "patch")


@bp.delete("/v1/alerts/<alert_id>")
@requires("staff")
@precondition("alert")
@response(None, 204, description="Withdrawn")
def delete(alert_id: str) -> Response:
    """Withdraw an alert (If-Match: its ETag); its last state stays in the audit trail."""
    if_match = required_etag("alert")
    _record(alert_id)
    try:
        service().delete(alert_id, if_match=if_match, author=str(g.principal.sub))
    except NotFound:
        raise Problem(404, f"no alert with id {alert_id!r}") from None
    except StalePrecondition as exc:
        raise stale(exc, "alert") from None
    return Response(status=204, headers={"Cache-Control": "no-store"})


def _page(alert_id: str | None, limit: int, before: int | None, base: str) -> Response:
    try:
        entries = service().audit(alert_id, limit, before)
    except UnknownAlert as exc:
        raise unknown(exc) from None
    body: dict[str, Any] = {"entries": [e.to_json() for e in entries]}
    if len(entries) == limit:
        body["next"] = f"{base}?limit={limit}&before={entries[-1].seq}"
    return json_response(body, headers={"Cache-Control": "no-store"})


@bp.get("/v1/alerts/<alert_id>/history")
@requires("staff")
@use_query(AlertAuditQuery())
@response(AlertAuditPageSchema, description="Newest first")
def history(alert_id: str, limit: int, before: int | None) -> Response:
    """Who changed this alert, when, with before and after; newest first, paged with ``before``."""
    return _page(alert_id, limit, before, f"/v1/alerts/{alert_id}/history")


@bp.get("/v1/audit/alerts")
@requires("staff")
@use_query(AlertAuditQuery())
@response(AlertAuditPageSchema, description="Newest first")
def audit(limit: int, before: int | None) -> Response:
    """The alerts' audit trail (entries of kind ``alert``), newest first, paged with ``before``."""
    return _page(None, limit, before, "/v1/audit/alerts")
