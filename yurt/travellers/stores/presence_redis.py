"""The Redis ``PresenceStore``; every Redis failure fails closed (503). The side tables (handles shown,
blocks, the visible gauge) are in ``presence_redis_side``.

Key layout (hash tags keep what must change together on one Cluster slot)::

    {t:<tid>}:p      hash   cell, exp_ms, name, langs, about, sid (session), est (established); PEXPIRE = share
    {t:<tid>}:seen   hash   first_ms (account first known), until_ms (last share + FIRST_SEEN_RETENTION_S)
    {t:<tid>}:lim    hash   at_ms, cell, win_ms, count (limiter; no profile); expires with its window
    {t:<tid>}:blk    set    tids this traveller blocked
    {t:<tid>}:h      hash   handle → tid, for handles this viewer was shown (expires a day after last use)
    {t:<tid>}:susp   string staff suspension marker
    {g:<res5>}:c:<res7>  zset   tid → hash-order score (the geo index: one set per resolution-7 cell)
    {g:<res5>}:n         hash   res7 → live member count (what a nearby query and the area map read)
    {g:<res5>}:x         zset   "<res7>|<tid>" → expiry ms (lazy sweep of expired index members)
    {g:<res5>}:prof      hash   tid → profile copy "cell|exp_ms|sid|est|profile JSON members" (``index_copy``)
    {g:<res5>}:est       set    "<res7>|<tid>" of established members   {g:<res5>}:ne  hash  res7 → their count
    (reports about travellers: ``traveller_reports``, keys {tr}:…)

Exactness of expiry: the presence key's PEXPIRE is exact, and every read also checks ``exp_ms`` against the
caller's clock; the index is only an accelerator — a member whose presence is gone, expired or in another cell
is skipped on read and swept from the index when its expiry passes. Coordinates never reach Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import orjson
import redis
from redis.client import Pipeline

from yurt.core.rate import RateCharge
from yurt.core.redis import node_pipelines
from yurt.core.redis.common import (
    text,
    to_ms,
    traveller_key,
    visible_key,
)
from yurt.core.redis.counters import RATE_HIT
from yurt.core.redis.scripts import evalsha, reloading_scripts
from yurt.geo.privacy import LimiterRecord, UpdatePolicy, index_cells_for
from yurt.travellers.model.steps import NearbyHead, NearbyRead, PagePlan, UpdateHead
from yurt.travellers.stores.onetrip import OneTrip, index_group, read_copy
from yurt.travellers.stores.presence import (
    MemberRead,
    Presence,
    PresenceStore,
    Profile,
)
from yurt.travellers.stores.presence_cluster import ClusterScripts, ClusterSteps, limiter_record
from yurt.travellers.stores.presence_lua import (
    COMMIT,
    INDEX_ADD,
    INDEX_REMOVE,
    OCCUPIED,
    READ_ROTATED,
    REMEMBER_HANDLES,
)
from yurt.travellers.stores.presence_redis_side import RedisSideTables, _fails_closed

_t = traveller_key


def _g(coarse: str, kind: str) -> str:
    return f"{{g:{coarse}}}:{kind}"


_ms = to_ms
_s = text


class RedisPresenceStore(RedisSideTables, PresenceStore):
    """On a single node, nearby and presence updates take the one-trip scripts (``travellers_onetrip``); on a
    Cluster, per-slot scripts and pipelines per master (``travellers_cluster``). Both count the request's
    rate-limit hit in their first round trip."""

    counts_requests = True

    def __init__(self, client: redis.Redis, policy: UpdatePolicy | None = None) -> None:
        self.policy = policy or UpdatePolicy()
        self._r = client
        cluster = isinstance(client, redis.RedisCluster)
        self._one = None if cluster else OneTrip(client, self.policy)
        self._index_add = client.register_script(INDEX_ADD)
        self._index_remove = client.register_script(INDEX_REMOVE)
        self._read_rotated = client.register_script(READ_ROTATED)
        self._commit = client.register_script(COMMIT)
        rate, occupied, remember = (client.register_script(src) for src in (RATE_HIT, OCCUPIED, REMEMBER_HANDLES))
        self._scripts = (self._index_add, self._index_remove, self._read_rotated, self._commit, rate, occupied,
                         remember)
        self._cluster = ClusterSteps(self._sent, self.policy, ClusterScripts(
            rate, occupied, remember, self._commit, self._index_add, self._index_remove)) if cluster else None

    def _pipelined(self, build: Callable[[Pipeline], None]) -> list[Any]:
        """Run non-transactional pipelines (one per Cluster master: ``node_pipelines``) of EVALSHA calls and
        others; load the scripts once if Redis lost them.

        redis-py's own Script objects would send SCRIPT EXISTS before every pipeline: a round trip per page.
        """
        return reloading_scripts(self._r, self._scripts, lambda: node_pipelines.run(self._r, build))

    def _sent(self, commands: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> list[Any]:
        """``_pipelined`` for commands already built ((args, options) pairs)."""
        return reloading_scripts(self._r, self._scripts, lambda: node_pipelines.send(self._r, commands))

    _eval = staticmethod(evalsha)

    _index_keys = staticmethod(index_group)

    _record = staticmethod(limiter_record)

    @_fails_closed
    def nearby_head(self, tid: str, radius_km: float, now_s: float, charge: RateCharge | None = None
                    ) -> NearbyHead:
        if self._one is None:
            assert self._cluster is not None
            rate, raw = self._cluster.presence_head(tid, charge)
            viewer = self._presence(tid, raw, now_s)
            if viewer is None:
                return NearbyHead(None, {}, rate)
            return NearbyHead(viewer, self.occupied(index_cells_for(viewer.cell, radius_km), now_s), rate)
        head, without_ix = self._one.nearby_head(tid, radius_km, now_s, charge)
        return self._with_occupied(head, without_ix, radius_km, now_s)

    def _with_occupied(self, head: NearbyHead, without_ix: bool, radius_km: float, now_s: float) -> NearbyHead:
        if without_ix and head.viewer is not None:  # shared before ``ix`` existed: one more round trip
            return NearbyHead(head.viewer, self.occupied(index_cells_for(head.viewer.cell, radius_km), now_s),
                              head.rate)
        return head

    @_fails_closed
    def nearby_at_once(self, tid: str, radius_km: float, now_s: float, charge: RateCharge | None, plan: PagePlan,
                       limit: int) -> tuple[NearbyHead, NearbyRead | None]:
        if self._one is None:
            return super().nearby_at_once(tid, radius_km, now_s, charge, plan, limit)
        head, without_ix, page = self._one.nearby_at_once(tid, radius_km, now_s, charge, plan, limit)
        return self._with_occupied(head, without_ix, radius_km, now_s), page

    @_fails_closed
    def read_page(self, viewer: Presence, cells: Sequence[tuple[str, int, int]], offset: int, limit: int,
                  now_s: float) -> NearbyRead | None:
        return None if self._one is None else self._one.read_page(viewer, cells, offset, limit, now_s)

    @_fails_closed
    def shown(self, viewer: str, now_s: float) -> list[tuple[str, str]]:
        fields = (text(f) for f in cast(list[bytes], self._r.hkeys(_t(viewer, "h"))))
        return [(tid, session) for tid, sep, session in (f.partition("|") for f in fields) if sep]

    @_fails_closed
    def update_head(self, tid: str, now_s: float, charge: RateCharge | None = None) -> UpdateHead:
        if self._one is None:
            assert self._cluster is not None
            return self._cluster.update_head(tid, now_s, charge)
        return self._one.update_head(tid, now_s, charge)

    @_fails_closed
    def put_presence(self, tid: str, cell: str, expires_at_s: float, profile: Profile, now_s: float,
                     account_since_s: float | None = None, head: UpdateHead | None = None) -> Presence:
        if self._one is not None:
            return self._one.put(tid, cell, expires_at_s, profile, now_s, account_since_s, head)
        assert self._cluster is not None
        return self._cluster.put(tid, cell, expires_at_s, profile, now_s, account_since_s, head)

    @staticmethod
    def _presence(tid: str, raw: Mapping[bytes, bytes], now_s: float) -> Presence | None:
        if not raw or int(raw[b"exp_ms"]) <= _ms(now_s):
            return None
        about = _s(raw[b"about"])
        profile = Profile(_s(raw[b"name"]), tuple(orjson.loads(raw[b"langs"])), about or None)
        return Presence(tid, _s(raw[b"cell"]), int(raw[b"exp_ms"]) / 1000, profile, _s(raw.get(b"sid", b"")),
                        raw.get(b"est") == b"1")

    @_fails_closed
    def get_presence(self, tid: str, now_s: float) -> Presence | None:
        return self._presence(tid, cast(dict[bytes, bytes], self._r.hgetall(_t(tid, "p"))), now_s)

    def _remove(self, tid: str) -> None:
        # Index first: if Redis fails in between, the presence still exists and a retry finds its cell.
        cell = self._r.hget(_t(tid, "p"), "cell")
        if cell is not None:
            self._index_remove(keys=self._index_keys(_s(cell)), args=[tid, _s(cell), "+inf"])
        self._r.delete(_t(tid, "p"))
        self._r.zrem(visible_key(tid), tid)

    @_fails_closed
    def delete_presence(self, tid: str, now_s: float) -> None:
        self._remove(tid)

    @_fails_closed
    def limiter_record(self, tid: str, now_s: float) -> LimiterRecord | None:
        record = self._record(cast(dict[bytes, bytes], self._r.hgetall(_t(tid, "lim"))))
        return record if record is not None and record.expires_at_s(self.policy) > now_s else None

    @_fails_closed
    def occupied(self, index_cells: Sequence[str], now_s: float, established_only: bool = False
                 ) -> dict[str, int]:
        if self._cluster is not None:
            return self._cluster.occupied(index_cells, now_s, established_only)
        now_ms = _ms(now_s)
        counts_kind = "ne" if established_only else "n"

        def read(pipe: Pipeline) -> None:
            for coarse in index_cells:
                pipe.zrange(_g(coarse, "x"), "-inf", now_ms, byscore=True, offset=0, num=1000)
                pipe.hgetall(_g(coarse, counts_kind))

        replies = node_pipelines.run(self._r, read)
        counts: dict[str, int] = {}
        swept = False
        for expired in replies[0::2]:
            for member in expired:
                cell, _, tid = _s(member).partition("|")
                self._index_remove(keys=self._index_keys(cell), args=[tid, cell, now_ms])
                swept = True
        if swept:
            hashes = node_pipelines.run(self._r, lambda pipe: [pipe.hgetall(_g(c, counts_kind)) for c in index_cells])
        else:
            hashes = replies[1::2]
        for raw in hashes:
            for cell, n in raw.items():
                if int(n) > 0:
                    counts[_s(cell)] = int(n)
        return counts

    @_fails_closed
    def read_members(self, reads: Sequence[MemberRead], now_s: float) -> list[list[tuple[str, Presence | None]]]:
        def fetch(pipe: Pipeline) -> None:
            for read in reads:
                keys = self._index_keys(read.cell)
                self._eval(pipe, self._read_rotated, [keys[0], keys[3]], [read.rotation, read.offset, read.count])

        replies = self._pipelined(fetch)
        out = []
        for read, flat in zip(reads, replies, strict=True):
            batch = []
            for member, raw in zip(flat[0::2], flat[1::2], strict=True):
                tid, presence = _s(member), None
                copy = read_copy(raw) if raw else None
                if copy is not None and copy.cell == read.cell and copy.exp_ms > _ms(now_s):
                    presence = Presence(tid, read.cell, copy.exp_ms / 1000, Profile.from_public_json(copy.profile_json),
                                        copy.session, copy.established)
                batch.append((tid, presence))
            out.append(batch)
        return out

    @_fails_closed
    def presences(self, tids: Sequence[str], now_s: float) -> dict[str, Presence]:
        def read(pipe: Pipeline) -> None:
            for tid in tids:
                pipe.hgetall(_t(tid, "p"))
                pipe.exists(_t(tid, "susp"))

        replies = node_pipelines.run(self._r, read)
        out = {}
        for tid, raw, suspended in zip(tids, replies[0::2], replies[1::2], strict=True):
            presence = self._presence(tid, raw, now_s)
            if presence is not None and not suspended:
                out[tid] = presence
        return out


    @_fails_closed
    def suspend(self, tid: str, now_s: float) -> None:
        self._r.set(_t(tid, "susp"), "1")
        self._remove(tid)

    @_fails_closed
    def erase(self, tid: str, now_s: float) -> None:
        cell = self._r.hget(_t(tid, "p"), "cell")
        if cell is not None:
            self._index_remove(keys=self._index_keys(_s(cell)), args=[tid, _s(cell), "+inf"])
        # One DEL on the traveller's slot (one hash tag, also on a Cluster): profile, blocks, handles and the
        # first-seen marker vanish together.
        self._r.delete(_t(tid, "p"), _t(tid, "blk"), _t(tid, "h"), _t(tid, "seen"))
        self._r.zrem(visible_key(tid), tid)


