"""Tests for yurt.geo.places (country via time zones) and yurt.geo.subdivisions."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from timezonefinder import TimezoneFinder

from yurt.geo.places import Locator, Place, load_zone_countries
from yurt.geo.subdivisions import EARTH_RADIUS_KM, SCAN_MAX_PLACES, SubdivisionIndex, candidate_radius_km


@pytest.fixture(scope="module")
def locator() -> Locator:
    return Locator()


@pytest.fixture(scope="module")
def finder() -> TimezoneFinder:
    """The oracle: the library's own finder, built once (each build reads its boundary data)."""
    return TimezoneFinder()


# (name, lat, lon, expected ISO 3166-1 alpha-2 or None) — the required border cases.
COUNTRY_CASES = [
    ("Geneva", 46.2044, 6.1432, "CH"),
    ("Basel", 47.5596, 7.5886, "CH"),
    ("Saint-Louis (Haut-Rhin)", 47.5900, 7.5600, "FR"),
    ("Weil am Rhein", 47.5947, 7.6208, "DE"),
    ("Vatican", 41.9029, 12.4534, "VA"),
    ("Monaco", 43.7384, 7.4246, "MC"),
    ("Narva", 59.3797, 28.1791, "EE"),
    ("Ivangorod", 59.3700, 28.2150, "RU"),
    ("Hong Kong", 22.3193, 114.1694, "HK"),
    ("Singapore", 1.3521, 103.8198, "SG"),
    ("Istanbul, European shore", 41.0082, 28.9784, "TR"),
    ("Istanbul, Asian shore", 41.0220, 29.0150, "TR"),
    ("Phuket", 7.8804, 98.3923, "TH"),
    ("Suva", -18.1416, 178.4419, "FJ"),
    ("mid-Atlantic", 30.0, -40.0, None),
    ("South Pole", -90.0, 0.0, None),
    ("Astana", 51.1694, 71.4491, "KZ"),
    ("San Marino", 43.9424, 12.4578, "SM"),
    ("sea off Monaco, inside territorial waters", 43.72, 7.44, "MC"),
]


@pytest.mark.parametrize(("name", "lat", "lon", "country"), COUNTRY_CASES)
def test_country_at_borders(locator: Locator, name: str, lat: float, lon: float, country: str | None) -> None:
    place = locator.locate(lat, lon)
    assert place.country == country, name
    if country is None:
        assert place.country_name is None
        assert place.subdivisions == ()
        assert not place.subdivision_ambiguous
    else:
        assert place.country_name == locator.country_name(country)
        assert place.timezone is not None


def test_open_sea_has_no_timezone_and_antarctica_keeps_its_zone(locator: Locator) -> None:
    assert locator.timezone_at(30.0, -40.0) is None
    assert locator.locate(30.0, -40.0) == Place(None, None, None, (), False)
    pole = locator.locate(-90.0, 0.0)
    assert pole.timezone is not None and pole.timezone.startswith("Antarctica/")


@pytest.mark.parametrize(("lat", "lon"), [(-80.0, 0.0), (-75.0, -60.0), (-62.0, -58.0), (-65.0, -64.0),
                                          (-77.85, 166.67), (-60.001, -45.0), (-89.99, 179.99)])
def test_antarctic_treaty_area_is_no_country(locator: Locator, lat: float, lon: float) -> None:
    """South of 60°S is no country, although the zone data extends claimed sectors' zones to the pole."""
    place = locator.locate(lat, lon)
    assert (place.country, place.country_name, place.subdivisions) == (None, None, ())


def test_land_just_north_of_the_treaty_line_keeps_its_country(locator: Locator) -> None:
    assert locator.locate(-54.8, -68.3).country == "AR"  # Ushuaia
    assert locator.locate(-55.98, -67.27).country == "CL"  # Cape Horn


def test_shared_zones_map_to_the_zone_tab_country() -> None:
    zone_countries = load_zone_countries()
    # zone1970.tab lists CH,DE,LI / BE,LU,NL / AE,OM,... for these; zone.tab picks one.
    assert zone_countries["Europe/Zurich"] == "CH"
    assert zone_countries["Europe/Brussels"] == "BE"
    assert zone_countries["Asia/Dubai"] == "AE"
    # Links listed in zone.tab under their own country.
    assert zone_countries["Europe/Vatican"] == "VA"
    assert zone_countries["Europe/Busingen"] == "DE"


def test_every_land_zone_of_the_boundary_data_has_a_country(finder: TimezoneFinder) -> None:
    zone_countries = load_zone_countries()
    land_zones = [z for z in finder.timezone_names if not z.startswith("Etc/")]
    assert land_zones
    assert [z for z in land_zones if z not in zone_countries] == []


