"""A connection a thread keeps out of a redis-py pool (``scripts.PinnedScripts``, ``node_pipelines``)."""

from __future__ import annotations

import os

import redis
from redis.connection import AbstractConnection


class Held:
    """A thread's connection, back to its pool when the thread ends (its thread-local storage goes)."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self.pool, self.pid = pool, os.getpid()
        self.connection: AbstractConnection = pool.get_connection()  # connects: may raise, then nothing is held

    def usable(self, pool: redis.ConnectionPool) -> bool:
        """Still this process's connection from ``pool`` (not inherited across a fork, nor from a pool replaced
        since: a Cluster client builds new ones when its slot map changes)."""
        return self.pool is pool and self.pid == os.getpid()

    def __del__(self) -> None:
        connection = getattr(self, "connection", None)
        if connection is not None and self.pid == os.getpid():
            self.pool.release(connection)
