"""Redis implementation of ``MeetupStore``: capacity is one Lua script, so concurrent joins never overbook.

Key layout::

    {m:<id>}:d        hash   doc (meetup JSON), status, capacity, ends_ms, organiser, cell
    {m:<id>}:a        set    attendee subs (same slot as :d, so the capacity check and SADD are one script)
    {mi:<res4>}:ids   set    meetup ids whose venue lies in that resolution-4 cell (search index)
    {t:<tid>}:att     set    meetups a traveller attends; {t:<tid>}:org  meetups they organise (for erasure)

Ended and cancelled meetups are dropped from the search index lazily when a search meets them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

import orjson
import redis
from redis.typing import EncodableT, FieldT

from yurt.storage.base import NotFound
from yurt.storage.meetups import Meetup, MeetupConflictError, MeetupStore, NotOrganiserError
from yurt.storage.travellers_redis import _fails_closed, _ms, _s, _t

# KEYS: meetup hash, attendee set. ARGV: sub, now_ms. Returns {code, attending}.
_JOIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound', 0} end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return {'ok', redis.call('SCARD', KEYS[2])} end
local m = redis.call('HMGET', KEYS[1], 'status', 'ends_ms', 'organiser', 'capacity')
if m[1] ~= 'active' or tonumber(m[2]) <= tonumber(ARGV[2]) then return {'closed', 0} end
if m[3] == ARGV[1] then return {'organiser', 0} end
if redis.call('SCARD', KEYS[2]) >= tonumber(m[4]) then return {'full', 0} end
redis.call('SADD', KEYS[2], ARGV[1])
return {'ok', redis.call('SCARD', KEYS[2])}
"""


def _m(meetup_id: str, kind: str) -> str:
    return f"{{m:{meetup_id}}}:{kind}"


def _mi(cell: str) -> str:
    return f"{{mi:{cell}}}:ids"


