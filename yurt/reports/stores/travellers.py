"""Reports about travellers, to staff: the ``TravellerReportStore`` interface, embedded and Redis.

(Reports about a *mission* are another thing: ``yurt.reports.stores.missions``.)

What a flood of junk reports must not break (issue 11): one reporter has at most one *open* report about one
traveller (a second is refused, ``DuplicateReportError``); staff page through every report, newest first, with
``page(before=…)`` (an id bound, so paging stays exact while new reports arrive); and suspension finds a
reported traveller by staff handle through an index (``reported``), however many reports came since. A report
stays open until staff suspend its target (``close_about``). The per-reporter rate is ``yurt.core.quotas``.

Travellers are known here only by pseudonym (``privacy.traveller_id``); the staff handle is computed by the
caller (``privacy.handle_for(secret, "staff", target)``) and stored with the first report about a traveller.

Redis keys (one hash tag, ``{tr}``, so every write is one Lua script on one Cluster slot)::

    {tr}:seq       string  last report id
    {tr}:r         hash    id → report JSON (at_s, reporter, target, reason)
    {tr}:ids       zset    id → id (paging newest first)
    {tr}:closed    hash    id → closing time (absent: open)
    {tr}:pair      hash    "<reporter>|<target>" → id of the open report
    {tr}:o:<tid>   set     open report ids about one traveller
    {tr}:who       hash    staff handle → pseudonym of every reported traveller
"""

from __future__ import annotations

import abc
import bisect
import threading
from dataclasses import dataclass, replace
from typing import Any, cast

import orjson
import redis

from yurt.core.redis.common import fails_closed
from yurt.core.store_errors import StoreError


@dataclass(frozen=True)
class Report:
    id: int
    at_s: float
    reporter: str
    target: str
    reason: str
    open: bool = True


class DuplicateReportError(StoreError):
    """The reporter already has an open report about this traveller (``report_id``)."""

    def __init__(self, report_id: int) -> None:
        super().__init__(f"report {report_id} is still open")
        self.report_id = report_id


class TravellerReportStore(abc.ABC):
    """Thread-safe; every write is atomic."""

    @abc.abstractmethod
    def add(self, reporter: str, target: str, reason: str, target_handle: str, now_s: float) -> Report:
        """File a report; ``DuplicateReportError`` if ``reporter`` has an open one about ``target``."""

    @abc.abstractmethod
    def open_report(self, reporter: str, target: str) -> int | None:
        """The id of ``reporter``'s open report about ``target``, if any."""

    @abc.abstractmethod
    def page(self, limit: int, before: int | None = None) -> list[Report]:
        """Up to ``limit`` reports with an id below ``before`` (all, if None), newest first."""

    @abc.abstractmethod
    def reported(self, target_handle: str) -> str | None:
        """The pseudonym of the traveller ever reported under this staff handle."""

    @abc.abstractmethod
    def close_about(self, target: str, now_s: float) -> int:
        """Close every open report about ``target`` (staff acted); how many were open."""


class EmbeddedTravellerReportStore(TravellerReportStore):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: list[int] = []  # ascending: paging is a bisect
        self._reports: dict[int, Report] = {}
        self._pairs: dict[tuple[str, str], int] = {}
        self._open_about: dict[str, set[int]] = {}
        self._who: dict[str, str] = {}

    def add(self, reporter: str, target: str, reason: str, target_handle: str, now_s: float) -> Report:
        with self._lock:
            existing = self._pairs.get((reporter, target))
            if existing is not None:
                raise DuplicateReportError(existing)
            report = Report(len(self._ids) + 1, now_s, reporter, target, reason)
            self._ids.append(report.id)
            self._reports[report.id] = report
            self._pairs[(reporter, target)] = report.id
            self._open_about.setdefault(target, set()).add(report.id)
            self._who[target_handle] = target
            return report

    def open_report(self, reporter: str, target: str) -> int | None:
        with self._lock:
            return self._pairs.get((reporter, target))

    def page(self, limit: int, before: int | None = None) -> list[Report]:
        with self._lock:
            end = len(self._ids) if before is None else bisect.bisect_left(self._ids, before)
            return [self._reports[i] for i in reversed(self._ids[max(0, end - limit):end])]

    def reported(self, target_handle: str) -> str | None:
        with self._lock:
            return self._who.get(target_handle)

    def close_about(self, target: str, now_s: float) -> int:
        with self._lock:
            ids = self._open_about.pop(target, set())
            for report_id in ids:
                report = self._reports[report_id] = replace(self._reports[report_id], open=False)
                self._pairs.pop((report.reporter, report.target), None)
            return len(ids)


