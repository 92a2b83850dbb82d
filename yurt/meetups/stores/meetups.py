"""Meetup storage: the ``MeetupStore`` interface and its embedded implementation (Redis: ``meetups_redis``).

Meetups are public events: the venue is exact. Attendance is where concurrency matters — capacity must hold
when a hundred people join at once — so every implementation checks and adds a seat in one atomic step.

Against spam (issue 11): an organiser holds at most ``max_active`` active meetups (not cancelled, not ended;
checked and counted in one atomic step), and search goes through the score index of
``yurt.meetups.model.search`` (each implementation offers it counts and contents of cells), so a crowd of
meetups does not slow a search down. A meetup leaves search when it ends or is cancelled, and is deleted with
its attendee list ``retention_s`` after its end.
"""

from __future__ import annotations

import abc
import heapq
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from yurt.core.store_errors import NotFound, StoreError
from yurt.meetups.model.cells import Venue, root, score
from yurt.meetups.model.search import CellReader, search
from yurt.meetups.stores.index import Root, SortedIndex

DEFAULT_RETENTION_S = 7 * 86_400.0


class NotOrganiserError(StoreError):
    pass


class MeetupConflictError(StoreError):
    """``reason``: full | closed | organiser | capacity_below_attendance."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooManyActiveError(StoreError):
    """The organiser already holds ``max_active`` active meetups."""

    def __init__(self, max_active: int) -> None:
        super().__init__(f"at most {max_active} active meetups")
        self.max_active = max_active


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

    def venue(self) -> Venue:
        return Venue.at(self.id, self.lat, self.lon, self.starts_at_s, self.ends_at_s)


class MeetupStore(abc.ABC):
    """Meetups, attendance (capacity enforced atomically), organisers' caps and the search index. Thread-safe.
    Callers pass the clock (``now_s``) and never move it back: what has ended leaves the index for good."""

    @abc.abstractmethod
    def create(self, meetup: Meetup, organiser_tid: str, now_s: float, max_active: int) -> Meetup:
        """TooManyActiveError when the organiser already holds ``max_active`` active meetups."""

    @abc.abstractmethod
    def get(self, meetup_id: str) -> Meetup | None: ...

    @abc.abstractmethod
    def many(self, meetup_ids: Sequence[str]) -> list[Meetup | None]: ...

    @abc.abstractmethod
    def update(self, meetup_id: str, organiser: str, organiser_tid: str, changes: Mapping[str, Any],
               now_s: float) -> Meetup:
        """NotFound, NotOrganiserError, MeetupConflictError('closed' | 'capacity_below_attendance')."""

    @abc.abstractmethod
    def cancel(self, meetup_id: str, organiser: str, organiser_tid: str) -> Meetup: ...

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
    def erase(self, sub: str, tid: str) -> None:
        """Leave every meetup ``sub`` attends; cancel the ones they organise and forget the organiser."""

    @abc.abstractmethod
    def reader(self, now_s: float, window_s: tuple[float, float] = (-math.inf, math.inf)) -> CellReader:
        """The search index as ``meetup_search`` reads it (a venue may stay in it a little past its end); a
        search for meetups overlapping ``window_s`` says so (a store may read ahead with it)."""

    def search(self, lat: float, lon: float, radius_km: float, limit: int, window_start_s: float,
               window_end_s: float, now_s: float) -> list[tuple[Meetup, float]]:
        """Active meetups overlapping [window_start_s, window_end_s) within ``radius_km``, nearest first, each
        with its geodesic distance in km."""
        start = max(window_start_s, now_s)

        def accept(venue: Venue) -> bool:
            return venue.ends_s > start and venue.starts_s < window_end_s

        found = search(self.reader(now_s, (start, window_end_s)), lat, lon, radius_km, limit, accept)
        meetups = self.many([f.venue.id for f in found])
        return [(m, f.distance_km) for m, f in zip(meetups, found, strict=True)
                if m is not None and m.status == "active"]


class EmbeddedMeetupStore(MeetupStore):
    def __init__(self, retention_s: float = DEFAULT_RETENTION_S) -> None:
        self._lock = threading.Lock()
        self._retention_s = retention_s
        self._meetups: dict[str, Meetup] = {}
        self._attendees: dict[str, set[str]] = {}
        self._index: dict[str, Root] = {}  # root cell → its venues by score
        self._indexed: dict[str, tuple[str, int]] = {}  # meetup id → (root, score)
        self._active: dict[str, dict[str, float]] = {}  # organiser tid → {meetup id: ends_at_s}
        self._ending: list[tuple[float, str]] = []  # heap (ends_at_s, id): leaves the index then
        self._expiring: list[tuple[float, str]] = []  # heap (ends + retention, id): deleted then

    def _counted(self, meetup: Meetup) -> Meetup:
        return replace(meetup, attending=len(self._attendees.get(meetup.id, ())))

    def _owned(self, meetup_id: str, organiser: str) -> Meetup:
        meetup = self._meetups.get(meetup_id)
        if meetup is None:
            raise NotFound(meetup_id)
        if meetup.organiser != organiser or not organiser:
            raise NotOrganiserError(meetup_id)
        return meetup

    def _unindex(self, meetup_id: str) -> None:
        found = self._indexed.pop(meetup_id, None)
        if found is not None:
            self._index[found[0]].remove(found[1], meetup_id)

    def _reindex(self, meetup: Meetup) -> None:
        self._unindex(meetup.id)
        at_score, where = score(meetup.lat, meetup.lon), root(meetup.lat, meetup.lon)
        self._index.setdefault(where, Root()).add(at_score, meetup.venue())
        self._indexed[meetup.id] = (where, at_score)
        heapq.heappush(self._ending, (meetup.ends_at_s, meetup.id))
        heapq.heappush(self._expiring, (meetup.ends_at_s + self._retention_s, meetup.id))

    def _sweep(self, now_s: float) -> None:
        while self._ending and self._ending[0][0] <= now_s:
            _, meetup_id = heapq.heappop(self._ending)
            meetup = self._meetups.get(meetup_id)
            if meetup is not None and meetup.ends_at_s <= now_s:  # not moved later since
                self._unindex(meetup_id)
        while self._expiring and self._expiring[0][0] <= now_s:
            _, meetup_id = heapq.heappop(self._expiring)
            meetup = self._meetups.get(meetup_id)
            if meetup is not None and meetup.ends_at_s + self._retention_s <= now_s:
                del self._meetups[meetup_id]
                self._attendees.pop(meetup_id, None)
                self._unindex(meetup_id)

    def create(self, meetup: Meetup, organiser_tid: str, now_s: float, max_active: int) -> Meetup:
        with self._lock:
            self._sweep(now_s)
            active = self._active.setdefault(organiser_tid, {})
            for meetup_id, ends_at_s in list(active.items()):
                if ends_at_s <= now_s:
                    del active[meetup_id]
            if len(active) >= max_active:
                raise TooManyActiveError(max_active)
            active[meetup.id] = meetup.ends_at_s
            self._meetups[meetup.id] = meetup
            self._reindex(meetup)
            return self._counted(meetup)

    def get(self, meetup_id: str) -> Meetup | None:
        with self._lock:
            meetup = self._meetups.get(meetup_id)
            return self._counted(meetup) if meetup else None

    def many(self, meetup_ids: Sequence[str]) -> list[Meetup | None]:
        with self._lock:
            found = [self._meetups.get(i) for i in meetup_ids]
            return [self._counted(m) if m is not None else None for m in found]

    def update(self, meetup_id: str, organiser: str, organiser_tid: str, changes: Mapping[str, Any],
               now_s: float) -> Meetup:
        with self._lock:
            self._sweep(now_s)
            meetup = self._owned(meetup_id, organiser)
            if meetup.status != "active":
                raise MeetupConflictError("closed")
            if changes.get("capacity", meetup.capacity) < len(self._attendees.get(meetup_id, ())):
                raise MeetupConflictError("capacity_below_attendance")
            updated = replace(meetup, **changes)
            self._meetups[meetup_id] = updated
            self._reindex(updated)
            active = self._active.get(organiser_tid, {})
            if meetup_id in active:
                active[meetup_id] = updated.ends_at_s
            return self._counted(updated)

    def cancel(self, meetup_id: str, organiser: str, organiser_tid: str) -> Meetup:
        with self._lock:
            meetup = replace(self._owned(meetup_id, organiser), status="cancelled")
            self._meetups[meetup_id] = meetup
            self._unindex(meetup_id)
            self._active.get(organiser_tid, {}).pop(meetup_id, None)
            return self._counted(meetup)

    def join(self, meetup_id: str, sub: str, tid: str, now_s: float) -> Meetup:
        with self._lock:
            self._sweep(now_s)
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

    def reader(self, now_s: float, window_s: tuple[float, float] = (-math.inf, math.inf)) -> CellReader:
        with self._lock:
            self._sweep(now_s)
        return SortedIndex(self._lock, self._index)

    def erase(self, sub: str, tid: str) -> None:
        with self._lock:
            for attendees in self._attendees.values():
                attendees.discard(sub)
            for meetup_id, meetup in list(self._meetups.items()):
                if meetup.organiser == sub:
                    self._meetups[meetup_id] = replace(meetup, organiser="", status="cancelled")
                    self._unindex(meetup_id)
            self._active.pop(tid, None)
