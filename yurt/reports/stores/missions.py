"""Travellers' reports about a mission ("this phone number is wrong"): an interface, embedded and Redis.

A report holds the mission id, a category from a fixed list, free text, and a *pseudonym* of the reporting
traveller (``privacy.mission_reporter_id``: an HMAC of the token's ``sub`` under the traveller secret, never
the sub itself, and not computable from the sub alone): enough to rate-limit one traveller, not enough for
staff to see who they are. Submitting is rate-limited per traveller inside the store's atomic
step, so several workers share one limit. Clocks are passed in (``now``), never read here.

Embedded: ``reports.json`` under ``YURT_DATA_DIR``, replaced atomically under an ``flock`` like the missions'
working copy. Redis: one hash of report JSON, one sorted set per traveller for the limit, one Lua script per
write (keys share the ``{ym}`` hash tag).
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import math
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import redis

from yurt.core.files import write_atomically
from yurt.core.redis.common import call_failing_closed
from yurt.core.store_errors import NotFound, StoreError
from yurt.geo.instants import utc_iso

CATEGORIES = ("phone", "email", "address", "hours", "location", "website", "services", "closed", "other")
RESOLUTIONS = ("fixed", "no_change_needed", "duplicate", "spam")


class RateLimitError(StoreError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__("rate limited")
        self.retry_after_s = retry_after_s


class AlreadyResolvedError(StoreError):
    pass


@dataclass(frozen=True)
class ReportLimit:
    max_reports: int
    window_s: int


@dataclass(frozen=True)
class Report:
    id: int
    mission_id: str
    category: str
    text: str
    reporter: str  # pseudonym (keyed, computed by the caller)
    created_at: str  # ISO 8601 UTC
    status: str = "open"  # open | resolved
    resolution: str | None = None
    resolution_note: str | None = None
    resolved_by: str | None = None
    resolved_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ReportStore(abc.ABC):
    @abc.abstractmethod
    def submit(self, mission_id: str, category: str, text: str, *, reporter: str, now: datetime,
               limit: ReportLimit) -> Report:
        """Store a new open report from the traveller pseudonym ``reporter``; ``RateLimitError`` once they
        sent ``limit.max_reports``."""

    @abc.abstractmethod
    def list(self, *, status: str | None = None, mission_id: str | None = None, limit: int = 50,
             before_id: int | None = None) -> list[Report]:
        """Reports, newest first; ``before_id`` pages backwards."""

    @abc.abstractmethod
    def resolve(self, report_id: int, *, resolution: str, note: str | None, author: str, now: datetime
                ) -> Report:
        """Mark a report resolved; ``NotFound`` or ``AlreadyResolvedError``."""

    def count(self, *, status: str | None = None, mission_id: str | None = None) -> int:
        """How many reports match the filters, all pages together (a listing reads them all anyway)."""
        return len(self.list(status=status, mission_id=mission_id, limit=1 << 31))


def _select(reports: list[Report], status: str | None, mission_id: str | None, limit: int,
            before_id: int | None) -> list[Report]:
    chosen = [r for r in sorted(reports, key=lambda r: -r.id)
              if (status is None or r.status == status) and (mission_id is None or r.mission_id == mission_id)
              and (before_id is None or r.id < before_id)]
    return chosen[:limit]


class EmbeddedReportStore(ReportStore):
    FILE = "reports.json"

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._path = data_dir / self.FILE
        self._lock = threading.Lock()
        self._lock_fd = os.open(data_dir / "reports.lock", os.O_RDWR | os.O_CREAT, 0o644)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield orjson.loads(self._path.read_bytes()) if self._path.exists() else {"next_id": 1,
                                                                                        "reports": []}
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _save(self, state: dict[str, Any]) -> None:
        write_atomically(self._path, orjson.dumps(state))

    def submit(self, mission_id: str, category: str, text: str, *, reporter: str, now: datetime,
               limit: ReportLimit) -> Report:
        since = now.timestamp() - limit.window_s
        with self._locked() as state:
            recent = sorted(datetime.fromisoformat(r["created_at"]).timestamp() for r in state["reports"]
                            if r["reporter"] == reporter)
            recent = [t for t in recent if t > since]
            if len(recent) >= limit.max_reports:
                raise RateLimitError(max(1, math.ceil(recent[-limit.max_reports] - since)))
            report = Report(int(state["next_id"]), mission_id, category, text, reporter, utc_iso(now))
            state["next_id"] = report.id + 1
            state["reports"].append(report.to_json())
            self._save(state)
            return report

    def list(self, *, status: str | None = None, mission_id: str | None = None, limit: int = 50,
             before_id: int | None = None) -> list[Report]:
        with self._locked() as state:
            reports = [Report(**r) for r in state["reports"]]
        return _select(reports, status, mission_id, limit, before_id)

    def resolve(self, report_id: int, *, resolution: str, note: str | None, author: str, now: datetime
                ) -> Report:
        with self._locked() as state:
            for i, raw in enumerate(state["reports"]):
                if raw["id"] == report_id:
                    report = Report(**raw)
                    if report.status == "resolved":
                        raise AlreadyResolvedError(str(report_id))
                    report = replace(report, status="resolved", resolution=resolution, resolution_note=note,
                                     resolved_by=author, resolved_at=utc_iso(now))
                    state["reports"][i] = report.to_json()
                    self._save(state)
                    return report
        raise NotFound(str(report_id))


REPORTS, NEXT_ID, BY_REPORTER = "{ym}:reports", "{ym}:reports:next_id", "{ym}:reports:by:"

# KEYS: reports hash, next id, this reporter's zset. ARGV: now (epoch s), window start, max, report JSON
# without its id (a prefix to complete), mission id.
_SUBMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[2])
local count = redis.call('ZCARD', KEYS[3])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[3], count - tonumber(ARGV[3]), count - tonumber(ARGV[3]),
                            'WITHSCORES')
  return {'limited', oldest[2]}
end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], id, '{"id":' .. id .. ',' .. ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[1], id)
redis.call('EXPIRE', KEYS[3], math.ceil(tonumber(ARGV[1]) - tonumber(ARGV[2])) + 1)
return {'ok', tostring(id)}
"""