# KEYS: pair hash, seq, reports hash, ids zset, open-about set, who hash.
# ARGV: pair, report JSON, staff handle, target. Returns {1, new id} or {0, id of the open report}.
_ADD = """
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return {0, tonumber(existing)} end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], id, ARGV[2])
redis.call('ZADD', KEYS[4], id, id)
redis.call('HSET', KEYS[1], ARGV[1], id)
redis.call('SADD', KEYS[5], id)
redis.call('HSET', KEYS[6], ARGV[3], ARGV[4])
return {1, id}
"""
# KEYS: open-about set, reports hash, closed hash, pair hash. ARGV: now_s. Returns how many were open.
_CLOSE = """
local ids = redis.call('SMEMBERS', KEYS[1])
for _, id in ipairs(ids) do
  local report = cjson.decode(redis.call('HGET', KEYS[2], id))
  redis.call('HSET', KEYS[3], id, ARGV[1])
  local pair = report['reporter'] .. '|' .. report['target']
  if redis.call('HGET', KEYS[4], pair) == id then redis.call('HDEL', KEYS[4], pair) end
end
redis.call('DEL', KEYS[1])
return #ids
"""

def _pair(reporter: str, target: str) -> str:
    return f"{reporter}|{target}"


class RedisTravellerReportStore(TravellerReportStore):
    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._add = client.register_script(_ADD)
        self._close = client.register_script(_CLOSE)

    @fails_closed("report store")
    def add(self, reporter: str, target: str, reason: str, target_handle: str, now_s: float) -> Report:
        record = {"at_s": now_s, "reporter": reporter, "target": target, "reason": reason}
        created, report_id = self._add(
            keys=["{tr}:pair", "{tr}:seq", "{tr}:r", "{tr}:ids", f"{{tr}}:o:{target}", "{tr}:who"],
            args=[_pair(reporter, target), orjson.dumps(record), target_handle, target])
        if not created:
            raise DuplicateReportError(int(report_id))
        return Report(int(report_id), now_s, reporter, target, reason)

    @fails_closed("report store")
    def open_report(self, reporter: str, target: str) -> int | None:
        found = self._r.hget("{tr}:pair", _pair(reporter, target))
        return int(found) if found is not None else None

    @fails_closed("report store")
    def page(self, limit: int, before: int | None = None) -> list[Report]:
        top: Any = "+inf" if before is None else f"({before}"
        ids = cast(list[bytes], self._r.zrevrangebyscore("{tr}:ids", top, "-inf", start=0, num=limit))
        if not ids:
            return []
        with self._r.pipeline(transaction=False) as pipe:
            pipe.hmget("{tr}:r", ids)
            pipe.hmget("{tr}:closed", ids)
            records, closed = pipe.execute()
        return [Report(int(i), open=c is None, **orjson.loads(raw))
                for i, raw, c in zip(ids, records, closed, strict=True) if raw is not None]

    @fails_closed("report store")
    def reported(self, target_handle: str) -> str | None:
        found = self._r.hget("{tr}:who", target_handle)
        return found.decode() if isinstance(found, bytes) else found

    @fails_closed("report store")
    def close_about(self, target: str, now_s: float) -> int:
        return int(self._close(keys=[f"{{tr}}:o:{target}", "{tr}:r", "{tr}:closed", "{tr}:pair"], args=[now_s]))
