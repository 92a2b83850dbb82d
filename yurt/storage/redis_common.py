"""What every Redis store shares: the fail-closed policy for writes and reads that must not guess, and the
small conversions between Python values and Redis replies.

Fail closed: a Redis or Redis Cluster error (a connection refused or timed out, a slot no master serves)
becomes ``StoreUnavailable``, which the HTTP layer answers as 503 with Retry-After. Caches fail open instead,
at their own methods (``redis_store.RedisCache``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import redis
from redis.client import Pipeline
from redis.cluster import RedisCluster
from redis.commands.core import Script
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


def run_scripts(client: redis.Redis, scripts: Sequence[Script], build: Callable[[Pipeline], None]) -> list[Any]:
    """Run a non-transactional pipeline of ``evalsha`` calls made by ``build``; if Redis lost the scripts (a
    restart, ``SCRIPT FLUSH``, a Cluster node that never saw them), load ``scripts`` once and run it again.

    redis-py's own Script objects would send SCRIPT EXISTS before every pipeline: a round trip per call."""
    for attempt in (1, 2):
        with client.pipeline(transaction=False) as pipe:
            build(pipe)
            try:
                return pipe.execute()
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
                for script in scripts:
                    client.script_load(script.script)
    raise AssertionError("unreachable")


def evalsha(pipe: Pipeline, script: Script, keys: Sequence[str], args: Sequence[Any]) -> None:
    """Queue a script call. The raw command, not ``pipe.evalsha``: redis-py's ClusterPipeline blocks that method
    by name, yet routes the command itself by its declared KEYS (all on one slot); a node missing the script
    answers NOSCRIPT and ``run_scripts`` loads it on every master."""
    pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)  # type: ignore[no-untyped-call]


def is_cluster(client: redis.Redis) -> bool:
    """Whether every script call must keep to one hash slot (a standalone Redis takes any keys in one call)."""
    return isinstance(client, RedisCluster)
