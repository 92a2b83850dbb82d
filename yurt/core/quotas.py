"""Per-account quotas on the actions that fill lists others read: traveller reports and meetup creation.

A quota is a fixed-window count per traveller pseudonym (``YURT_REPORT_RATE``, ``YURT_MEETUP_RATE``), kept by
Redis in Redis mode on the service's one client (``storage.counters``, like the request rate limit; shared by
every worker and host), in memory in the embedded default (the ``limits`` library). Over a quota the view
answers 429 with ``Retry-After``.

Failure policy: **fail closed**. Unlike the request limiter, which lets reads through a Redis outage, a quota
guards a write that needs Redis anyway; an uncounted write would be exactly the flood the quota exists to stop.
A counter that cannot be reached raises ``StoreUnavailable`` (503 with ``Retry-After``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter

from yurt.core.rate import RateCharge
from yurt.core.redis.common import REDIS_FAILURES
from yurt.core.redis.counters import RedisWindowCounter
from yurt.core.settings import Settings
from yurt.core.store_errors import StoreUnavailable
from yurt.core.window_counts import WindowCounts

if TYPE_CHECKING:
    import redis

NAMESPACE = "yurt:quota"


@dataclass(frozen=True)
class QuotaExceeded(Exception):
    action: str
    limit: str
    retry_after_s: int


class Quotas:
    """``client``: the service's one Redis client in Redis mode (counted there, closed with it), else memory."""

    def __init__(self, settings: Settings, client: redis.Redis | None = None) -> None:
        self._limiter = FixedWindowRateLimiter(WindowCounts())
        self._redis = RedisWindowCounter(client) if client is not None else None
        self._limits: dict[str, RateLimitItem] = {"report": parse(settings.report_rate),
                                                  "meetup": parse(settings.meetup_rate)}

    def charge(self, action: str, who: str) -> None:
        """Count one ``action`` by ``who`` (a pseudonym); raise ``QuotaExceeded`` when over the limit."""
        limit = self._limits[action]
        if self._redis is None:
            if self._limiter.hit(limit, NAMESPACE, action, who):
                return
            reset_at = self._limiter.get_window_stats(limit, NAMESPACE, action, who).reset_time
            raise QuotaExceeded(action, str(limit), max(1, math.ceil(reset_at - time.time())))
        window_s = int(limit.get_expiry())
        charge = RateCharge(f"{NAMESPACE}:{action}:{limit.amount}/{window_s}s:{who}", window_s)
        try:
            count = self._redis.hit(charge)
        except REDIS_FAILURES as exc:
            raise StoreUnavailable(f"quota counter unavailable: {type(exc).__name__}") from exc
        if count.count > limit.amount:
            raise QuotaExceeded(action, str(limit), max(1, math.ceil(count.ttl_ms / 1000)))
