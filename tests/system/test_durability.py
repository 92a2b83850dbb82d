"""An acknowledged write is never lost: the real service under gunicorn is SIGKILLed (master and workers,
and redis-server in Redis mode) at random moments while a client writes; after each restart every write the
client saw acknowledged must be there, and the stored data must still validate.

``KILL_CYCLES`` kills per mode, each after the service is ready again (a fixed window gave fewer kills, and a
failure, on a loaded machine); the figures (kill cycles, acknowledged writes) are printed.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
import requests

from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from tests.harness.gunicorn import GunicornServer, free_port
from yurt.core.auth import mint
from yurt.missions.schemas.dataset import Collection, parse_collection, read_collection_file
from yurt.missions.stores.base import MissionStore
from yurt.missions.stores.embedded import WORKING_COPY, EmbeddedMissionStore
from yurt.missions.stores.redis import RedisMissionStore

pytestmark = pytest.mark.slow

KILL_CYCLES = 3  # what the former 12 s window asked for at least (it got 1-2 on a loaded machine)
CYCLES_BOUND_S = 180.0  # a hung restart fails the test instead of hanging it
BERLIN = "kz-embassy-de-berlin"
TOKEN = mint(JWT_SECRET, "durability", ["staff"], 30)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Ledger:
    """What the client sent and what it saw acknowledged."""

    acked_creates: list[str] = field(default_factory=list)
    emails: list[tuple[str, bool]] = field(default_factory=list)  # (value, acknowledged), in order
    attempts: int = 0


class Writer(threading.Thread):
    def __init__(self, url: str, template: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.url, self.template = url, template
        self.ledger = Ledger()
        self.stop = threading.Event()
        self._etag: str | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                self._create(i) if i % 2 else self._patch(i)
            except requests.RequestException:
                self._etag = None
                self.stop.wait(0.02)  # the server is down; the killer restarts it
            except Exception as exc:  # reported by the test, not lost in a thread
                self.error = exc
                return

    def _create(self, i: int) -> None:
        feature = copy.deepcopy(self.template)
        feature["id"] = feature["properties"]["id"] = f"kz-embassy-de-durable-{i}"
        self.ledger.attempts += 1
        response = requests.post(self.url + "/v1/missions", json=feature, headers=AUTH, timeout=5)
        if response.status_code == 201:
            self.ledger.acked_creates.append(feature["id"])

    def _patch(self, i: int) -> None:
        if self._etag is None:
            # None while the service (or, in Redis mode, redis-server) is restarting: try again later.
            self._etag = requests.get(f"{self.url}/v1/missions/{BERLIN}", timeout=5).headers.get("ETag")
            if self._etag is None:
                return
        email = f"w{i}@mfa.kz"
        self.ledger.emails.append((email, False))
        self.ledger.attempts += 1
        response = requests.patch(f"{self.url}/v1/missions/{BERLIN}", json={"properties": {"email": email}},
                                  headers={**AUTH, "If-Match": self._etag}, timeout=5)
        if response.status_code == 200:
            self.ledger.emails[-1] = (email, True)
            self._etag = response.headers["ETag"]
        else:
            self._etag = None


class RedisServer:
    """A redis-server of our own with the production persistence settings (AOF, fsync every write)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is required (scripts/test.sh installs it)"
        self._proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self._workdir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        client = redis.Redis.from_url(self.url)
        for _ in range(200):
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    break
            time.sleep(0.02)
        client.close()

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None


@pytest.fixture(params=["embedded", "redis"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _open_store(mode: str, tmp_path: Path, seed: Collection, redis_server: RedisServer | None
                ) -> Iterator[MissionStore]:
    if mode == "embedded":
        store: MissionStore = EmbeddedMissionStore(tmp_path / "var", seed)
        yield store
        store.close()
    else:
        assert redis_server is not None
        client = redis.Redis.from_url(redis_server.url)
        yield RedisMissionStore(client, seed)
        client.close()


def test_acknowledged_writes_survive_sigkill(mode: str, tmp_path: Path) -> None:
    seed_digest = hashlib.sha256(FIXTURE_DATASET.read_bytes()).hexdigest()
    seed = read_collection_file(FIXTURE_DATASET)
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp_path / "var"),
           "YURT_JWT_SECRET": JWT_SECRET, "YURT_RELOAD_INTERVAL_S": "0.05"}
    redis_server = RedisServer(tmp_path) if mode == "redis" else None
    try:
        _kill_and_check(mode, tmp_path, env, seed, redis_server, seed_digest)
    finally:
        if redis_server is not None:
            redis_server.kill()  # also when an assertion failed: no redis-server outlives its test


def _kill_and_check(mode: str, tmp_path: Path, env: dict[str, str], seed: Collection,
                    redis_server: RedisServer | None, seed_digest: str) -> None:
    if redis_server is not None:
        env["YURT_REDIS_URL"] = redis_server.url
        redis_server.start()
    server = GunicornServer(env, tmp_path, workers=2)
    server.start()
    template = orjson.loads(requests.get(f"{server.url}/v1/missions/{BERLIN}", timeout=5).content)
    writer = Writer(server.url, template)
    writer.start()
    rng = random.Random(5)
    cycles = 0
    deadline = time.monotonic() + CYCLES_BOUND_S
    try:
        while cycles < KILL_CYCLES:
            assert time.monotonic() < deadline, f"{cycles} kill cycles in {CYCLES_BOUND_S} s"
            time.sleep(rng.uniform(0.05, 0.6))  # let writes land, then kill at an arbitrary moment
            server.kill()
            if redis_server is not None and rng.random() < 0.5:
                redis_server.kill()
                redis_server.start()
            cycles += 1
            server.start()  # returns once /readyz answers and both workers have loaded the app
    finally:
        writer.stop.set()
        writer.join(timeout=10)
        server.kill()

    assert writer.error is None, repr(writer.error)
    ledger = writer.ledger
    print(f"\n{mode}: {cycles} SIGKILL cycles, {ledger.attempts} writes sent, "
          f"{len(ledger.acked_creates)} creates and {sum(a for _, a in ledger.emails)} patches acknowledged")
    assert cycles == KILL_CYCLES and ledger.acked_creates and any(a for _, a in ledger.emails)

    server.start()
    try:
        served = orjson.loads(requests.get(server.url + "/v1/missions", timeout=5).content)
    finally:
        server.kill()
    served_ids = {f["id"] for f in served["features"]}
    assert set(ledger.acked_creates) <= served_ids
    last_acked = max(i for i, (_, acked) in enumerate(ledger.emails) if acked)
    berlin = next(f for f in served["features"] if f["id"] == BERLIN)
    # The last acknowledged value, or a later one whose acknowledgement the kill swallowed.
    assert berlin["properties"]["email"] in {email for email, _ in ledger.emails[last_acked:]}

    # The stored data validates as a dataset, and every acknowledged create is in the audit trail.
    for store in _open_store(mode, tmp_path, seed, redis_server):
        state = store.load()
        parse_collection({"type": "FeatureCollection", "dataset": dict(state.meta),
                          "features": [dict(r.feature) for r in state.records]})
        audited = {e.mission_id for e in store.audit(limit=100_000) if e.action == "create"}
        assert set(ledger.acked_creates) <= audited
        seqs = [e.seq for e in store.audit(limit=100_000)]
        assert seqs == sorted(set(seqs), reverse=True)
    if mode == "embedded":
        assert (tmp_path / "var" / WORKING_COPY).exists()
    # The tracked seed is only ever read.
    assert hashlib.sha256(FIXTURE_DATASET.read_bytes()).hexdigest() == seed_digest
