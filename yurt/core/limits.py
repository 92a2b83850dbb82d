"""Per-client rate limiting: per verified caller (the token's ``sub``), else per client address; 429 + Retry-After.

Engine: the ``limits`` library (flask-limiter's own engine, same maintainers), called directly from one
``before_request`` hook: flask-limiter's per-request bookkeeping cost more than a whole mission read
(bench/bench_http.py; about 100 µs per request for two limiters), while one counter hit costs a few µs in memory.

Two counters, so the cheapest requests stay cheap:
- anonymous public reads (GET/HEAD without a token) are counted in each worker's memory: a Redis round trip
  would cost more than the read itself; the effective limit for them is per worker;
- everything else (any request with a token, any write) is counted in Redis in Redis mode, shared by every
  worker and host, and in memory in the embedded default (one process).

The shared counter runs on the service's one Redis client (``Services.redis``, closed with the services at
shutdown: ``storage.counters``). On a single Redis node, ``nearby`` and presence updates do not count on their
own: the view hands the request's charge (``pending_charge``) to the travellers store, which counts it inside
its first script, and ``settle`` judges the count (the whole request then takes two round trips). A request
that ends before its view took the charge (401, 400, ...) is counted after it. A lean route of such a view
(``yurt.travellers.http.lean_nearby``) counts before Flask with ``count_ahead`` and marks the request
(``COUNTED_ENVIRON``), so that ``check`` leaves it alone if Flask answers it after all.

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
from typing import TYPE_CHECKING, cast

from flask import Flask, Response, current_app, g, request
from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter

from yurt.core.auth import Principal, TokenVerifier
from yurt.core.http.problems import Problem
from yurt.core.meters import REDIS_ERRORS
from yurt.core.rate import RateCharge, RateCount
from yurt.core.redis.counters import RedisWindowCounter
from yurt.core.settings import Settings
from yurt.core.window_counts import WindowCounts

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
NAMESPACE = "yurt:rl"
BACKOFF_S = 5.0
# Views whose store counts the charge in its own first round trip (when the store ``counts_requests``).
COUNTED_BY_THE_STORE = frozenset({"travellers.nearby", "travellers.put_presence"})
# Set in the WSGI environ by a lean route that counted the request (``count_ahead``): ``check`` counts it no more.
COUNTED_ENVIRON = "yurt.rate_counted"

if TYPE_CHECKING:
    import redis

log = logging.getLogger("yurt.core.limits")


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
            return principal_key(principal)
    return "ip:" + (request.remote_addr or "unknown")


def principal_key(principal: Principal) -> str:
    """The key a verified caller is charged under."""
    return "sub:" + hashlib.sha256(principal.sub.encode()).hexdigest()[:32]


class RateLimits:
    def __init__(self, settings: Settings, verifier: TokenVerifier, client: redis.Redis | None = None,
                 store_counts: bool = False) -> None:
        self._verifier = verifier
        self.limit: RateLimitItem = parse(settings.rate_limit)
        self._local_counts = WindowCounts()
        self._local = FixedWindowRateLimiter(self._local_counts)
        # limits' key for (NAMESPACE, client), split around the client: "<prefix>" + client + "<suffix>".
        prefix, _, suffix = self.limit.key_for(NAMESPACE, "\0").partition("\0")
        self._limit_key = (prefix, suffix)
        self._shared_counts = WindowCounts()
        self._shared = FixedWindowRateLimiter(self._shared_counts) if client is None else None
        self._redis = RedisWindowCounter(client) if client is not None else None
        self._store_counts = store_counts and client is not None
        self._window_s = int(self.limit.get_expiry())
        self._fail_logged_at = -math.inf
        self._log_interval_s = settings.redis_outage_log_interval_s
        self._skip_shared_until = -math.inf

    def admit_anonymous_read(self, remote_addr: str | None) -> bool:
        """Count one anonymous read from ``remote_addr`` in this worker's memory; False when over the limit.

        The count ``FixedWindowRateLimiter.hit`` makes, on the same key, minus its per-call key building (the
        refusal, with its Retry-After, is ``_judge_local``'s). Lean routes (``yurt.observability.Front``) call
        it before Flask; a refused request goes on to Flask, which answers the 429."""
        key = self._limit_key[0] + "ip:" + (remote_addr or "unknown") + self._limit_key[1]
        return self._local_counts.incr(key, self._window_s) <= self.limit.amount

    def charge_for(self, key: str) -> RateCharge:
        return RateCharge(f"{NAMESPACE}:{self.limit.amount}/{self._window_s}s:{key}", self._window_s,
                          self.limit.amount)

    def count_ahead(self, key: str) -> RateCharge | None:
        """What ``check`` does for a verified caller's ``key`` on a view of ``COUNTED_BY_THE_STORE``, for a lean
        route (before Flask, no request context): the hit counted in memory now (the embedded default; over the
        limit, the 429 ``Problem`` raised as ``check`` raises it), or the charge the store counts in its first
        round trip (``settle`` judges it), or nothing while the shared counter is in its back-off (fail open).
        The caller sets ``COUNTED_ENVIRON`` first, so that the request is not counted again if Flask answers it."""
        if time.monotonic() < self._skip_shared_until:
            return None
        if self._shared is not None:  # ``_judge_local``'s count, on the same key, without its key building
            prefix, suffix = self._limit_key
            if self._shared_counts.incr(prefix + key + suffix, self._window_s) > self.limit.amount:
                self._refuse_window(self._shared, key)
            return None
        charge = self.charge_for(key)
        if self._store_counts:
            return charge
        self.settle(self._count(charge))
        return None

    def check(self) -> None:
        environ = request.environ
        if COUNTED_ENVIRON in environ:  # counted by a lean route (``count_ahead``), which left it to Flask
            return
        if "/" + environ.get("PATH_INFO", "").lstrip("/") in EXEMPT_PATHS:  # request.path, without the proxy
            return
        if environ.get("REQUEST_METHOD", "").upper() in {"GET", "HEAD"} and "HTTP_AUTHORIZATION" not in environ:
            # An anonymous read (GET or HEAD without a token), keyed by address (``client_key`` without a token).
            if not self.admit_anonymous_read(environ.get("REMOTE_ADDR")):
                self._refuse_window(self._local, "ip:" + (environ.get("REMOTE_ADDR") or "unknown"))
            return
        if time.monotonic() < self._skip_shared_until:
            return  # fail open without waiting: the shared storage failed moments ago
        key = client_key(self._verifier)
        if self._shared is not None:
            self._judge_local(self._shared, key)
            return
        charge = self.charge_for(key)
        if self._store_counts and request.endpoint in COUNTED_BY_THE_STORE:
            g.yurt_rate_charge = charge  # the view hands it to the store (``pending_charge``)
            return
        self.settle(self._count(charge))

    def _count(self, charge: RateCharge) -> RateCount | None:
        assert self._redis is not None
        try:
            return self._redis.hit(charge)
        except Exception as exc:
            self.failed(exc)
            return None

    def failed(self, exc: BaseException) -> None:
        """Fail open: count the error, skip the shared counter for ``BACKOFF_S``, log once per interval."""
        REDIS_ERRORS.labels("rate_limit").inc()
        now = time.monotonic()
        self._skip_shared_until = now + BACKOFF_S
        if now - self._fail_logged_at >= self._log_interval_s:
            self._fail_logged_at = now
            log.warning("rate-limit storage unavailable, not limiting: %s", type(exc).__name__)

    def settle(self, rate: RateCount | None) -> None:
        """429 with Retry-After if ``rate`` (a shared count) is over the limit."""
        if rate is not None and rate.count > self.limit.amount:
            self._refuse(max(1, math.ceil(rate.ttl_ms / 1000)))

    def _refuse(self, retry_after_s: int) -> None:
        raise Problem(429, f"rate limit exceeded ({self.limit}); retry after {retry_after_s} s",
                      headers={"Retry-After": str(retry_after_s)})

    def _judge_local(self, counter: FixedWindowRateLimiter, key: str) -> None:
        if not counter.hit(self.limit, NAMESPACE, key):
            self._refuse_window(counter, key)

    def _refuse_window(self, counter: FixedWindowRateLimiter, key: str) -> None:
        reset_at = counter.get_window_stats(self.limit, NAMESPACE, key).reset_time
        self._refuse(max(1, math.ceil(reset_at - time.time())))

    def count_untaken(self, response: Response) -> Response:
        """A charge left for the store that the view never took (it ended earlier): count it now."""
        charge = g.pop("yurt_rate_charge", None)
        if charge is not None:
            self._count(charge)
        return response


def _limits() -> RateLimits:
    return rate_limits(current_app)


def rate_limits(app: Flask) -> RateLimits:
    return cast(RateLimits, app.extensions["yurt.core.limits"])


def pending_charge() -> RateCharge | None:
    """The request's rate-limit charge, for a store that counts it in its own round trip (then ``settle``)."""
    return cast(RateCharge | None, g.pop("yurt_rate_charge", None))


def settle(rate: RateCount | None) -> None:
    _limits().settle(rate)


def init_app(app: Flask, settings: Settings, verifier: TokenVerifier) -> RateLimits:
    services = app.extensions["yurt"]
    client = services.redis
    limits = RateLimits(settings, verifier, client, store_counts=services.travellers.presence.counts_requests)
    app.extensions["yurt.core.limits"] = limits
    app.before_request(limits.check)
    app.after_request(limits.count_untaken)
    return limits
