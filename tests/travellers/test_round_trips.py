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
from yurt.travellers.stores.onetrip import LastHeads

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


def test_nearby_and_updates_take_two_round_trips_each_a_repeated_nearby_one(redis_app: Flask, redis_url: str
                                                                            ) -> None:
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
    # Each first page takes two (head, page); the follow-up one: this process predicts its head from the first
    # (nothing moved in between) and reads the page with it (``nearby_at_once``).
    assert nearby_calls == (2 + 1) * requests // 2
    assert update_calls == 2 * 6
    # MONITOR's ECHO and the INFO of evalsha_calls are the test's own.
    assert set(monitor.commands) - {"INFO", "ECHO"} == {"EVALSHA"}
    assert monitor.commands.count("EVALSHA") == nearby_calls + 2 * 6
    server.close()


def test_a_predicted_page_is_the_page_and_a_move_nearby_costs_the_second_trip(redis_settings: Settings,
                                                                              redis_url: str) -> None:
    """The one-call page is read only when the head is as predicted: after anyone around moves, shares or
    stops, the answer is the one a process that predicts nothing gives, page for page."""
    apps = [create_app(redis_settings), create_app(redis_settings)]  # the second has never seen a head
    clocks = [install_clock(application) for application in apps]
    warm, fresh = (application.test_client() for application in apps)
    server = redis.Redis.from_url(redis_url)
    try:
        for i in range(12):  # t11's share ends during the fourth step
            assert share(warm, f"t{i}", *spread(i), share_minutes=15 if i == 11 else 60).status_code == 200

        def pages(client: FlaskClient) -> list[Any]:
            out, cursor = [], None
            while True:
                page = nearby(client, "t0", radius_km=25, limit=4, **({"cursor": cursor} if cursor else {}))
                assert page.status_code == 200, page.json
                out.append(page.json)
                cursor = page.json["next_cursor"]
                if cursor is None:
                    return out

        first = pages(warm)
        for step in range(4):
            server.config_resetstat()
            again = pages(warm)
            assert evalsha_calls(server) == len(again)  # as predicted: one call a page
            assert again == first == pages(fresh)
            for clock in clocks:
                clock.advance(seconds=61)
            if step == 0:
                assert share(warm, "t3", *spread(9)).status_code == 200  # moves next to another
            elif step == 1:
                assert share(warm, "t12", *spread(4)).status_code == 200  # a newcomer
            elif step == 2:
                assert warm.delete("/v1/travellers/me/presence", headers=auth("t5")).status_code == 204
            else:  # nobody acts; t11's share ends
                for clock in clocks:
                    clock.advance(minutes=15)
            server.config_resetstat()
            first = pages(warm)
            assert evalsha_calls(server) == len(first) + 1  # the first page's head was not as predicted
            assert first == pages(fresh)
    finally:
        server.close()
        for application in apps:
            application.extensions["yurt"].close()


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


def test_the_heads_a_process_keeps_to_predict_are_bounded() -> None:
    heads = LastHeads()
    small, large = {"a": 1}, {f"c{i}": 1 for i in range(LastHeads.MAX_CELLS + 1)}
    heads.remember("t", 1, "cell", small)
    assert heads.get("t", 1) == ("cell", small) and heads.get("t", 2) is None
    heads.remember("t", 1, "cell", large)  # too many cells to keep: forgotten, not stale
    assert heads.get("t", 1) is None
    for i in range(LastHeads.MAX_ENTRIES + 10):
        heads.remember(f"t{i}", 1, "cell", small)
    assert heads.get("t0", 1) is None and heads.get(f"t{LastHeads.MAX_ENTRIES + 9}", 1) is not None
    assert len(heads._heads) == LastHeads.MAX_ENTRIES
