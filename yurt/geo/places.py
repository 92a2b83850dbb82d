"""Offline "where am I": point -> IANA time zone -> ISO 3166-1 country, plus ISO 3166-2
subdivision candidates (see :mod:`yurt.geo.subdivisions` for that method and its accuracy).

Country method. ``timezonefinder`` (boundary data from timezone-boundary-builder, OSM-derived,
ODbL) gives the IANA zone at the point; tzdata's ``zone.tab`` maps each zone to exactly one
country. The zone polygons follow national borders (Geneva/Basel -> Europe/Zurich, Saint-Louis
-> Europe/Paris, Weil am Rhein -> Europe/Berlin), and micro-states have zones of their own
(Europe/Vatican, Europe/Monaco, Europe/San_Marino are listed in zone.tab under VA, MC, SM even
though they are links), so no polygon data of our own is needed for countries.
``zone1970.tab`` lists several countries for a shared zone (Europe/Zurich: CH,DE,LI), so it is
used only for a zone missing from zone.tab, and then its first (principal) country is taken.

Coasts. The boundary data includes each country's territorial sea; open ocean is covered by
``Etc/GMT±N`` zones. ``TimezoneFinder.timezone_at_land`` is exactly ``timezone_at`` with those
ocean zones mapped to None (its documented behaviour), so we call ``timezone_at`` once and drop
``Etc/*`` ourselves: a point on a harbour quay or a beach, where the OSM coastline may be a few
hundred metres off, still gets its country; mid-ocean gets None. Antarctica is reported as no
country: every point south of 60°S (the Antarctic Treaty area, Article VI of the 1959 treaty; no
territorial claim there is recognised, and no country's land reaches that far: Southern Thule, the
southernmost, is at 59.5°S), and any zone tzdata files under AQ. The boundary data extends claimed
sectors' zones to the pole (-80, 0 falls in Africa/Johannesburg), so the zone alone is not enough.

Country names come from tzdata's ``iso3166.tab`` (English short names), so no extra package.

Thread safety: timezonefinder documents that one ``TimezoneFinder`` must not be shared between
threads, so the Locator keeps one per thread (about 60 ms to create); everything else is
immutable after ``__init__``.
"""

from __future__ import annotations

import importlib.resources
import threading
from collections.abc import Callable
from dataclasses import dataclass

from timezonefinder import TimezoneFinder

from yurt.geo.subdivisions import SubdivisionIndex

# Codes that are not a country for our purpose: Antarctica (treaty area).
_NOT_A_COUNTRY = frozenset({"AQ"})
# Antarctic Treaty (1959), Article VI: the treaty applies to the area south of 60° South latitude.
ANTARCTIC_TREATY_LAT = -60.0


@dataclass(frozen=True, slots=True)
class Place:
    country: str | None  # ISO 3166-1 alpha-2, None at sea / Antarctica
    country_name: str | None
    timezone: str | None  # IANA zone at the point (None at sea)
    subdivisions: tuple[str, ...] | None  # ISO 3166-2 candidates, nearest first; () unknown; None not asked
    subdivision_ambiguous: bool


