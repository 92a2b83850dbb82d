"""Coordinates pasted by staff, as text, to ``(lat, lon)`` in decimal degrees, parsed with geopy's ``Point``.

Accepted: decimal degrees in **latitude, longitude** order (``48.1372, 11.5755``; signs or N/S/E/W letters),
and degrees with minutes, with or without seconds (``48°08′14″N 11°34′32″E``, ``48°8.233'N 11°34.533'E``),
with the usual typographic variants of the degree, prime and double prime signs and a Unicode minus.

geopy's pattern starts with a lazy ``.*?``, so on its own it reads *a tail* of the text: ``48 8 14 N, 11 34
32 E`` comes out as (34, 32), ``48,1372, 11,5755`` (decimal commas) as (11, -5), ``1e3,2`` as (3, 2). A
silently wrong point is worse than a refusal, so the text is accepted only when geopy's pattern reads it whole
from its first character, minutes and seconds are below 60, no altitude is given, and both values are in range
(geopy would otherwise wrap a longitude of 190 to -170). Anything else is a ``PointTextError`` whose message
says what to write instead.
"""

from __future__ import annotations

import re

from geopy.point import Point

MAX_TEXT_LENGTH = 100  # a point is short; geopy itself caps its pattern at 256 characters (ReDoS, GH-608)

# Look-alikes typed or pasted in place of the signs geopy knows (°, ′ or ', ″ or ").
_LOOKALIKES = str.maketrans({
    "º": "°", "˚": "°", "∘": "°",  # masculine ordinal, ring above, ring operator
    "’": "'", "‘": "'", "´": "'", "ʹ": "'", "`": "'",
    "”": '"', "“": '"', "ʺ": '"',
    "−": "-", "–": "-",  # Unicode minus, en dash
    "\u00a0": " ", "\u2009": " ", "\u202f": " ",  # no-break and thin spaces
})


class PointTextError(ValueError):
    """The text is not a point this parser reads with certainty."""


def _part(match: re.Match[str], axis: str) -> float:
    """Degrees of one axis from the match, checking minutes and seconds are below 60."""
    minutes = float(match.group(f"{axis}_arcminutes") or 0)
    seconds = float(match.group(f"{axis}_arcseconds") or 0)
    if minutes >= 60 or seconds >= 60:
        raise PointTextError(f"{axis}: minutes and seconds must be below 60")
    return abs(float(match.group(f"{axis}_degrees"))) + minutes / 60 + seconds / 3600


def parse_point(text: str) -> tuple[float, float]:
    """``(lat, lon)`` in decimal degrees, or ``PointTextError``."""
    cleaned = " ".join(text.translate(_LOOKALIKES).split())
    if not cleaned:
        raise PointTextError("no coordinates given")
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise PointTextError(f"at most {MAX_TEXT_LENGTH} characters")
    match = re.match(Point.POINT_PATTERN, cleaned.replace("''", '"'))
    if match is None or match.start("latitude") != 0:
        raise PointTextError("not read as latitude, longitude: write decimal degrees with a point as the "
                             "decimal sign (48.1372, 11.5755) or degrees, minutes and seconds with N/S and E/W "
                             "(48°08′14″N 11°34′32″E)")
    if match.group("altitude"):
        raise PointTextError("an altitude is not part of a post's point")
    if _part(match, "latitude") > 90:
        raise PointTextError("latitude (the first value) must be within [-90, 90]")
    if _part(match, "longitude") > 180:
        raise PointTextError("longitude (the second value) must be within [-180, 180]")
    point = Point(cleaned)  # geopy's own reading of the text checked above: signs, directions, minutes
    return round(point.latitude, 7), round(point.longitude, 7)
