"""Traveller storage: the ``PresenceStore`` and ``MeetupStore`` interfaces and their embedded implementations.

Travellers are known to storage only by a pseudonym (``privacy.traveller_id``) and their position only as an
H3 resolution-7 cell. Every method takes the time explicitly (``now_s``, seconds since the epoch), so expiry
is exact and tests never sleep. The Redis implementations are in ``travellers_redis``; one contract suite
(tests/storage/test_travellers_contract.py) runs against both.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from yurt.domain.privacy import LimiterRecord, UpdatePolicy, decide_update, index_cell, rotated
from yurt.storage.base import NotFound, StoreError

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


class NotOrganiserError(StoreError):
    pass


class MeetupConflictError(StoreError):
    """``reason``: full | closed | organiser | capacity_below_attendance."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Profile:
    display_name: str
    languages: tuple[str, ...]
    about: str | None


@dataclass(frozen=True)
class Presence:
    tid: str
    cell: str
    expires_at_s: float
    profile: Profile


@dataclass(frozen=True)
class Report:
    id: int
    at_s: float
    reporter: str
    target: str
    reason: str


@dataclass(frozen=True)
class MemberRead:
    """Read ``count`` members of ``cell``'s hash-ordered set, ``offset`` places after ``rotation``."""

    cell: str
    rotation: int
    offset: int
    count: int


class PresenceStore(abc.ABC):
    """Presence, its index by cell, blocks, handles, reports and suspensions. Thread-safe."""

    policy: UpdatePolicy

    @abc.abstractmethod
    def put_presence(self, tid: str, cell: str, expires_at_s: float, profile: Profile, order: int,
                     now_s: float) -> Presence:
        """Publish (or move) a presence after the update limits; ``order`` is the member's hash score."""

    @abc.abstractmethod
    def get_presence(self, tid: str, now_s: float) -> Presence | None: ...

    @abc.abstractmethod
    def delete_presence(self, tid: str, now_s: float) -> None:
        """Remove presence and profile at once; the limiter record stays until its window ends."""

    @abc.abstractmethod
    def limiter_record(self, tid: str, now_s: float) -> LimiterRecord | None: ...

    @abc.abstractmethod
    def occupied(self, index_cells: Sequence[str], now_s: float) -> dict[str, int]:
        """Resolution-7 cell → number of live presences, for the given resolution-5 index cells."""

    @abc.abstractmethod
    def read_members(self, reads: Sequence[MemberRead], now_s: float) -> list[list[str]]:
        """For each read, member ids in the viewer's rotated hash order."""

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
    def add_report(self, reporter: str, target: str, reason: str, now_s: float) -> Report: ...

    @abc.abstractmethod
    def list_reports(self, limit: int = 100) -> list[Report]:
        """Newest first."""

    @abc.abstractmethod
    def suspend(self, tid: str, now_s: float) -> None:
        """Hide a traveller: presence removed, new presence refused."""

    @abc.abstractmethod
    def erase(self, tid: str, now_s: float) -> None:
        """Presence, profile, blocks and handles of ``tid``, atomically (the limiter record stays)."""


@dataclass(frozen=True)
class Meetup:
    id: str
    organiser: str  # the organiser's sub ("" once erased)
    title: str
    description: str
    starts_at_s: float
    ends_at_s: float
    lat: float
    lon: float
    place_name: str
    capacity: int
    time_zone: str | None
    status: str = "active"  # active | cancelled
    attending: int = 0

    def to_record(self) -> dict[str, Any]:
        record = self.__dict__.copy()
        record.pop("attending")
        return record


