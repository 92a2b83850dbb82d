"""Faults against real processes: gunicorn (2 workers) and a redis-server this test owns, on loopback.

- Redis stopped mid-load: mission reads never fail (the catalogue keeps its last good dataset, the index
  needs no Redis); traveller endpoints answer 503 problems with Retry-After and recover by themselves when
  Redis returns on the same port; each outage is logged once per interval, not once per request.
- Redis hung (SIGSTOP): nothing waits longer than the configured Redis timeout plus slack.
- A worker SIGKILLed while a staff client writes: gunicorn replaces it and every acknowledged write is there.

Each test is bounded in time (a few seconds of fault each); no mocks.
"""

from __future__ import annotations

import copy
import os
import random
import signal
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from flask.testing import FlaskClient

from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from tests.harness.gunicorn import GunicornServer
from tests.harness.redis_process import RedisProcess, worker_pids
from yurt import create_app
from yurt.core.auth import mint
from yurt.core.settings import Settings

pytestmark = pytest.mark.slow

REDIS_TIMEOUT_S = 0.3
SLACK_S = 0.4  # scheduling on a shared 2-core machine, HTTP, JSON
BERLIN = "kz-embassy-de-berlin"
STAFF = {"Authorization": "Bearer " + mint(JWT_SECRET, "fault-staff", ["staff"], 30)}
MISSION_READS = (
    "/v1/missions",
    f"/v1/missions/{BERLIN}",
    "/v1/missions/nearest?lat=51.5&lon=10.1&limit=3",
    "/v1/missions/responsible?lat=52.52&lon=13.40",
)
CAPITALS = ((52.52, 13.40), (48.86, 2.35), (41.90, 12.50), (40.42, -3.70), (59.33, 18.07), (55.68, 12.57),
            (50.08, 14.44), (47.50, 19.04), (38.72, -9.14), (35.68, 139.69), (37.57, 126.98), (39.90, 116.40),
            (28.61, 77.21), (41.01, 28.98), (30.04, 31.24), (-33.87, 151.21), (45.42, -75.70), (38.90, -77.04))
OUTAGE_MESSAGES = ("mission store unreachable", "rate-limit storage unavailable", "store unavailable")


def traveller(sub: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint(JWT_SECRET, sub, ["traveller"], 30)}


def share(url: str, sub: str, lat: float = 52.52, lon: float = 13.40) -> requests.Response:
    body = {"lat": lat, "lon": lon, "display_name": sub, "languages": ["kk"]}
    return requests.put(url + "/v1/travellers/me/presence", json=body, headers=traveller(sub), timeout=10)


def assert_503_problem(response: requests.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["status"] == 503


@dataclass
class Stack:
    redis: RedisProcess
    server: GunicornServer
    workdir: Path

    def log_lines(self) -> list[dict[str, Any]]:
        path = self.workdir / f"gunicorn-{self.server.port}.log"
        out = []
        for line in path.read_bytes().splitlines():
            if line.startswith(b"{"):
                out.append(orjson.loads(line))
        return out


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    redis_process = RedisProcess(tmp_path)
    redis_process.start()
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp_path / "var"),
           "YURT_JWT_SECRET": JWT_SECRET, "YURT_REDIS_URL": redis_process.url,
           "YURT_REDIS_TIMEOUT_S": str(REDIS_TIMEOUT_S), "YURT_RELOAD_INTERVAL_S": "0.1",
           "YURT_REDIS_OUTAGE_LOG_INTERVAL_S": "60"}
    server = GunicornServer(env, tmp_path, workers=2)
    server.start()
    try:
        yield Stack(redis_process, server, tmp_path)
    finally:
        server.kill()
        redis_process.stop()


