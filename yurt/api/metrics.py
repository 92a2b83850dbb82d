"""Prometheus metrics at ``/metrics``: request latency per endpoint, cache hits/misses, Redis errors, and
visible travellers (a gauge read from the traveller store at scrape time: one count, shared by all workers, so
it is not a per-process sample and needs no multiprocess aggregation; rounded down to a multiple of
``VISIBLE_GAUGE_STEP`` so that one traveller turning presence on or off does not show).

Every label value fed by a request comes from a closed set, so no client can grow the scrape: the method is
one of ``METHODS`` or ``other`` (gunicorn passes any token as a method), the endpoint is the matched route
*rule* (``/v1/missions/<mission_id>``, never the path) or ``unmatched``, and the status is one the app chose.

Who may scrape (``scrape_allowed``): with ``YURT_METRICS_TOKEN`` set, only a request bearing that token;
unset, only a loopback client whose request no proxy relayed (a ``Forwarded`` or ``X-Forwarded-For`` header
means a proxy on this host is passing someone else's request on). Scrapes count in the rate limits like any
other request.

Multi-worker gunicorn: when ``PROMETHEUS_MULTIPROC_DIR`` is set (``gunicorn.conf.py`` sets it to a fresh
folder before workers fork, and marks dead workers), every worker writes its samples to files there and
``/metrics`` aggregates all workers with ``MultiProcessCollector`` — so a scrape that lands on any worker sees
the whole server (prometheus_client docs, "Multiprocess Mode (E.g. Gunicorn)"). Without it (tests, one
process) the default registry is used.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from yurt.composition import services
from yurt.core.http.contract import other_responses, response
from yurt.core.http.problems import Problem
from yurt.core.meters import REDIS_ERRORS, REQUEST_SECONDS
from yurt.core.mmap_values import FastHistogram
from yurt.core.store_errors import StoreError
from yurt.travellers.model.area_counts import VISIBLE_GAUGE_STEP, coarse_visible_count

bp = Blueprint("metrics", __name__)

# RFC 9110 §9 methods plus PATCH (RFC 5789): the closed set of method labels; anything else is "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


class VisibleTravellers(Collector):
    """``yurt_visible_travellers``: asked of the store when scraped, rounded down to a multiple of
    ``VISIBLE_GAUGE_STEP`` (``area_counts.coarse_visible_count``); left out (and counted) if the store cannot
    answer."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            count = services().travellers.presence.visible_count(time.time())
        except StoreError:
            REDIS_ERRORS.labels("metrics").inc()
            return
        yield GaugeMetricFamily("yurt_visible_travellers", "Travellers visible to compatriots now, rounded down to "
                                f"a multiple of {VISIBLE_GAUGE_STEP}", value=coarse_visible_count(count))


def scrape_allowed(token: str | None) -> bool:
    """With a token: the request bears it (compared in constant time). Without: a loopback client, unrelayed."""
    if token is not None:
        header = request.headers.get("Authorization", "")
        offered = header[7:].strip() if header[:7].lower() == "bearer " else ""
        return hmac.compare_digest(offered.encode(), token.encode())
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
@response({"type": "string"}, mimetype="text/plain", description="Prometheus text exposition format")
@other_responses({401: "`YURT_METRICS_TOKEN` is set and the request does not bear it",
                  403: "No token is configured and the client is not loopback, or the request was relayed"})
def metrics() -> Response:
    """Prometheus metrics, all workers aggregated, for operators only.

    With ``YURT_METRICS_TOKEN`` set, for requests bearing it; otherwise for loopback clients, never relayed."""
    token = services().settings.metrics_token
    if not scrape_allowed(token):
        if token is not None:
            raise Problem(401, "/metrics needs the operators' bearer token (YURT_METRICS_TOKEN)",
                          headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        raise Problem(403, "/metrics answers loopback clients only; set YURT_METRICS_TOKEN to scrape it "
                           "from elsewhere")
    registry = CollectorRegistry()
    registry.register(VisibleTravellers())
    data = generate_latest(registry)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        aggregated = CollectorRegistry()
        MultiProcessCollector(aggregated)  # type: ignore[no-untyped-call]
        data = generate_latest(aggregated) + data
    else:
        data = generate_latest() + data
    return Response(data, mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


# The labelled histograms already made, by (endpoint, method, status): ``labels()`` checks and joins its
# arguments on every call; each is bound to its place in the multiprocess file (``yurt.core.mmap_values``).
# Bounded, since every label value comes from a closed set.
_REQUEST_CHILDREN: dict[tuple[str, str, int], FastHistogram] = {}


def observe_request(endpoint: str, method: str, status: int, elapsed_s: float) -> None:
    """Called once per request by ``yurt.core.observability.Front``, which
    ``create_app`` hands it to."""
    key = (endpoint, method_label(method), status)  # the label, never the raw method: the set stays closed
    child = _REQUEST_CHILDREN.get(key)
    if child is None:
        child = _REQUEST_CHILDREN[key] = FastHistogram(REQUEST_SECONDS.labels(key[0], key[1], str(status)))
    child.observe(elapsed_s)
