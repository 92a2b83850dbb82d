"""Closed sets of codes the service accepts (countries, subdivisions, time zones): membership checks for the
schemas, and the names ``/openapi.json`` gives each set (one component each, so clients and fuzzers send real
codes)."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Any

import pycountry
from marshmallow import ValidationError, fields


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    # XK (Kosovo) is a user-assigned code in wide use (and by the EU); pycountry follows ISO strictly.
    return frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}


@lru_cache(maxsize=1)
def subdivision_codes() -> frozenset[str]:
    return frozenset(s.code for s in pycountry.subdivisions)


@lru_cache(maxsize=1)
def zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# Closed sets a field's values come from, by the name the OpenAPI document gives them (one component each,
# referred to by ``metadata={"enum_component": name}``), so generated clients and fuzzers send real codes.
ENUM_COMPONENTS = {
    "CountryCode": ("ISO 3166-1 alpha-2 country code (and XK, Kosovo)", country_codes),
    "SubdivisionCode": ("ISO 3166-2 subdivision code", subdivision_codes),
    "TimeZone": ("IANA time zone", zones),
}


def country_code(**kw: Any) -> fields.String:
    return fields.String(validate=check_country, metadata={"enum_component": "CountryCode"}, **kw)


def subdivision_code(**kw: Any) -> fields.String:
    return fields.String(validate=check_subdivision, metadata={"enum_component": "SubdivisionCode"}, **kw)


def check_country(code: str) -> None:
    if code not in country_codes():
        raise ValidationError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")


def check_subdivision(code: str) -> None:
    if code not in subdivision_codes():
        raise ValidationError(f"{code!r} is not an ISO 3166-2 subdivision code")


def check_timezone(name: str) -> None:
    if name not in zones():
        raise ValidationError(f"{name!r} is not an IANA time zone")