class Reader(threading.Thread):
    """Mission reads in a loop; records every status and latency."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.results: list[tuple[str, int, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        etag = ""
        while not self.stop.is_set():
            for path in MISSION_READS:
                headers = {"If-None-Match": etag} if path == "/v1/missions" and etag else {}
                started = time.perf_counter()
                try:
                    response = requests.get(self.url + path, headers=headers, timeout=10)
                    status = response.status_code
                    if path == "/v1/missions" and status == 200:
                        etag = response.headers["ETag"]
                except requests.RequestException:
                    status = -1
                self.results.append((path, status, time.perf_counter() - started))


def summary(path: str, body: Any) -> Any:
    """What a mission read says, minus what legitimately varies (clock-dependent fields)."""
    if "nearest" in path:
        return [(r["mission"]["id"], r["distance_km"]) for r in body["results"]]
    if "responsible" in path:
        return (body["country"], body["subdivisions"], body["basis"], [m["mission"]["id"] for m in body["missions"]])
    return body


def answers(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in MISSION_READS:
        response = requests.get(url + path, timeout=10)
        assert response.status_code == 200, (path, response.text)
        out[path] = summary(path, response.json())
    return out


def fresh_queries(rng: random.Random) -> list[str]:
    """Nearest and responsible queries at new places: answered from the worker's catalogue and index alone."""
    lat, lon = rng.uniform(-60, 70), rng.uniform(-180, 180)
    capital_lat, capital_lon = rng.choice(CAPITALS)
    return [f"/v1/missions/nearest?lat={lat:.5f}&lon={lon:.5f}&limit=3",
            f"/v1/missions/responsible?lat={capital_lat}&lon={capital_lon}"]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """The same dataset served in-process in the embedded mode: the expected answers."""
    settings = Settings(data_file=FIXTURE_DATASET, data_dir=tmp_path_factory.mktemp("oracle"),
                        jwt_secret=JWT_SECRET, log_level="WARNING",
                        rate_limit="1000000/minute")
    app = create_app(settings)
    yield app.test_client()
    app.extensions["yurt"].close()


def assert_like_oracle(url: str, oracle: FlaskClient, path: str) -> float:
    started = time.perf_counter()
    response = requests.get(url + path, timeout=10)
    elapsed_s = time.perf_counter() - started
    expected = oracle.get(path)
    assert response.status_code == expected.status_code, (path, response.text)
    if expected.status_code == 200:
        assert summary(path, response.json()) == summary(path, expected.json), path
    return elapsed_s


def outage_log_counts(stack: Stack) -> dict[str, int]:
    counts = dict.fromkeys(OUTAGE_MESSAGES, 0)
    for entry in stack.log_lines():
        for message in OUTAGE_MESSAGES:
            if entry.get("msg", "").startswith(message):
                counts[message] += 1
    return counts


def test_redis_stopped_mid_load(stack: Stack, oracle: FlaskClient) -> None:
    url = stack.server.url
    rng = random.Random(6)
    read_s: list[float] = []
    before = answers(url)
    assert share(url, "before-outage").status_code == 200
    reader = Reader(url)
    reader.start()
    try:
        time.sleep(0.3)
        stack.redis.stop()
        outage_started = time.monotonic()
        down_calls = 0
        while time.monotonic() - outage_started < 2.0:
            down_calls += 1
            started = time.perf_counter()
            assert_503_problem(share(url, f"during-outage-{down_calls}"))
            assert_503_problem(requests.get(url + "/v1/travellers/nearby",
                                            headers=traveller("before-outage"), timeout=10))
            assert time.perf_counter() - started < 2 * (REDIS_TIMEOUT_S + SLACK_S)
            # Nearest and responsible still answer, correctly and without waiting: they never ask Redis.
            for path in fresh_queries(rng):
                read_s.append(assert_like_oracle(url, oracle, path))
        stack.redis.start()  # same port, same data (append-only file)
        deadline = time.monotonic() + 10
        recovered = None
        while recovered is None and time.monotonic() < deadline:
            response = share(url, f"after-outage-{time.monotonic()}")
            if response.status_code == 200:
                recovered = time.monotonic() - deadline + 10
            else:
                assert_503_problem(response)
                time.sleep(0.05)
        assert recovered is not None, "traveller endpoints did not recover by themselves"
        nearby = requests.get(url + "/v1/travellers/nearby", headers=traveller("before-outage"), timeout=10)
        assert nearby.status_code == 200, nearby.text
        time.sleep(0.3)
    finally:
        reader.stop.set()
        reader.join(timeout=10)
    failures = [(path, status) for path, status, _ in reader.results if status not in (200, 304)]
    assert reader.results and not failures
    assert answers(url) == before
    assert max(read_s) < REDIS_TIMEOUT_S  # a refused connection fails at once; nothing waits for a timeout
    metrics = requests.get(url + "/metrics", timeout=10).text  # both workers' errors, aggregated
    # The traveller calls count their rate-limit hit inside the store's first script (one round trip), so the
    # outage shows as the traveller store's errors, counted where a Redis failure becomes a 503.
    assert 'yurt_redis_errors_total{component="traveller_store"}' in metrics
    # Logged once per interval (60 s here) per worker and component, not once per request: each of the two
    # workers may log each message once at most for this one outage.
    counts = outage_log_counts(stack)
    print(f"\nredis stopped: {len(reader.results)} mission reads, none failed; {down_calls} rounds of traveller "
          f"calls all 503; recovered {recovered:.2f} s after restart; nearest/responsible max "
          f"{max(read_s) * 1000:.1f} ms; outage log lines {counts}")
    assert counts["store unavailable"] >= 1  # the traveller calls' 503s (their limiter counts in the store)
    assert all(n <= 2 for n in counts.values()), counts


