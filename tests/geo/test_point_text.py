"""Pasted coordinates: geopy's Point reads them, and only text it reads whole, in range, is accepted."""

from __future__ import annotations

import pytest

from yurt.geo.point_text import PointTextError, parse_point


@pytest.mark.parametrize(("text", "lat", "lon"), [
    ("48.1372, 11.5755", 48.1372, 11.5755),  # decimal, lat then lon
    ("48.1372 11.5755", 48.1372, 11.5755),
    ("-33.8688, 151.2093", -33.8688, 151.2093),
    ("48°08′14″N 11°34′32″E", 48.1372222, 11.5755556),  # DMS with prime signs
    ("48°08'14\"N, 11°34'32\"E", 48.1372222, 11.5755556),  # ASCII quotes
    ("48º08’14”N 11º34’32”E", 48.1372222, 11.5755556),  # typographic look-alikes
    ("48°8.233'N 11°34.533'E", 48.1372167, 11.57555),  # degrees and decimal minutes
    ("33°52′S 151°12′E", -33.8666667, 151.2),
    ("40.7128° N, 74.0060° W", 40.7128, -74.006),
    ("−12.5, −77.03", -12.5, -77.03),  # Unicode minus
    ("-10, -180", -10.0, -180.0),
])
def test_reads_common_forms(text: str, lat: float, lon: float) -> None:
    assert parse_point(text) == pytest.approx((lat, lon), abs=1e-7)


@pytest.mark.parametrize("text", [
    "", "   ", "hello", "48,1372, 11,5755",  # decimal commas: geopy alone reads (11, -5)
    "48 8 14 N, 11 34 32 E",  # geopy alone reads (34, 32)
    "1e3,2",  # geopy alone reads (3, 2)
    "91, 10", "10, 190",  # geopy alone wraps 190 to -170
    "48°75′N 11°E",  # 75 minutes
    "48.1, 11.5, 100m",  # an altitude
    "1" * 101,
])
def test_refuses_what_it_cannot_read_whole(text: str) -> None:
    with pytest.raises(PointTextError):
        parse_point(text)
