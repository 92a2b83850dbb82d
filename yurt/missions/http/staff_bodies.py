"""Staff request bodies read into data: ``restore_options`` reads the optional body of an undo
(``{"overwrite": [ids]}``, ``RestoreBody``). The bodies of edits are validated by the service
(``yurt.missions.service.staff``), which names the fields at fault.
"""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from yurt.core.http.conventions import load_body


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