def test_redis_hung_requests_are_bounded(stack: Stack, oracle: FlaskClient) -> None:
    url = stack.server.url
    rng = random.Random(7)
    before = answers(url)
    assert share(url, "before-pause").status_code == 200
    stack.redis.pause()
    try:
        write_s: list[float] = []
        read_s: list[float] = []
        pause_started = time.monotonic()
        while time.monotonic() - pause_started < 2.5:
            started = time.perf_counter()
            assert_503_problem(share(url, f"paused-{len(write_s)}"))
            write_s.append(time.perf_counter() - started)
        while time.monotonic() - pause_started < 5.0:
            for path in (*MISSION_READS, *fresh_queries(rng)):
                read_s.append(assert_like_oracle(url, oracle, path))
        assert answers(url) == before
    finally:
        stack.redis.resume()
    print(f"\nredis paused: {len(write_s)} traveller writes, 503 in median {statistics.median(write_s):.3f} s, "
          f"max {max(write_s):.3f} s; {len(read_s)} mission reads, median {statistics.median(read_s) * 1000:.1f} "
          f"ms, max {max(read_s):.3f} s (timeout {REDIS_TIMEOUT_S} s)")
    # A write waits for one Redis timeout (two on a worker's first failure: the rate limiter's count, then the
    # store; the limiter then backs off). Mission reads rarely wait (the catalogue backs off after a failure),
    # and never for more than two timeouts.
    assert max(write_s) <= 2 * REDIS_TIMEOUT_S + SLACK_S
    assert statistics.median(write_s) <= REDIS_TIMEOUT_S + SLACK_S
    assert max(read_s) <= 2 * REDIS_TIMEOUT_S + SLACK_S
    assert statistics.median(read_s) <= 0.1
    deadline = time.monotonic() + 10
    while share(url, f"resumed-{time.monotonic()}").status_code != 200:
        assert time.monotonic() < deadline, "traveller endpoints did not recover after SIGCONT"
        time.sleep(0.05)


