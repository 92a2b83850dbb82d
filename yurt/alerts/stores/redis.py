"""Redis implementation of ``AlertStore``: every key shares the hash tag ``{al}``, so each write is one Lua
script on one slot, also on a Redis Cluster. Failures fail closed (``StoreUnavailable``: 503 on writes).

    {al}:docs       hash  id → alert JSON          {al}:revs       hash  id → revision
    {al}:gen        counter, +1 per write           {al}:next_rev   counter for revisions
    {al}:audit      list of audit entries (kind "alert"), entry ``seq`` at index seq - 1
    {al}:audit_seq  counter for audit sequence numbers

A write reads the alert and checks its ETag (revision and content hash) in Python, then the script re-checks
the revision (compare-and-set), writes, bumps the generation and appends the audit entry at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import redis

from yurt.alerts.model.record import AlertRecord
from yurt.alerts.stores.embedded import AlertAuditEntry, AlertState, AlertStore, select_entries
from yurt.core.redis.common import CAS_PRELUDE, cas_revision, fails_closed
from yurt.core.store_errors import NotFound, StalePrecondition
from yurt.geo.instants import utc_now_iso

TAG = "{al}"
DOCS, REVS, GEN, NEXT_REV, AUDIT, AUDIT_SEQ = (f"{TAG}:{name}" for name in
                                               ("docs", "revs", "gen", "next_rev", "audit", "audit_seq"))
KEYS = [DOCS, REVS, GEN, NEXT_REV, AUDIT, AUDIT_SEQ]
AUDIT_CHUNK = 64

# ARGV: mode (create|update|delete), id, expected rev ('' for create), new doc JSON ('' for delete), audit
# fragment (JSON members without braces: kind, at, author, action, alert_id).
_WRITE = CAS_PRELUDE + """
local gen = redis.call('INCR', KEYS[3])
local rev = 0
local after = 'null'
if mode == 'delete' then
  redis.call('HDEL', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
else
  rev = redis.call('INCR', KEYS[4])
  redis.call('HSET', KEYS[1], id, new)
  redis.call('HSET', KEYS[2], id, rev)
  after = new
end
local seq = redis.call('INCR', KEYS[6])
redis.call('RPUSH', KEYS[5], '{"seq":' .. seq .. ',"generation":' .. gen .. ',' .. fragment ..
  ',"before":' .. before .. ',"after":' .. after .. '}')
return {'ok', tostring(rev)}
"""


_fails_closed = fails_closed("alert store")  # the one Redis failure policy: storage/redis_common.py


class RedisAlertStore(AlertStore):
    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._write = client.register_script(_WRITE)

    @_fails_closed
    def generation(self) -> int:
        return int(self._r.get(GEN) or 0)

    @_fails_closed
    def load(self) -> AlertState:
        pipe = self._r.pipeline(transaction=True)
        pipe.hgetall(DOCS)
        pipe.hgetall(REVS)
        pipe.get(GEN)
        docs, revs, gen = pipe.execute()
        records = tuple(AlertRecord(orjson.loads(raw), int(revs[key])) for key, raw in docs.items())
        return AlertState(records, int(gen or 0))

    @_fails_closed
    def get(self, alert_id: str) -> AlertRecord | None:
        pipe = self._r.pipeline(transaction=True)
        pipe.hget(DOCS, alert_id)
        pipe.hget(REVS, alert_id)
        raw, rev = pipe.execute()
        return None if raw is None or rev is None else AlertRecord(orjson.loads(raw), int(rev))

    def _checked(self, alert_id: str, if_match: str) -> AlertRecord:
        current = self.get(alert_id)
        if current is None:
            raise NotFound(alert_id)
        if current.etag != if_match:
            raise StalePrecondition(current.etag, current.doc)
        return current

    @_fails_closed
    def _run(self, mode: str, alert_id: str, expected_rev: str, doc: Mapping[str, Any] | None, action: str,
             author: str) -> int:
        fragment = orjson.dumps({"kind": "alert", "at": utc_now_iso(), "author": author, "action": action,
                                 "alert_id": alert_id})[1:-1]
        new = orjson.dumps(doc) if doc is not None else b""
        result = self._write(keys=KEYS, args=[mode, alert_id, expected_rev, new, fragment])
        return cas_revision(result, alert_id, lambda: self._version(alert_id))

    def _version(self, alert_id: str) -> tuple[str, Mapping[str, Any]] | None:
        current = self.get(alert_id)
        return None if current is None else (current.etag, current.doc)

    def create(self, doc: Mapping[str, Any], *, author: str) -> AlertRecord:
        alert_id = str(doc["id"])
        return AlertRecord(doc, self._run("create", alert_id, "", doc, "create", author))

    def update(self, alert_id: str, doc: Mapping[str, Any], *, if_match: str, author: str,
               action: str = "replace") -> AlertRecord:
        current = self._checked(alert_id, if_match)
        return AlertRecord(doc, self._run("update", alert_id, str(current.rev), doc, action, author))

    def delete(self, alert_id: str, *, if_match: str, author: str) -> None:
        current = self._checked(alert_id, if_match)
        self._run("delete", alert_id, str(current.rev), None, "delete", author)

    def _newest_first(self, before_seq: int | None) -> Iterator[AlertAuditEntry]:
        length = int(self._r.llen(AUDIT))
        stop = length - 1 if before_seq is None else min(length - 1, before_seq - 2)
        while stop >= 0:
            start = max(0, stop - AUDIT_CHUNK + 1)
            for raw in reversed(self._r.lrange(AUDIT, start, stop)):
                yield AlertAuditEntry.from_json(orjson.loads(raw))
            stop = start - 1

    @_fails_closed
    def audit(self, *, alert_id: str | None = None, limit: int = 50, before_seq: int | None = None
              ) -> list[AlertAuditEntry]:
        return select_entries(self._newest_first(before_seq), alert_id, limit, before_seq)
