"""Shared fixtures: a small real dataset, a real app on real files, real HTTP, the real Redis that
scripts/test.sh starts (``TEST_REDIS_URL``), one real Redis Cluster per session, and ``backend``: the one
parametrisation every storage contract runs on (embedded, Redis, Redis Cluster)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis
from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

from tests.harness.cluster import RedisCluster, running_cluster
from yurt import create_app
from yurt.core.redis.connection import connect
from yurt.core.settings import Settings
from yurt.missions.schemas.dataset import Collection, read_collection_file

if TYPE_CHECKING:
    from yurt.geo.places import Locator

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_DATASET = FIXTURES / "missions.geojson"
JWT_SECRET = "test-secret-with-at-least-32-bytes-of-entropy"


@pytest.fixture(scope="session", autouse=True)
def shared_locator() -> Iterator[Locator]:
    """One ``Locator`` for every app the tests build in this process. Building one reads the 1 MB subdivision
    table into per-country arrays (0.3-0.5 s, ~90% of ``create_app``), and the suite builds an app per test.
    A Locator is read-only once built (one TimezoneFinder per thread), the way a service shares it between
    its request threads, and every app reads the same packaged files, so the answers are the same. Locator
    construction itself is still tested (tests/geo/test_places.py), and every gunicorn worker builds its own.
    Imported here, not at the top: a child pytest that only collects (tests/core/test_markers.py) skips them."""
    from yurt import composition
    from yurt.geo.places import Locator as RealLocator

    locator = RealLocator()
    patch = pytest.MonkeyPatch()
    patch.setattr(composition, "Locator", lambda: locator)  # raises if the composition root stops using it
    yield locator
    patch.undo()


@pytest.fixture(scope="session")
def seed() -> Collection:
    """The fixture dataset, as a store is seeded with it."""
    return read_collection_file(FIXTURE_DATASET)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_file=FIXTURE_DATASET,
        data_dir=tmp_path / "var",
        jwt_secret=JWT_SECRET,
        reload_interval_s=0.05,
        log_level="WARNING",
        rate_limit="100000/minute",
    )


@contextmanager
def running_app(settings: Settings) -> Iterator[Flask]:
    """The app on ``settings``; its stores and connections are closed on leaving."""
    application = create_app(settings)
    application.config["TESTING"] = True
    try:
        yield application
    finally:
        application.extensions["yurt"].close()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    with running_app(settings) as application:
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def pin_clock(app: Flask, now: datetime) -> None:
    """Make every request of ``app`` see ``now`` as the current time."""

    def _pin() -> None:
        g.now = now

    app.before_request_funcs.setdefault(None, []).insert(0, _pin)


# The suite's redis-server: scripts/test.sh starts one and passes its URL in this variable. The ``redis`` marker
# (pyproject.toml) names the same variable; tests/core/test_markers.py keeps the two in agreement.
REDIS_URL_VARIABLE = "TEST_REDIS_URL"


def uses_the_suites_redis(item: pytest.Item) -> bool:
    """A test reaches the suite's Redis when it asks for ``redis_server_url`` (``redis_url``, ``redis_settings``
    and module fixtures build on it), or when it runs with the parameter value "redis": every embedded/Redis
    parametrisation (``backend`` included) asks for ``redis_url`` in that case only."""
    callspec = getattr(item, "callspec", None)
    values = callspec.params.values() if callspec is not None else ()
    return "redis_server_url" in getattr(item, "fixturenames", ()) or any(
        isinstance(v, str) and v == "redis" for v in values)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the suite's Redis ``redis``, so ``-m "not redis"`` runs without one."""
    for item in items:
        if uses_the_suites_redis(item):
            item.add_marker(pytest.mark.redis)


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    url = os.environ.get(REDIS_URL_VARIABLE)
    if not url:
        pytest.fail(f"{REDIS_URL_VARIABLE} is not set: run the suite with scripts/test.sh, which starts redis-server")
    return url


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, redis_server_url: str) -> Iterator[str]:
    """The suite's Redis, emptied before and after the test."""
    if request.node.get_closest_marker("redis") is None:
        pytest.fail(f"{request.node.nodeid} reaches Redis without the redis marker: ask for redis_url as a "
                    "fixture, or name the Redis case of a parametrisation \"redis\"")
    url = redis_server_url
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def redis_settings(settings: Settings, redis_url: str) -> Settings:
    return settings.replace(redis_url=redis_url)


@pytest.fixture(params=["embedded", "redis"])
def mode_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The app's settings in each storage mode: embedded, then the suite's Redis."""
    if request.param == "redis":
        return settings.replace(redis_url=request.getfixturevalue("redis_url"))
    return settings


@pytest.fixture
def mode_app(mode_settings: Settings) -> Iterator[Flask]:
    """The app in each storage mode."""
    with running_app(mode_settings) as application:
        yield application


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """A real 3-master Redis Cluster on loopback ports, started once for the whole session (a second or two)."""
    with running_cluster(masters=3) as cluster:
        yield cluster


@pytest.fixture
def cluster_settings(settings: Settings, redis_cluster: RedisCluster) -> Iterator[Settings]:
    redis_cluster.flush()
    yield settings.replace(redis_url=redis_cluster.url, redis_cluster=True)
    redis_cluster.flush()


BACKENDS = ("embedded", "redis", "cluster")


@dataclass
class Backend:
    """Where a storage contract runs. ``embedded``: the in-process stores, on files under ``directory``;
    ``redis``: the suite's redis-server; ``cluster``: the session's Redis Cluster. Redis connections are opened
    the way the service opens them (``connect``), one per call, as a (re)started process would."""

    kind: str
    directory: Path
    settings: Settings
    clients: list[redis.Redis] = field(default_factory=list)

    @property
    def embedded(self) -> bool:
        return self.kind == "embedded"

    def connect(self) -> redis.Redis:
        assert not self.embedded, "the embedded backend has no Redis"
        self.clients.append(connect(self.settings))
        return self.clients[-1]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Iterator[Backend]:
    """Every storage contract takes this fixture, so a new contract test runs on all three backends."""
    if request.param == "redis":
        settings = settings.replace(redis_url=request.getfixturevalue("redis_url"))
    elif request.param == "cluster":
        settings = request.getfixturevalue("cluster_settings")
    # A shared machine: the service's 0.25 s Redis timeout is for production, not for a loaded test host.
    chosen = Backend(request.param, tmp_path, settings.replace(redis_timeout_s=5.0))
    yield chosen
    for client in chosen.clients:
        client.close()


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