class MeetupStore(abc.ABC):
    """Meetups, their attendance (capacity enforced atomically) and a coarse-cell index. Thread-safe."""

    @abc.abstractmethod
    def create(self, meetup: Meetup, index_cell: str, organiser_tid: str) -> Meetup: ...

    @abc.abstractmethod
    def get(self, meetup_id: str) -> Meetup | None: ...

    @abc.abstractmethod
    def update(self, meetup_id: str, organiser: str, changes: Mapping[str, Any], index_cell: str) -> Meetup:
        """NotFound, NotOrganiserError, MeetupConflictError('closed' | 'capacity_below_attendance')."""

    @abc.abstractmethod
    def cancel(self, meetup_id: str, organiser: str) -> Meetup: ...

    @abc.abstractmethod
    def join(self, meetup_id: str, sub: str, tid: str, now_s: float) -> Meetup:
        """Idempotent; MeetupConflictError('full' | 'closed' | 'organiser')."""

    @abc.abstractmethod
    def leave(self, meetup_id: str, sub: str, tid: str) -> Meetup: ...

    @abc.abstractmethod
    def attendees(self, meetup_id: str) -> list[str]: ...

    @abc.abstractmethod
    def is_attending(self, meetup_id: str, sub: str) -> bool: ...

    @abc.abstractmethod
    def in_cells(self, index_cells: Sequence[str], now_s: float) -> list[Meetup]:
        """Active, not yet ended meetups indexed under the given cells."""

    @abc.abstractmethod
    def erase(self, sub: str, tid: str) -> None:
        """Leave every meetup ``sub`` attends; cancel the ones they organise and forget the organiser."""


class EmbeddedPresenceStore(PresenceStore):
    """One process, one lock; every operation is atomic under it."""

    def __init__(self, policy: UpdatePolicy | None = None) -> None:
        self.policy = policy or UpdatePolicy()
        self._lock = threading.Lock()
        self._presence: dict[str, Presence] = {}
        self._cells: dict[str, dict[str, int]] = {}  # cell → {tid: order}
        self._limits: dict[str, LimiterRecord] = {}
        self._blocks: dict[str, set[str]] = {}
        self._handles: dict[str, dict[str, tuple[str, float]]] = {}
        self._reports: list[Report] = []
        self._suspended: set[str] = set()

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

    def put_presence(self, tid: str, cell: str, expires_at_s: float, profile: Profile, order: int,
                     now_s: float) -> Presence:
        with self._lock:
            if tid in self._suspended:
                raise SuspendedError(tid)
            decision = decide_update(self.limiter_record_locked(tid, now_s), cell, now_s, self.policy)
            if not decision.allowed:
                if decision.reason == "too_fast":
                    raise ImplausibleMoveError(tid)
                raise RateLimitError(decision.reason, decision.retry_after_s)
            assert decision.record is not None
            self._limits[tid] = decision.record
            self._drop(tid)
            presence = Presence(tid, cell, expires_at_s, profile)
            self._presence[tid] = presence
            self._cells.setdefault(cell, {})[tid] = order
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

    def occupied(self, index_cells: Sequence[str], now_s: float) -> dict[str, int]:
        wanted = set(index_cells)
        with self._lock:
            for tid in [t for t, p in self._presence.items() if p.expires_at_s <= now_s]:
                self._drop(tid)
            return {c: len(m) for c, m in self._cells.items() if m and index_cell(c) in wanted}

    def read_members(self, reads: Sequence[MemberRead], now_s: float) -> list[list[str]]:
        out = []
        with self._lock:
            for read in reads:
                members = list(self._cells.get(read.cell, {}).items())
                ordered = rotated(members, read.rotation)
                out.append(ordered[read.offset:read.offset + read.count])
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

    def add_report(self, reporter: str, target: str, reason: str, now_s: float) -> Report:
        with self._lock:
            report = Report(len(self._reports) + 1, now_s, reporter, target, reason)
            self._reports.append(report)
            return report

    def list_reports(self, limit: int = 100) -> list[Report]:
        with self._lock:
            return list(reversed(self._reports))[:limit]

    def suspend(self, tid: str, now_s: float) -> None:
        with self._lock:
            self._suspended.add(tid)
            self._drop(tid)

    def erase(self, tid: str, now_s: float) -> None:
        with self._lock:
            self._drop(tid)
            self._blocks.pop(tid, None)
            self._handles.pop(tid, None)


