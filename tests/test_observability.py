"""Access logs never carry coordinates; request ids are accepted or generated and echoed."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from yurt.observability import redact_query


def test_redact_query() -> None:
    assert redact_query("lat=51.5074&lon=-0.1278&limit=3") == "lat=REDACTED&lon=REDACTED&limit=3"
    assert redact_query("LAT=1&q=x") == "LAT=REDACTED&q=x"


def test_access_log_has_no_coordinates(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("yurt.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="yurt.access"):
            client.get("/v1/missions/nearest?lat=51.50741234&lon=-0.12781234&limit=2")
            client.get("/v1/missions/responsible?lat=46.2044&lon=6.1432")
    finally:
        logger.removeHandler(caplog.handler)
    text = " ".join(f"{r.getMessage()} {getattr(r, 'query', '')}" for r in caplog.records)
    assert "REDACTED" in text
    for fragment in ["51.507", "-0.127", "46.204", "6.143"]:
        assert fragment not in text


def test_request_id_echo(client: FlaskClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert generated and " " not in generated
