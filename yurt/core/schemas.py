"""Marshmallow pieces every feature's records share: strict schemas, a text in the three languages, a dated source."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


def Text(max_length: int = 500, **kw: Any) -> fields.String:  # noqa: N802 - a field factory, read like a type
    return fields.String(validate=validate.Length(min=1, max=max_length), **kw)


class NameSchema(StrictSchema):
    en = Text(300, required=True)
    kk = Text(300, required=True)
    ru = Text(300, required=True)


SOURCE_DATE_PATTERN = re.compile(r"^(19|20)[0-9]{2}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")


class DatedSourceSchema(StrictSchema):
    source = Text(2000, required=True)
    date = fields.String(allow_none=True, load_default=None, validate=validate.Regexp(
        SOURCE_DATE_PATTERN, error="expected YYYY, YYYY-MM or YYYY-MM-DD"),
        metadata={"description": "The source's own date (as precise as it states it); null if undated"})


class SourceField(fields.Field):  # type: ignore[type-arg]
    """A source: a plain string (the older form, still accepted) or ``{source, date}``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"one_of_schemas": [{"type": "string", "minLength": 1, "maxLength": 2000},
                                                 DatedSourceSchema], **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            if not 1 <= len(value) <= 2000:
                raise ValidationError("a source is 1 to 2000 characters")
            return value
        if isinstance(value, dict):
            loaded: dict[str, Any] = DatedSourceSchema().load(value)
            return loaded
        raise ValidationError("a source is a string or an object {source, date}")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


def source_date(source: Any) -> str | None:
    return source.get("date") if isinstance(source, dict) else None
