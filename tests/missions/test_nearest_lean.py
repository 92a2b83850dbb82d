"""The lean routes of ``nearest`` and ``responsible`` (``yurt.missions.http.lean_answers``) answer exactly as the
Flask views do, in both storage modes, and step aside for anything they could not answer so."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.alerts.helpers import BERLIN_BOX, publish
from tests.conftest import pin_clock, running_app
from yurt.core.observability import front
from yurt.core.settings import Settings

ID = {"X-Request-ID": "lean-nearest-1"}
ANSWERED = [
    "/v1/missions/nearest?lat=51.5&lon=-0.12",
    "/v1/missions/nearest?lat=52.52&lon=13.405&limit=10",
    "/v1/missions/nearest?lat=0&lon=180&type=any&limit=3",
    "/v1/missions/nearest?lat=46.2044&lon=6.1432&status=any&service=visas",
    "/v1/missions/nearest?lat=41.0&lon=29.0&open_now=true&type=embassy,consulate",
    "/v1/missions/nearest?lat=-33.9&lon=151.2&limit=50&status=open",
    "/v1/missions/responsible?lat=46.2044&lon=6.1432",
    "/v1/missions/responsible?lat=52.52&lon=13.40",
    "/v1/missions/responsible?lat=50.1109&lon=8.6821",
    "/v1/missions/responsible?country=DE",
    "/v1/missions/responsible?country=BS",
    "/v1/missions/responsible?lat=43.24&lon=76.95",
]
REFUSED = [
    "/v1/missions/nearest?lat=91&lon=0",
    "/v1/missions/nearest?lat=1&lat=2&lon=3",
    "/v1/missions/nearest?lat=1",
    "/v1/missions/nearest?lat=1&lon=2&limt=3",
    "/v1/missions/nearest?lat=1&lon=2&type=castle",
    "/v1/missions/responsible?lat=46.2&lon=6.1&country=CH",
    "/v1/missions/responsible?lat=46.2",
    "/v1/missions/responsible",
]


@pytest.fixture(params=["embedded", "redis"])
def app(request: pytest.FixtureRequest, settings: Settings, redis_url: str) -> Iterator[Flask]:
    chosen = settings.replace(redis_url=redis_url) if request.param == "redis" else settings
    with running_app(chosen) as application:
        assert publish(application.test_client(), area=BERLIN_BOX).status_code == 201
        assert publish(application.test_client(), area=None, countries=["CH"]).status_code == 201
        yield application


def _spy(app: Flask) -> list[bool]:
    """Record, per lean call, whether the lean route answered (True) or stepped aside (False)."""
    answered: list[bool] = []
    for rule in ("/v1/missions/nearest", "/v1/missions/responsible"):
        route = front(app).lean[rule]

        def spy(environ: dict[str, Any], route: Any = route) -> Any:
            answer = route(environ)
            answered.append(answer is not None)
            return answer

        front(app).lean[rule] = spy
    return answered


def _get(app: Flask, url: str, lean: bool) -> TestResponse:
    routes = front(app).lean
    saved = dict(routes)
    if not lean:
        routes.clear()
    try:
        return app.test_client().get(url, headers=ID)
    finally:
        routes.update(saved)


def test_lean_answers_are_the_views_own(app: Flask) -> None:
    answered = _spy(app)
    for url in ANSWERED:
        lean, flask = _get(app, url, True), _get(app, url, False)
        assert answered.pop() is True, url
        assert (lean.status_code, lean.data) == (flask.status_code, flask.data), url
        assert Counter(lean.headers.items()) == Counter(flask.headers.items()), url
        assert lean.status_code == 200
    geneva = _get(app, ANSWERED[6], True).get_json()
    assert geneva["alerts"] and geneva["country"]["code"] == "CH"


def test_anything_else_is_left_to_flask(app: Flask) -> None:
    answered = _spy(app)
    for url in REFUSED:
        lean, flask = _get(app, url, True), _get(app, url, False)
        assert answered.pop() is False, url
        assert lean.status_code == flask.status_code == 400, url
        assert lean.get_json() == flask.get_json() and lean.mimetype == "application/problem+json"
    token = app.test_client().get(ANSWERED[0], headers={"Authorization": "Bearer not-a-token"})
    assert token.status_code == 200 and answered.pop() is False


def test_a_pinned_clock_is_honoured_by_leaving_the_request_to_flask(app: Flask) -> None:
    answered = _spy(app)
    pin_clock(app, datetime(2026, 1, 3, 3, 0, tzinfo=UTC))  # a Saturday night: every post closed
    body = app.test_client().get("/v1/missions/nearest?lat=52.52&lon=13.405&type=any&status=any").get_json()
    assert answered == [False]
    assert all(r["open_now"] in (False, "unknown") for r in body["results"])