def _read_tab(name: str) -> list[list[str]]:
    """Rows of a tzdata ``*.tab`` file (tab-separated, '#' comments)."""
    text = (importlib.resources.files("tzdata") / "zoneinfo" / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


def load_zone_countries() -> dict[str, str]:
    """IANA zone -> ISO 3166-1 alpha-2, from zone.tab, completed from zone1970.tab."""
    zone_countries = {row[2]: row[0] for row in _read_tab("zone.tab")}
    for row in _read_tab("zone1970.tab"):
        # zone1970.tab: "CH,DE,LI" for a shared zone; the first code is the principal country.
        zone_countries.setdefault(row[2], row[0].split(",")[0])
    return zone_countries


def load_country_names() -> dict[str, str]:
    return {row[0]: row[1] for row in _read_tab("iso3166.tab")}


def is_open_sea_zone(zone: str) -> bool:
    """timezone-boundary-builder covers international waters with Etc/GMT±N (and Etc/UTC)."""
    return zone.startswith("Etc/")


class Locator:
    """Loads zone tables, country names and the subdivision index once; read-only afterwards."""

    def __init__(self) -> None:
        self._zone_countries = load_zone_countries()
        self._country_names = load_country_names()
        self._subdivisions = SubdivisionIndex.load()
        self._local = threading.local()
        self._finder()  # build the first TimezoneFinder now rather than on the first request

    def _finder(self) -> TimezoneFinder:
        finder: TimezoneFinder | None = getattr(self._local, "finder", None)
        if finder is None:
            finder = TimezoneFinder()
            self._local.finder = finder
        return finder

    def timezone_at(self, lat: float, lon: float) -> str | None:
        """IANA zone at the point, or None at sea (including territorial-sea-free ocean)."""
        _check_coordinates(lat, lon)
        zone: str | None = self._finder().timezone_at(lng=lon, lat=lat)
        if zone is None or is_open_sea_zone(zone):
            return None
        return zone

    def country_of_zone(self, zone: str | None) -> str | None:
        if zone is None:
            return None
        country = self._zone_countries.get(zone)
        return None if country in _NOT_A_COUNTRY else country

    def subdivision_places(self, code: str) -> list[tuple[float, float]]:
        """The labelled places the subdivision lookup uses for ISO 3166-2 ``code``, as (lat, lon)."""
        return self._subdivisions.places(code)

    def country_name(self, code: str) -> str | None:
        return self._country_names.get(code.upper())

    def locate(self, lat: float, lon: float, *, subdivision_wanted: Callable[[str], bool] | None = None) -> Place:
        """Country and zone always; the subdivision only if ``subdivision_wanted(country)`` (default: always).

        Finding the subdivision is the costly half of a lookup (about 40 µs); a caller that only needs it in
        some countries says which, and gets ``subdivisions=None`` elsewhere.
        """
        zone = self.timezone_at(lat, lon)
        country = self.country_of_zone(zone) if lat >= ANTARCTIC_TREATY_LAT else None
        if country is None:
            # Open sea (zone None) or Antarctica (zone kept, e.g. Antarctica/McMurdo).
            return Place(None, None, zone, (), False)
        if subdivision_wanted is not None and not subdivision_wanted(country):
            return Place(country, self.country_name(country), zone, None, False)
        match = self._subdivisions.match(country, lat, lon)
        codes = match.codes if match is not None else ()
        return Place(country, self.country_name(country), zone, codes, len(codes) > 1)

    def country_of_point(self, lat: float, lon: float) -> str | None:
        """The country at a point (None at sea and in the Antarctic Treaty area): no subdivision lookup."""
        if lat < ANTARCTIC_TREATY_LAT:
            return None
        return self.country_of_zone(self.timezone_at(lat, lon))

    def seat_subdivision(self, lat: float, lon: float, country: str) -> str | None:
        """The subdivision a post at (lat, lon) in ``country`` sits in: the locator's first candidate.

        The host country comes from the record (a post's point may sit on a border or a quay), so only the
        subdivision is looked up.
        """
        match = self._subdivisions.match(country, lat, lon)
        return match.codes[0] if match is not None and match.codes else None

    def subdivision_candidates(self, lat: float, lon: float, country: str) -> tuple[str, ...]:
        """Every ISO 3166-2 candidate of a point whose country the caller already knows (as ``locate`` gives
        them, likeliest first; () without data): the country lookup is not repeated."""
        match = self._subdivisions.match(country, lat, lon)
        return match.codes if match is not None else ()


def _check_coordinates(lat: float, lon: float) -> None:
    if not (-90.0 <= lat <= 90.0) or not (-180.0 <= lon <= 180.0):
        raise ValueError(f"coordinates out of range: lat={lat!r}, lon={lon!r}")
