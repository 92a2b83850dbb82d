"""What restoring a bulk audit entry would overwrite: the edits made since that entry.

A restore puts the whole dataset back as it was before a bulk entry (its ``before``), so it would also undo
every later edit, single-mission ones included, without a word. A mission is *changed since* the entry when
its current state differs from what the entry left (``after``: someone edited, created or deleted it since)
**and** from what the restore would write (``before``: the restore would change it again). The same holds for
the dataset-wide facts. The comparison is by content: an edit that was itself undone since is no conflict, and
no audit entries in between need reading (there may be many, and a bulk entry holds two whole datasets).

Each snapshot is ``{"dataset": facts, "features": [GeoJSON Feature, ...]}``, as audit entries store them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RestoreConflicts:
    missions: tuple[str, ...]  # ids, sorted: missions a restore would overwrite although changed since
    dataset_facts: bool  # the dataset-wide facts changed since, and the restore would overwrite them

    def __bool__(self) -> bool:
        return bool(self.missions) or self.dataset_facts


def _by_id(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    return {str(f["properties"]["id"]): f for f in snapshot.get("features") or ()}


def restore_conflicts(before: Mapping[str, Any], after: Mapping[str, Any], current: Mapping[str, Any]
                      ) -> RestoreConflicts:
    """The edits made since a bulk entry (``before`` → ``after``) that restoring ``before`` over ``current``
    would undo."""
    old, left, now = _by_id(before), _by_id(after), _by_id(current)
    missions = sorted(mission_id for mission_id in old.keys() | left.keys() | now.keys()
                      if now.get(mission_id) != left.get(mission_id) and now.get(mission_id) != old.get(mission_id))
    facts = (current.get("dataset") != after.get("dataset")
             and current.get("dataset") != before.get("dataset"))
    return RestoreConflicts(tuple(missions), facts)