class EmbeddedMeetupStore(MeetupStore):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._meetups: dict[str, Meetup] = {}
        self._attendees: dict[str, set[str]] = {}
        self._cells: dict[str, set[str]] = {}

    def _counted(self, meetup: Meetup) -> Meetup:
        return replace(meetup, attending=len(self._attendees.get(meetup.id, ())))

    def _owned(self, meetup_id: str, organiser: str) -> Meetup:
        meetup = self._meetups.get(meetup_id)
        if meetup is None:
            raise NotFound(meetup_id)
        if meetup.organiser != organiser or not organiser:
            raise NotOrganiserError(meetup_id)
        return meetup

    def create(self, meetup: Meetup, index_cell: str, organiser_tid: str) -> Meetup:
        with self._lock:
            self._meetups[meetup.id] = meetup
            self._cells.setdefault(index_cell, set()).add(meetup.id)
            return self._counted(meetup)

    def get(self, meetup_id: str) -> Meetup | None:
        with self._lock:
            meetup = self._meetups.get(meetup_id)
            return self._counted(meetup) if meetup else None

    def update(self, meetup_id: str, organiser: str, changes: Mapping[str, Any], index_cell: str) -> Meetup:
        with self._lock:
            meetup = self._owned(meetup_id, organiser)
            if meetup.status != "active":
                raise MeetupConflictError("closed")
            if changes.get("capacity", meetup.capacity) < len(self._attendees.get(meetup_id, ())):
                raise MeetupConflictError("capacity_below_attendance")
            for cell_ids in self._cells.values():
                cell_ids.discard(meetup_id)
            self._cells.setdefault(index_cell, set()).add(meetup_id)
            updated = replace(meetup, **changes)
            self._meetups[meetup_id] = updated
            return self._counted(updated)

    def cancel(self, meetup_id: str, organiser: str) -> Meetup:
        with self._lock:
            meetup = replace(self._owned(meetup_id, organiser), status="cancelled")
            self._meetups[meetup_id] = meetup
            return self._counted(meetup)

    def join(self, meetup_id: str, sub: str, tid: str, now_s: float) -> Meetup:
        with self._lock:
            meetup = self._meetups.get(meetup_id)
            if meetup is None:
                raise NotFound(meetup_id)
            attendees = self._attendees.setdefault(meetup_id, set())
            if sub in attendees:
                return self._counted(meetup)
            if meetup.status != "active" or meetup.ends_at_s <= now_s:
                raise MeetupConflictError("closed")
            if sub == meetup.organiser:
                raise MeetupConflictError("organiser")
            if len(attendees) >= meetup.capacity:
                raise MeetupConflictError("full")
            attendees.add(sub)
            return self._counted(meetup)

    def leave(self, meetup_id: str, sub: str, tid: str) -> Meetup:
        with self._lock:
            meetup = self._meetups.get(meetup_id)
            if meetup is None:
                raise NotFound(meetup_id)
            self._attendees.get(meetup_id, set()).discard(sub)
            return self._counted(meetup)

    def attendees(self, meetup_id: str) -> list[str]:
        with self._lock:
            return sorted(self._attendees.get(meetup_id, ()))

    def is_attending(self, meetup_id: str, sub: str) -> bool:
        with self._lock:
            return sub in self._attendees.get(meetup_id, ())

    def in_cells(self, index_cells: Sequence[str], now_s: float) -> list[Meetup]:
        with self._lock:
            ids = set().union(*(self._cells.get(c, set()) for c in index_cells)) if index_cells else set()
            found = [self._meetups[i] for i in sorted(ids)]
            return [self._counted(m) for m in found if m.status == "active" and m.ends_at_s > now_s]

    def erase(self, sub: str, tid: str) -> None:
        with self._lock:
            for attendees in self._attendees.values():
                attendees.discard(sub)
            for meetup_id, meetup in list(self._meetups.items()):
                if meetup.organiser == sub:
                    self._meetups[meetup_id] = replace(meetup, organiser="", status="cancelled")
