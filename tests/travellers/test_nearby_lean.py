"""The lean route of ``GET /v1/travellers/nearby`` (``yurt.travellers.http.lean_nearby``) answers a page exactly
as the Flask view does in every storage mode (embedded, Redis, Redis Cluster), counts the rate limit once per
request on every path, keeps a page to one Redis round trip (single node), and leaves everything else to Flask.
Over real HTTP: tests/system/test_nearby_lean_http.py."""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import JWT_SECRET, pin_clock, running_app
from tests.harness.problems import assert_problem
from tests.harness.round_trips import counting_round_trips
from tests.travellers.helpers import auth
from yurt.core.auth import mint
from yurt.core.observability import front
from yurt.core.settings import Settings
from yurt.travellers.http.travellers import NEARBY_RULE

DUBAI = (25.2048, 55.2708)
CROWD = 14
ID = {"X-Request-ID": "lean-nearby-1"}
# One token per caller for the whole module: the lean route answers callers this app's verifier has verified before
token = functools.cache(auth)
QUERIES = [{}, {"radius_km": 2, "limit": 3}, {"radius_km": 25, "limit": 4}, {"radius_km": 50, "limit": 50},
           {"radius_km": "7.5", "limit": 1}]


def spot(i: int) -> tuple[float, float]:
    """A crowd over several cells and bands around Dubai (0 to about 12 km apart)."""
    return DUBAI[0] + (i % 4) * 0.03, DUBAI[1] + (i // 4) * 0.03


def share(client: FlaskClient, sub: str, lat: float, lon: float) -> TestResponse:
    """``sub`` shares presence with its one token, which Flask's view verifies (and the verifier remembers)."""
    body = {"lat": lat, "lon": lon, "display_name": sub.title(), "languages": ["kk", "ru"]}
    return client.put("/v1/travellers/me/presence", json=body, headers=token(sub))


def _settings(mode: str, settings: Settings, request: pytest.FixtureRequest) -> Settings:
    if mode == "redis":
        return settings.replace(redis_url=request.getfixturevalue("redis_url"))
    if mode == "cluster":  # the store counts the charge there too, over its own round trips
        return request.getfixturevalue("cluster_settings").replace(redis_timeout_s=5.0)
    return settings


@pytest.fixture(params=["embedded", "redis", "cluster"])
def app(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Flask]:
    with running_app(_settings(request.param, settings, request)) as application:
        client = application.test_client()
        for i in range(CROWD):
            assert share(client, f"t{i}", *spot(i)).status_code == 200
        assert client.get(NEARBY_RULE, headers=token("never-shared")).status_code == 409  # verified, by Flask
        yield application


def _spy(app: Flask) -> list[bool]:
    """Per call of the lean route: whether it answered (True) or left the request to Flask (False)."""
    answered: list[bool] = []
    route = front(app).lean[NEARBY_RULE]

    def spy(environ: dict[str, Any]) -> Any:
        answer = route(environ)
        answered.append(answer is not None)
        return answer

    front(app).lean[NEARBY_RULE] = spy
    return answered


def _get(app: Flask, query: dict[str, Any], headers: dict[str, str], lean: bool) -> TestResponse:
    routes = front(app).lean
    saved = dict(routes)
    if not lean:
        routes.clear()  # Flask's own view answers
    try:
        return app.test_client().get(NEARBY_RULE, query_string=query, headers={**ID, **headers})
    finally:
        routes.update(saved)


def _same(app: Flask, query: dict[str, Any], headers: dict[str, str]) -> TestResponse:
    lean, flask = _get(app, query, headers, True), _get(app, query, headers, False)
    assert (lean.status, lean.data) == (flask.status, flask.data), query
    assert Counter(lean.headers.items()) == Counter(flask.headers.items()), query
    return lean


def test_every_page_is_the_views_own(app: Flask) -> None:
    answered = _spy(app)
    pages = shown = 0
    for viewer in ("t0", "t5", "t13"):
        for query in QUERIES:
            cursor = None
            while True:
                page = _same(app, {**query, **({"cursor": cursor} if cursor else {})}, token(viewer))
                assert answered.pop() is True and page.status_code == 200
                assert page.headers["Cache-Control"] == "no-store" and page.mimetype == "application/json"
                body = orjson.loads(page.data)
                assert all(r["handle"].startswith("t_") for r in body["results"])
                shown += len(body["results"])
                pages += 1
                cursor = body["next_cursor"]
                if cursor is None:
                    break
    assert pages > 3 * len(QUERIES) and shown > 3 * CROWD  # several queries took more than one page
    spaced = _same(app, {"limit": 2}, {"Authorization": "bEaReR   " + token("t1")["Authorization"][7:] + " "})
    assert answered.pop() is True and spaced.status_code == 200


def test_anything_else_is_left_to_flask_and_answered_as_before(app: Flask) -> None:
    answered = _spy(app)
    staff = {"Authorization": "Bearer " + mint(JWT_SECRET, "s", ["staff"], 10)}
    expired = {"Authorization": "Bearer " + mint(JWT_SECRET, "t0", ["traveller"], 10, now=time.time() - 3600)}
    other_cursor = orjson.loads(_get(app, {"limit": 1}, token("t1"), True).data)["next_cursor"]
    answered.clear()
    cases: list[tuple[dict[str, Any], dict[str, str], int]] = [
        ({}, {}, 401),
        ({}, {"Authorization": "Basic dDA6cHc="}, 401),
        ({}, {"Authorization": "Bearer "}, 401),
        ({}, {"Authorization": "Bearer not-a-token"}, 401),
        ({}, expired, 401),
        ({}, staff, 403),
        ({"radius_km": 0}, token("t0"), 400),
        ({"radius_km": "nan"}, token("t0"), 400),
        ({"limit": 51}, token("t0"), 400),
        ({"limit": [2, 3]}, token("t0"), 400),
        ({"limt": 2}, token("t0"), 400),
        ({"cursor": ""}, token("t0"), 400),
        ({"cursor": "x" * 301}, token("t0"), 400),
        # counted by the lean route, then answered by Flask from what the attempt raised
        ({"cursor": "not-a-cursor"}, token("t0"), 400),
        ({"cursor": other_cursor}, token("t0"), 400),  # another viewer's cursor
        ({}, token("never-shared"), 409),
    ]
    for query, headers, status in cases:
        lean, flask = _get(app, query, headers, True), _get(app, query, headers, False)
        assert answered.pop() is False and not answered, (query, headers)
        assert_problem(lean, status)
        assert (lean.status, lean.data) == (flask.status, flask.data), (query, headers)
        assert Counter(lean.headers.items()) == Counter(flask.headers.items()), (query, headers)
    fresh = {"Authorization": "Bearer " + mint(JWT_SECRET, "t2", ["traveller"], 30)}  # not verified here yet
    assert _get(app, {}, fresh, True).status_code == 200 and answered.pop() is False  # Flask verifies it
    assert _get(app, {}, fresh, True).status_code == 200 and answered.pop() is True  # then remembered


def test_a_pinned_clock_is_honoured_by_leaving_the_request_to_flask(app: Flask) -> None:
    answered = _spy(app)
    pin_clock(app, datetime.now(UTC))
    assert app.test_client().get(NEARBY_RULE, headers=token("t0")).status_code == 200
    assert answered == [False]


@pytest.mark.parametrize("mode", ["embedded", "redis", "cluster"])
def test_each_request_is_counted_once_on_every_path(mode: str, settings: Settings,
                                                    request: pytest.FixtureRequest) -> None:
    with running_app(_settings(mode, settings, request).replace(rate_limit="6/minute")) as app:
        answered = _spy(app)
        client = app.test_client()
        assert share(client, "a", *DUBAI).status_code == 200  # 1 (Flask's PUT)
        assert share(client, "b", *spot(1)).status_code == 200
        page = client.get(NEARBY_RULE, headers=token("a"))  # 2
        assert page.status_code == 200 and answered[-1] is True
        assert_problem(client.get(NEARBY_RULE, query_string={"cursor": "stale"}, headers=token("a")), 400)  # 3
        assert answered[-1] is False
        assert_problem(client.get(NEARBY_RULE, query_string={"limit": 0}, headers=token("a")), 400)  # 4, Flask's
        assert client.get(NEARBY_RULE, headers=token("a")).status_code == 200  # 5
        assert client.get(NEARBY_RULE, query_string={"limit": 1}, headers=token("a")).status_code == 200  # 6
        assert answered.count(True) == 3
        over = client.get(NEARBY_RULE, headers=token("a"))  # 7: over, from the lean route's count
        assert_problem(over, 429)
        assert 1 <= int(over.headers["Retry-After"]) <= 60 and answered[-1] is False
        assert_problem(client.get("/v1/travellers/me/presence", headers=token("a")), 429)  # one budget, both paths
        for _ in range(6):  # not sharing: each a 409, counted once
            assert_problem(client.get(NEARBY_RULE, headers=token("c")), 409)
        assert_problem(client.get(NEARBY_RULE, headers=token("c")), 429)
        assert client.get(NEARBY_RULE, headers=token("b")).status_code == 200  # another caller's own budget


def _all_pages(app: Flask, sub: str, limit: int) -> int:
    """Follow ``sub``'s pages to the last; how many there were."""
    client, cursor, pages = app.test_client(), None, 0
    while True:
        page = client.get(NEARBY_RULE, query_string={"limit": limit, **({"cursor": cursor} if cursor else {})},
                          headers=token(sub))
        assert page.status_code == 200
        pages += 1
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            return pages


@pytest.mark.redis
def test_a_lean_page_takes_one_round_trip_and_a_refusal_no_second(settings: Settings, redis_url: str) -> None:
    server = redis.Redis.from_url(redis_url)

    def evalsha() -> int:
        return int(server.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))

    with running_app(settings.replace(redis_url=redis_url, reload_interval_s=3600)) as app:
        answered = _spy(app)
        client = app.test_client()
        for i in range(CROWD):
            assert share(client, f"t{i}", *spot(i)).status_code == 200
        viewers = [f"t{i}" for i in range(6)]
        for sub in viewers:  # each viewer's first head (none to predict from yet), then a page with it: the
            for _ in range(2):  # scripts are loaded, should another test have flushed them
                assert client.get(NEARBY_RULE, query_string={"limit": 3}, headers=token(sub)).status_code == 200
        server.config_resetstat()
        with counting_round_trips() as trips:
            pages = sum(_all_pages(app, sub, 3) for sub in viewers)
        # one call a page, the rate limit's count included: sent by this client, run by the server
        assert trips.count == evalsha() == pages > len(viewers)
        assert all(answered[-pages:])
        server.config_resetstat()
        with counting_round_trips() as trips:
            assert_problem(client.get(NEARBY_RULE, headers=token("never-shared")), 409)
            assert_problem(client.get(NEARBY_RULE, query_string={"cursor": "stale"}, headers=token("t0")), 400)
        assert trips.count == evalsha() == 2 and answered[-2:] == [False, False]
    server.close()
