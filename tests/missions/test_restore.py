"""``restore_conflicts``: which edits made since a bulk entry a restore of that entry would undo."""

from __future__ import annotations

from typing import Any

from yurt.missions.model.restore import restore_conflicts


def feature(mission_id: str, city: str) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"id": mission_id, "city": city}}


def snapshot(*features: dict[str, Any], facts: str = "v1") -> dict[str, Any]:
    return {"dataset": {"title": facts}, "features": list(features)}


BEFORE = snapshot(feature("a", "A0"), feature("b", "B0"), feature("c", "C0"), feature("d", "D0"))
AFTER = snapshot(feature("a", "A1"), feature("b", "B0"), feature("c", "C0"), feature("d", "D0"))  # changed a


def test_nothing_changed_since_is_no_conflict() -> None:
    assert not restore_conflicts(BEFORE, AFTER, AFTER)


def test_every_kind_of_later_edit_is_a_conflict() -> None:
    current = snapshot(feature("a", "A2"),  # the bulk's change, edited again
                       feature("b", "B9"),  # untouched by the bulk, edited since
                       feature("d", "D0"),  # untouched (c deleted since)
                       feature("e", "E0"))  # created since
    conflicts = restore_conflicts(BEFORE, AFTER, current)
    assert conflicts.missions == ("a", "b", "c", "e")
    assert not conflicts.dataset_facts


def test_an_edit_undone_since_or_matching_the_restore_is_no_conflict() -> None:
    # a was set back by hand to what the restore writes; nothing is lost either way.
    current = snapshot(feature("a", "A0"), feature("b", "B0"), feature("c", "C0"), feature("d", "D0"))
    assert not restore_conflicts(BEFORE, AFTER, current)


def test_dataset_facts() -> None:
    assert restore_conflicts(BEFORE, AFTER, snapshot(*AFTER["features"], facts="v2")).dataset_facts
    assert not restore_conflicts(BEFORE, snapshot(*AFTER["features"], facts="v2"),
                                 snapshot(*AFTER["features"], facts="v2")).dataset_facts