@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_workers_boot_while_redis_is_down(tmp_path: Path, oracle: FlaskClient, fault: str) -> None:
    """A worker that starts during an outage boots anyway (gunicorn halts the whole server when one worker
    fails to boot), answers mission reads with 503 problems until the store answers, never the seed file in
    its place, and serves on its own once Redis is back."""
    redis_process = RedisProcess(tmp_path)
    if fault == "hung":
        redis_process.start()
        redis_process.pause()
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp_path / "var"),
           "YURT_JWT_SECRET": JWT_SECRET, "YURT_REDIS_URL": redis_process.url,
           "YURT_REDIS_TIMEOUT_S": str(REDIS_TIMEOUT_S), "YURT_RELOAD_INTERVAL_S": "0.1"}
    server = GunicornServer(env, tmp_path, workers=2)
    try:
        server.start(require_ready=False)
        url = server.url
        for _ in range(6):  # both workers, whichever accepts
            assert requests.get(url + "/healthz", timeout=10).status_code == 200
            readiness = requests.get(url + "/readyz", timeout=10)
            assert readiness.status_code == 503 and "not loaded" in readiness.json()["checks"]["dataset"]
            for path in MISSION_READS:
                assert_503_problem(requests.get(url + path, timeout=10))
        if fault == "hung":
            redis_process.resume()
        else:
            redis_process.start()
        deadline = time.monotonic() + 15
        while requests.get(url + "/readyz", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "workers did not load the data once Redis was back"
            time.sleep(0.1)
        time.sleep(3.0)  # the other worker's backoff (2 s) has passed too
        for _ in range(4):
            for path in MISSION_READS:
                assert_like_oracle(url, oracle, path)
        assert share(url, "after-outage").status_code == 200
    finally:
        server.kill()
        redis_process.stop()


class StaffWriter(threading.Thread):
    """Creates missions and patches Berlin's e-mail in a loop, remembering what was acknowledged."""

    def __init__(self, url: str, template: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.url, self.template = url, template
        self.acked_creates: list[str] = []
        self.emails: list[tuple[str, bool]] = []
        self.unexpected: list[tuple[str, int]] = []
        self.dropped = 0
        self.stop = threading.Event()

    def run(self) -> None:
        etag: str | None = None
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                if i % 2:
                    feature = copy.deepcopy(self.template)
                    feature["id"] = feature["properties"]["id"] = f"kz-embassy-de-killtest-{i}"
                    response = requests.post(self.url + "/v1/missions", json=feature, headers=STAFF, timeout=10)
                    if response.status_code == 201:
                        self.acked_creates.append(feature["id"])
                    else:
                        self.unexpected.append(("create", response.status_code))
                    continue
                if etag is None:
                    etag = requests.get(f"{self.url}/v1/missions/{BERLIN}", timeout=10).headers["ETag"]
                email = f"kill{i}@mfa.kz"
                self.emails.append((email, False))
                response = requests.patch(f"{self.url}/v1/missions/{BERLIN}", json={"properties": {"email": email}},
                                          headers={**STAFF, "If-Match": etag}, timeout=10)
                if response.status_code == 200:
                    self.emails[-1] = (email, True)
                    etag = response.headers["ETag"]
                else:
                    self.unexpected.append(("patch", response.status_code))
                    etag = None
            except requests.ConnectionError:
                # The worker holding this request was killed: not acknowledged, so nothing is promised.
                self.dropped += 1
                etag = None


def test_worker_sigkill_under_load(stack: Stack) -> None:
    url = stack.server.url
    proc = stack.server._proc
    assert proc is not None
    template = orjson.loads(requests.get(f"{url}/v1/missions/{BERLIN}", timeout=10).content)
    writer = StaffWriter(url, template)
    writer.start()
    killed: list[int] = []
    try:
        for _ in range(3):
            time.sleep(0.4)
            victim = worker_pids(proc.pid)[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            deadline = time.monotonic() + 30
            while True:  # gunicorn's master notices the dead worker and forks a replacement, which loads the app
                pids = worker_pids(proc.pid)
                # Ready, not just forked: killing the other worker while this one still boots would leave no
                # worker to answer (a 10 s read timeout on a loaded machine), which tests the boot, not the kill.
                if len(pids) == 2 and victim not in pids and stack.server.workers_ready() >= 2 + len(killed):
                    break
                assert time.monotonic() < deadline, f"worker {victim} was not replaced: {pids}"
                time.sleep(0.05)
        time.sleep(0.4)
    finally:
        writer.stop.set()
        writer.join(timeout=15)
    assert not writer.unexpected, writer.unexpected
    acked_patches = [email for email, acked in writer.emails if acked]
    print(f"\nworker SIGKILL: killed {killed}; {len(writer.acked_creates)} creates and {len(acked_patches)} "
          f"patches acknowledged, {writer.dropped} requests dropped with their worker")
    assert len(writer.acked_creates) >= 5 and acked_patches
    for mission_id in writer.acked_creates:
        assert requests.get(f"{url}/v1/missions/{mission_id}", timeout=10).status_code == 200, mission_id
    last_acked = max(i for i, (_, acked) in enumerate(writer.emails) if acked)
    berlin = requests.get(f"{url}/v1/missions/{BERLIN}", timeout=10).json()
    # The last acknowledged value, or a later one whose acknowledgement died with its worker.
    assert berlin["properties"]["email"] in {email for email, _ in writer.emails[last_acked:]}
