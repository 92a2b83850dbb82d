"""Public missions API: the collection, filters, one mission, ETag/304, gzip, bbox across the antimeridian."""

from __future__ import annotations

import gzip

import orjson
import pytest
import requests
from flask.testing import FlaskClient

from tests.conftest import LiveServer
from tests.harness.problems import assert_problem


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [f["properties"]["id"] for f in orjson.loads(response.data)["features"]]


def test_collection_is_geojson_with_dataset_facts(client: FlaskClient) -> None:
    response = client.get("/v1/missions")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = orjson.loads(response.data)
    assert body["type"] == "FeatureCollection"
    assert body["dataset"]["consular_hotline"]["number"].startswith("+7")
    assert len(body["features"]) == 10
    feature = body["features"][0]
    assert feature["type"] == "Feature" and feature["id"] == feature["properties"]["id"]
    lon, lat = feature["geometry"]["coordinates"]
    assert -180 <= lon <= 180 and -90 <= lat <= 90
    for f in body["features"]:  # computed values never inside properties
        assert not {"distance_km", "open_now", "version", "rev"} & set(f["properties"])
    assert "max-age" in response.headers["Cache-Control"] and "stale-if-error" in response.headers["Cache-Control"]


def test_etag_and_304(client: FlaskClient) -> None:
    first = client.get("/v1/missions")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get("/v1/missions", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get("/v1/missions", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/v1/missions", headers={"If-None-Match": f'"x", {etag}'}).status_code == 304


def test_gzip_when_asked(client: FlaskClient) -> None:
    plain = client.get("/v1/missions")
    zipped = client.get("/v1/missions", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert "Accept-Encoding" in zipped.headers["Vary"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=DE", ["kz-cg-de-frankfurt-am-main", "kz-embassy-de-berlin"]),
        ("type=permanent_mission", ["kz-pm-ch-geneva"]),
        ("status=suspended", ["kz-embassy-ua-kyiv"]),
        ("service=visas&country=CH", ["kz-embassy-ch-bern"]),
        ("q=frankfurt", ["kz-cg-de-frankfurt-am-main"]),
        ("q=FRANKFURT%20AM", ["kz-cg-de-frankfurt-am-main"]),
        ("bbox=5,45,9,47.5", ["kz-embassy-ch-bern", "kz-pm-ch-geneva"]),
        # Across the antimeridian: minLon > maxLon covers Fiji (178.4) and Anadyr (177.5) but not Washington.
        ("bbox=170,-30,-170,70", ["kz-consulate-ru-anadyr", "kz-embassy-fj-suva"]),
        ("bbox=178,-30,-170,0", ["kz-embassy-fj-suva"]),
        ("country=JP", []),
    ],
)
def test_filters(client: FlaskClient, query: str, expected: list[str]) -> None:
    response = client.get(f"/v1/missions?{query}")
    assert response.status_code == 200
    assert ids(response) == expected
    assert orjson.loads(response.data)["numberMatched"] == len(expected)


def test_filtered_etag_differs_and_revalidates(client: FlaskClient) -> None:
    whole = client.get("/v1/missions").headers["ETag"]
    part = client.get("/v1/missions?country=DE")
    assert part.headers["ETag"] != whole
    assert client.get("/v1/missions?country=DE", headers={"If-None-Match": part.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("country=Germany", "country"),
        ("country=zz", "country"),
        ("type=castle", "type"),
        ("service=pizza", "service"),
        ("status=maybe", "status"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=0,50,10,40", "bbox"),
        ("bbox=0,0,190,10", "bbox"),
        ("bbox=nan,0,10,10", "bbox"),
        ("bbox=0,0,inf,10", "bbox"),
        ("q=" + "x" * 101, "q"),
        ("limt=5", "limt"),
    ],
)
def test_bad_filters_are_400_problems_naming_the_parameter(client: FlaskClient, query: str, field: str) -> None:
    body = assert_problem(client.get(f"/v1/missions?{query}"), 400)
    assert field in body["errors"]


def test_repeated_parameter_is_rejected(client: FlaskClient) -> None:
    body = assert_problem(client.get("/v1/missions?country=DE&country=FR"), 400)
    assert "country" in body["errors"]


def test_one_mission_with_its_own_etag(client: FlaskClient) -> None:
    response = client.get("/v1/missions/kz-embassy-de-berlin")
    assert response.status_code == 200
    feature = orjson.loads(response.data)
    assert feature["properties"]["name"]["en"]
    etag = response.headers["ETag"]
    assert etag != client.get("/v1/missions").headers["ETag"]
    assert etag != client.get("/v1/missions/kz-embassy-ch-bern").headers["ETag"]
    assert client.get("/v1/missions/kz-embassy-de-berlin", headers={"If-None-Match": etag}).status_code == 304


def test_unknown_mission_is_404_problem(client: FlaskClient) -> None:
    body = assert_problem(client.get("/v1/missions/kz-embassy-atlantis"), 404)
    assert "kz-embassy-atlantis" in body["detail"]


def test_over_real_http(live_server: LiveServer) -> None:
    response = requests.get(f"{live_server.url}/v1/missions", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(response.json()["features"]) == 10  # requests decoded the gzip body
    again = requests.get(f"{live_server.url}/v1/missions", headers={"If-None-Match": response.headers["ETag"]},
                         timeout=10)
    assert again.status_code == 304
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"]
