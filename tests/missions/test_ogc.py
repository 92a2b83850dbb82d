"""OGC API – Features Part 1 Core: landing, conformance, collections, items with paging and bbox, one item."""

from __future__ import annotations

import orjson
from flask.testing import FlaskClient

from tests.harness.problems import assert_problem


def get(client: FlaskClient, url: str) -> dict:  # type: ignore[type-arg]
    response = client.get(url)
    assert response.status_code == 200, response.data
    return orjson.loads(response.data)  # type: ignore[no-any-return]


def rels(doc: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {link["rel"]: link["href"] for link in doc["links"]}


def test_landing_page_links(client: FlaskClient) -> None:
    doc = get(client, "/")
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels(doc))
    assert rels(doc)["service-desc"].endswith("/openapi.json")


def test_conformance(client: FlaskClient) -> None:
    doc = get(client, "/conformance")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in doc["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in doc["conformsTo"]


def test_collections_and_collection(client: FlaskClient) -> None:
    doc = get(client, "/collections")
    assert [c["id"] for c in doc["collections"]] == ["missions"]
    collection = get(client, "/collections/missions")
    assert collection["extent"]["spatial"]["bbox"] == [[-180.0, -90.0, 180.0, 90.0]]
    assert "items" in rels(collection)
    assert_problem(client.get("/collections/castles"), 404)


def test_items_paging_follows_next_links(client: FlaskClient) -> None:
    seen: list[str] = []
    url = "/collections/missions/items?limit=3"
    pages = 0
    while url:
        doc = get(client, url.replace("http://localhost", ""))
        assert doc["numberMatched"] == 10
        assert doc["numberReturned"] == len(doc["features"]) <= 3
        seen += [f["id"] for f in doc["features"]]
        url = rels(doc).get("next", "")
        pages += 1
    assert pages == 4
    assert len(seen) == len(set(seen)) == 10


def test_items_bbox_across_antimeridian(client: FlaskClient) -> None:
    doc = get(client, "/collections/missions/items?bbox=170,-30,-170,70")
    assert sorted(f["id"] for f in doc["features"]) == ["kz-consulate-ru-anadyr", "kz-embassy-fj-suva"]


def test_item_and_unknown_item(client: FlaskClient) -> None:
    doc = get(client, "/collections/missions/items/kz-embassy-fj-suva")
    assert doc["type"] == "Feature" and doc["geometry"]["coordinates"][0] > 178
    assert {"self", "collection"} <= set(rels(doc))
    assert_problem(client.get("/collections/missions/items/nope"), 404)


def test_unknown_parameter_is_400(client: FlaskClient) -> None:
    body = assert_problem(client.get("/collections/missions/items?colour=red"), 400)
    assert "colour" in body["errors"]
    assert_problem(client.get("/collections/missions/items?limit=0"), 400)
    assert_problem(client.get("/collections/missions/items?limit=abc"), 400)
