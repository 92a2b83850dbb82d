"""The lean route of ``GET /v1/missions`` (``yurt.missions.http.missions.LeanCollection``) answers exactly as Flask's
``list_missions`` does, counts the rate limit, logs and measures each request, and steps aside for anything
else. Its filtered answers (``bbox`` and the rest) are compared with Flask's in test_bbox_lean.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.conftest import running_app
from yurt.core.observability import front
from yurt.core.settings import Settings

ID = {"X-Request-ID": "lean-test-1"}


@pytest.fixture
def cors_app(settings: Settings) -> Iterator[Flask]:
    with running_app(settings.replace(cors_origins=("https://app.example",))) as application:
        yield application


def _answer(app: Flask, lean: bool, headers: dict[str, str]) -> TestResponse:
    routes = front(app).lean
    saved = dict(routes)
    if not lean:
        routes.clear()  # Flask's own list_missions answers
    try:
        return app.test_client().get("/v1/missions", headers={**ID, **headers})
    finally:
        routes.update(saved)


def _same(app: Flask, headers: dict[str, str]) -> TestResponse:
    lean, flask = _answer(app, True, headers), _answer(app, False, headers)
    assert lean.status == flask.status
    assert Counter(lean.headers.items()) == Counter(flask.headers.items())
    assert lean.data == flask.data
    return lean


def test_every_answer_is_flasks_own(app: Flask, cors_app: Flask) -> None:
    etag = app.test_client().get("/v1/missions").headers["ETag"]
    plain = _same(app, {})
    assert plain.status_code == 200 and plain.headers["ETag"] == etag
    assert orjson.loads(plain.data)["type"] == "FeatureCollection"
    assert _same(app, {"Accept-Encoding": "gzip, br"}).headers["Content-Encoding"] == "gzip"
    assert _same(app, {"If-None-Match": etag}).status_code == 304
    assert _same(app, {"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert _same(app, {"If-None-Match": '"other"'}).status_code == 200
    assert _same(app, {"If-None-Match": "*", "Accept-Encoding": "gzip"}).status_code == 304
    allowed = _same(cors_app, {"Origin": "https://app.example", "If-None-Match": etag})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Origin" in allowed.headers.getlist("Vary")


def test_a_new_dataset_version_gets_new_answers(app: Flask) -> None:
    client = app.test_client()
    first = client.get("/v1/missions")
    catalogue = app.extensions["yurt"].catalogue
    dataset = catalogue.current()
    record = dataset.records[0]
    feature = {**record.feature, "properties": {**record.feature["properties"], "city": "Elsewhere"}}
    app.extensions["yurt"].store.update(record.id, feature, if_match=record.etag, author="test")  # a staff edit
    catalogue.refresh()
    second = client.get("/v1/missions", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert b"Elsewhere" in second.data
    assert second.headers["Content-Length"] == str(len(second.data))


def test_the_lean_route_counts_the_rate_limit(settings: Settings) -> None:
    with running_app(settings.replace(rate_limit="3/minute")) as app:
        client = app.test_client()
        assert [client.get("/v1/missions").status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get("/v1/missions")
        assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
        assert int(refused.headers["Retry-After"]) >= 1
        assert client.get("/v1/missions/nearest?lat=1&lon=2").status_code == 429  # one budget for both paths


def test_the_lean_route_is_logged_and_measured(settings: Settings, capfd: pytest.CaptureFixture[str]) -> None:
    from prometheus_client import REGISTRY

    def count() -> float:
        value = REGISTRY.get_sample_value("yurt_request_seconds_count",
                                          {"endpoint": "/v1/missions", "method": "GET", "status": "304"})
        return value or 0.0

    with running_app(settings.replace(log_level="INFO")) as app:
        client = app.test_client()
        etag = client.get("/v1/missions").headers["ETag"]
        before = count()
        capfd.readouterr()
        answer = client.get("/v1/missions", headers={"If-None-Match": etag, "X-Request-ID": "lean-log-1"})
        err = capfd.readouterr().err
    assert answer.status_code == 304 and answer.headers["X-Request-ID"] == "lean-log-1"
    assert count() == before + 1
    lines = [orjson.loads(line) for line in err.splitlines() if '"yurt.access"' in line]
    assert [(x["path"], x["status"], x["request_id"], x["query"]) for x in lines] == [
        ("/v1/missions", 304, "lean-log-1", None)]


def test_anything_else_goes_to_flask(app: Flask) -> None:
    calls: list[tuple[str, bool]] = []  # (query string, whether the lean route answered)
    lean = front(app).lean["/v1/missions"]

    def spy(environ: dict[str, Any]) -> Any:
        answer = lean(environ)
        calls.append((environ["QUERY_STRING"], answer is not None))
        return answer

    front(app).lean["/v1/missions"] = spy
    client = app.test_client()
    assert client.get("/v1/missions?type=castle").status_code == 400  # an invalid query: asked, Flask answers
    assert client.head("/v1/missions").status_code == 200  # HEAD: Flask, not asked
    assert client.get("/v1/missions/").status_code == 200  # another path: Flask, not asked
    assert calls == [("type=castle", False)]
    assert client.get("/v1/missions?type=embassy").status_code == 200  # a valid filter: the lean route's
    assert calls[-1] == ("type=embassy", True)
    assert client.get("/v1/missions", headers={"Authorization": "Bearer not-a-token"}).status_code == 200
    assert calls[-1] == ("", False)  # asked, and it stepped aside: the token is counted in Flask's path
    assert client.get("/v1/missions").status_code == 200 and calls[-1] == ("", True)
