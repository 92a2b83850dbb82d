"""A forged ``Host`` never ends up in an answer that shared caches may store.

The probe's attack: without ``YURT_BASE_URL``, the OGC answers build their links from the request's ``Host``
and were served ``Cache-Control: public``; one request with ``Host: attacker.example`` could place links to the
attacker's host in a shared cache, for everyone. Every GET route is tried, so a new one that echoes the Host is
caught too.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from yurt import create_app
from yurt.core.settings import Settings

FORGED = "attacker.example"
BERLIN = "kz-embassy-de-berlin"
VALUES = {"collection_id": "missions", "mission_id": BERLIN, "slug": "not-found", "name": "index.html"}


def get_routes(app: Flask) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", VALUES.get(arg, "1")).replace(f"<int:{arg}>", "1")
        paths.append(path)
    return sorted(paths)


def cache_control(response: TestResponse) -> set[str]:
    value = response.headers.get("Cache-Control", "")
    return {part.strip().split("=")[0] for part in value.split(",") if part.strip()}


def test_answers_built_from_a_forged_host_are_never_public(client: FlaskClient, app: Flask) -> None:
    echoing = []
    for path in get_routes(app):
        with client.get(path, headers={"Host": FORGED}) as response:  # closes the console's static files
            data = response.data
        if FORGED.encode() not in data:
            continue
        echoing.append(path)
        directives = cache_control(response)
        assert "public" not in directives, (path, response.headers.get("Cache-Control"))
        assert directives & {"private", "no-store"}, (path, response.headers.get("Cache-Control"))
        assert "Host" in {v.strip() for value in response.headers.getlist("Vary") for v in value.split(",")}, path
    assert set(echoing) >= {"/", "/collections", "/collections/missions", "/collections/missions/items",
                            f"/collections/missions/items/{BERLIN}"}


def test_the_item_etag_names_the_representation_of_its_host(client: FlaskClient) -> None:
    path = f"/collections/missions/items/{BERLIN}"
    mine = client.get(path, headers={"Host": "yurt.example"})
    forged = client.get(path, headers={"Host": FORGED})
    assert mine.headers["ETag"] != forged.headers["ETag"]
    again = client.get(path, headers={"Host": "yurt.example", "If-None-Match": mine.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(path, headers={"Host": FORGED, "If-None-Match": mine.headers["ETag"]}).status_code == 200


@pytest.fixture
def based_app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings.replace(base_url="https://geo.yurt.example"))
    yield application
    application.extensions["yurt"].close()


def test_with_a_base_url_the_host_is_ignored_and_answers_are_public(based_app: Flask) -> None:
    client = based_app.test_client()
    for path in get_routes(based_app):
        with client.get(path, headers={"Host": FORGED}) as response:
            assert FORGED.encode() not in response.data, path
    for path in ("/", "/collections", "/collections/missions/items", f"/collections/missions/items/{BERLIN}"):
        response = client.get(path, headers={"Host": FORGED})
        assert "public" in cache_control(response), path
        hrefs = [link["href"] for link in orjson.loads(response.data)["links"]]
        assert all(href.startswith("https://geo.yurt.example/") for href in hrefs), hrefs
