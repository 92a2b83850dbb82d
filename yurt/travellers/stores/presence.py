"""Traveller storage: the ``PresenceStore`` interface, its embedded implementation, and the store bundle.

Travellers are known to storage only by a pseudonym (``privacy.traveller_id``) and their position only as an
H3 resolution-7 cell. A share that finds no live presence (the first, or one after a ``DELETE``, an erase or an
expiry) starts a new *presence session* with a random id: per-viewer handles and the order inside a cell derive
from it, so sessions cannot be linked; blocks, reports and suspensions are kept against the pseudonym and hold
across sessions. The store also keeps when it first saw a traveller (or the token's ``iat`` if earlier), so
that area counts include only established accounts (``area_counts.ACCOUNT_AGE_FOR_AREAS_S``).

Every method takes the time explicitly (``now_s``, seconds since the epoch), so expiry is exact and tests
never sleep. The Redis implementations are in ``travellers_redis``; one contract suite
(tests/travellers/test_store_contract.py) runs against both. Meetups are in ``meetups``.
"""

from __future__ import annotations

import abc
import hashlib
import heapq
import hmac
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from yurt.core.rate import RateCharge
from yurt.core.settings import Settings, SettingsError
from yurt.core.store_errors import StoreError
from yurt.geo.privacy import (
    LimiterRecord,
    UpdatePolicy,
    decide_update,
    index_cell,
    index_cells_for,
    new_session,
    rotated,
    session_order,
)
from yurt.travellers.model.area_counts import ACCOUNT_AGE_FOR_AREAS_S, FIRST_SEEN_RETENTION_S
from yurt.travellers.model.steps import NearbyHead, NearbyRead, UpdateHead
from yurt.travellers.model.steps import Presence as Presence  # re-exported: the value callers import from here
from yurt.travellers.model.steps import Profile as Profile

HANDLE_TTL_S = 86_400.0  # a viewer can block or report a handle for a day after seeing it


