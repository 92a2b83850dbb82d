"""Access logs never carry coordinates; request ids are accepted or generated and echoed."""

from __future__ import annotations

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from yurt import create_app
from yurt.core.observability import redact_query


def test_redact_query() -> None:
    assert redact_query("lat=51.5074&lon=-0.1278&limit=3") == "lat=REDACTED&lon=REDACTED&limit=3"
    assert redact_query("LAT=1&q=x") == "LAT=REDACTED&q=x"
    # Variants a denylist would miss: spaces, other spellings, areas, invented parameters.
    assert redact_query("lat%20=51.5&%20lon=0.12&bbox=0.1,51.4,0.2,51.6&where=51.5,0.1&limit=2") == (
        "lat+=REDACTED&+lon=REDACTED&bbox=REDACTED&where=REDACTED&limit=2")


def test_access_log_has_no_coordinates(app: Flask, capfd: pytest.CaptureFixture[str]) -> None:
    # The fixture's app logs at WARNING; build one at INFO, where the access log is on.
    settings = app.extensions["yurt"].settings.replace(log_level="INFO")
    logged_app = create_app(settings)
    try:
        client = logged_app.test_client()
        capfd.readouterr()
        client.get("/v1/missions/nearest?lat=51.50741234&lon=-0.12781234&limit=2")
        client.get("/v1/missions/responsible?lat=46.2044&lon=6.1432")
        client.get("/v1/meetups/nearby?lat=46.2044&lon=6.1432&radius_km=10")
        err = capfd.readouterr().err
    finally:
        logged_app.extensions["yurt"].close()
    lines = [orjson.loads(line) for line in err.splitlines() if '"yurt.access"' in line]
    assert len(lines) == 3
    assert all(line["query"].startswith("lat=REDACTED&lon=REDACTED") for line in lines)
    assert lines[0]["path"] == "/v1/missions/nearest" and lines[0]["status"] == 200
    for fragment in ["51.507", "-0.127", "46.204", "6.143"]:
        assert fragment not in err


def test_request_id_echo(client: FlaskClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert generated and " " not in generated
