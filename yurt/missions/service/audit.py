"""The audit trail of mission edits, as staff read it: pages of entries, one mission's history, one entry.

Every write is an append-only audit entry with its author, before and after. A bulk entry (replace all, import,
restore) holds two whole datasets: listings summarise it by what changed.
"""

from __future__ import annotations

from typing import Any

from yurt.missions.service.errors import Unknown
from yurt.missions.service.mission_service import MissionService
from yurt.missions.stores.base import AuditEntry


def _summary(entry: AuditEntry, mission_id: str | None = None) -> dict[str, Any]:
    """An entry for a listing. A bulk entry holds two whole datasets: list it by what changed, or, in one
    mission's history, by that mission's own before and after."""
    body = entry.to_json()
    if entry.mission_id is not None or entry.before is None or "features" not in (entry.after or {}):
        return body
    before = {f["properties"]["id"]: f for f in (entry.before or {}).get("features", [])}
    after = {f["properties"]["id"]: f for f in (entry.after or {}).get("features", [])}
    if mission_id is not None:
        body["before"], body["after"] = before.get(mission_id), after.get(mission_id)
        return body
    body["before"] = body["after"] = None
    body["changes"] = {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
        "dataset_changed": entry.before.get("dataset") != (entry.after or {}).get("dataset"),
    }
    body["detail_url"] = f"/v1/audit/{entry.seq}"
    return body


def _page(entries: list[AuditEntry], limit: int, base: str, mission_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"entries": [_summary(e, mission_id) for e in entries]}
    if len(entries) == limit:
        body["next"] = f"{base}?limit={limit}&before={entries[-1].seq}"
    return body


def mission_history(svc: MissionService, mission_id: str, limit: int, before: int | None) -> dict[str, Any]:
    """Who changed this mission, when, with before and after; newest first, paged with ``before``."""
    entries = svc.store.audit(mission_id=mission_id, limit=limit, before_seq=before)
    own = [e for e in entries if e.concerns(mission_id)]
    if not own and svc.catalogue.current().get(mission_id) is None and before is None:
        raise Unknown(f"no mission with id {mission_id!r} and no history for it")
    return _page(entries, limit, f"/v1/missions/{mission_id}/history", mission_id)


def audit_log(svc: MissionService, limit: int, before: int | None) -> dict[str, Any]:
    """The append-only audit trail, newest first, paged with ``before``; bulk entries are summarised."""
    return _page(svc.store.audit(limit=limit, before_seq=before), limit, "/v1/audit", None)


def audit_entry(svc: MissionService, seq: int) -> AuditEntry:
    """One audit entry in full (a bulk entry with both whole datasets)."""
    entry = svc.store.audit_entry(seq)
    if entry is None:
        raise Unknown(f"no audit entry {seq}")
    return entry
