"""The shipped dataset answers the places the brief names, through the real API (no fixture data)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from yurt import create_app
from yurt.core.settings import PROJECT_ROOT, Settings


@pytest.fixture(scope="module")
def real_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    data_dir: Path = tmp_path_factory.mktemp("real")
    app: Flask = create_app(Settings(data_file=PROJECT_ROOT / "data" / "embassies.geojson", data_dir=data_dir,
                                     jwt_secret="x" * 40, log_level="WARNING", rate_limit="100000/minute"))
    yield app.test_client()
    app.extensions["yurt"].close()


def responsible(client: FlaskClient, lat: float, lon: float) -> dict:  # type: ignore[type-arg]
    response = client.get(f"/v1/missions/responsible?lat={lat}&lon={lon}")
    assert response.status_code == 200, response.data
    return orjson.loads(response.data)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("lat", "lon", "country", "basis", "first"),
    [
        (46.2044, 6.1432, "CH", "resident", "kz-embassy-ch-bern"),  # Geneva: not the UN mission
        (47.5596, 7.5886, "CH", "resident", "kz-embassy-ch-bern"),  # Basel
        (47.5896, 7.5590, "FR", "district", "kz-cg-fr-strasbourg"),  # Saint-Louis (Haut-Rhin, in Grand Est)
        (59.3776, 28.1903, "EE", "resident", "kz-embassy-ee-tallinn"),  # Narva
        (59.3790, 28.2230, "RU", "resident", "kz-embassy-ru-moscow"),  # Ivangorod, Leningrad oblast
        (22.3193, 114.1694, "HK", "seat", "kz-cg-hk-hong-kong"),
        (1.3521, 103.8198, "SG", "seat", "kz-embassy-sg-singapore"),
        (41.0082, 28.9784, "TR", "seat", "kz-cg-tr-istanbul"),  # Istanbul, European side: the post there
        (56.8389, 60.6057, "RU", "district", "kz-cg-ru-yekaterinburg"),
        (39.6542, 66.9597, "UZ", "district", "kz-cg-uz-samarkand"),
        (54.9885, 73.3242, "RU", "district", "kz-consulate-ru-omsk"),  # Omsk: not Moscow, 2,242 km away
        (55.0084, 82.9357, "RU", "district", "kz-consulate-ru-omsk"),  # Novosibirsk, in Omsk's district
        (55.7558, 37.6173, "RU", "seat", "kz-embassy-ru-moscow"),
        # Paris: the embassy, not UNESCO. Basis resident, not seat: the locator puts the embassy's building (8e)
        # in FR-92, its nearest labelled place being Neuilly-sur-Seine (the source has one point for Paris).
        (48.8566, 2.3522, "FR", "resident", "kz-embassy-fr-paris"),
        (40.4168, -3.7038, "ES", "seat", "kz-embassy-es-madrid"),
    ],
)
def test_responsible_for_named_places(real_client: FlaskClient, lat: float, lon: float, country: str,
                                      basis: str, first: str) -> None:
    body = responsible(real_client, lat, lon)
    assert body["country"]["code"] == country
    assert (body["basis"], body["missions"][0]["mission"]["id"]) == (basis, first), body["missions"]


def test_macao_is_served_by_the_consulate_general_in_hong_kong(real_client: FlaskClient) -> None:
    body = responsible(real_client, 22.1987, 113.5439)
    assert body["country"]["code"] == "MO" and body["basis"] == "accredited"
    assert [(m["mission"]["id"], m["district_source"]) for m in body["missions"]] == [
        ("kz-cg-hk-hong-kong", "accredited")]


def test_a_city_no_post_claims_gets_the_embassy_and_an_honest_doubt(real_client: FlaskClient) -> None:
    # Nizhny Novgorod: no published district names it (as far as the data goes), no post sits there; Kazan
    # is nearer than Moscow, so it is listed as probably responsible and the answer says it is unsure.
    body = responsible(real_client, 56.2965, 43.9361)
    listed = [(m["mission"]["id"], m["district_source"]) for m in body["missions"]]
    if body["basis"] == "resident":
        assert listed[0] == ("kz-embassy-ru-moscow", "country")
        assert body["uncertain"] is (len(listed) > 1)
        assert all(source in ("country", "assumed") for _, source in listed)
    else:  # a published district covers it
        assert body["basis"] == "district" and listed[0][1] == "published"


def test_every_open_career_post_is_first_at_its_own_point(real_client: FlaskClient) -> None:
    features = orjson.loads(real_client.get("/v1/missions?status=open").data)["features"]
    career = [f for f in features if f["properties"]["type"] in ("embassy", "consulate_general", "consulate")]
    wrong = []
    for feature in career:
        lon, lat = feature["geometry"]["coordinates"]
        body = responsible(real_client, lat, lon)
        if body["country"] is None or body["country"]["code"] != feature["properties"]["host_country"]:
            continue  # a point on a quay or a border: the post's country is not the point's (none today)
        if body["missions"][0]["mission"]["id"] != feature["id"]:
            wrong.append((feature["id"], body["basis"], body["missions"][0]["mission"]["id"]))
    assert career and not wrong


def test_nearest_from_home_and_from_paris(real_client: FlaskClient) -> None:
    almaty = orjson.loads(real_client.get("/v1/missions/nearest?lat=43.2389&lon=76.8897&limit=1").data)
    assert almaty["at_home"] is True and almaty["country"]["code"] == "KZ"
    paris = orjson.loads(real_client.get("/v1/missions/nearest?lat=48.8566&lon=2.3522&limit=3").data)
    assert paris["results"][0]["mission"]["id"] == "kz-embassy-fr-paris"
    assert "kz-pm-fr-paris-unesco" not in [r["mission"]["id"] for r in paris["results"]]


def test_open_sea_has_no_country(real_client: FlaskClient) -> None:
    body = orjson.loads(real_client.get("/v1/missions/responsible?lat=0&lon=-30").data)
    assert body["country"] is None and body["basis"] == "none" and body["nearest"]


def test_counts_match_the_readme(real_client: FlaskClient) -> None:
    features = orjson.loads(real_client.get("/v1/missions").data)["features"]
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert f"**{len(features)} posts**" in readme
    building = sum(1 for f in features if f["properties"]["location_precision"] == "building")
    assert f"**{building}** have building-level coordinates" in readme


def test_the_readme_data_table_is_the_quality_report(real_client: FlaskClient) -> None:
    from datetime import date

    from yurt.missions.model.quality import markdown_table, quality_report

    features = orjson.loads(real_client.get("/v1/missions").data)["features"]
    table = markdown_table(quality_report([f["properties"] for f in features], date(2026, 11, 29)))
    assert table in (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