class RedisMeetupStore(MeetupStore):
    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._join = client.register_script(_JOIN)

    @staticmethod
    def _fields(meetup: Meetup, cell: str) -> dict[FieldT, EncodableT]:
        # The organiser's sub lives only in its own field, so erasure can blank it.
        doc = {k: v for k, v in meetup.to_record().items() if k not in ("organiser", "status")}
        return {"doc": orjson.dumps(doc), "status": meetup.status, "capacity": meetup.capacity,
                "ends_ms": _ms(meetup.ends_at_s), "organiser": meetup.organiser, "cell": cell}

    @staticmethod
    def _parse(raw: Mapping[bytes, bytes], attending: int) -> Meetup:
        record = orjson.loads(raw[b"doc"])
        record.update(status=_s(raw[b"status"]), organiser=_s(raw[b"organiser"]), attending=attending)
        return Meetup(**record)

    @_fails_closed
    def create(self, meetup: Meetup, index_cell: str, organiser_tid: str) -> Meetup:
        self._r.hset(_m(meetup.id, "d"), mapping=self._fields(meetup, index_cell))
        self._r.sadd(_mi(index_cell), meetup.id)
        self._r.sadd(_t(organiser_tid, "org"), meetup.id)
        return meetup

    @_fails_closed
    def get(self, meetup_id: str) -> Meetup | None:
        with self._r.pipeline(transaction=False) as pipe:
            pipe.hgetall(_m(meetup_id, "d"))
            pipe.scard(_m(meetup_id, "a"))
            raw, attending = pipe.execute()
        return self._parse(raw, int(attending)) if raw else None

    def _owned(self, pipe: Any, meetup_id: str, organiser: str) -> Meetup:
        raw = cast(dict[bytes, bytes], pipe.hgetall(_m(meetup_id, "d")))
        if not raw:
            raise NotFound(meetup_id)
        meetup = self._parse(raw, int(pipe.scard(_m(meetup_id, "a"))))
        if not organiser or meetup.organiser != organiser:
            raise NotOrganiserError(meetup_id)
        return meetup

    @_fails_closed
    def update(self, meetup_id: str, organiser: str, changes: Mapping[str, Any], index_cell: str) -> Meetup:
        # transaction=True explicitly: it is redis.Redis's default but not RedisCluster's, whose WATCH needs it
        # (both keys share the meetup's hash tag, so the transaction stays on one slot).
        with self._r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(_m(meetup_id, "d"), _m(meetup_id, "a"))  # type: ignore[no-untyped-call]
                    meetup = self._owned(pipe, meetup_id, organiser)
                    old_cell = _s(cast(bytes, pipe.hget(_m(meetup_id, "d"), "cell")))
                    if meetup.status != "active":
                        raise MeetupConflictError("closed")
                    if changes.get("capacity", meetup.capacity) < meetup.attending:
                        raise MeetupConflictError("capacity_below_attendance")
                    updated = replace(meetup, **changes)
                    pipe.multi()
                    pipe.hset(_m(meetup_id, "d"), mapping=self._fields(updated, index_cell))
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        if old_cell != index_cell:
            self._r.srem(_mi(old_cell), meetup_id)
            self._r.sadd(_mi(index_cell), meetup_id)
        return updated

    @_fails_closed
    def cancel(self, meetup_id: str, organiser: str) -> Meetup:
        meetup = self._owned(self._r, meetup_id, organiser)
        self._r.hset(_m(meetup_id, "d"), "status", "cancelled")
        return replace(meetup, status="cancelled")

    @_fails_closed
    def join(self, meetup_id: str, sub: str, tid: str, now_s: float) -> Meetup:
        code, _ = self._join(keys=[_m(meetup_id, "d"), _m(meetup_id, "a")], args=[sub, _ms(now_s)])
        if _s(code) == "notfound":
            raise NotFound(meetup_id)
        if _s(code) != "ok":
            raise MeetupConflictError(_s(code))
        self._r.sadd(_t(tid, "att"), meetup_id)
        meetup = self.get(meetup_id)
        if meetup is None:
            raise NotFound(meetup_id)
        return meetup

    @_fails_closed
    def leave(self, meetup_id: str, sub: str, tid: str) -> Meetup:
        self._r.srem(_m(meetup_id, "a"), sub)
        self._r.srem(_t(tid, "att"), meetup_id)
        meetup = self.get(meetup_id)
        if meetup is None:
            raise NotFound(meetup_id)
        return meetup

    @_fails_closed
    def attendees(self, meetup_id: str) -> list[str]:
        return sorted(_s(m) for m in cast(set[bytes], self._r.smembers(_m(meetup_id, "a"))))

    @_fails_closed
    def is_attending(self, meetup_id: str, sub: str) -> bool:
        return bool(self._r.sismember(_m(meetup_id, "a"), sub))

    @_fails_closed
    def in_cells(self, index_cells: Sequence[str], now_s: float) -> list[Meetup]:
        with self._r.pipeline(transaction=False) as pipe:
            for cell in index_cells:
                pipe.smembers(_mi(cell))
            id_sets = pipe.execute()
        ids = sorted({_s(i) for members in id_sets for i in members})
        with self._r.pipeline(transaction=False) as pipe:
            for meetup_id in ids:
                pipe.hgetall(_m(meetup_id, "d"))
                pipe.scard(_m(meetup_id, "a"))
            replies = pipe.execute()
        found = []
        for meetup_id, raw, attending in zip(ids, replies[0::2], replies[1::2], strict=True):
            if not raw:
                continue
            meetup = self._parse(raw, int(attending))
            if meetup.status == "active" and meetup.ends_at_s > now_s:
                found.append(meetup)
            else:
                self._r.srem(_mi(_s(raw[b"cell"])), meetup_id)  # ended or cancelled: leaves search for good
        return found

    @_fails_closed
    def erase(self, sub: str, tid: str) -> None:
        for meetup_id in map(_s, cast(set[bytes], self._r.smembers(_t(tid, "att")))):
            self._r.srem(_m(meetup_id, "a"), sub)
        for meetup_id in map(_s, cast(set[bytes], self._r.smembers(_t(tid, "org")))):
            self._r.hset(_m(meetup_id, "d"), mapping={"status": "cancelled", "organiser": ""})
        self._r.delete(_t(tid, "att"), _t(tid, "org"))
