"""Shared fixtures: a small real dataset, a real app on real files, real HTTP, and the real Redis that
scripts/test.sh starts (``TEST_REDIS_URL``)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import redis
from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

from yurt import create_app
from yurt.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_DATASET = FIXTURES / "missions.geojson"
JWT_SECRET = "test-secret-with-at-least-32-bytes-of-entropy"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_file=FIXTURE_DATASET,
        data_dir=tmp_path / "var",
        jwt_secret=JWT_SECRET,
        reload_interval_s=0.05,
        log_level="WARNING",
        rate_limit="100000/minute",
        nearest_cache_min_missions=0,  # exercise the cache path on the 10-mission fixture
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["yurt"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def pin_clock(app: Flask, now: datetime) -> None:
    """Make every request of ``app`` see ``now`` as the current time."""

    def _pin() -> None:
        g.now = now

    app.before_request_funcs.setdefault(None, []).insert(0, _pin)


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.fail("TEST_REDIS_URL is not set: run the suite with scripts/test.sh, which starts redis-server")
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def redis_settings(settings: Settings, redis_url: str) -> Settings:
    return settings.replace(redis_url=redis_url)


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server