@settings(max_examples=150, deadline=None)
@given(lat=st.floats(-89.9, 89.9), lon=st.floats(-179.9, 179.9))
def test_timezone_matches_timezonefinder_land_lookup(locator: Locator, finder: TimezoneFinder, lat: float,
                                                     lon: float) -> None:
    # Oracle: the library's own land lookup, which drops the Etc/GMT±N ocean zones. It keeps Etc/UTC, which
    # the boundary data uses for a stretch of Antarctica (e.g. -70, -6); we drop every Etc/* zone (no country).
    expected = finder.timezone_at_land(lat=lat, lng=lon)
    assert locator.timezone_at(lat, lon) == (None if expected is not None and expected.startswith("Etc/")
                                             else expected)


def test_etc_utc_land_in_antarctica_is_no_zone(locator: Locator, finder: TimezoneFinder) -> None:
    assert finder.timezone_at_land(lat=-70.0, lng=-6.0) == "Etc/UTC"
    assert locator.timezone_at(-70.0, -6.0) is None
    assert locator.locate(-70.0, -6.0).country is None


def test_country_names(locator: Locator) -> None:
    assert locator.country_name("KZ") == "Kazakhstan"
    assert locator.country_name("ch") == "Switzerland"
    assert locator.country_name("XX") is None


@pytest.mark.parametrize(("lat", "lon"), [(91.0, 0.0), (0.0, 181.0), (math.nan, 0.0)])
def test_rejects_invalid_coordinates(locator: Locator, lat: float, lon: float) -> None:
    with pytest.raises(ValueError, match="out of range"):
        locator.locate(lat, lon)


# Subdivisions of well-known cities in the consular-district countries, per ISO 3166-2.
SUBDIVISION_CASES = [
    ("Moscow", 55.7558, 37.6173, "RU-MOW"),
    ("Saint Petersburg", 59.9343, 30.3351, "RU-SPE"),
    ("Kazan", 55.7963, 49.1088, "RU-TA"),
    ("Novosibirsk", 55.0084, 82.9357, "RU-NVS"),
    ("Yekaterinburg", 56.8389, 60.6057, "RU-SVE"),
    ("Omsk", 54.9885, 73.3242, "RU-OMS"),
    ("Beijing", 39.9042, 116.4074, "CN-BJ"),
    ("Shanghai", 31.2304, 121.4737, "CN-SH"),
    ("Guangzhou", 23.1291, 113.2644, "CN-GD"),
    ("Urumqi", 43.8256, 87.6168, "CN-XJ"),
    ("Tashkent", 41.2995, 69.2401, "UZ-TK"),
    ("Samarkand", 39.6542, 66.9597, "UZ-SA"),
    ("Bukhara", 39.7747, 64.4286, "UZ-BU"),
    ("Bishkek", 42.8746, 74.5698, "KG-GB"),
    ("Osh", 40.5283, 72.7985, "KG-GO"),
    ("Bangkok", 13.7563, 100.5018, "TH-10"),
    ("Chiang Mai", 18.7883, 98.9853, "TH-50"),
    ("Munich", 48.1351, 11.5820, "DE-BY"),
    ("Frankfurt am Main", 50.1109, 8.6821, "DE-HE"),
    ("Hamburg", 53.5511, 9.9937, "DE-HH"),
    ("Ankara", 39.9334, 32.8597, "TR-06"),
    ("Antalya", 36.8969, 30.7133, "TR-07"),
    ("Houston", 29.7604, -95.3698, "US-TX"),
    ("Los Angeles", 34.0522, -118.2437, "US-CA"),
    ("Chicago", 41.8781, -87.6298, "US-IL"),
    ("Seoul", 37.5665, 126.9780, "KR-11"),
    ("Busan", 35.1796, 129.0756, "KR-26"),
    ("Dubai", 25.2048, 55.2708, "AE-DU"),
    ("Abu Dhabi", 24.4539, 54.3773, "AE-AZ"),
    ("Almaty", 43.2389, 76.8897, "KZ-75"),
]


@pytest.mark.parametrize(("name", "lat", "lon", "code"), SUBDIVISION_CASES)
def test_subdivision_of_known_cities(locator: Locator, name: str, lat: float, lon: float, code: str) -> None:
    place = locator.locate(lat, lon)
    assert place.subdivisions[0] == code, (name, place)
    assert all(c.startswith(f"{place.country}-") for c in place.subdivisions)
    assert place.subdivision_ambiguous == (len(place.subdivisions) > 1)


def test_micro_state_without_subdivision_data_returns_none_known(locator: Locator) -> None:
    place = locator.locate(41.9029, 12.4534)
    assert place.country == "VA"
    assert place.subdivisions == ()
    assert not place.subdivision_ambiguous


# --- the nearest-place rule, on synthetic data, against a brute-force oracle -------------

