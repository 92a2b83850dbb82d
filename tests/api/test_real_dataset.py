"""The shipped dataset answers the places the brief names, through the real API (no fixture data)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from yurt import create_app
from yurt.settings import PROJECT_ROOT, Settings


@pytest.fixture(scope="module")
def real_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    data_dir: Path = tmp_path_factory.mktemp("real")
    app: Flask = create_app(Settings(data_file=PROJECT_ROOT / "data" / "embassies.geojson", data_dir=data_dir,
                                     jwt_secret="x" * 40, log_level="WARNING", rate_limit="100000/minute"))
    yield app.test_client()
    app.extensions["yurt"].close()


@pytest.mark.parametrize(
    ("lat", "lon", "country", "basis", "mission"),
    [
        (46.2044, 6.1432, "CH", "resident", "kz-embassy-ch-bern"),  # Geneva: not the UN mission
        (47.5596, 7.5886, "CH", "resident", "kz-embassy-ch-bern"),  # Basel
        (47.5896, 7.5590, "FR", "resident", "kz-embassy-fr-paris"),  # Saint-Louis, across the border
        (59.3776, 28.1903, "EE", "resident", "kz-embassy-ee-tallinn"),  # Narva
        (59.3790, 28.2230, "RU", "resident", "kz-embassy-ru-moscow"),  # Ivangorod
        (22.3193, 114.1694, "HK", "resident", "kz-cg-hk-hong-kong"),
        (1.3521, 103.8198, "SG", "resident", "kz-embassy-sg-singapore"),
        (41.0082, 28.9784, "TR", "resident", "kz-embassy-tr-ankara"),  # Istanbul, European side
        (56.8389, 60.6057, "RU", "district", "kz-cg-ru-yekaterinburg"),
        (39.6542, 66.9597, "UZ", "district", "kz-cg-uz-samarkand"),
    ],
)
def test_responsible_for_named_places(real_client: FlaskClient, lat: float, lon: float, country: str,
                                      basis: str, mission: str) -> None:
    body = orjson.loads(real_client.get(f"/v1/missions/responsible?lat={lat}&lon={lon}").data)
    assert body["country"]["code"] == country
    assert body["basis"] == basis
    assert mission in [m["mission"]["id"] for m in body["missions"]]


def test_open_sea_has_no_country(real_client: FlaskClient) -> None:
    body = orjson.loads(real_client.get("/v1/missions/responsible?lat=0&lon=-30").data)
    assert body["country"] is None and body["basis"] == "none" and body["nearest"]


def test_counts_match_the_readme(real_client: FlaskClient) -> None:
    features = orjson.loads(real_client.get("/v1/missions").data)["features"]
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert f"**{len(features)} posts**" in readme
    building = sum(1 for f in features if f["properties"]["location_precision"] == "building")
    assert f"**{building}** have building-level coordinates" in readme
