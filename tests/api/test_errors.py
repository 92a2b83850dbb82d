"""One error shape: every status code, every failure path, is an RFC 9457 problem with no stack trace."""

from __future__ import annotations

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.harness.problems import assert_problem
from yurt.core.http.problems import Problem


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 410, 412, 413, 415, 422, 428, 429, 500, 503])
def test_every_status_code_is_a_problem(app: Flask, status: int) -> None:
    @app.get(f"/_raise/{status}")
    def _raise() -> None:
        raise Problem(status, f"status {status} on purpose", headers={"Retry-After": "7"})

    response = app.test_client().get(f"/_raise/{status}")
    body = assert_problem(response, status)
    assert body["detail"] == f"status {status} on purpose"
    assert response.headers["Retry-After"] == "7"


def test_unknown_url_is_a_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/no/such/thing"), 404)


def test_problem_types_resolve_on_this_server(client: FlaskClient) -> None:
    body = orjson.loads(client.get("/no/such/thing").data)
    assert body["type"] == "/problems/not-found"
    doc = orjson.loads(client.get(body["type"]).data)
    assert doc == {"type": "/problems/not-found", "title": "Not Found", "status": 404}
    assert_problem(client.get("/problems/no-such-type"), 404)


def test_wrong_method_is_a_problem_with_allow(client: FlaskClient) -> None:
    response = client.delete("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_uncaught_exception_is_a_500_problem_without_trace(app: Flask) -> None:
    @app.get("/_boom")
    def _boom() -> None:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/_boom")
    body = assert_problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_validation_problem_names_fields(client: FlaskClient) -> None:
    body = assert_problem(client.get("/v1/missions?type=castle&country=ZZ"), 400)
    assert set(body["errors"]) == {"type", "country"}
