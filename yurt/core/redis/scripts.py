"""Lua scripts on Redis and Redis Cluster: pipelines of EVALSHA calls that survive Redis losing its scripts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.client import Pipeline
from redis.cluster import RedisCluster
from redis.commands.core import Script

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
    """Run a non-transactional pipeline of ``evalsha`` calls made by ``build``, reloading lost scripts once."""
    def call() -> list[Any]:
        with client.pipeline(transaction=False) as pipe:
            build(pipe)
            return pipe.execute()
    return reloading_scripts(client, scripts, call)


def evalsha(pipe: Pipeline, script: Script, keys: Sequence[str], args: Sequence[Any]) -> None:
    """Queue a script call. The raw command, not ``pipe.evalsha``: redis-py's ClusterPipeline blocks that method
    by name, yet routes the command itself by its declared KEYS (all on one slot); a node missing the script
    answers NOSCRIPT and ``run_scripts`` loads it on every master."""
    pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)  # type: ignore[no-untyped-call]


def is_cluster(client: redis.Redis) -> bool:
    """Whether every script call must keep to one hash slot (a standalone Redis takes any keys in one call)."""
    return isinstance(client, RedisCluster)
