"""Per-account quotas on the actions that fill lists others read: traveller reports and meetup creation.

A quota is a fixed-window count per traveller pseudonym (``YURT_REPORT_RATE``, ``YURT_MEETUP_RATE``), kept by
the ``limits`` library like the request rate limit: in Redis in Redis mode (shared by every worker and host),
in memory in the embedded default. Over a quota the view answers 429 with ``Retry-After``.

Failure policy: **fail closed**. Unlike the request limiter, which lets reads through a Redis outage, a quota
guards a write that needs Redis anyway; an uncounted write would be exactly the flood the quota exists to stop.
A counter that cannot be reached raises ``StoreUnavailable`` (503 with ``Retry-After``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter

from yurt.settings import Settings
from yurt.storage.base import StoreUnavailable

NAMESPACE = "yurt:quota"


@dataclass(frozen=True)
class QuotaExceeded(Exception):
    action: str
    limit: str
    retry_after_s: int


class Quotas:
    def __init__(self, settings: Settings) -> None:
        from yurt.limits import shared_storage

        self._limiter = FixedWindowRateLimiter(shared_storage(settings))
        self._limits: dict[str, RateLimitItem] = {"report": parse(settings.report_rate),
                                                  "meetup": parse(settings.meetup_rate)}

    def charge(self, action: str, who: str) -> None:
        """Count one ``action`` by ``who`` (a pseudonym); raise ``QuotaExceeded`` when over the limit."""
        limit = self._limits[action]
        try:
            if self._limiter.hit(limit, NAMESPACE, action, who):
                return
            reset_at = self._limiter.get_window_stats(limit, NAMESPACE, action, who).reset_time
        except Exception as exc:  # the limits library's storages raise their client's own errors
            raise StoreUnavailable(f"quota counter unavailable: {type(exc).__name__}") from exc
        raise QuotaExceeded(action, str(limit), max(1, math.ceil(reset_at - time.time())))
