"""Lua scripts on Redis and Redis Cluster: pipelines of EVALSHA calls that survive Redis losing its scripts."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.client import Pipeline
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.connection import AbstractConnection

from yurt.core.redis import node_pipelines
from yurt.core.redis.held import Held

T = TypeVar("T")


def reloading_scripts(client: redis.Redis, scripts: Sequence[Script], call: Callable[[], T]) -> T:
    """``call()``; if Redis lost the scripts (a restart, ``SCRIPT FLUSH``, a Cluster node that never saw them),
    load ``scripts`` once and call again.

    redis-py's own Script objects would send SCRIPT EXISTS before every pipeline: a round trip per call."""
    try:
        return call()
    except redis.exceptions.NoScriptError:
        for script in scripts:
            client.script_load(script.script)
    return call()


def run_scripts(client: redis.Redis, scripts: Sequence[Script], build: Callable[[Pipeline], None]) -> list[Any]:
    """Run a non-transactional pipeline (one per Cluster master: ``node_pipelines``) of ``evalsha`` calls made
    by ``build``, reloading lost scripts once."""
    return reloading_scripts(client, scripts, lambda: node_pipelines.run(client, build))


def evalsha(pipe: Pipeline, script: Script, keys: Sequence[str], args: Sequence[Any]) -> None:
    """Queue a script call. The raw command, not ``pipe.evalsha``: redis-py's ClusterPipeline blocks that method
    by name, yet routes the command itself by its declared KEYS (all on one slot); a node missing the script
    answers NOSCRIPT and ``run_scripts`` loads it on every master."""
    pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)  # type: ignore[no-untyped-call]


def is_cluster(client: redis.Redis) -> bool:
    """Whether every script call must keep to one hash slot (a standalone Redis takes any keys in one call)."""
    return isinstance(client, RedisCluster)


class PinnedScripts:
    """EVALSHA on a connection each thread keeps, for the hot path of a single Redis node.

    redis-py 8.1's per-command path (pool checkout and return with its socket poll, the retry wrapper, the
    observability hooks) costs about 60 µs of client CPU per call, more than the loopback round trip itself
    (issue 15: ~100 against ~40 µs per EVALSHA). Same failure semantics: a connection error disconnects and is
    retried once on a fresh connection (redis-py retries too); a timeout disconnects and raises; scripts Redis
    lost are loaded and called again. Taken from the client's pool, so ``client.close()`` closes it too and
    a process forked after a call opens its own.
    """

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._local = threading.local()

    def _connection(self) -> AbstractConnection:
        held: Held | None = getattr(self._local, "held", None)
        if held is None or held.pid != os.getpid():
            held = self._local.held = Held(self._client.connection_pool)
        return held.connection

    def __call__(self, script: Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.send_command(  # type: ignore[no-untyped-call]
                    "EVALSHA", script.sha, len(keys), *keys, *args, check_health=False)
                return connection.read_response()
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
                self._client.script_load(script.script)
            except redis.ResponseError:
                raise  # the reply was read whole: the connection stays usable
            except redis.ConnectionError:
                connection.disconnect()  # type: ignore[no-untyped-call]
                if attempt == 2:
                    raise
            except BaseException:
                connection.disconnect()  # type: ignore[no-untyped-call]  # a timeout may leave a reply unread
                raise
        raise AssertionError("unreachable")