SYNTHETIC_ROWS = [
    ("AA", "AA-W", 10.0, 10.0),
    ("AA", "AA-W", 10.2, 10.1),
    ("AA", "AA-E", 10.0, 11.0),
    ("AA", "AA-E", 9.8, 11.2),
    ("AA", "AA-N", 11.0, 10.5),
    ("BB", "BB-1", 10.5, 10.5),  # another country: must never leak into AA's answers
]


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Haversine formula (Sinnott 1984), independent of the index's chord arithmetic.
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _oracle(
    rows: list[tuple[str, str, float, float]], country: str, lat: float, lon: float, slack_km: float
) -> set[str]:
    distances = [(_haversine_km(lat, lon, la, lo), code) for c, code, la, lo in rows if c == country]
    radius_km = candidate_radius_km(min(d for d, _ in distances)) + slack_km
    return {code for d, code in distances if d <= radius_km}


def test_point_near_a_place_is_unambiguous() -> None:
    match = SubdivisionIndex(SYNTHETIC_ROWS).match("AA", 10.01, 10.01)
    assert match is not None
    assert match.codes == ("AA-W",)
    assert not match.ambiguous


def test_point_midway_between_subdivisions_returns_both_nearest_first() -> None:
    match = SubdivisionIndex(SYNTHETIC_ROWS).match("AA", 10.0, 10.45)
    assert match is not None
    assert match.codes[:2] == ("AA-W", "AA-E")
    assert match.ambiguous
    assert "BB-1" not in match.codes


def test_country_without_data_gives_none() -> None:
    assert SubdivisionIndex(SYNTHETIC_ROWS).match("ZZ", 10.0, 10.0) is None


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(8.0, 13.0), lon=st.floats(8.0, 13.0))
def test_candidates_match_brute_force_oracle(lat: float, lon: float) -> None:
    match = SubdivisionIndex(SYNTHETIC_ROWS).match("AA", lat, lon)
    assert match is not None
    got = set(match.codes)
    # Tolerances absorb float differences between chord and haversine arithmetic.
    assert (
        _oracle(SYNTHETIC_ROWS, "AA", lat, lon, -1e-6) <= got <= _oracle(SYNTHETIC_ROWS, "AA", lat, lon, 1e-6)
    )
    nearest = min(_haversine_km(lat, lon, la, lo) for c, _, la, lo in SYNTHETIC_ROWS if c == "AA")
    assert match.nearest_km == pytest.approx(nearest, abs=1e-6)


@pytest.fixture(scope="module")
def real_places() -> tuple[list[tuple[str, str, float, float]], SubdivisionIndex]:
    loaded = SubdivisionIndex.load()
    rows = [(c, code, lat, lon) for c in ("DE", "KG") for code in loaded.codes(c) for lat, lon in loaded.places(code)]
    # Both search modes: DE's places are searched in its KD-tree, KG's (68) scanned whole.
    assert sum(r[0] == "DE" for r in rows) > SCAN_MAX_PLACES >= sum(r[0] == "KG" for r in rows)
    return rows, SubdivisionIndex(rows)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_candidates_on_real_places_match_brute_force_oracle(
    real_places: tuple[list[tuple[str, str, float, float]], SubdivisionIndex], data: st.DataObject
) -> None:
    real_rows, index = real_places
    # Real places (dense Germany, sparse Kyrgyzstan), rounded as ``places`` gives them, so that the ball queries
    # meet both cases: the first ball holds the candidates, and the first ball is empty or too small.
    country, lat_range, lon_range = data.draw(
        st.sampled_from([("DE", (47.3, 55.0), (5.9, 15.0)), ("KG", (39.2, 43.2), (69.3, 80.2))])
    )
    lat = data.draw(st.floats(*lat_range))
    lon = data.draw(st.floats(*lon_range))
    match = index.match(country, lat, lon)
    assert match is not None
    got = set(match.codes)
    assert _oracle(real_rows, country, lat, lon, -1e-6) <= got <= _oracle(real_rows, country, lat, lon, 1e-6)
    nearest = min(_haversine_km(lat, lon, la, lo) for c, _, la, lo in real_rows if c == country)
    assert match.nearest_km == pytest.approx(nearest, abs=1e-6)


def test_locate_is_consistent_across_threads(locator: Locator) -> None:
    points = [(lat, lon) for _, lat, lon, _ in SUBDIVISION_CASES]
    serial = [locator.locate(lat, lon) for lat, lon in points]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda p: locator.locate(*p), points * 4))
    assert parallel == serial * 4


def test_subdivision_is_looked_up_only_where_wanted() -> None:
    locator = Locator()
    skipped = locator.locate(46.2044, 6.1432, subdivision_wanted=lambda country: country == "DE")
    assert skipped.country == "CH" and skipped.subdivisions is None and not skipped.subdivision_ambiguous
    wanted = locator.locate(50.1109, 8.6821, subdivision_wanted=lambda country: country == "DE")
    assert wanted.subdivisions is not None and wanted.subdivisions[0] == "DE-HE"
