"""Marshmallow schemas for query strings of the public API; ``/openapi.json`` documents the same classes."""

from __future__ import annotations

import math
import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from yurt.schemas import MISSION_TYPES, SERVICES, STATUSES, _check_country, _country_codes


def _finite(value: float) -> None:
    if not math.isfinite(value):
        raise ValidationError("must be a finite number")


# What a query-string number may look like: ASCII digits only. Python's float() and int() also accept
# "1_0", surrounding spaces, "infinity" and digits of other scripts ("５１.５"); a cache key or a log line
# must not see two spellings of one number, and a client that sends them has a bug we should report.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")


class QueryFloat(fields.Float):
    """A finite decimal number written with ASCII digits (query strings)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, str) and not _DECIMAL.fullmatch(value):
            raise ValidationError("must be a finite decimal number in ASCII digits, e.g. 51.5")
        return float(super()._deserialize(value, attr, data, **kwargs))


class QueryInt(fields.Integer):
    """An integer written with ASCII digits (query strings)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and not _INTEGER.fullmatch(value):
            raise ValidationError("must be an integer in ASCII digits")
        return int(super()._deserialize(value, attr, data, **kwargs))


_NUMBER = r"-?[0-9]{1,3}(\.[0-9]+)?"
BBOX_PATTERN = f"^{_NUMBER}(,{_NUMBER}){{3}}$"


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
    # The enum documents exactly what _check_country accepts, so generated clients and fuzzers send real codes.
    return fields.String(validate=_check_country, metadata={"description": "ISO 3166-1 alpha-2 country code",
                                                            "enum": sorted(_country_codes())}, **kw)


def Lon(**kw: Any) -> fields.Float:  # noqa: N802 - a field type
    return QueryFloat(allow_nan=False, validate=[_finite, validate.Range(-180, 180)],
                        metadata={"description": "WGS-84 longitude in degrees, [-180, 180]"}, **kw)


class _Query(Schema):
    class Meta:
        unknown = RAISE


class MissionListQuery(_Query):
    country = Country()
    type = fields.String(validate=validate.OneOf(MISSION_TYPES))
    service = fields.String(validate=validate.OneOf(SERVICES))
    status = fields.String(validate=validate.OneOf(STATUSES))
    bbox = BBox(metadata={"description": "minLon,minLat,maxLon,maxLat; minLon > maxLon crosses the antimeridian",
                          "type": "string"})
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "text in the name (en/kk/ru) or city, case- and accent-blind"})


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


class NearestQuery(_Query):
    lat = Lat(required=True)
    lon = Lon(required=True)
    limit = QueryInt(load_default=5, validate=validate.Range(1, 50), strict=False)
    type = ChoiceList(MISSION_TYPES, metadata={"description": (
        "Mission types, comma-separated, or `any`. Default: career posts only (embassy, consulate_general, "
        "consulate), unless `service` is given, which then admits every type offering it.")})
    service = fields.String(validate=validate.OneOf(SERVICES))
    status = ChoiceList(STATUSES, metadata={"description": (
        "Statuses, comma-separated, or `any`. Default: `open,limited`.")})
    open_now = fields.Boolean(load_default=False, truthy={"true", "1"}, falsy={"false", "0"})


class ResponsibleQuery(_Query):
    lat = Lat()
    lon = Lon()
    country = Country()


class OgcItemsQuery(_Query):
    bbox = BBox(metadata={"type": "string"})
    limit = QueryInt(load_default=10, validate=validate.Range(1, 1000))
    offset = QueryInt(load_default=0, validate=validate.Range(0, 1_000_000))
    f = fields.String(validate=validate.OneOf(["json", "geojson"]))
    country = Country()
    type = fields.String(validate=validate.OneOf(MISSION_TYPES))


class OgcQuery(_Query):
    f = fields.String(validate=validate.OneOf(["json"]))


NO_QUERY = _Query()
