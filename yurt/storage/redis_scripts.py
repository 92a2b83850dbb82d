"""Lua scripts on Redis and Redis Cluster: pipelines of EVALSHA calls that survive Redis losing its scripts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import redis
from redis.client import Pipeline
from redis.cluster import RedisCluster
from redis.commands.core import Script


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
