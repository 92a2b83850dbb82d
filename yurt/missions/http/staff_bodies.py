"""Staff request bodies and preconditions turned into data or into problems with field paths.

Validation messages become field paths (``yurt.core.field_errors``): ``properties.phones[0].number``, and
``features[3].properties.email`` for a bulk replace.
``required_etag`` enforces RFC 9110 §13.1.1 for lost-update protection: exactly one strong ETag, else 428
(RFC 6585 §3); ``stale`` is the 412 that carries the current ETag and record. ``restore_options`` reads the
optional body of an undo (``{"overwrite": [ids]}``) and ``restore_conflict`` is the 409 that lists the
edits made since the entry, which an undo would otherwise silently revert.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import request
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from yurt.composition import services
from yurt.core.field_errors import field_errors
from yurt.core.http.conventions import load_body
from yurt.core.http.preconditions import stale
from yurt.core.http.problems import Problem
from yurt.core.store_errors import StalePrecondition
from yurt.missions.model.dataset import dataset_etag
from yurt.missions.model.restore import RestoreConflicts, restore_conflicts
from yurt.missions.schemas.dataset import DatasetError, parse_feature

_FEATURE_PATH = re.compile(r"^(features\[\d+\]) \(.*\)$")


def invalid(exc: ValidationError) -> Problem:
    errors = field_errors(exc.messages)
    return Problem(422, "the mission is invalid: " + ", ".join(sorted(errors)), errors=errors)


def feature_from(raw: Any) -> dict[str, Any]:
    try:
        return parse_feature(raw, services().locator.timezone_at)
    except ValidationError as exc:
        raise invalid(exc) from None


def collection_problem(exc: DatasetError) -> Problem:
    errors: dict[str, list[str]] = {}
    for path, messages in exc.errors.items():
        match = _FEATURE_PATH.match(path)  # "features[3] (kz-x)" → "features[3]"; the id is in the detail
        errors.update(field_errors(messages, match.group(1) if match else path))
    return Problem(422, str(exc.args[0]), errors=errors)







class JsonBoolean(fields.Boolean):
    """``true`` or ``false``: not 1, "yes" or "on" (marshmallow's Boolean takes those too)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class RestoreBody(Schema):
    """The optional body of ``POST /v1/audit/<seq>/restore``: what to overwrite although changed since."""

    class Meta:
        unknown = RAISE

    overwrite = fields.List(
        fields.String(validate=validate.Length(1, 200)), load_default=list, validate=validate.Length(max=10_000),
        metadata={"description": "Ids of missions changed since the entry that the restore may overwrite "
                                 "anyway (those a 409 listed in `changed_since`)."})
    overwrite_dataset_facts = JsonBoolean(
        load_default=False,
        metadata={"description": "Overwrite the dataset-wide facts although they changed since the entry."})


def restore_options() -> dict[str, Any]:
    """The restore body, or the defaults (overwrite nothing) when the request has none at all."""
    if not request.content_length and not request.mimetype:
        return {"overwrite": [], "overwrite_dataset_facts": False}
    return load_body(RestoreBody())


def refuse_undoing_later_edits(seq: int, before: Mapping[str, Any], after: Mapping[str, Any], if_match: str,
                               options: Mapping[str, Any]) -> None:
    """412 unless ``if_match`` is the current dataset ETag; 409 when restoring bulk entry ``seq`` (``before`` →
    ``after``) would undo edits made since that the body did not name.

    The conflicts are those of the version the caller's If-Match names, and the restore's write re-checks that
    ETag atomically: an edit landing in between is a 412, never a silent overwrite."""
    state = services().store.load()
    features = [r.feature for r in state.records]
    current_etag = dataset_etag(state.meta, features)
    if current_etag != if_match:
        raise stale(StalePrecondition(current_etag), "dataset")
    conflict = restore_conflict(seq, restore_conflicts(before, after, {"dataset": state.meta,
                                                                       "features": features}), options)
    if conflict is not None:
        raise conflict


def restore_conflict(seq: int, conflicts: RestoreConflicts, options: Mapping[str, Any]) -> Problem | None:
    """409 when the restore would undo edits made since entry ``seq`` that the body did not name, else None."""
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
    return Problem(409, f"restoring audit entry {seq} would undo edits made since to {' and '.join(what)}; "
                        "review them (their history lists the edits), then name what to overwrite anyway in "
                        'the body: {"overwrite": [ids], "overwrite_dataset_facts": true}',
                   errors=errors,
                   extra={"changed_since": list(conflicts.missions), "unconfirmed": unconfirmed,
                          "dataset_facts_changed_since": conflicts.dataset_facts})
