"""Meetup storage: the ``MeetupStore`` interface and its embedded implementation (Redis: ``meetups_redis``).

Meetups are public events: the venue is exact. Attendance is where concurrency matters — capacity must hold
when a hundred people join at once — so every implementation checks and adds a seat in one atomic step.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from yurt.storage.base import NotFound, StoreError


class NotOrganiserError(StoreError):
    pass


class MeetupConflictError(StoreError):
    """``reason``: full | closed | organiser | capacity_below_attendance."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
