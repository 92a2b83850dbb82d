"""Undo one single-mission audit entry: put the mission back as it was before it.

The entry's ``before`` is the target: a Feature (the entry replaced, patched or deleted the mission; a deleted
one is created again) or nothing (the entry created the mission: undoing it deletes the mission). Like the
bulk restore (``yurt.missions.model.restore``), an undo would also revert every later edit of that mission without a
word, so a mission changed since the entry (its current state differs from what the entry left *and* from
what the undo would write) is ``ChangedSince`` unless the caller names it in ``overwrite``.

Preconditions are the mission's own: ``if_match`` must be its current ETag (so the caller has seen what the
undo replaces; the store re-checks it atomically), and recreating a deleted mission needs ``create_only``
(``If-None-Match: *``), so an undo never creates a mission the caller believed was there.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from yurt.core.store_errors import StalePrecondition
from yurt.missions.model.dataset import MissionRecord
from yurt.missions.model.restore import RestoreConflicts, restore_conflicts
from yurt.missions.stores.base import AuditEntry, MissionStore

RESTORE_ACTION = "restore"


class PreconditionMissing(Exception):
    """The request lacks the precondition this undo needs: ``header`` names it."""

    def __init__(self, header: str, reason: str) -> None:
        super().__init__(reason)
        self.header = header
        self.reason = reason


class NothingToRestore(Exception):
    """The mission is already as it was before the entry."""


class ChangedSince(Exception):
    def __init__(self, conflicts: RestoreConflicts) -> None:
        super().__init__("changed since the entry")
        self.conflicts = conflicts


@dataclass(frozen=True)
class Restored:
    record: MissionRecord | None  # None: the undo deleted the mission
    before: Mapping[str, Any] | None  # the mission as it was just before the undo


def _snapshot(feature: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"dataset": None, "features": [feature] if feature is not None else []}


def restore_mission(store: MissionStore, entry: AuditEntry, *, if_match: str | None, create_only: bool,
                    overwrite: Collection[str], author: str,
                    validate: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Restored:
    """Write the mission as it was before ``entry`` (a single-mission entry); ``validate`` checks the target
    against today's schema and rules (a record from an old entry may no longer be valid)."""
    mission_id = entry.mission_id
    assert mission_id is not None, "a bulk entry is restored as a whole dataset"
    current = next((r for r in store.load().records if r.id == mission_id), None)
    target = entry.before
    if current is None:
        if target is None:
            raise NothingToRestore(mission_id)
        if not create_only:
            raise PreconditionMissing("If-None-Match", f"{mission_id} does not exist now; undoing this entry "
                                                       "creates it again: send If-None-Match: *")
    elif if_match is None:
        raise PreconditionMissing("If-Match", f"this undo changes {mission_id}: send If-Match with its ETag")
    elif if_match != current.etag:
        raise StalePrecondition(current.etag, current.feature)
    if current is not None and target is not None and dict(current.feature) == dict(target):
        raise NothingToRestore(mission_id)
    conflicts = restore_conflicts(_snapshot(target), _snapshot(entry.after),
                                  _snapshot(current.feature if current else None))
    if conflicts and mission_id not in overwrite:
        raise ChangedSince(conflicts)
    before = current.feature if current is not None else None
    if target is None:
        assert current is not None and if_match is not None
        store.delete(mission_id, if_match=if_match, author=author, action=RESTORE_ACTION)
        return Restored(None, before)
    feature = validate(target)
    if current is None:
        return Restored(store.create(feature, author=author, action=RESTORE_ACTION), before)
    assert if_match is not None
    return Restored(store.update(mission_id, feature, if_match=if_match, author=author, action=RESTORE_ACTION),
                    before)
