"""Pipelines that cost on a Redis Cluster what they cost on one node: one plain pipeline per master.

redis-py's ``ClusterPipeline`` costs about 8 µs of client CPU per command (issue 15): it routes, wraps and
re-checks every command; even one plain ``Pipeline`` per master costs a pool checkout, its socket poll and
the retry wrapper per call. ``NodePipelines`` records the commands (the usual methods: ``pipe.hgetall(...)``),
groups them by the master serving each command's first key (for EVALSHA, its first declared key: the slot
from the key, the master from the client's slot map) and writes each master's commands at once on a
connection the thread keeps for that master, every master's before reading any reply; replies come back in
the order of the commands, parsed by redis-py's own response callbacks. On a single node it is one ordinary
pipeline. If the cluster moved a slot (MOVED/ASK) or a master is unreachable, the same commands are replayed
once through ``ClusterPipeline``, which follows redirections and refreshes the slot map. As with redis-py's
pipelines, an error reply (a script Redis lost: NOSCRIPT) is raised after every reply was read.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import hiredis
import redis
from redis.commands.core import CoreCommands
from redis.exceptions import AskError, ClusterDownError, MovedError, ResponseError, TryAgainError

from yurt.core.redis.held import Held

_REROUTE = (MovedError, AskError, TryAgainError, ClusterDownError, redis.ConnectionError, redis.TimeoutError)
Commands = list[tuple[tuple[Any, ...], dict[str, Any]]]


class _Recorder(CoreCommands):
    _event_dispatcher: Any = None  # CoreCommands declares it; a recorder dispatches nothing

    def __init__(self) -> None:
        self.commands: Commands = []

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
    return send(client, recorder.commands)


def send(client: redis.Redis, commands: Commands) -> list[Any]:
    """The replies of ``commands`` ((args, options) as redis-py's ``execute_command`` takes them), in order."""
    if not commands:
        return []
    if not isinstance(client, redis.RedisCluster):
        return _send(client.pipeline(transaction=False), commands)
    try:
        return _router(client).send(commands)
    except _REROUTE:
        client.nodes_manager.initialize()  # the slot map changed or a master went away: route afresh
        return _send(client.pipeline(transaction=False), commands)


def _send(pipe: Any, commands: Commands) -> list[Any]:
    with pipe:
        for args, options in commands:
            pipe.execute_command(*args, **options)
        return list(pipe.execute())


def _packed(connection: Any, commands: list[tuple[Any, ...]]) -> Any:
    """The commands in the Redis protocol: hiredis's packer called once per command, without redis-py's
    per-argument checks (a fifth of a cluster ``nearby``'s client CPU in the profile), when every command name
    is one word; else, or for an argument hiredis does not pack, redis-py's own packing."""
    if all(isinstance(args[0], str) and " " not in args[0] for args in commands):
        try:
            return [b"".join([hiredis.pack_command(args) for args in commands])]
        except TypeError:
            pass
    return connection.pack_commands(commands)


_ROUTERS: weakref.WeakKeyDictionary[Any, _Router] = weakref.WeakKeyDictionary()
_ROUTERS_LOCK = threading.Lock()


def _router(client: redis.RedisCluster) -> _Router:
    router = _ROUTERS.get(client)
    if router is None:
        with _ROUTERS_LOCK:
            router = _ROUTERS.setdefault(client, _Router(client))
    return router


class _Router:
    """A cluster client's commands sent straight to its masters, on a connection per (thread, master)."""

    MAX_SLOTS_KEPT = 1 << 16

    def __init__(self, client: redis.RedisCluster) -> None:
        self._client = client
        self._local = threading.local()
        self._slots: dict[Any, int] = {}  # key → hash slot (fixed by the key; which master serves it is not)

    def _slot(self, key: Any) -> int:
        slot = self._slots.get(key)
        if slot is None:
            if len(self._slots) >= self.MAX_SLOTS_KEPT:
                self._slots.clear()
            slot = self._slots[key] = self._client.keyslot(key)  # type: ignore[no-untyped-call]
        return slot

    def _connection(self, node: Any) -> tuple[redis.Redis, Any]:
        """The node's client (its response callbacks) and the connection this thread keeps to it."""
        node_client = node.redis_connection or self._client.get_redis_connection(node)
        held: dict[str, Held] | None = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = {}
        mine = held.get(node.name)
        if mine is None or not mine.usable(node_client.connection_pool):
            mine = held[node.name] = Held(node_client.connection_pool)
        return node_client, mine.connection

    def send(self, commands: Commands) -> list[Any]:
        client = self._client
        slots = client.nodes_manager.slots_cache
        groups: dict[str, tuple[Any, list[int]]] = {}
        for i, (args, _) in enumerate(commands):
            node = slots[self._slot(_first_key(args))][0]
            group = groups.get(node.name)
            if group is None:
                groups[node.name] = (node, [i])
            else:
                group[1].append(i)
        sent: list[tuple[redis.Redis, Any, list[int]]] = []
        for node, positions in groups.values():
            connection = None
            try:
                node_client, connection = self._connection(node)  # may connect, and fail to
                connection.send_packed_command(_packed(connection, [commands[i][0] for i in positions]))
            except BaseException:
                for written in [c for _, c, _ in sent] + ([connection] if connection is not None else []):
                    written.disconnect()  # replies left unread: these connections start afresh
                raise
            sent.append((node_client, connection, positions))
        replies: list[Any] = [None] * len(commands)
        failed: BaseException | None = None
        for node_client, connection, positions in sent:
            try:
                for i in positions:
                    args, options = commands[i]
                    try:
                        replies[i] = node_client.parse_response(  # type: ignore[no-untyped-call]
                            connection, args[0], **options)
                    except ResponseError as exc:
                        replies[i] = exc
            except BaseException as exc:  # a timeout or a dropped connection: replies may be left unread
                connection.disconnect()
                failed = failed or exc
        if failed is not None:
            raise failed
        errors = [r for r in replies if isinstance(r, ResponseError)]
        for error in errors:
            if isinstance(error, _REROUTE):
                raise error
        if errors:
            raise errors[0]
        return replies