# KEYS: reports hash. ARGV: id, resolved report JSON; refuses if already resolved.
_RESOLVE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 'notfound' end
if cjson.decode(raw)['status'] == 'resolved' then return 'resolved' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
"""


class RedisReportStore(ReportStore):
    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._submit = client.register_script(_SUBMIT)
        self._resolve = client.register_script(_RESOLVE)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return call_failing_closed("report store", fn, *args, **kwargs)

    def submit(self, mission_id: str, category: str, text: str, *, reporter: str, now: datetime,
               limit: ReportLimit) -> Report:
        draft = Report(0, mission_id, category, text, reporter, utc_iso(now)).to_json()
        del draft["id"]
        members = orjson.dumps(draft)[1:]  # '"mission_id":...}': the script prepends '{"id":N,'
        now_s = now.timestamp()
        since = now_s - limit.window_s
        result = self._call(self._submit, keys=[REPORTS, NEXT_ID, BY_REPORTER + reporter],
                            args=[now_s, since, limit.max_reports, members])
        outcome = result[0].decode() if isinstance(result[0], bytes) else result[0]
        if outcome == "limited":
            raise RateLimitError(max(1, math.ceil(float(result[1]) - since)))
        return Report(int(result[1]), mission_id, category, text, reporter, utc_iso(now))

    def list(self, *, status: str | None = None, mission_id: str | None = None, limit: int = 50,
             before_id: int | None = None) -> list[Report]:
        raw = self._call(self._r.hvals, REPORTS)
        return _select([Report(**orjson.loads(r)) for r in raw], status, mission_id, limit, before_id)

    def resolve(self, report_id: int, *, resolution: str, note: str | None, author: str, now: datetime
                ) -> Report:
        raw = self._call(self._r.hget, REPORTS, report_id)
        if raw is None:
            raise NotFound(str(report_id))
        report = replace(Report(**orjson.loads(raw)), status="resolved", resolution=resolution,
                         resolution_note=note, resolved_by=author, resolved_at=utc_iso(now))
        outcome = self._call(self._resolve, keys=[REPORTS], args=[report_id, orjson.dumps(report.to_json())])
        outcome = outcome.decode() if isinstance(outcome, bytes) else outcome
        if outcome == "notfound":
            raise NotFound(str(report_id))
        if outcome == "resolved":
            raise AlreadyResolvedError(str(report_id))
        return report
