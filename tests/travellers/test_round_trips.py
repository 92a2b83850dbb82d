"""Redis round trips of the traveller hot path, counted by the server (issue 15): ``nearby`` takes at most two,
rate-limit count included, and a presence update two. Real Redis, the whole Flask request path.

Two server-side counts: ``INFO commandstats`` (the EVALSHA calls, after ``CONFIG RESETSTAT``) and ``MONITOR``,
which tells commands sent by a client from those a script runs (``[0 lua]``), so a command sent beside the
scripts cannot hide among the scripts' own.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from tests.harness.problems import assert_problem
from tests.travellers.helpers import auth, install_clock, nearby, share
from yurt import create_app
from yurt.core.settings import Settings

DUBAI = (25.2048, 55.2708)


def spread(i: int) -> tuple[float, float]:
    """Travellers a few km apart around Dubai: several cells and bands."""
    return DUBAI[0] + (i % 5) * 0.02, DUBAI[1] + (i // 5) * 0.02


@pytest.fixture
def redis_app(redis_settings: Settings) -> Iterator[Flask]:
    application = create_app(redis_settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["yurt"].close()


class ClientCommands:
    """Commands the server received from clients (not from scripts) while the block ran, by MONITOR."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url)  # for MONITOR
        self._echo = redis.Redis.from_url(url)  # for the end marker, connected before MONITOR starts
        self.commands: list[str] = []
        self._stop = f"stop-{uuid.uuid4().hex}"

    def __enter__(self) -> ClientCommands:
        self._echo.ping()
        self._monitor = self._client.monitor()
        self._monitor.__enter__()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._read)
        self._thread.start()
        self._ready.wait(5)
        return self

    def _read(self) -> None:
        self._ready.set()
        while True:
            entry: dict[str, Any] = self._monitor.next_command()
            if self._stop in entry["command"]:
                return
            if entry.get("client_type") != "lua":
                self.commands.append(entry["command"].split(" ", 1)[0].upper())

    def __exit__(self, *_: object) -> None:
        self._echo.echo(self._stop)
        self._thread.join(10)
        self._monitor.__exit__(None, None, None)
        self._client.close()
        self._echo.close()


def evalsha_calls(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


def test_nearby_and_updates_take_two_round_trips_each(redis_app: Flask, redis_url: str) -> None:
    clock = install_clock(redis_app)
    client = redis_app.test_client()
    subs = [f"t{i}" for i in range(21)]
    for i, sub in enumerate(subs):
        assert share(client, sub, *spread(i)).status_code == 200
    assert nearby(client, subs[-1], radius_km=25).status_code == 200  # loads the scripts (another test flushes them)
    server = redis.Redis.from_url(redis_url)
    server.config_resetstat()
    requests = 0
    with ClientCommands(redis_url) as monitor:
        for sub in subs[:6]:
            page = nearby(client, sub, radius_km=25, limit=5)
            assert page.status_code == 200 and len(page.json["results"]) == 5
            follow = nearby(client, sub, radius_km=25, limit=5, cursor=page.json["next_cursor"])
            assert follow.status_code == 200 and follow.json["results"]
            requests += 2
        nearby_calls = evalsha_calls(server)
        clock.advance(seconds=61)
        for i, sub in enumerate(subs[:6]):
            assert share(client, sub, *spread(i + 7)).status_code == 200  # moves cell
    update_calls = evalsha_calls(server) - nearby_calls
    assert nearby_calls == 2 * requests
    assert update_calls == 2 * 6
    # MONITOR's ECHO and the INFO of evalsha_calls are the test's own.
    assert set(monitor.commands) - {"INFO", "ECHO"} == {"EVALSHA"}
    assert monitor.commands.count("EVALSHA") == 2 * requests + 2 * 6
    server.close()


def test_the_counted_rate_limit_holds(redis_settings: Settings) -> None:
    application = create_app(redis_settings.replace(rate_limit="4/minute"))
    application.config["TESTING"] = True
    install_clock(application)
    client: FlaskClient = application.test_client()
    try:
        assert share(client, "a", *DUBAI).status_code == 200  # 1
        assert nearby(client, "a", radius_km=5).status_code == 200  # 2
        assert_problem(nearby(client, "a", radius_km=500), 400)  # 3: ended before the store, counted after
        assert client.get("/v1/travellers/me/presence", headers=auth("a")).status_code == 200  # 4
        over = nearby(client, "a", radius_km=5)
        assert_problem(over, 429)
        assert 1 <= int(over.headers["Retry-After"]) <= 60
        assert_problem(share(client, "a", *DUBAI), 429)
        assert nearby(client, "b", radius_km=5).status_code == 409  # another client: its own budget
    finally:
        application.extensions["yurt"].close()
