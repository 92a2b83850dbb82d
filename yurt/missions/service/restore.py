"""Undoing an audit entry: the dataset as it was before a bulk entry, or one mission as it was before a
single-mission entry (``yurt.missions.service.restore_one``).

An undo writes through the same optimistic concurrency as an edit (``if_match``). It would also revert every
edit made since the entry without a word, so it is a ``Conflict`` listing those edits (``changed_since``)
unless the caller names them in ``options`` (``{"overwrite": [ids], "overwrite_dataset_facts": bool}``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from yurt.core.store_errors import StalePrecondition
from yurt.missions.model.dataset import dataset_etag
from yurt.missions.model.restore import RestoreConflicts, restore_conflicts
from yurt.missions.service.errors import Conflict
from yurt.missions.service.mission_service import MissionService
from yurt.missions.service.restore_one import ChangedSince, NothingToRestore, Restored, restore_mission
from yurt.missions.service.staff import collection_from, feature_from, replace_all
from yurt.missions.stores.base import AuditEntry


def restore_conflict(seq: int, conflicts: RestoreConflicts, options: Mapping[str, Any]) -> Conflict | None:
    """The conflict when the restore would undo edits made since entry ``seq`` that the body did not name."""
    named = set(options["overwrite"])
    unconfirmed = [mission_id for mission_id in conflicts.missions if mission_id not in named]
    facts = conflicts.dataset_facts and not options["overwrite_dataset_facts"]
    if not unconfirmed and not facts:
        return None
    shown = ", ".join(unconfirmed[:5]) + (", ..." if len(unconfirmed) > 5 else "")
    what = ([f"{len(unconfirmed)} mission(s) ({shown})"] if unconfirmed else []) + (
        ["the dataset-wide facts"] if facts else [])
    errors: dict[str, list[str]] = {}
    if unconfirmed:
        errors["overwrite"] = [f"{len(unconfirmed)} mission(s) changed since entry {seq} are not named here "
                               "(listed in `unconfirmed`)"]
    if facts:
        errors["overwrite_dataset_facts"] = [f"the facts changed since entry {seq}; send true to overwrite them"]
    return Conflict(f"restoring audit entry {seq} would undo edits made since to {' and '.join(what)}; "
                    "review them (their history lists the edits), then name what to overwrite anyway in "
                    'the body: {"overwrite": [ids], "overwrite_dataset_facts": true}',
                    errors=errors,
                    extra={"changed_since": list(conflicts.missions), "unconfirmed": unconfirmed,
                           "dataset_facts_changed_since": conflicts.dataset_facts})


def refuse_undoing_later_edits(svc: MissionService, seq: int, before: Mapping[str, Any], after: Mapping[str, Any],
                               if_match: str, options: Mapping[str, Any]) -> None:
    """``StalePrecondition`` unless ``if_match`` is the current dataset ETag; ``Conflict`` when restoring bulk
    entry ``seq`` (``before`` → ``after``) would undo edits made since that the body did not name.

    The conflicts are those of the version the caller's If-Match names, and the restore's write re-checks that
    ETag atomically: an edit landing in between is stale, never a silent overwrite."""
    state = svc.store.load()
    features = [r.feature for r in state.records]
    current_etag = dataset_etag(state.meta, features)
    if current_etag != if_match:
        raise StalePrecondition(current_etag)
    conflict = restore_conflict(seq, restore_conflicts(before, after, {"dataset": state.meta,
                                                                       "features": features}), options)
    if conflict is not None:
        raise conflict


def restore_dataset(svc: MissionService, seq: int, entry: AuditEntry, *, if_match: str,
                    options: Mapping[str, Any], author: str) -> dict[str, Any]:
    """The dataset as it was before bulk entry ``seq``: ``{"count", "generation", "etag"}`` of it."""
    before = entry.before
    if not isinstance(before, Mapping) or "features" not in before:
        raise Conflict(f"audit entry {seq} ({entry.action}) holds no dataset to restore")
    refuse_undoing_later_edits(svc, seq, before, entry.after or {}, if_match, options)
    raw = {"type": "FeatureCollection", "dataset": before.get("dataset"), "features": before["features"]}
    meta, features = collection_from(svc, raw)
    return replace_all(svc, meta, features, if_match=if_match, author=author, action="restore")


def restore_single(svc: MissionService, seq: int, entry: AuditEntry, *, if_match: str | None, create_only: bool,
                   options: Mapping[str, Any], author: str) -> Restored:
    """Undo single-mission entry ``seq``: the mission as it was before it (deleted if the entry created it).

    Besides ``Conflict``, raises what ``restore_mission`` raises: ``PreconditionMissing``,
    ``StalePrecondition``, and ``NotFound`` / ``AlreadyExists`` when the mission was deleted or created
    between the check and the write."""
    overwrite: Collection[str] = options["overwrite"]
    try:
        restored = restore_mission(svc.store, entry, if_match=if_match, create_only=create_only,
                                   overwrite=overwrite, author=author,
                                   validate=lambda raw: feature_from(svc, raw))
    except NothingToRestore:
        raise Conflict(f"mission {entry.mission_id} is already as it was before audit entry {seq}") from None
    except ChangedSince as exc:
        conflict = restore_conflict(seq, exc.conflicts, options)
        assert conflict is not None  # ChangedSince is raised only for a mission the body did not name
        raise conflict from None
    svc.catalogue.refresh()
    return restored
