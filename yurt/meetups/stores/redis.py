"""Redis implementation of ``MeetupStore``: capacity is one Lua script, so concurrent joins never overbook.

Key layout::

    {m:<id>}:d        hash   doc (meetup JSON), status, capacity, ends_ms, organiser, root, member, expire_ms
    {m:<id>}:a        set    attendee subs (same slot as :d, so the capacity check and SADD are one script)
    {mi:<res4>}:z     zset   index member "id|lat|lon|starts_ms|ends_ms" → venue score (``meetup_search``)
    {mi:<res4>}:x     zset   the same members → ends_ms (to drop ended meetups from the index)
    {t:<tid>}:live    zset   meetup ids a traveller organises → ends_ms (the per-organiser cap)
    {t:<tid>}:att     set    meetups a traveller attends; {t:<tid>}:org  meetups they organise (for erasure)

Search (``meetups_redis_index``): one script counts the cells around the point and reads the fast path's
cells ahead, one call reads the meetups found (doc, status, organiser and attendance, from each meetup's own
keys): two round trips in a crowd, one in an empty area (per slot on a Cluster).

Retention: ``:d`` and ``:a`` expire ``retention_s`` after the meetup's end (a TTL computed from the caller's
clock), so attendees' ids
never outlive it by more; cancelling leaves the expiry as it was. A meetup leaves the index when cancelled
and, once ended, when the next search or creation in its resolution-4 cell sweeps it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

import orjson
import redis
from redis.client import Pipeline
from redis.typing import EncodableT, FieldT

from yurt.core.redis.common import fails_closed, text, to_ms, traveller_key
from yurt.core.redis.scripts import evalsha, is_cluster, run_scripts
from yurt.core.store_errors import NotFound
from yurt.meetups.model.cells import root, score
from yurt.meetups.stores.lua import COUNTS, JOIN, RANGES, READ, RESERVE, SURVEY
from yurt.meetups.stores.meetups import (
    DEFAULT_RETENTION_S,
    Meetup,
    MeetupConflictError,
    MeetupStore,
    NotOrganiserError,
    TooManyActiveError,
)
from yurt.meetups.stores.redis_index import IndexScripts, RedisIndex
from yurt.meetups.stores.redis_index import index_key as _mi

_fails_closed = fails_closed("meetup store")
_ms, _s, _t = to_ms, text, traveller_key


def _m(meetup_id: str, kind: str) -> str:
    return f"{{m:{meetup_id}}}:{kind}"


class RedisMeetupStore(MeetupStore):
    def __init__(self, client: redis.Redis, retention_s: float = DEFAULT_RETENTION_S) -> None:
        self.r = client
        self._retention_ms = _ms(retention_s)
        self._join = client.register_script(JOIN)
        self._reserve = client.register_script(RESERVE)
        self._counts = client.register_script(COUNTS)
        self._read = client.register_script(READ)
        ranges, survey = client.register_script(RANGES), client.register_script(SURVEY)
        self._scripts = (self._counts, ranges, survey, self._read)
        self._index_scripts = IndexScripts(self._counts, ranges, survey, self._scripts)
        self._by_slot = is_cluster(client)

    def _pipelined(self, build: Callable[[Pipeline], None]) -> list[Any]:
        return run_scripts(self.r, self._scripts, build)

    def _fields(self, meetup: Meetup) -> dict[FieldT, EncodableT]:
        # The organiser's sub lives only in its own field, so erasure can blank it.
        doc = {k: v for k, v in meetup.to_record().items() if k not in ("organiser", "status")}
        return {"doc": orjson.dumps(doc), "status": meetup.status, "capacity": meetup.capacity,
                "ends_ms": _ms(meetup.ends_at_s), "organiser": meetup.organiser,
                "root": root(meetup.lat, meetup.lon), "member": meetup.venue().member(),
                "expire_ms": self._expire_ms(meetup)}

    def _expire_ms(self, meetup: Meetup) -> int:
        return _ms(meetup.ends_at_s) + self._retention_ms

    def _ttl_ms(self, meetup: Meetup, now_s: float) -> int:
        return max(1, self._expire_ms(meetup) - _ms(now_s))

    @staticmethod
    def _parse(raw: Mapping[bytes, bytes], attending: int) -> Meetup:
        record = orjson.loads(raw[b"doc"])
        record.update(status=_s(raw[b"status"]), organiser=_s(raw[b"organiser"]), attending=attending)
        return Meetup(**record)

    def _index(self, meetup: Meetup) -> None:
        top, member = root(meetup.lat, meetup.lon), meetup.venue().member()
        with self.r.pipeline(transaction=True) as tx:  # both keys on the root's slot
            tx.zadd(_mi(top, "z"), {member: score(meetup.lat, meetup.lon)})
            tx.zadd(_mi(top, "x"), {member: _ms(meetup.ends_at_s)})
            tx.execute()

    def _unindex_doc(self, raw: Mapping[bytes, bytes]) -> None:
        """Take a stored meetup out of search (a meetup stored before this index has no member to take out)."""
        if raw.get(b"root") is not None and raw.get(b"member") is not None:
            self._unindex(_s(raw[b"root"]), _s(raw[b"member"]))

    def _unindex(self, top: str, member: str) -> None:
        with self.r.pipeline(transaction=True) as tx:
            tx.zrem(_mi(top, "z"), member)
            tx.zrem(_mi(top, "x"), member)
            tx.execute()

    @_fails_closed
    def create(self, meetup: Meetup, organiser_tid: str, now_s: float, max_active: int) -> Meetup:
        if not self._reserve(keys=[_t(organiser_tid, "live")],
                             args=[_ms(now_s), max_active, meetup.id, _ms(meetup.ends_at_s)]):
            raise TooManyActiveError(max_active)
        with self.r.pipeline(transaction=True) as tx:
            tx.hset(_m(meetup.id, "d"), mapping=self._fields(meetup))
            tx.pexpire(_m(meetup.id, "d"), self._ttl_ms(meetup, now_s))
            tx.execute()
        self._index(meetup)
        self.r.sadd(_t(organiser_tid, "org"), meetup.id)
        top = root(meetup.lat, meetup.lon)
        self._counts(keys=[_mi(top, "z"), _mi(top, "x")], args=[_ms(now_s)])  # sweeps ended meetups
        return meetup

    @_fails_closed
    def get(self, meetup_id: str) -> Meetup | None:
        return self.many([meetup_id])[0]

    @_fails_closed
    def many(self, meetup_ids: Sequence[str]) -> list[Meetup | None]:
        if not meetup_ids:
            return []
        groups = [[i] for i in meetup_ids] if self._by_slot else [list(meetup_ids)]  # a script call per slot

        def build(pipe: Pipeline) -> None:
            for group in groups:
                evalsha(pipe, self._read, [k for i in group for k in (_m(i, "d"), _m(i, "a"))], [])

        out: list[Meetup | None] = []
        for reply in (r for replies in self._pipelined(build) for r in replies):
            if not reply:
                out.append(None)
                continue
            doc, status, organiser, attending = reply
            out.append(self._parse({b"doc": doc, b"status": status, b"organiser": organiser}, int(attending)))
        return out

    def _owned(self, pipe: Any, meetup_id: str, organiser: str) -> tuple[Meetup, dict[bytes, bytes]]:
        raw = cast(dict[bytes, bytes], pipe.hgetall(_m(meetup_id, "d")))
        if not raw:
            raise NotFound(meetup_id)
        meetup = self._parse(raw, int(pipe.scard(_m(meetup_id, "a"))))
        if not organiser or meetup.organiser != organiser:
            raise NotOrganiserError(meetup_id)
        return meetup, raw

    @_fails_closed
    def update(self, meetup_id: str, organiser: str, organiser_tid: str, changes: Mapping[str, Any],
               now_s: float) -> Meetup:
        # transaction=True explicitly: it is redis.Redis's default but not RedisCluster's, whose WATCH needs it
        # (both keys share the meetup's hash tag, so the transaction stays on one slot).
        with self.r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(_m(meetup_id, "d"), _m(meetup_id, "a"))  # type: ignore[no-untyped-call]
                    meetup, raw = self._owned(pipe, meetup_id, organiser)
                    if meetup.status != "active":
                        raise MeetupConflictError("closed")
                    if changes.get("capacity", meetup.capacity) < meetup.attending:
                        raise MeetupConflictError("capacity_below_attendance")
                    updated = replace(meetup, **changes)
                    pipe.multi()
                    pipe.hset(_m(meetup_id, "d"), mapping=self._fields(updated))
                    pipe.pexpire(_m(meetup_id, "d"), self._ttl_ms(updated, now_s))
                    pipe.pexpire(_m(meetup_id, "a"), self._ttl_ms(updated, now_s))
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        self._unindex_doc(raw)
        self._index(updated)
        self.r.zadd(_t(organiser_tid, "live"), {meetup_id: _ms(updated.ends_at_s)}, xx=True)
        return updated

    @_fails_closed
    def cancel(self, meetup_id: str, organiser: str, organiser_tid: str) -> Meetup:
        meetup, raw = self._owned(self.r, meetup_id, organiser)
        self.r.hset(_m(meetup_id, "d"), "status", "cancelled")
        self._unindex_doc(raw)
        self.r.zrem(_t(organiser_tid, "live"), meetup_id)
        return replace(meetup, status="cancelled")

    @_fails_closed
    def join(self, meetup_id: str, sub: str, tid: str, now_s: float) -> Meetup:
        code, _ = self._join(keys=[_m(meetup_id, "d"), _m(meetup_id, "a")], args=[sub, _ms(now_s)])
        if _s(code) == "notfound":
            raise NotFound(meetup_id)
        if _s(code) != "ok":
            raise MeetupConflictError(_s(code))
        self.r.sadd(_t(tid, "att"), meetup_id)
        meetup = self.get(meetup_id)
        if meetup is None:
            raise NotFound(meetup_id)
        return meetup

    @_fails_closed
    def leave(self, meetup_id: str, sub: str, tid: str) -> Meetup:
        self.r.srem(_m(meetup_id, "a"), sub)
        self.r.srem(_t(tid, "att"), meetup_id)
        meetup = self.get(meetup_id)
        if meetup is None:
            raise NotFound(meetup_id)
        return meetup

    @_fails_closed
    def attendees(self, meetup_id: str) -> list[str]:
        return sorted(_s(m) for m in cast(set[bytes], self.r.smembers(_m(meetup_id, "a"))))

    @_fails_closed
    def is_attending(self, meetup_id: str, sub: str) -> bool:
        return bool(self.r.sismember(_m(meetup_id, "a"), sub))

    def reader(self, now_s: float, window_s: tuple[float, float] = (-math.inf, math.inf)) -> RedisIndex:
        return RedisIndex(self.r, self._index_scripts, self._by_slot, _ms(now_s),
                          (window_s[0] * 1000.0, window_s[1] * 1000.0))

    @_fails_closed
    def search(self, lat: float, lon: float, radius_km: float, limit: int, window_start_s: float,
               window_end_s: float, now_s: float) -> list[tuple[Meetup, float]]:
        return super().search(lat, lon, radius_km, limit, window_start_s, window_end_s, now_s)

    @_fails_closed
    def erase(self, sub: str, tid: str) -> None:
        for meetup_id in map(_s, cast(set[bytes], self.r.smembers(_t(tid, "att")))):
            self.r.srem(_m(meetup_id, "a"), sub)
        for meetup_id in map(_s, cast(set[bytes], self.r.smembers(_t(tid, "org")))):
            raw = cast(dict[bytes, bytes], self.r.hgetall(_m(meetup_id, "d")))
            if not raw:
                continue  # past its retention: already gone
            self.r.hset(_m(meetup_id, "d"), mapping={"status": "cancelled", "organiser": ""})
            self._unindex_doc(raw)
        self.r.delete(_t(tid, "att"), _t(tid, "org"), _t(tid, "live"))

