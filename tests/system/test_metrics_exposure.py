"""Who may read /metrics, what a client can make it hold, and what a stopped server leaves behind.

- Label values fed by requests come from closed sets: 300 requests with random method names, sent to a real
  gunicorn, do not grow a scrape (before: one set of histogram series per name, 2 KB each, until restart).
- /metrics answers only operators: the bearer token when ``YURT_METRICS_TOKEN`` is set, else loopback clients
  whose request no proxy relayed; and scrapes count in the rate limits.
- gunicorn.conf.py removes the multiprocess metrics folder it made when gunicorn exits.
"""

from __future__ import annotations

import http.client
import random
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from tests.harness.gunicorn import GunicornServer
from yurt import create_app
from yurt.core.http.problems import PROBLEM_MEDIA_TYPE
from yurt.core.settings import Settings

TOKEN = "metrics-token-0123456789abcdef"


def random_method(rng: random.Random) -> str:
    # gunicorn takes a method of 3 to 20 upper-case token characters (its default; lower case is refused)
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(3, 20)))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    """One server for the module's tests: they read /metrics and send refused methods, and change no data."""
    tmp_path = tmp_path_factory.mktemp("metrics-exposure")
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp_path / "var"),
           "YURT_JWT_SECRET": JWT_SECRET, "YURT_METRICS_TOKEN": TOKEN}
    gunicorn = GunicornServer(env, tmp_path, workers=2)
    gunicorn.start()
    try:
        yield gunicorn
    finally:
        gunicorn.kill()


def scrape(url: str) -> str:
    response = requests.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 200
    return response.text


@pytest.mark.slow
def test_random_methods_do_not_grow_metrics(server: GunicornServer) -> None:
    rng = random.Random(11)
    for path in ("/v1/missions", "/no/such/route"):  # both label shapes exist before the first measure
        requests.request("BREW", server.url + path, timeout=10)
    before = scrape(server.url)
    methods = [random_method(rng) for _ in range(300)]
    for i, method in enumerate(methods):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request(method, "/v1/missions" if i % 2 else f"/x/{method}")
        assert conn.getresponse().status in {404, 405}
        conn.close()
    after = scrape(server.url)
    assert len(after) - len(before) < 2_000, (len(before), len(after))
    assert not any(f'method="{m}"' in after for m in methods)
    assert not any(f"/x/{m}" in after for m in methods)
    assert 'method="other"' in after


@pytest.mark.slow
def test_metrics_needs_the_token_under_gunicorn(server: GunicornServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN}):
        response = requests.get(server.url + "/metrics", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.headers["Content-Type"] == PROBLEM_MEDIA_TYPE
        assert "yurt_request_seconds" not in response.text
    assert "yurt_request_seconds" in scrape(server.url)


@pytest.mark.parametrize("environ, headers, status", [
    ({}, {}, 200),
    ({"REMOTE_ADDR": "::1"}, {}, 200),
    ({"REMOTE_ADDR": "203.0.113.7"}, {}, 403),
    ({}, {"X-Forwarded-For": "203.0.113.7"}, 403),
    ({}, {"Forwarded": "for=203.0.113.7"}, 403),
    ({}, {"X-Real-IP": "203.0.113.7"}, 403),
])
def test_without_a_token_only_unrelayed_loopback_clients(app: Flask, environ: dict[str, str],
                                                        headers: dict[str, str], status: int) -> None:
    response = app.test_client().get("/metrics", environ_base=environ, headers=headers)
    assert response.status_code == status
    if status != 200:
        assert response.mimetype == PROBLEM_MEDIA_TYPE


def test_scrapes_count_in_the_rate_limit(settings: Settings) -> None:
    app = create_app(settings.replace(rate_limit="5/minute", metrics_token=TOKEN))
    try:
        client = app.test_client()
        statuses = [client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code
                    for _ in range(7)]
    finally:
        app.extensions["yurt"].close()
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_gunicorn_removes_its_metrics_folder_on_exit(tmp_path: Path, workers: int) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp_path / "var"),
           "YURT_JWT_SECRET": JWT_SECRET, "TMPDIR": str(scratch)}
    gunicorn = GunicornServer(env, tmp_path, workers=workers, metrics_dir=False)
    gunicorn.start()
    try:
        assert requests.get(gunicorn.url + "/v1/missions", timeout=10).status_code == 200
        made = list(scratch.glob("yurt-metrics-*"))
        assert len(made) == 1 and list(made[0].glob("*.db")), made  # the workers wrote samples there
    finally:
        code = gunicorn.stop()
    assert code == 0, gunicorn.log_tail()
    assert list(scratch.iterdir()) == []


@pytest.mark.slow
def test_an_operators_metrics_folder_stays(tmp_path: Path) -> None:
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp_path / "var"),
           "YURT_JWT_SECRET": JWT_SECRET}
    gunicorn = GunicornServer(env, tmp_path)
    gunicorn.start()
    gunicorn.stop()
    assert (tmp_path / f"metrics-{gunicorn.port}").is_dir()
