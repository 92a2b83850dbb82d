"""Alert storage: the ``AlertStore`` interface and its embedded implementation (Redis: ``store_redis``).

The record of truth for alerts, with its own audit trail. Every write is a compare-and-set on the alert's ETag
and appends an audit entry of kind ``alert`` (author, before, after) in the same atomic step, exactly as
mission writes do, but in a trail of its own: a bulk mission restore replays mission datasets and can never
touch an alert (tests/alerts/test_alerts_api.py).

Embedded durability follows the mission store's (``yurt.missions.stores.embedded``): the audit line is appended and
fsynced first, then ``alerts.json`` is replaced atomically (write, fsync, rename, fsync the folder); an audit
line newer than the working copy's generation (a crash between the two) is never listed. Several processes may
share the folder: writes take an ``flock`` and re-read a working copy another process changed.
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from yurt.alerts.model.record import AlertRecord
from yurt.core.files import FileStamp, file_stamp, write_atomically
from yurt.core.store_errors import AlreadyExists, NotFound, StalePrecondition
from yurt.geo.instants import utc_now_iso

KIND = "alert"


@dataclass(frozen=True)
class AlertAuditEntry:
    seq: int
    at: str  # ISO 8601 UTC
    author: str
    action: str  # create | replace | patch | delete
    alert_id: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    generation: int

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": KIND, "at": self.at, "author": self.author, "action": self.action,
                "alert_id": self.alert_id, "before": self.before, "after": self.after,
                "generation": self.generation}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AlertAuditEntry:
        return cls(int(raw["seq"]), raw["at"], raw["author"], raw["action"], raw["alert_id"], raw["before"],
                   raw["after"], int(raw["generation"]))


@dataclass(frozen=True)
class AlertState:
    records: tuple[AlertRecord, ...]
    generation: int


class AlertStore(abc.ABC):
    """The record of truth for alerts. Thread-safe; ``StoreUnavailable`` when the backend cannot be reached."""

    @abc.abstractmethod
    def generation(self) -> int:
        """A counter that changes with every acknowledged write; cheap, polled by every worker."""

    @abc.abstractmethod
    def load(self) -> AlertState: ...

    @abc.abstractmethod
    def get(self, alert_id: str) -> AlertRecord | None: ...

    @abc.abstractmethod
    def create(self, doc: Mapping[str, Any], *, author: str) -> AlertRecord:
        """Add an alert; ``AlreadyExists`` if its id is taken."""

    @abc.abstractmethod
    def update(self, alert_id: str, doc: Mapping[str, Any], *, if_match: str, author: str,
               action: str = "replace") -> AlertRecord:
        """Replace an alert if its ETag is still ``if_match``; else ``StalePrecondition``; ``NotFound``."""

    @abc.abstractmethod
    def delete(self, alert_id: str, *, if_match: str, author: str) -> None: ...

    @abc.abstractmethod
    def audit(self, *, alert_id: str | None = None, limit: int = 50, before_seq: int | None = None
              ) -> list[AlertAuditEntry]:
        """Audit entries, newest first; ``before_seq`` pages backwards."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or file handles."""


def select_entries(entries: Iterator[AlertAuditEntry], alert_id: str | None, limit: int,
                   before_seq: int | None) -> list[AlertAuditEntry]:
    """From entries newest first: those of ``alert_id`` (or all) below ``before_seq``, at most ``limit``."""
    out = []
    for entry in entries:
        if (before_seq is None or entry.seq < before_seq) and (alert_id is None or entry.alert_id == alert_id):
            out.append(entry)
            if len(out) >= limit:
                break
    return out


