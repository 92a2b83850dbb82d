"""What every Redis store shares: the fail-closed policy for writes and reads that must not guess, and the
small conversions between Python values and Redis replies.

Fail closed: a Redis or Redis Cluster error (a connection refused or timed out, a slot no master serves)
becomes ``StoreUnavailable``, which the HTTP layer answers as 503 with Retry-After. Caches fail open instead,
at their own methods.
"""

from __future__ import annotations

import contextlib
import functools
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

import redis
from redis.exceptions import RedisClusterException

from yurt.core.meters import REDIS_ERRORS
from yurt.core.store_errors import AlreadyExists, NotFound, StalePrecondition, StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")
REDIS_FAILURES = (redis.RedisError, RedisClusterException)


@contextlib.contextmanager
def failing_closed(component: str) -> Iterator[None]:
    """The one place a Redis failure becomes ``StoreUnavailable`` (naming ``component``), counted in
    ``yurt_redis_errors_total`` under the component's name (``traveller_store``, ...): a closed set of labels."""
    try:
        yield
    except REDIS_FAILURES as exc:
        REDIS_ERRORS.labels(component.replace(" ", "_")).inc()
        raise StoreUnavailable(f"{component} unavailable: {type(exc).__name__}") from exc


def fails_closed(component: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a store method: a Redis failure raises ``StoreUnavailable`` naming ``component``."""

    def decorator(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with failing_closed(component):
                return method(*args, **kwargs)

        return wrapper

    return decorator


def call_failing_closed(component: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """One Redis command (or pipeline, or script) of a store that fails closed."""
    with failing_closed(component):
        return fn(*args, **kwargs)


# The compare-and-set half of a one-record write script, shared by the mission and alert stores. KEYS[1] is the
# hash id → document, KEYS[2] the hash id → revision; ARGV: mode (create|update|delete), id, expected revision
# ('' for create), new document JSON ('' for delete), audit fragment. Leaves ``before`` (the document or 'null')
# for the rest of the script; ``cas_revision`` reads what it returns.
CAS_PRELUDE = """
local mode, id, expected, new, fragment = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local cur_rev = redis.call('HGET', KEYS[2], id)
if mode == 'create' then
  if cur_rev then return {'exists'} end
else
  if not cur_rev then return {'notfound'} end
  if cur_rev ~= expected then return {'stale'} end
end
local before = redis.call('HGET', KEYS[1], id) or 'null'
"""


def cas_revision(result: Sequence[Any], key: str,
                 current: Callable[[], tuple[str, Mapping[str, Any]] | None]) -> int:
    """The answer of a compare-and-set write script, ``{outcome, revision}``: the new revision when ``ok``; else
    ``AlreadyExists``, ``NotFound``, or ``StalePrecondition`` with what ``current()`` reads now (ETag, body)."""
    outcome = text(result[0])
    if outcome == "exists":
        raise AlreadyExists(key)
    if outcome == "notfound":
        raise NotFound(key)
    if outcome == "stale":
        found = current()
        raise StalePrecondition(*(found if found is not None else (None, None)))
    return int(result[1])


def traveller_key(tid: str, kind: str) -> str:
    """A key of one traveller's group (hash tag ``{t:<pseudonym>}``)."""
    return f"{{t:{tid}}}:{kind}"


def to_ms(seconds: float) -> int:
    return round(seconds * 1000)


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# Every visible traveller → presence expiry (ms), for the visible-travellers gauge: exact at each scrape
# (ZREMRANGEBYSCORE of the expired, then ZCARD). Written beside (not inside) the traveller's per-slot scripts:
# a gauge may lag a failed write by one update, the presence data never does. Sharded by the traveller's
# pseudonym over VISIBLE_SHARDS keys with their own hash tags, so every presence update does not land on one
# Cluster slot (one master) whatever the city; a scrape reads all shards in one pipeline.
VISIBLE_SHARDS = 16


def visible_shard_key(shard: int) -> str:
    return f"{{tv:{shard}}}:visible"


def visible_key(tid: str) -> str:
    return visible_shard_key(zlib.crc32(tid.encode()) % VISIBLE_SHARDS)
