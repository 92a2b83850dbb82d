"""Embedded storage: mission data in a working copy under ``YURT_DATA_DIR``.

Durability of an acknowledged write (the staff issue): the audit entry is appended to ``audit.jsonl`` and
fsynced first; then the working copy ``missions.json`` is written to a temporary file, fsynced, renamed over the
old one (atomic on POSIX, rename(2)) and the folder is fsynced so the rename itself survives a power cut. Only
then is the write acknowledged. If the process dies between the two steps, the audit holds an entry whose
generation is newer than the working copy's; it is dropped at the next start, so the audit never lists a write
that did not land. The tracked seed (``data/embassies.geojson``) is only ever read.

Several processes may share one data directory (e.g. gunicorn workers): writes take an ``flock`` on
``missions.lock`` and re-read the working copy if another process changed it; readers notice a change by the
file's (inode, mtime, size).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from yurt.core.files import FileStamp, file_stamp, write_atomically
from yurt.core.store_errors import AlreadyExists, NotFound, StalePrecondition
from yurt.geo.instants import utc_now_iso
from yurt.missions.model.dataset import MissionRecord, dataset_etag
from yurt.missions.schemas.dataset import Collection
from yurt.missions.stores.base import AuditEntry, MissionStore, StoredState

WORKING_COPY = "missions.json"
AUDIT_LOG = "audit.jsonl"
LOCK_FILE = "missions.lock"


class EmbeddedMissionStore(MissionStore):
    def __init__(self, data_dir: Path, seed: Collection) -> None:
        self._dir = data_dir
        self._dir.mkdir(parents=True, exist_ok=True)
        self._path = data_dir / WORKING_COPY
        self._audit_path = data_dir / AUDIT_LOG
        self._lock = threading.RLock()
        self._lock_fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        self._stamp: FileStamp | None = None
        self._state: dict[str, Any] = {}
        with self._exclusive():
            if not self._path.exists():
                self._state = {
                    "generation": 1,
                    "next_rev": 2,
                    "meta": seed.meta,
                    "missions": {f["properties"]["id"]: {"rev": 1, "feature": f} for f in seed.features},
                }
                self._persist()
            else:
                self._reload()
            self._trim_audit()

    # -- locking and file state -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._lock:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                self._refresh()
                yield
            except BaseException:
                # A write that failed half-way (disk full, a failed fsync) has already changed the state in
                # memory; drop that change so this process never serves a write it did not acknowledge.
                self._reload()
                raise
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _refresh(self) -> None:
        stamp = file_stamp(self._path)
        if stamp is not None and stamp != self._stamp:
            self._reload()

    def _reload(self) -> None:
        self._stamp = file_stamp(self._path)
        self._state = orjson.loads(self._path.read_bytes())

    def _persist(self) -> None:
        write_atomically(self._path, orjson.dumps(self._state))
        self._stamp = file_stamp(self._path)

    def _trim_audit(self) -> None:
        """Drop audit lines newer than the working copy (a crash between the two fsyncs)."""
        if not self._audit_path.exists():
            return
        generation = int(self._state["generation"])
        lines = self._audit_path.read_bytes().splitlines()
        kept = [line for line in lines if line.strip() and _line_generation(line) <= generation]
        if len(kept) != len(lines):
            write_atomically(self._audit_path, b"".join(line + b"\n" for line in kept))

    def _append_audit(self, entry: AuditEntry) -> None:
        fd = os.open(self._audit_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, orjson.dumps(entry.to_json()) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def _commit(self, entries: list[tuple[str, str | None, Any, Any, dict[str, Any]]], author: str) -> None:
        """Append audit entries for a state already changed in memory, then persist it."""
        generation = int(self._state["generation"])
        seq = int(self._state.get("audit_seq", 0))
        self._drop_orphaned_audit()
        for action, mission_id, before, after, extra in entries:
            seq += 1
            self._append_audit(AuditEntry(seq, utc_now_iso(), author, action, mission_id, before, after,
                                          generation, extra))
        self._state["audit_seq"] = seq
        self._state["audit_bytes"] = self._audit_path.stat().st_size
        self._persist()

    def _drop_orphaned_audit(self) -> None:
        """Cut audit lines a process appended before dying without persisting its working copy.

        Without this, another live process (a second gunicorn worker) would reuse that entry's generation and
        sequence number, and the orphan would pass for a real entry. The working copy records the audit's
        length at its last commit, so the cut is one truncate, done under the write lock.
        """
        recorded = self._state.get("audit_bytes")
        if recorded is None:
            self._trim_audit()
            return
        try:
            size = self._audit_path.stat().st_size
        except FileNotFoundError:
            return
        if size > int(recorded):
            os.truncate(self._audit_path, int(recorded))

    # -- MissionStore --------------------------------------------------------------------------------------

    def generation(self) -> int:
        with self._lock:
            self._refresh()
            return int(self._state["generation"])

    def load(self) -> StoredState:
        with self._lock:
            self._refresh()
            records = [MissionRecord(m["feature"], int(m["rev"])) for m in self._state["missions"].values()]
            return StoredState(meta=self._state["meta"], records=records,
                               generation=int(self._state["generation"]))

    def _bump(self) -> int:
        rev = int(self._state["next_rev"])
        self._state["next_rev"] = rev + 1
        self._state["generation"] = int(self._state["generation"]) + 1
        return rev

    def _current(self, mission_id: str, if_match: str) -> dict[str, Any]:
        entry = self._state["missions"].get(mission_id)
        if entry is None:
            raise NotFound(mission_id)
        etag = MissionRecord(entry["feature"], int(entry["rev"])).etag
        if etag != if_match:
            raise StalePrecondition(etag, entry["feature"])
        return dict(entry)

    def create(self, feature: Mapping[str, Any], *, author: str, action: str = "create") -> MissionRecord:
        mission_id = str(feature["properties"]["id"])
        with self._exclusive():
            if mission_id in self._state["missions"]:
                raise AlreadyExists(mission_id)
            rev = self._bump()
            self._state["missions"][mission_id] = {"rev": rev, "feature": feature}
            self._commit([(action, mission_id, None, feature, {})], author)
            return MissionRecord(feature, rev)

    def update(self, mission_id: str, feature: Mapping[str, Any], *, if_match: str, author: str,
               action: str = "replace") -> MissionRecord:
        with self._exclusive():
            before = self._current(mission_id, if_match)["feature"]
            rev = self._bump()
            self._state["missions"][mission_id] = {"rev": rev, "feature": feature}
            self._commit([(action, mission_id, before, feature, {})], author)
            return MissionRecord(feature, rev)

    def delete(self, mission_id: str, *, if_match: str, author: str, action: str = "delete") -> None:
        with self._exclusive():
            before = self._current(mission_id, if_match)["feature"]
            self._bump()
            del self._state["missions"][mission_id]
            self._commit([(action, mission_id, before, None, {})], author)

    def replace_all(self, meta: Mapping[str, Any], features: Sequence[Mapping[str, Any]], *, if_match: str,
                    author: str, action: str = "replace_all") -> StoredState:
        with self._exclusive():
            current = dataset_etag(self._state["meta"], [m["feature"] for m in self._state["missions"].values()])
            if current != if_match:
                raise StalePrecondition(current)
            before = {"dataset": self._state["meta"],
                      "features": [m["feature"] for m in self._state["missions"].values()]}
            old = self._state["missions"]
            missions: dict[str, Any] = {}
            for feature in features:
                mission_id = str(feature["properties"]["id"])
                kept = old.get(mission_id)
                if kept is not None and kept["feature"] == feature:
                    missions[mission_id] = kept  # unchanged posts keep their ETag: phones need not refetch
                else:
                    missions[mission_id] = {"rev": self._bump(), "feature": feature}
            self._state["generation"] = int(self._state["generation"]) + 1
            self._state["meta"] = meta
            self._state["missions"] = missions
            after = {"dataset": meta, "features": list(features)}
            self._commit([(action, None, before, after, {"count": len(features)})], author)
            return StoredState(meta=meta, records=[MissionRecord(m["feature"], int(m["rev"]))
                                                   for m in missions.values()],
                               generation=int(self._state["generation"]))

    def _read_audit(self) -> list[AuditEntry]:
        if not self._audit_path.exists():
            return []
        generation = int(self._state["generation"])
        entries = []
        for line in self._audit_path.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                raw = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # a line being appended right now, or torn by a crash (trimmed at the next write)
            if int(raw["generation"]) > generation:
                continue  # written by a commit that died before its working copy landed
            entries.append(AuditEntry(raw["seq"], raw["at"], raw["author"], raw["action"], raw["mission_id"],
                                      raw["before"], raw["after"], raw["generation"], raw.get("extra", {})))
        return entries

    def audit(self, *, mission_id: str | None = None, limit: int = 100, before_seq: int | None = None
              ) -> list[AuditEntry]:
        with self._lock:
            self._refresh()
            entries = self._read_audit()
        selected = [e for e in reversed(entries)
                    if (mission_id is None or e.concerns(mission_id))
                    and (before_seq is None or e.seq < before_seq)]
        return selected[:limit]

    def audit_entry(self, seq: int) -> AuditEntry | None:
        with self._lock:
            self._refresh()
            return next((e for e in self._read_audit() if e.seq == seq), None)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)


def _line_generation(line: bytes) -> int:
    try:
        return int(orjson.loads(line)["generation"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return 1 << 62  # a torn last line: treat as newer than any state, so it is trimmed
