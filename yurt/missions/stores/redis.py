"""Redis storage: the mission record of truth.

Record of truth (Redis mode): every mission key shares the hash tag ``{ym}`` so each write is one atomic Lua
script on one slot, also on a Redis Cluster.

    {ym}:features   hash  id → Feature JSON          {ym}:revs      hash  id → revision
    {ym}:meta       string dataset-wide facts JSON    {ym}:gen       counter, +1 per acknowledged write
    {ym}:next_rev   counter for revisions             {ym}:audit     list of audit entries (append-only)
    {ym}:audit_seq  counter for audit sequence numbers

A write reads the mission, checks its ETag in Python (revision *and* content hash), then runs a Lua script that
re-checks the revision (compare-and-set), applies the change, bumps the generation and appends the audit entry,
all at once. Durability is Redis's: run it with ``appendonly yes`` and ``appendfsync always`` so an acknowledged
write survives a crash of Redis itself (README, "Redis in production"). A fresh Redis is seeded from
``data/embassies.geojson`` once (guarded by WATCH on the generation key, so concurrent workers seed once).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import redis

from yurt.core.redis.common import call_failing_closed, cas_revision
from yurt.core.store_errors import MAX_ID, NotFound, StalePrecondition, StoreUnavailable
from yurt.geo.instants import utc_now_iso
from yurt.missions.model.dataset import MissionRecord, dataset_etag
from yurt.missions.schemas.dataset import Collection
from yurt.missions.stores.base import AuditEntry, MissionStore, StoredState
from yurt.missions.stores.lua import AUDIT, FEATURES, GEN, KEYS, META, NEXT_REV, REPLACE_ALL, REVS, WRITE_ONE

log = logging.getLogger("yurt.redis")

AUDIT_CHUNK = 64  # audit entries fetched per LRANGE when paging backwards


def _fragment(author: str, action: str, mission_id: str | None, extra: Mapping[str, Any] | None = None) -> str:
    members = orjson.dumps({"at": utc_now_iso(), "author": author, "action": action, "mission_id": mission_id,
                            **({"extra": dict(extra)} if extra else {})})
    return members[1:-1].decode()


class RedisMissionStore(MissionStore):
    def __init__(self, client: redis.Redis, seed: Collection) -> None:
        self._r = client
        self._write_one = client.register_script(WRITE_ONE)
        self._replace = client.register_script(REPLACE_ALL)
        self._seed_collection = seed
        self._seeded = False
        try:
            self._seed(seed)
        except StoreUnavailable as exc:
            # A worker must boot while Redis is down or hung (gunicorn halts the whole server when a worker
            # fails to boot): seeding waits for the first generation() that reaches Redis.
            log.warning("mission store unreachable at start (%s); seeding and loading when it answers", exc)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return call_failing_closed("mission store", fn, *args, **kwargs)

    def _seed(self, seed: Collection) -> None:
        def seed_once(pipe: Any) -> None:
            if pipe.exists(GEN):
                return
            pipe.multi()
            pipe.set(META, orjson.dumps(seed.meta))
            for feature in seed.features:
                mission_id = feature["properties"]["id"]
                pipe.hset(FEATURES, mission_id, orjson.dumps(feature))
                pipe.hset(REVS, mission_id, 1)
            pipe.set(NEXT_REV, 1)
            pipe.set(GEN, 1)

        self._call(self._r.transaction, seed_once, GEN)
        self._seeded = True

    def generation(self) -> int:
        if not self._seeded:
            self._seed(self._seed_collection)  # deferred from a start while Redis was unreachable
        value = self._call(self._r.get, GEN)
        if value is None:
            # The record of truth vanished: a Redis restarted without persistence, or flushed. Never serve an
            # empty dataset: seed again from the data file, as a fresh deployment would, and say so loudly.
            log.error("mission data missing from Redis (restart without persistence?); re-seeding from the "
                      "data file: staff edits since the last seed are lost unless Redis persisted them")
            self._seed(self._seed_collection)
            value = self._call(self._r.get, GEN)
        return int(value or 0)

    def load(self) -> StoredState:
        pipe = self._r.pipeline(transaction=True)
        pipe.hgetall(FEATURES)
        pipe.hgetall(REVS)
        pipe.get(META)
        pipe.get(GEN)
        features, revs, meta, gen = self._call(pipe.execute)
        records = [MissionRecord(orjson.loads(raw), int(revs[key])) for key, raw in features.items()]
        return StoredState(meta=orjson.loads(meta) if meta else {}, records=records, generation=int(gen or 0))

    def _current(self, mission_id: str) -> MissionRecord | None:
        pipe = self._r.pipeline(transaction=True)
        pipe.hget(FEATURES, mission_id)
        pipe.hget(REVS, mission_id)
        raw, rev = self._call(pipe.execute)
        return None if raw is None else MissionRecord(orjson.loads(raw), int(rev))

    def _run_one(self, mode: str, mission_id: str, expected_rev: str, feature: Mapping[str, Any] | None,
                 fragment: str) -> int:
        new = orjson.dumps(feature).decode() if feature is not None else ""
        result = self._call(self._write_one, keys=KEYS, args=[mode, mission_id, expected_rev, new, fragment])
        return cas_revision(result, mission_id, lambda: self._version(mission_id))

    def _version(self, mission_id: str) -> tuple[str, Mapping[str, Any]] | None:
        current = self._current(mission_id)
        return None if current is None else (current.etag, current.feature)

    def _checked(self, mission_id: str, if_match: str) -> MissionRecord:
        current = self._current(mission_id)
        if current is None:
            raise NotFound(mission_id)
        if current.etag != if_match:
            raise StalePrecondition(current.etag, current.feature)
        return current

    def create(self, feature: Mapping[str, Any], *, author: str, action: str = "create") -> MissionRecord:
        mission_id = str(feature["properties"]["id"])
        rev = self._run_one("create", mission_id, "", feature, _fragment(author, action, mission_id))
        return MissionRecord(feature, rev)

    def update(self, mission_id: str, feature: Mapping[str, Any], *, if_match: str, author: str,
               action: str = "replace") -> MissionRecord:
        current = self._checked(mission_id, if_match)
        rev = self._run_one("update", mission_id, str(current.rev), feature,
                            _fragment(author, action, mission_id))
        return MissionRecord(feature, rev)

    def delete(self, mission_id: str, *, if_match: str, author: str, action: str = "delete") -> None:
        current = self._checked(mission_id, if_match)
        self._run_one("delete", mission_id, str(current.rev), None, _fragment(author, action, mission_id))

    def replace_all(self, meta: Mapping[str, Any], features: Sequence[Mapping[str, Any]], *, if_match: str,
                    author: str, action: str = "replace_all") -> StoredState:
        args: list[Any] = []
        for feature in features:
            args += [str(feature["properties"]["id"]), orjson.dumps(feature)]
        while True:
            state = self.load()
            current = dataset_etag(state.meta, [r.feature for r in state.records])
            if current != if_match:
                raise StalePrecondition(current)
            fragment = _fragment(author, action, None, {"count": len(features)})
            result = self._call(self._replace, keys=KEYS,
                                args=[state.generation, orjson.dumps(meta), fragment, *args])
            outcome = result[0].decode() if isinstance(result[0], bytes) else result[0]
            if outcome == "ok":
                return self.load()
            # 'retry': another write landed between our read and the script; re-check the ETag.

    @staticmethod
    def _entry(raw: bytes) -> AuditEntry:
        e = orjson.loads(raw)
        return AuditEntry(e["seq"], e["at"], e["author"], e["action"], e["mission_id"], e["before"], e["after"],
                          e["generation"], e.get("extra", {}))

    def audit(self, *, mission_id: str | None = None, limit: int = 100, before_seq: int | None = None
              ) -> list[AuditEntry]:
        # Both scripts INCR the sequence and RPUSH the entry together, so entry ``seq`` sits at list index
        # ``seq - 1``: page backwards from there in chunks instead of reading the whole trail (a bulk entry
        # alone holds two whole datasets).
        selected: list[AuditEntry] = []
        length = int(self._call(self._r.llen, AUDIT))
        stop = length - 1 if before_seq is None else min(length - 1, before_seq - 2)
        while stop >= 0 and len(selected) < limit:
            start = max(0, stop - AUDIT_CHUNK + 1)
            for raw in reversed(self._call(self._r.lrange, AUDIT, start, stop)):
                e = self._entry(raw)
                if before_seq is not None and e.seq >= before_seq:
                    continue
                if mission_id is not None and not e.concerns(mission_id):
                    continue
                selected.append(e)
                if len(selected) >= limit:
                    break
            stop = start - 1
        return selected

    def audit_entry(self, seq: int) -> AuditEntry | None:
        if not 1 <= seq <= MAX_ID:  # LINDEX answers an error past 2^63 - 1; the API refuses these already
            return None
        raw = self._call(self._r.lindex, AUDIT, seq - 1)
        if raw is None:
            return None
        entry = self._entry(raw)
        return entry if entry.seq == seq else None
