"""JSON Merge Patch (RFC 7396): the body format of ``PATCH /v1/missions/<id>``.

A patch object's members replace the target's members, ``null`` deletes one, nested objects merge
recursively, and anything that is not an object (arrays included) replaces the target wholesale. This is the
``MergePatch`` pseudocode of RFC 7396 §2, written without mutating its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``target`` (RFC 7396 §2) and return the result; neither input is modified."""
    if not isinstance(patch, Mapping):
        return patch
    result: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result
