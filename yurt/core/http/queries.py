"""Marshmallow schemas for query strings of the public API; ``/openapi.json`` documents the same classes.

Also the bounds of every integer a client writes in a URL: a query integer (``QueryInt``) and a path integer
(the app's ``int`` converter, ``BoundedIntConverter``) are range-checked here, before any store sees them.
"""

from __future__ import annotations

import builtins
import math
import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from werkzeug.routing import IntegerConverter, Map
from werkzeug.routing import ValidationError as RouteMismatch

from yurt.core.codes import country_code
from yurt.core.store_errors import MAX_ID


def _finite(value: float) -> None:
    if not math.isfinite(value):
        raise ValidationError("must be a finite number")


# What a query-string number may look like: ASCII digits only. Python's float() and int() also accept
# "1_0", surrounding spaces, "infinity" and digits of other scripts ("５１.５"); a cache key or a log line
# must not see two spellings of one number, and a client that sends them has a bug we should report.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_ID_DIGITS = len(str(MAX_ID))


class QueryFloat(fields.Float):
    """A finite decimal number written with ASCII digits (query strings)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, str) and not _DECIMAL.fullmatch(value):
            raise ValidationError("must be a finite decimal number in ASCII digits, e.g. 51.5")
        return float(super()._deserialize(value, attr, data, **kwargs))


class QueryInt(fields.Integer):
    """An integer written with ASCII digits (query strings), never beyond ±``MAX_ID`` whatever the field's
    own range: a store must never see a number it cannot hold (Redis answers an error past 2^63 - 1, which was
    a 500). Out of range is a 400 naming the parameter, like any other bad value."""

    def __init__(self, **kwargs: Any) -> None:
        own = kwargs.pop("validate", None)
        own = [] if own is None else [own] if callable(own) else list(own)
        super().__init__(validate=[*own, validate.Range(-MAX_ID, MAX_ID)], **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str):
            if not _INTEGER.fullmatch(value):
                raise ValidationError("must be an integer in ASCII digits")
            if len(value.lstrip("+-").lstrip("0")) > _MAX_ID_DIGITS:  # before int(): no huge conversions
                raise ValidationError(f"must be between {-MAX_ID} and {MAX_ID}")
        return int(super()._deserialize(value, attr, data, **kwargs))


class BoundedIntConverter(IntegerConverter):
    """The app's ``<int:…>`` path converter: ASCII digits in canonical form (no leading zero, no ``+``), at
    most ``MAX_ID``. Werkzeug's own accepts any ``\\d+``, so digits of other scripts and numbers past what a
    store holds reached the view (Redis answered 500 past 2^63 - 1). Anything else does not match the route:
    404, since no audit entry or report can have that number."""

    regex = r"(?:0|[1-9][0-9]*)"
    part_isolating = True

    # werkzeug's own parameter names: a rule may say <int(max=99):n>
    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        low = (-MAX_ID if signed else 0) if min is None else builtins.max(min, -MAX_ID)
        high = MAX_ID if max is None else builtins.min(max, MAX_ID)
        super().__init__(map, fixed_digits, low, high, signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-")) > _MAX_ID_DIGITS:  # refused before int(): no huge conversions
            raise RouteMismatch()
        return super().to_python(value)


# The documented form of a bbox, ranges included: minLon,minLat,maxLon,maxLat with each longitude in [-180, 180]
# and each latitude in [-90, 90] (the parser also takes other spellings of the same numbers, e.g. 1e1).
_LON = r"-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?)"
_LAT = r"-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?)"
BBOX_PATTERN = f"^{_LON},{_LAT},{_LON},{_LAT}$"


class BBox(fields.Field):  # type: ignore[type-arg]
    """``minLon,minLat,maxLon,maxLat`` (OGC API Features / RFC 7946 order). minLon > maxLon crosses ±180°."""

    def __init__(self, **kwargs: Any) -> None:
        # Documented as a string of four numbers, so the OpenAPI document says what the parser accepts.
        kwargs["metadata"] = {"type": "string", "pattern": BBOX_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[float, ...]:
        if not isinstance(value, str):
            raise ValidationError("expected minLon,minLat,maxLon,maxLat")
        parts = value.split(",")
        if len(parts) != 4:
            raise ValidationError("expected 4 comma-separated numbers: minLon,minLat,maxLon,maxLat")
        if not all(_DECIMAL.fullmatch(p) for p in parts):
            raise ValidationError("every bbox value must be a decimal number in ASCII digits")
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
        if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
            raise ValidationError("bbox values must be finite")
        if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
            raise ValidationError("longitudes must be within [-180, 180]")
        if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
            raise ValidationError("latitudes must be within [-90, 90]")
        if min_lat > max_lat:
            raise ValidationError("minLat must not exceed maxLat")
        return (min_lon, min_lat, max_lon, max_lat)


def Lat(**kw: Any) -> fields.Float:  # noqa: N802 - a field type
    return QueryFloat(allow_nan=False, validate=[_finite, validate.Range(-90, 90)],
                        metadata={"description": "WGS-84 latitude in degrees, [-90, 90]"}, **kw)


def Country(**kw: Any) -> fields.String:  # noqa: N802 - a field type
    return country_code(**kw)  # documented as the CountryCode component: exactly the codes accepted


def Lon(**kw: Any) -> fields.Float:  # noqa: N802 - a field type
    return QueryFloat(allow_nan=False, validate=[_finite, validate.Range(-180, 180)],
                        metadata={"description": "WGS-84 longitude in degrees, [-180, 180]"}, **kw)


# A traveller handle as the service hands them out (``yurt.geo.privacy``): opaque, per viewer.
HANDLE = validate.Regexp(r"^t_[a-z2-7]{26}$", error="not a handle from this service")


class JsonNumber(fields.Float):
    """A finite JSON number (not a string, not a boolean)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a number")
        if not math.isfinite(value):
            raise ValidationError("must be a finite number")
        return float(value)


def json_lat(**kw: Any) -> JsonNumber:
    return JsonNumber(validate=validate.Range(-90, 90), metadata={"description": "WGS-84 latitude, degrees"},
                      **kw)


def json_lon(**kw: Any) -> JsonNumber:
    return JsonNumber(validate=validate.Range(-180, 180),
                      metadata={"description": "WGS-84 longitude, degrees"}, **kw)


class StrictQuery(Schema):
    class Meta:
        unknown = RAISE


class ChoiceList(fields.Field):  # type: ignore[type-arg]
    """A comma-separated list of values from a closed set, or ``any`` (all of them): loaded as a frozenset."""

    def __init__(self, choices: tuple[str, ...], **kwargs: Any) -> None:
        self.choices = choices
        alternatives = "|".join(re.escape(c) for c in choices)
        pattern = f"^(any|({alternatives})(,({alternatives}))*)$"
        kwargs["metadata"] = {"type": "string", "pattern": pattern, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> frozenset[str]:
        if not isinstance(value, str) or not value:
            raise ValidationError("expected a comma-separated list or 'any'")
        if value == "any":
            return frozenset(self.choices)
        parts = value.split(",")
        unknown = [p for p in parts if p not in self.choices]
        if unknown:
            raise ValidationError(f"unknown value(s) {', '.join(repr(u[:40]) for u in unknown[:5])}; "
                                  f"expected 'any' or a comma-separated list of: {', '.join(self.choices)}")
        return frozenset(parts)


NO_QUERY = StrictQuery()
