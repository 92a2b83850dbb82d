"""The Redis presence store's side tables: the handles a viewer was shown (``{t:<tid>}:h``), blocks
(``{t:<tid>}:blk``) and the sharded gauge of visible travellers. A mixin of ``RedisPresenceStore``; every Redis
failure fails closed (503)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import redis
from redis.client import Pipeline

from yurt.core.redis import node_pipelines
from yurt.core.redis.common import (
    VISIBLE_SHARDS,
    fails_closed,
    text,
    to_ms,
    traveller_key,
    visible_shard_key,
)
from yurt.travellers.stores.presence import HANDLE_TTL_S
from yurt.travellers.stores.presence_cluster import ClusterSteps

_fails_closed = fails_closed("traveller store")
_t = traveller_key
_s = text
_ms = to_ms


class RedisSideTables:
    _r: redis.Redis
    _cluster: ClusterSteps | None

    @_fails_closed
    def remember_handles(self, viewer: str, handles: Mapping[str, str], now_s: float) -> None:
        if not handles:
            return
        if self._cluster is not None:
            self._cluster.remember_handles(viewer, handles, int(HANDLE_TTL_S))
            return
        with self._r.pipeline(transaction=True) as tx:
            tx.hset(_t(viewer, "h"), mapping={k: v for k, v in handles.items()})
            tx.expire(_t(viewer, "h"), int(HANDLE_TTL_S))
            tx.execute()

    @_fails_closed
    def resolve_handle(self, viewer: str, handle: str, now_s: float) -> str | None:
        if "|" in handle:
            return None  # a shown-session field of the same hash, not a handle
        target = self._r.hget(_t(viewer, "h"), handle)
        return _s(target) if target is not None else None

    @_fails_closed
    def block(self, viewer: str, target: str) -> None:
        self._r.sadd(_t(viewer, "blk"), target)

    @_fails_closed
    def hidden_from(self, viewer: str, targets: Sequence[str]) -> set[str]:
        if not targets:
            return set()
        def read(pipe: Pipeline) -> None:
            pipe.smismember(_t(viewer, "blk"), list(targets))
            for target in targets:
                pipe.sismember(_t(target, "blk"), viewer)

        replies = node_pipelines.run(self._r, read)
        mine, theirs = replies[0], replies[1:]
        return {t for t, a, b in zip(targets, mine, theirs, strict=True) if a or b}

    @_fails_closed
    def visible_count(self, now_s: float) -> int:
        def read(pipe: Pipeline) -> None:
            for shard in range(VISIBLE_SHARDS):
                key = visible_shard_key(shard)
                pipe.zremrangebyscore(key, "-inf", _ms(now_s))
                pipe.zcard(key)

        return sum(int(count) for count in node_pipelines.run(self._r, read)[1::2])
