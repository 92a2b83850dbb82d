"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, Response

from yurt.composition import services
from yurt.core.http.conventions import json_response
from yurt.core.store_errors import StoreError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Alive: the process answers HTTP."""
    return json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready: a dataset is loaded and the configured storage answers."""
    svc = services()
    checks: dict[str, object] = {}
    try:
        dataset = svc.catalogue.current()
        checks["dataset"] = {"missions": len(dataset), "generation": dataset.generation}
        ok = len(dataset) > 0
    except StoreError:
        checks["dataset"] = "not loaded: the store has not answered since this worker started"
        ok = False
    try:
        svc.store.generation()
        checks["store"] = "ok"
    except (StoreError, OSError) as exc:
        checks["store"] = f"unreachable: {type(exc).__name__}"
        ok = False
    if svc.redis is not None:
        try:
            svc.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
            ok = False
    status = 200 if ok else 503
    return json_response({"status": "ok" if ok else "unavailable", "checks": checks}, status,
                         headers={"Cache-Control": "no-store"})
