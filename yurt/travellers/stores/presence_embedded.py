"""The embedded ``PresenceStore``: one process's memory, behind one lock; the contract suite
(tests/travellers/test_store_contract.py) runs it beside the Redis store."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Mapping, Sequence

from yurt.geo.privacy import (
    LimiterRecord,
    UpdatePolicy,
    index_cell,
    new_session,
    rotated,
    session_order,
)
from yurt.travellers.model.area_counts import ACCOUNT_AGE_FOR_AREAS_S, FIRST_SEEN_RETENTION_S
from yurt.travellers.model.steps import Presence, Profile, UpdateHead
from yurt.travellers.stores.presence import (
    HANDLE_TTL_S,
    MemberRead,
    PresenceStore,
    SuspendedError,
    admitted_update,
)


class EmbeddedPresenceStore(PresenceStore):
    """One process, one lock; every operation is atomic under it."""

    def __init__(self, policy: UpdatePolicy | None = None) -> None:
        self.policy = policy or UpdatePolicy()
        self._lock = threading.Lock()
        self._presence: dict[str, Presence] = {}
        self._expiries: list[tuple[float, str]] = []  # heap: expired presences leave without a full scan
        self._coarse: dict[str, set[str]] = {}  # index cell → occupied resolution-7 cells
        self._cells: dict[str, dict[str, int]] = {}  # cell → {tid: order}
        self._limits: dict[str, LimiterRecord] = {}
        self._blocks: dict[str, set[str]] = {}
        self._handles: dict[str, dict[str, tuple[str, float]]] = {}
        self._suspended: set[str] = set()
        self._first_seen: dict[str, tuple[float, float]] = {}  # tid → (first seen, forget after)

    def _live(self, tid: str, now_s: float) -> Presence | None:
        presence = self._presence.get(tid)
        if presence is not None and presence.expires_at_s <= now_s:
            self._drop(tid)
            return None
        return presence

    def _drop(self, tid: str) -> None:
        presence = self._presence.pop(tid, None)
        if presence is not None:
            members = self._cells.get(presence.cell, {})
            members.pop(tid, None)
            if not members:
                self._cells.pop(presence.cell, None)
                self._coarse.get(index_cell(presence.cell), set()).discard(presence.cell)

    def _established(self, tid: str, account_since_s: float | None, now_s: float) -> bool:
        first, forget_after = self._first_seen.get(tid, (now_s, now_s))
        if forget_after < now_s:
            first = now_s
        first = min(first, account_since_s if account_since_s is not None else now_s)
        self._first_seen[tid] = (first, now_s + FIRST_SEEN_RETENTION_S)
        return now_s - first >= ACCOUNT_AGE_FOR_AREAS_S

    def put_presence(self, tid: str, cell: str, expires_at_s: float, profile: Profile, now_s: float,
                     account_since_s: float | None = None, head: UpdateHead | None = None) -> Presence:
        with self._lock:
            if tid in self._suspended:
                raise SuspendedError(tid)
            self._limits[tid] = admitted_update(tid, self.limiter_record_locked(tid, now_s), cell, now_s, self.policy)
            live = self._live(tid, now_s)
            session = live.session if live is not None else new_session()
            self._drop(tid)
            presence = Presence(tid, cell, expires_at_s, profile, session,
                                self._established(tid, account_since_s, now_s))
            self._presence[tid] = presence
            heapq.heappush(self._expiries, (expires_at_s, tid))
            self._coarse.setdefault(index_cell(cell), set()).add(cell)
            self._cells.setdefault(cell, {})[tid] = session_order(session)
            return presence

    def limiter_record_locked(self, tid: str, now_s: float) -> LimiterRecord | None:
        record = self._limits.get(tid)
        if record is not None and record.expires_at_s(self.policy) <= now_s:
            del self._limits[tid]
            return None
        return record

    def limiter_record(self, tid: str, now_s: float) -> LimiterRecord | None:
        with self._lock:
            return self.limiter_record_locked(tid, now_s)

    def get_presence(self, tid: str, now_s: float) -> Presence | None:
        with self._lock:
            return self._live(tid, now_s)

    def delete_presence(self, tid: str, now_s: float) -> None:
        with self._lock:
            self._drop(tid)

    def occupied(self, index_cells: Sequence[str], now_s: float, established_only: bool = False
                 ) -> dict[str, int]:
        wanted = set(index_cells)
        with self._lock:
            while self._expiries and self._expiries[0][0] <= now_s:
                _, tid = heapq.heappop(self._expiries)
                self._live(tid, now_s)  # drops it if this entry was its current expiry
            cells = [c for coarse in wanted for c in self._coarse.get(coarse, ())]
            if not established_only:
                return {c: len(self._cells[c]) for c in cells}
            counts = {c: sum(self._presence[t].established for t in self._cells[c]) for c in cells}
            return {c: n for c, n in counts.items() if n > 0}

    def read_members(self, reads: Sequence[MemberRead], now_s: float) -> list[list[tuple[str, Presence | None]]]:
        out = []
        with self._lock:
            for read in reads:
                members = list(self._cells.get(read.cell, {}).items())
                page = rotated(members, read.rotation)[read.offset:read.offset + read.count]
                live = [(t, self._presence.get(t)) for t in page]
                out.append([(t, p if p is not None and p.expires_at_s > now_s and p.cell == read.cell else None)
                            for t, p in live])
        return out

    def presences(self, tids: Sequence[str], now_s: float) -> dict[str, Presence]:
        with self._lock:
            found = {t: self._live(t, now_s) for t in tids}
            return {t: p for t, p in found.items() if p is not None and t not in self._suspended}

    def remember_handles(self, viewer: str, handles: Mapping[str, str], now_s: float) -> None:
        with self._lock:
            known = self._handles.setdefault(viewer, {})
            for handle, target in handles.items():
                known[handle] = (target, now_s + HANDLE_TTL_S)

    def resolve_handle(self, viewer: str, handle: str, now_s: float) -> str | None:
        with self._lock:
            entry = self._handles.get(viewer, {}).get(handle)
            return entry[0] if entry is not None and entry[1] > now_s else None

    def block(self, viewer: str, target: str) -> None:
        with self._lock:
            self._blocks.setdefault(viewer, set()).add(target)

    def hidden_from(self, viewer: str, targets: Sequence[str]) -> set[str]:
        with self._lock:
            mine = self._blocks.get(viewer, set())
            return {t for t in targets if t in mine or viewer in self._blocks.get(t, set())}

    def suspend(self, tid: str, now_s: float) -> None:
        with self._lock:
            self._suspended.add(tid)
            self._drop(tid)

    def erase(self, tid: str, now_s: float) -> None:
        with self._lock:
            self._drop(tid)
            self._blocks.pop(tid, None)
            self._handles.pop(tid, None)
            self._first_seen.pop(tid, None)

    def visible_count(self, now_s: float) -> int:
        with self._lock:
            return sum(1 for p in self._presence.values() if p.expires_at_s > now_s)
