"""Per-client rate limiting: per verified caller (the token's ``sub``), else per client address; 429 + Retry-After.

Engine: the ``limits`` library (flask-limiter's own engine, same maintainers), called directly from one
``before_request`` hook: flask-limiter's per-request bookkeeping cost more than a whole mission read
(bench/bench_http.py; about 100 µs per request for two limiters), while one counter hit costs a few µs in memory.

Two counters, so the cheapest requests stay cheap:
- anonymous public reads (GET/HEAD without a token) are counted in each worker's memory: a Redis round trip
  would cost more than the read itself; the effective limit for them is per worker;
- everything else (any request with a token, any write) is counted in Redis in Redis mode, shared by every
  worker and host, and in memory in the embedded default (one process).

Failure policy: **fail open** — if Redis cannot count, the request goes through (and the error is counted in
``yurt_redis_errors_total``): a Redis outage must not take reads down with it. After a failure the shared
counter is skipped for ``BACKOFF_S``, so a hung Redis costs one timeout per worker per backoff, not one per
request on top of the request's own store call; the outage is logged once per
YURT_REDIS_OUTAGE_LOG_INTERVAL_S. The per-traveller presence limits that protect privacy live in the travellers
store and fail closed. Health probes are exempt; ``/metrics`` is not (a scrape reads every worker's files, so an
unlimited one could slow everyone down).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

from flask import Flask, request
from limits import RateLimitItem, parse
from limits.storage import RedisClusterStorage, RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter

from yurt.auth import TokenVerifier
from yurt.errors import Problem
from yurt.meters import REDIS_ERRORS
from yurt.settings import Settings
from yurt.window_counts import WindowCounts

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
NAMESPACE = "yurt:rl"
BACKOFF_S = 5.0

log = logging.getLogger("yurt.limits")


def client_key(verifier: TokenVerifier) -> str:
    """Who is charged for this request.

    A token is only trusted once it verifies: keying by an unverified token would let anyone mint a fresh
    budget per request by sending random bearer strings. A verified caller is charged by ``sub`` (so the same
    caller from many addresses, or with several tokens, shares one budget); anything else by address.
    The verifier remembers good tokens, so the view's own check costs nothing more.
    """
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer " and len(header) > 7:
        principal = verifier.principal_or_none(header[7:].strip())
        if principal is not None:
            return "sub:" + hashlib.sha256(principal.sub.encode()).hexdigest()[:32]
    return "ip:" + (request.remote_addr or "unknown")


def is_anonymous_read() -> bool:
    return request.method in {"GET", "HEAD"} and "Authorization" not in request.headers


def shared_storage(settings: Settings) -> Storage:
    """Redis (or Cluster) in Redis mode, else this process's memory; also used by ``yurt.quotas``."""
    if not settings.redis_url:
        return WindowCounts()
    options: Any = {"socket_timeout": settings.redis_timeout_s, "socket_connect_timeout": settings.redis_timeout_s}
    if settings.redis_cluster:
        return RedisClusterStorage(settings.redis_url.replace("redis://", "redis+cluster://", 1), **options)
    return RedisStorage(settings.redis_url, **options)


class RateLimits:
    def __init__(self, settings: Settings, verifier: TokenVerifier) -> None:
        self._verifier = verifier
        self.limit: RateLimitItem = parse(settings.rate_limit)
        self._local = FixedWindowRateLimiter(WindowCounts())
        self._shared = FixedWindowRateLimiter(shared_storage(settings))
        self._fail_logged_at = -math.inf
        self._log_interval_s = settings.redis_outage_log_interval_s
        self._skip_shared_until = -math.inf

    def check(self) -> None:
        if request.path in EXEMPT_PATHS:
            return
        counter = self._local if is_anonymous_read() else self._shared
        if counter is self._shared and time.monotonic() < self._skip_shared_until:
            return  # fail open without waiting: the shared storage failed moments ago
        key = client_key(self._verifier)
        try:
            allowed = counter.hit(self.limit, NAMESPACE, key)
        except Exception as exc:
            REDIS_ERRORS.labels("rate_limit").inc()
            now = time.monotonic()
            self._skip_shared_until = now + BACKOFF_S
            if now - self._fail_logged_at >= self._log_interval_s:
                self._fail_logged_at = now
                log.warning("rate-limit storage unavailable, not limiting: %s", type(exc).__name__)
            return
        if not allowed:
            reset_at = counter.get_window_stats(self.limit, NAMESPACE, key).reset_time
            retry_after_s = max(1, math.ceil(reset_at - time.time()))
            raise Problem(429, f"rate limit exceeded ({self.limit}); retry after {retry_after_s} s",
                          headers={"Retry-After": str(retry_after_s)})


def init_app(app: Flask, settings: Settings, verifier: TokenVerifier) -> RateLimits:
    limits = RateLimits(settings, verifier)
    app.before_request(limits.check)
    return limits
