"""Per-client rate limiting with flask-limiter: per bearer token when one is sent, else per client address.

Storage: Redis in Redis mode (limits are shared by every worker and host), process memory in the embedded
default. Failure policy: **fail open** (``swallow_errors``) — a Redis outage must not take mission reads down
with it; the per-traveller presence limits that protect privacy live in the travellers store and fail closed.
A limited request gets a 429 problem with ``Retry-After``. Health probes and metrics are exempt.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from yurt.errors import problem
from yurt.settings import Settings

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def client_key() -> str:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer " and len(header) > 7:
        # The token itself, hashed: the same caller from many addresses shares one budget. No verification
        # here (that costs a signature check); an invalid token is refused by the view anyway.
        return "tok:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "ip:" + (get_remote_address() or "unknown")


def _redis_options(settings: Settings) -> Any:
    if not settings.redis_url:
        return {}
    return {"socket_timeout": settings.redis_timeout_s, "socket_connect_timeout": settings.redis_timeout_s}


def init_app(app: Flask, settings: Settings) -> Limiter:
    storage_uri = settings.redis_url if settings.redis_url and not settings.redis_cluster else "memory://"
    if settings.redis_cluster and settings.redis_url:
        storage_uri = settings.redis_url.replace("redis://", "redis+cluster://", 1)
    limiter = Limiter(
        key_func=client_key,
        app=app,
        default_limits=[settings.rate_limit],
        storage_uri=storage_uri,
        storage_options=_redis_options(settings),
        strategy="fixed-window",
        # Off: flask-limiter would stamp Retry-After on every response; the 429 handler below sets it.
        headers_enabled=False,
        swallow_errors=True,
        key_prefix="yurt:rl",
    )
    limiter.request_filter(lambda: request.path in EXEMPT_PATHS)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> Response:
        current = limiter.current_limit
        retry_after_s = max(1, math.ceil(current.reset_at - time.time())) if current else 60
        return problem(429, f"rate limit exceeded ({exc.description}); retry after {retry_after_s} s",
                       headers={"Retry-After": str(retry_after_s)})

    return limiter
