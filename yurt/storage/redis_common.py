"""What every Redis store shares: the fail-closed policy for writes and reads that must not guess, and the
small conversions between Python values and Redis replies.

Fail closed: a Redis or Redis Cluster error (a connection refused or timed out, a slot no master serves)
becomes ``StoreUnavailable``, which the HTTP layer answers as 503 with Retry-After. Caches fail open instead,
at their own methods (``redis_store.RedisCache``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import redis
from redis.exceptions import RedisClusterException

from yurt.storage.base import StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")
REDIS_FAILURES = (redis.RedisError, RedisClusterException)


def fails_closed(component: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a store method: a Redis failure raises ``StoreUnavailable`` naming ``component``."""

    def decorator(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except REDIS_FAILURES as exc:
                raise StoreUnavailable(f"{component} unavailable: {type(exc).__name__}") from exc

        return wrapper

    return decorator


def traveller_key(tid: str, kind: str) -> str:
    """A key of one traveller's group (hash tag ``{t:<pseudonym>}``)."""
    return f"{{t:{tid}}}:{kind}"


def to_ms(seconds: float) -> int:
    return round(seconds * 1000)


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
