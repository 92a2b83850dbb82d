"""The Prometheus metric objects, with no Flask in them: stores, the rate limiter and the HTTP layer count
here, and ``yurt.api.metrics`` (the ``/metrics`` blueprint) exposes them. Keeping the definitions apart lets a store
count a Redis error without importing the web layer (that import made a cycle: services → redis_store →
metrics → services).

Every label value fed by a request comes from a closed set (see ``yurt.api.metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from yurt.core.mmap_values import FastCounter

REQUEST_SECONDS = Histogram(
    "yurt_request_seconds", "Request latency by endpoint", ["endpoint", "method", "status"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
CACHE_LOOKUPS = Counter("yurt_cache_lookups_total", "Result cache lookups", ["cache", "result"])
REDIS_ERRORS = Counter("yurt_redis_errors_total", "Redis errors by component", ["component"])


# The labelled children already made (``labels()`` checks and joins its arguments on every call), each bound to
# its place in the multiprocess file (``yurt.core.mmap_values``). Bounded, since every label value comes from a
# closed set.
_CACHE_CHILDREN: dict[tuple[str, str], FastCounter] = {}


def record_cache(cache: str, result: str) -> None:
    """``result`` is hit, miss or bypass."""
    child = _CACHE_CHILDREN.get((cache, result))
    if child is None:
        child = _CACHE_CHILDREN[cache, result] = FastCounter(CACHE_LOOKUPS.labels(cache, result))
    child.inc()
