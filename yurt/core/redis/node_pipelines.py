"""Pipelines that cost on a Redis Cluster what they cost on one node: one plain pipeline per master.

redis-py's ``ClusterPipeline`` costs about 8 µs of client CPU per command (issue 15): it routes, wraps and
re-checks every command. ``NodePipelines`` records the commands (the usual methods: ``pipe.hgetall(...)``),
groups them by the master serving each command's first key (for EVALSHA, its first declared key) and sends one
ordinary pipeline per master; replies come back in the order of the commands. On a single node it is one
ordinary pipeline. If the cluster moved a slot (MOVED/ASK) or a master is unreachable, the same commands are
replayed once through ``ClusterPipeline``, which follows redirections and refreshes the slot map.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from redis.commands.core import CoreCommands
from redis.exceptions import AskError, ClusterDownError, MovedError, TryAgainError


class _Recorder(CoreCommands):
    _event_dispatcher: Any = None  # CoreCommands declares it; a recorder dispatches nothing

    def __init__(self) -> None:
        self.commands: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def execute_command(self, *args: Any, **options: Any) -> None:
        self.commands.append((args, options))


def _first_key(args: tuple[Any, ...]) -> Any:
    if str(args[0]).upper() in ("EVALSHA", "EVAL"):
        return args[3]
    return args[1]


def run(client: redis.Redis, build: Callable[[Any], object]) -> list[Any]:
    """The replies of the commands ``build`` queues on the pipeline-like object it is given, in order."""
    recorder = _Recorder()
    build(recorder)
    commands = recorder.commands
    if not commands:
        return []
    if not isinstance(client, redis.RedisCluster):
        return _send(client.pipeline(transaction=False), commands)
    try:
        by_node: dict[str, list[int]] = {}
        nodes: dict[str, Any] = {}
        for i, (args, _) in enumerate(commands):
            node = client.get_node_from_key(_first_key(args))
            by_node.setdefault(node.name, []).append(i)
            nodes[node.name] = node
        replies: list[Any] = [None] * len(commands)
        for name, positions in by_node.items():
            connection = client.get_redis_connection(nodes[name])
            for i, reply in zip(positions, _send(connection.pipeline(transaction=False),
                                                 [commands[i] for i in positions]), strict=True):
                replies[i] = reply
        return replies
    except (MovedError, AskError, TryAgainError, ClusterDownError, redis.ConnectionError, redis.TimeoutError):
        client.nodes_manager.initialize()  # the slot map changed or a master went away: route afresh
        return _send(client.pipeline(transaction=False), commands)


def _send(pipe: Any, commands: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> list[Any]:
    with pipe:
        for args, options in commands:
            pipe.execute_command(*args, **options)
        return list(pipe.execute())