class EmbeddedAlertStore(AlertStore):
    STATE, AUDIT, LOCK = "alerts.json", "alerts_audit.jsonl", "alerts.lock"

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._path = data_dir / self.STATE
        self._audit_path = data_dir / self.AUDIT
        self._lock = threading.RLock()
        self._lock_fd = os.open(data_dir / self.LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        self._stamp: FileStamp | None = None
        self._state: dict[str, Any] = {"generation": 0, "next_rev": 1, "audit_seq": 0, "alerts": {}}
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        stamp = file_stamp(self._path)
        if stamp is not None and stamp != self._stamp:
            self._state = orjson.loads(self._path.read_bytes())
            self._stamp = stamp

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                self._refresh()
                state = orjson.loads(orjson.dumps(self._state))  # a copy: a failed write leaves ours intact
                yield state
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _commit(self, state: dict[str, Any], action: str, alert_id: str, before: Any, after: Any,
                author: str) -> None:
        state["generation"] = int(state["generation"]) + 1
        state["audit_seq"] = int(state["audit_seq"]) + 1
        entry = AlertAuditEntry(state["audit_seq"], utc_now_iso(), author, action, alert_id, before, after,
                                state["generation"])
        recorded = int(state.get("audit_bytes", 0))
        with contextlib.suppress(FileNotFoundError):
            if self._audit_path.stat().st_size > recorded:
                # Lines a process appended before dying without its working copy: cut them, or this entry
                # would share their sequence number.
                os.truncate(self._audit_path, recorded)
        fd = os.open(self._audit_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, orjson.dumps(entry.to_json()) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        state["audit_bytes"] = self._audit_path.stat().st_size
        write_atomically(self._path, orjson.dumps(state))
        self._state, self._stamp = state, file_stamp(self._path)

    def generation(self) -> int:
        with self._lock:
            self._refresh()
            return int(self._state["generation"])

    def load(self) -> AlertState:
        with self._lock:
            self._refresh()
            records = tuple(AlertRecord(a["doc"], int(a["rev"])) for a in self._state["alerts"].values())
            return AlertState(records, int(self._state["generation"]))

    def get(self, alert_id: str) -> AlertRecord | None:
        with self._lock:
            self._refresh()
            found = self._state["alerts"].get(alert_id)
            return None if found is None else AlertRecord(found["doc"], int(found["rev"]))

    @staticmethod
    def _checked(state: dict[str, Any], alert_id: str, if_match: str) -> dict[str, Any]:
        found = state["alerts"].get(alert_id)
        if found is None:
            raise NotFound(alert_id)
        current = AlertRecord(found["doc"], int(found["rev"]))
        if current.etag != if_match:
            raise StalePrecondition(current.etag, current.doc)
        return dict(found["doc"])

    def _next_rev(self, state: dict[str, Any]) -> int:
        rev = int(state["next_rev"])
        state["next_rev"] = rev + 1
        return rev

    def create(self, doc: Mapping[str, Any], *, author: str) -> AlertRecord:
        alert_id = str(doc["id"])
        with self._exclusive() as state:
            if alert_id in state["alerts"]:
                raise AlreadyExists(alert_id)
            rev = self._next_rev(state)
            state["alerts"][alert_id] = {"rev": rev, "doc": doc}
            self._commit(state, "create", alert_id, None, doc, author)
            return AlertRecord(doc, rev)

    def update(self, alert_id: str, doc: Mapping[str, Any], *, if_match: str, author: str,
               action: str = "replace") -> AlertRecord:
        with self._exclusive() as state:
            before = self._checked(state, alert_id, if_match)
            rev = self._next_rev(state)
            state["alerts"][alert_id] = {"rev": rev, "doc": doc}
            self._commit(state, action, alert_id, before, doc, author)
            return AlertRecord(doc, rev)

    def delete(self, alert_id: str, *, if_match: str, author: str) -> None:
        with self._exclusive() as state:
            before = self._checked(state, alert_id, if_match)
            del state["alerts"][alert_id]
            self._commit(state, "delete", alert_id, before, None, author)

    def _entries_newest_first(self, generation: int) -> Iterator[AlertAuditEntry]:
        if not self._audit_path.exists():
            return
        for line in reversed(self._audit_path.read_bytes().splitlines()):
            try:
                entry = AlertAuditEntry.from_json(orjson.loads(line))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a torn last line (a crash while appending)
            if entry.generation <= generation:  # newer: its working copy never landed
                yield entry

    def audit(self, *, alert_id: str | None = None, limit: int = 50, before_seq: int | None = None
              ) -> list[AlertAuditEntry]:
        with self._lock:
            self._refresh()
            generation = int(self._state["generation"])
            return select_entries(self._entries_newest_first(generation), alert_id, limit, before_seq)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)
