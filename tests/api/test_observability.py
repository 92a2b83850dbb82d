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


def test_requests_are_measured_by_route_rule(client: FlaskClient) -> None:
    from prometheus_client import REGISTRY

    def count(endpoint: str, status: str) -> float:
        return REGISTRY.get_sample_value("yurt_request_seconds_count",
                                         {"endpoint": endpoint, "method": "GET", "status": status}) or 0.0

    mission_id = client.get("/v1/missions").get_json()["features"][0]["properties"]["id"]
    before = count("/v1/missions/<mission_id>", "200"), count("unmatched", "404")
    assert client.get(f"/v1/missions/{mission_id}").status_code == 200
    assert client.get("/no/such/route").status_code == 404
    assert (count("/v1/missions/<mission_id>", "200"), count("unmatched", "404")) == (before[0] + 1, before[1] + 1)


def test_access_log_line_as_formatted_before(capfd: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The line ``AccessLog.write`` builds from a millisecond table and integer rounding is, field for field and
    byte for byte, the one it built with ``strftime`` and ``round`` per line (times across second edges, in one
    second, and durations at many scales, half-microseconds included)."""
    import random
    import time
    import types

    from yurt.core import observability

    rng = random.Random(15)
    cases = [(1_800_000_000 + rng.random() * 3, rng.choice([1e-3, 1, 1e3]) * rng.random()) for _ in range(300)]
    cases += [(1_800_000_000.9995, 0.0005), (1_800_000_001.0, 2.5005), (1_800_000_001.001, 0.0)]
    clock = types.SimpleNamespace(time=lambda: now, strftime=time.strftime, gmtime=time.gmtime)
    monkeypatch.setattr(observability, "time", clock)
    log = observability.AccessLog(enabled=True)
    expected = []
    capfd.readouterr()
    for now, duration_ms in cases:
        log.write("GET", "/v1/missions/nearest", "lat=1.5&lon=2&limit=5", 200, "ab" * 12, duration_ms)
        expected.append(orjson.dumps({
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(now))) + f".{int(now % 1 * 1000):03d}Z",
            "level": "INFO", "logger": "yurt.access", "msg": "GET /v1/missions/nearest 200",
            "request_id": "ab" * 12, "method": "GET", "path": "/v1/missions/nearest",
            "query": "lat=REDACTED&lon=REDACTED&limit=5", "status": 200,
            "duration_ms": round(duration_ms, 3)}).decode())
    assert capfd.readouterr().err.splitlines() == expected
