"""Nearest and responsible over HTTP: exact against a brute-force oracle, bad input, open-now, the cache."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import pin_clock
from tests.harness.problems import assert_problem
from yurt.geo.spatial_index import brute_force_nearest

CAREER = frozenset({"embassy", "consulate_general", "consulate"})


def oracle(app: Flask, lat: float, lon: float, limit: int, types: frozenset[str] | None = CAREER,
           statuses: frozenset[str] | None = frozenset({"open", "limited"})) -> list[str]:
    """Brute force over the posts the defaults admit (career posts, open or limited); None means any."""
    dataset = app.extensions["yurt"].catalogue.current()
    props = dataset.properties
    ids = [p["id"] for p in props]

    def accept(i: int) -> bool:
        return ((types is None or props[i]["type"] in types)
                and (statuses is None or props[i]["status"] in statuses))

    hits = brute_force_nearest(list(dataset.lats), list(dataset.lons), ids, lat, lon, limit, accept)
    return [ids[h.index] for h in hits]


def nearest(client: FlaskClient, query: str) -> dict:  # type: ignore[type-arg]
    response = client.get(f"/v1/missions/nearest?{query}")
    assert response.status_code == 200, response.data
    return orjson.loads(response.data)  # type: ignore[no-any-return]


latitudes = st.one_of(st.floats(-90, 90), st.sampled_from([-90.0, 90.0, 0.0, 89.9999, -89.9999]))
longitudes = st.one_of(st.floats(-180, 180), st.sampled_from([-180.0, 180.0, 179.9999, -179.9999, 0.0]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lat=latitudes, lon=longitudes, limit=st.integers(1, 12))
def test_nearest_equals_brute_force(app: Flask, client: FlaskClient, lat: float, lon: float, limit: int) -> None:
    body = nearest(client, f"lat={lat!r}&lon={lon!r}&limit={limit}")
    got = [r["mission"]["id"] for r in body["results"]]
    assert got == oracle(app, lat, lon, limit)
    distances = [r["distance_km"] for r in body["results"]]
    assert distances == sorted(distances)
    every = nearest(client, f"lat={lat!r}&lon={lon!r}&limit={limit}&type=any&status=any")
    assert [r["mission"]["id"] for r in every["results"]] == oracle(app, lat, lon, limit, None, None)


def test_defaults_answer_career_posts_that_are_open_or_limited(client: FlaskClient) -> None:
    # Geneva: the permanent mission to the UN is in town, but a traveller needs the embassy in Bern.
    body = nearest(client, "lat=46.2044&lon=6.1432&limit=1")
    assert body["results"][0]["mission"]["id"] == "kz-embassy-ch-bern"
    asked = nearest(client, "lat=46.2044&lon=6.1432&limit=1&type=permanent_mission,embassy")
    assert asked["results"][0]["mission"]["id"] == "kz-pm-ch-geneva"
    # Kyiv is suspended: not answered by default, answered when asked for.
    kyiv = nearest(client, "lat=50.45&lon=30.52&limit=1")["results"][0]["mission"]["id"]
    assert kyiv != "kz-embassy-ua-kyiv"
    assert nearest(client, "lat=50.45&lon=30.52&limit=1&status=suspended")["results"][0]["mission"]["id"] == (
        "kz-embassy-ua-kyiv")
    # A limited consulate is still a place to turn to.
    anadyr = nearest(client, "lat=64.7&lon=177.5&limit=1")["results"][0]["mission"]["id"]
    assert anadyr == "kz-consulate-ru-anadyr"


def test_country_of_the_point_and_at_home(client: FlaskClient) -> None:
    almaty = nearest(client, "lat=43.2389&lon=76.8897&limit=1")
    assert almaty["country"] == {"code": "KZ", "name": "Kazakhstan"} and almaty["at_home"] is True
    berlin = nearest(client, "lat=52.52&lon=13.40&limit=1")
    assert berlin["country"]["code"] == "DE" and berlin["at_home"] is False
    at_sea = nearest(client, "lat=30&lon=-40&limit=1")
    assert at_sea["country"] is None and at_sea["at_home"] is False


def test_distance_precision_follows_the_point(app: Flask, client: FlaskClient) -> None:
    body = nearest(client, "lat=52.0&lon=13.0&limit=3")
    meta_figure = app.extensions["yurt"].catalogue.current().meta.get("city_location_uncertainty_km")
    for result in body["results"]:
        assert result["mission"]["properties"]["location_precision"] == "city"  # the fixture's points
        assert result["distance_km"] == round(result["distance_km"], 1)
        assert result["distance_uncertainty_km"] == meta_figure

def test_result_shape(client: FlaskClient) -> None:
    body = nearest(client, "lat=52.52&lon=13.40&limit=2")
    first = body["results"][0]
    assert first["mission"]["id"] == "kz-embassy-de-berlin"
    assert first["mission"]["type"] == "Feature"
    assert 1.0 < first["distance_km"] < 3.0
    assert 0 <= first["bearing_deg"] < 360
    assert {"open_now", "opens_at", "closes_at"} <= set(first)
    assert "distance_km" not in first["mission"]["properties"]


def test_across_the_antimeridian(client: FlaskClient) -> None:
    # Just east of the antimeridian in Fiji's waters: Suva (178.4 E) is nearest, Anadyr second.
    body = nearest(client, "lat=-17.0&lon=-179.9&limit=2")
    assert [r["mission"]["id"] for r in body["results"]] == ["kz-embassy-fj-suva", "kz-consulate-ru-anadyr"]
    assert body["results"][0]["distance_km"] < 250


def test_at_the_poles(client: FlaskClient) -> None:
    north = nearest(client, "lat=90&lon=0&limit=1")["results"][0]
    assert north["mission"]["id"] == "kz-consulate-ru-anadyr"  # 64.7 N, the most northern post
    south = nearest(client, "lat=-90&lon=123&limit=1")["results"][0]
    assert south["mission"]["id"] == "kz-embassy-fj-suva"


def test_filters(client: FlaskClient) -> None:
    body = nearest(client, "lat=50.11&lon=8.68&limit=3&type=embassy")
    assert all(r["mission"]["properties"]["type"] == "embassy" for r in body["results"])
    # From Frankfurt, Bern (~360 km) is nearer than Berlin (~420 km); the consulate itself is filtered out.
    assert [r["mission"]["id"] for r in body["results"][:2]] == ["kz-embassy-ch-bern", "kz-embassy-de-berlin"]
    body = nearest(client, "lat=46.2&lon=6.14&limit=50&service=visas")
    assert "kz-pm-ch-geneva" not in [r["mission"]["id"] for r in body["results"]]
    assert len(body["results"]) == 8  # every post offering visas, suspended Kyiv aside


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("lon=10", "lat"),
        ("lat=10", "lon"),
        ("lat=abc&lon=10", "lat"),
        ("lat=NaN&lon=10", "lat"),
        ("lat=10&lon=inf", "lon"),
        ("lat=-inf&lon=10", "lat"),
        ("lat=90.0001&lon=10", "lat"),
        ("lat=10&lon=-180.5", "lon"),
        ("lat=10&lon=10&limit=0", "limit"),
        ("lat=10&lon=10&limit=51", "limit"),
        ("lat=10&lon=10&limit=2.5", "limit"),
        ("lat=10&lon=10&type=castle", "type"),
        ("lat=10&lon=10&type=embassy,castle", "type"),
        ("lat=10&lon=10&type=", "type"),
        ("lat=10&lon=10&type=embassy,,consulate", "type"),
        ("lat=10&lon=10&status=gone", "status"),
        ("lat=10&lon=10&service=pizza", "service"),
        ("lat=10&lon=10&open_now=perhaps", "open_now"),
        ("lat=1e400&lon=10", "lat"),
        ("lat=" + "9" * 5000 + "&lon=10", "lat"),
    ],
)
def test_bad_input_is_a_400_problem_naming_the_parameter(client: FlaskClient, query: str, field: str) -> None:
    body = assert_problem(client.get(f"/v1/missions/nearest?{query}"), 400)
    assert field in body["errors"]


def test_open_now_with_a_pinned_clock(app: Flask) -> None:
    # Tuesday 2026-12-01 10:00 in Berlin (09:00 UTC): Berlin's hours say open; others have unknown hours.
    pin_clock(app, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    client = app.test_client()
    body = nearest(client, "lat=52.52&lon=13.40&limit=3")
    by_id = {r["mission"]["id"]: r for r in body["results"]}
    assert by_id["kz-embassy-de-berlin"]["open_now"] is True
    assert by_id["kz-embassy-de-berlin"]["closes_at"]["local"].startswith("2026-12-01T13:00")
    assert by_id["kz-cg-de-frankfurt-am-main"]["open_now"] == "unknown"
    only_open = nearest(client, "lat=0&lon=0&limit=5&open_now=true")
    assert [r["mission"]["id"] for r in only_open["results"]] == ["kz-embassy-de-berlin"]


def test_open_now_lunch_break_and_holiday(app: Flask) -> None:
    pin_clock(app, datetime(2026, 12, 25, 9, 0, tzinfo=UTC))  # Christmas Day, a Friday, 10:00 in Berlin
    client = app.test_client()
    berlin = nearest(client, "lat=52.52&lon=13.40&limit=1")["results"][0]
    assert berlin["open_now"] is False  # "PH off" from the German holiday calendar
    assert berlin["opens_at"]["local"].startswith("2026-12-28T09:00")  # 26th is a holiday and a Saturday


def test_suspended_mission_is_never_open(app: Flask) -> None:
    pin_clock(app, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    kyiv = nearest(app.test_client(), "lat=50.45&lon=30.52&limit=1&status=any")["results"][0]
    assert kyiv["mission"]["id"] == "kz-embassy-ua-kyiv"
    assert kyiv["open_now"] is False and kyiv["opens_at"] is None


def test_answers_are_computed_for_each_request(client: FlaskClient) -> None:
    """No result cache (bench/bench_cache.py): both answers say so, as they always did with the cache off."""
    for path in ("/v1/missions/nearest?lat=48.85&lon=2.35&limit=3", "/v1/missions/responsible?lat=48.85&lon=2.35"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["X-Cache"] == "bypass"


def responsible(client: FlaskClient, query: str) -> dict:  # type: ignore[type-arg]
    response = client.get(f"/v1/missions/responsible?{query}")
    assert response.status_code == 200, response.data
    return orjson.loads(response.data)  # type: ignore[no-any-return]


def test_responsible_resident_embassy_not_the_permanent_mission(client: FlaskClient) -> None:
    body = responsible(client, "lat=46.2044&lon=6.1432")  # Geneva
    assert body["country"]["code"] == "CH"
    assert body["subdivisions"] == ["CH-GE"]  # looked up: a career post sits in Switzerland
    assert body["basis"] == "resident" and body["uncertain"] is False
    assert [(m["mission"]["id"], m["district_source"]) for m in body["missions"]] == [
        ("kz-embassy-ch-bern", "country")]
    assert body["consular_hotline"]["number"].startswith("+7")
    assert body["nearest"][0]["mission"]["id"] == "kz-embassy-ch-bern"  # career posts only
    assert "kz-pm-ch-geneva" not in [m["mission"]["id"] for m in body["nearest"]]


def test_responsible_by_district(client: FlaskClient) -> None:
    body = responsible(client, "lat=50.1109&lon=8.6821")  # Frankfurt, Hesse
    assert body["basis"] == "district"
    assert [m["mission"]["id"] for m in body["missions"]] == ["kz-cg-de-frankfurt-am-main"]
    assert "DE-HE" in body["subdivisions"]
    assert body["missions"][0]["district_source"] == "published"
    body = responsible(client, "lat=52.52&lon=13.40")  # Berlin: the embassy sits in DE-BE
    assert body["basis"] == "seat"
    assert [(m["mission"]["id"], m["district_source"]) for m in body["missions"]] == [
        ("kz-embassy-de-berlin", "seat")]
    body = responsible(client, "lat=53.55&lon=10.0")  # Hamburg: no district, no seat → the embassy
    assert body["basis"] == "resident" and body["missions"][0]["district_source"] == "country"


def test_responsible_accredited_conflict(client: FlaskClient) -> None:
    body = responsible(client, "country=BS")
    assert body["basis"] == "accredited"
    assert sorted(m["mission"]["id"] for m in body["missions"]) == ["kz-embassy-ca-ottawa", "kz-embassy-us-washington"]
    assert body["conflict"]


def test_responsible_home_sea_and_uncovered(client: FlaskClient) -> None:
    assert responsible(client, "lat=51.1694&lon=71.4491")["basis"] == "home"  # Astana
    at_sea = responsible(client, "lat=30&lon=-40")
    assert at_sea["country"] is None and at_sea["basis"] == "none"
    assert at_sea["nearest"]
    assert responsible(client, "country=JP")["basis"] == "none"
    antarctica = responsible(client, "lat=-80&lon=0")  # the zone data says Africa/Johannesburg here
    assert antarctica["country"] is None and antarctica["basis"] == "none" and antarctica["nearest"]


@pytest.mark.parametrize("query", ["", "lat=10", "lat=10&lon=10&country=DE", "country=Germany", "lat=nan&lon=1"])
def test_responsible_bad_input(client: FlaskClient, query: str) -> None:
    assert_problem(client.get(f"/v1/missions/responsible?{query}"), 400)
