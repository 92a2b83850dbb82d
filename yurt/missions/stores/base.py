"""Storage interfaces. Each has an embedded (in-process / local file) and a Redis implementation.

``MissionStore`` is the record of truth for mission data. Every write is a compare-and-set on the mission's
ETag (or the dataset's, for a bulk replace) and appends an audit entry in the same atomic step, so two staff
editing one post can never silently overwrite each other and the audit never lists a write that did not land.

``ResultCache`` is a best-effort cache. Its failure policy is *fail open*: an unreachable cache answers
"miss" and swallows writes, and the caller computes the answer itself.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from yurt.missions.model.dataset import MissionRecord


@dataclass(frozen=True)
class StoredState:
    """Everything needed to build a ``Dataset``: meta, records and the store's generation counter."""

    meta: Mapping[str, Any]
    records: Sequence[MissionRecord]
    generation: int


# Audit actions that replace the whole dataset (``mission_id`` None): they belong in every mission's history.
BULK_ACTIONS = frozenset({"replace_all", "import", "restore"})


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str  # ISO 8601 UTC
    author: str
    action: str  # create | replace | patch | delete | replace_all | restore
    mission_id: str | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    generation: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    def concerns(self, mission_id: str) -> bool:
        """Whether this entry is in ``mission_id``'s history: its own edits and every bulk replace."""
        return self.mission_id == mission_id or (self.mission_id is None and self.action in BULK_ACTIONS)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "author": self.author,
            "action": self.action,
            "mission_id": self.mission_id,
            "before": self.before,
            "after": self.after,
            "generation": self.generation,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }


class MissionStore(abc.ABC):
    """The record of truth for missions. Implementations are thread-safe."""

    @abc.abstractmethod
    def generation(self) -> int:
        """A counter that changes with every acknowledged write; cheap, polled by every worker."""

    @abc.abstractmethod
    def load(self) -> StoredState:
        """A consistent snapshot of the whole dataset."""

    @abc.abstractmethod
    def create(self, feature: Mapping[str, Any], *, author: str, action: str = "create") -> MissionRecord:
        """Add a mission; ``AlreadyExists`` if its id is taken. ``action`` names it in the audit."""

    @abc.abstractmethod
    def update(
        self, mission_id: str, feature: Mapping[str, Any], *, if_match: str, author: str, action: str = "replace"
    ) -> MissionRecord:
        """Replace one mission if its ETag is still ``if_match``; else ``StalePrecondition``."""

    @abc.abstractmethod
    def delete(self, mission_id: str, *, if_match: str, author: str, action: str = "delete") -> None:
        """Remove one mission (its last state stays in the audit trail)."""

    @abc.abstractmethod
    def replace_all(
        self, meta: Mapping[str, Any], features: Sequence[Mapping[str, Any]], *, if_match: str, author: str,
        action: str = "replace_all",
    ) -> StoredState:
        """Replace the whole dataset if the dataset ETag is still ``if_match``; all or nothing."""

    @abc.abstractmethod
    def audit(self, *, mission_id: str | None = None, limit: int = 100, before_seq: int | None = None
              ) -> list[AuditEntry]:
        """Audit entries, newest first; ``before_seq`` pages backwards."""

    @abc.abstractmethod
    def audit_entry(self, seq: int) -> AuditEntry | None:
        """One audit entry by its sequence number (to undo a bulk replace)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or file handles."""