class RateLimitError(StoreError):
    def __init__(self, reason: str, retry_after_s: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class ImplausibleMoveError(StoreError):
    """The update implies travelling faster than the policy allows since the last update."""


class SuspendedError(StoreError):
    """Staff suspended this traveller's visibility."""


def admitted_update(tid: str, record: LimiterRecord | None, cell: str, now_s: float,
                    policy: UpdatePolicy) -> LimiterRecord:
    """The limiter record after an accepted presence update (an expired ``record`` counts as none), for every
    store; raises ``ImplausibleMoveError`` or ``RateLimitError`` when the policy refuses the update."""
    if record is not None and record.expires_at_s(policy) <= now_s:
        record = None
    decision = decide_update(record, cell, now_s, policy)
    if not decision.allowed:
        if decision.reason == "too_fast":
            raise ImplausibleMoveError(tid)
        raise RateLimitError(decision.reason, decision.retry_after_s)
    assert decision.record is not None
    return decision.record


@dataclass(frozen=True)
class MemberRead:
    """Read ``count`` members of ``cell``'s hash-ordered set, ``offset`` places after ``rotation``."""

    cell: str
    rotation: int
    offset: int
    count: int


class PresenceStore(abc.ABC):
    """Presence, its index by cell, blocks, handles and suspensions (reports: ``traveller_reports``). Thread-safe.

    ``counts_requests``: the store counts a ``RateCharge`` inside ``nearby_head`` and ``update_head`` (one round
    trip for both); otherwise those ignore it and the caller counts it on its own.
    """

    policy: UpdatePolicy
    counts_requests = False

    def nearby_head(self, tid: str, radius_km: float, now_s: float, charge: RateCharge | None = None
                    ) -> NearbyHead:
        """The viewer's presence and the occupied cells a query of ``radius_km`` around it reads."""
        viewer = self.get_presence(tid, now_s)
        if viewer is None:
            return NearbyHead(None, {})
        return NearbyHead(viewer, self.occupied(index_cells_for(viewer.cell, radius_km), now_s))

    def read_page(self, viewer: Presence, cells: Sequence[tuple[str, int, int]], offset: int, limit: int,
                  now_s: float) -> NearbyRead | None:
        """Up to ``limit`` visible members of ``cells`` ((cell, rotation, count) in order, from ``offset`` in the
        first), neither blocked by nor blocking the viewer, remembered as shown to the viewer (``shown``): in
        one step where the store can. None: the caller reads in rounds (``read_members``, ``hidden_from``)."""
        return None

    def shown(self, viewer: str, now_s: float) -> list[tuple[str, str]]:
        """(tid, session) pairs ``read_page`` showed ``viewer`` in the last ``HANDLE_TTL_S``: a handle not in
        ``resolve_handle`` is recomputed from them."""
        return []

    def update_head(self, tid: str, now_s: float, charge: RateCharge | None = None) -> UpdateHead:
        return UpdateHead(self.limiter_record(tid, now_s))

    @abc.abstractmethod
    def put_presence(self, tid: str, cell: str, expires_at_s: float, profile: Profile, now_s: float,
                     account_since_s: float | None = None, head: UpdateHead | None = None) -> Presence:
        """Publish (or move) a presence after the update limits, in the live session or a new one.

        ``account_since_s``: when the caller's token says the account existed (its ``iat``), if it says; the
        store keeps the earliest of that and its own first sight of ``tid`` (for ``FIRST_SEEN_RETENTION_S``
        after the last share) and marks the presence established when that is ``ACCOUNT_AGE_FOR_AREAS_S`` old.
        """

    @abc.abstractmethod
    def get_presence(self, tid: str, now_s: float) -> Presence | None: ...

    @abc.abstractmethod
    def delete_presence(self, tid: str, now_s: float) -> None:
        """Remove presence and profile at once; the limiter record stays until its window ends."""

    @abc.abstractmethod
    def limiter_record(self, tid: str, now_s: float) -> LimiterRecord | None: ...

    @abc.abstractmethod
    def occupied(self, index_cells: Sequence[str], now_s: float, established_only: bool = False
                 ) -> dict[str, int]:
        """Resolution-7 cell → number of live presences (only established ones if asked), for the given
        resolution-5 index cells."""

    @abc.abstractmethod
    def read_members(self, reads: Sequence[MemberRead], now_s: float) -> list[list[tuple[str, Presence | None]]]:
        """For each read, members in the viewer's rotated hash order, each with its live presence in that cell
        (None when it expired or moved: the index entry is stale)."""

    @abc.abstractmethod
    def presences(self, tids: Sequence[str], now_s: float) -> dict[str, Presence]:
        """The live, unsuspended presences among ``tids``."""

    @abc.abstractmethod
    def remember_handles(self, viewer: str, handles: Mapping[str, str], now_s: float) -> None: ...

    @abc.abstractmethod
    def resolve_handle(self, viewer: str, handle: str, now_s: float) -> str | None: ...

    @abc.abstractmethod
    def block(self, viewer: str, target: str) -> None: ...

    @abc.abstractmethod
    def hidden_from(self, viewer: str, targets: Sequence[str]) -> set[str]:
        """Targets that ``viewer`` blocked or that blocked ``viewer``."""

    @abc.abstractmethod
    def suspend(self, tid: str, now_s: float) -> None:
        """Hide a traveller: presence removed, new presence refused."""

    @abc.abstractmethod
    def erase(self, tid: str, now_s: float) -> None:
        """Presence, profile, blocks, handles and first sight of ``tid``, atomically (the limiter record
        stays)."""

    @abc.abstractmethod
    def visible_count(self, now_s: float) -> int:
        """How many travellers are visible now (for the metrics gauge; one cheap read)."""


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


@dataclass(frozen=True)
class TravellerStores:
    """What the traveller use cases need: the presence store and the HMAC key for pseudonyms and handles."""

    presence: PresenceStore
    secret: bytes


def traveller_secret(settings: Settings) -> bytes:
    """YURT_TRAVELLER_SECRET, else a key derived from YURT_JWT_SECRET (HMAC as a KDF, RFC 5869 §2.2 style).

    Embedded mode without either falls back to a per-process random key: its state lives in that process
    anyway. Redis mode must be stable across workers and restarts, so it refuses to start without one.
    """
    if settings.traveller_secret:
        return settings.traveller_secret.encode()
    if settings.jwt_secret:
        return hmac.new(settings.jwt_secret.encode(), b"yurt-traveller-secret", hashlib.sha256).digest()
    if settings.redis_url:
        raise SettingsError("Redis mode needs YURT_TRAVELLER_SECRET (or YURT_JWT_SECRET to derive it from)")
    return secrets.token_bytes(32)
