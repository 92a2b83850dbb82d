"""/metrics under gunicorn with 2 workers and real Redis: request counts of both workers are aggregated into
every scrape, the cache lookups are exported (every answer bypasses: there is no result cache; Redis errors:
tests/system/test_faults.py), and the visible-travellers gauge counts the store (both store implementations,
checked directly too)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests

from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from tests.harness.gunicorn import GunicornServer
from yurt.core.auth import mint
from yurt.travellers.stores.presence import PresenceStore, Profile
from yurt.travellers.stores.presence_embedded import EmbeddedPresenceStore
from yurt.travellers.stores.presence_redis import RedisPresenceStore

pytestmark = pytest.mark.slow

REQUESTS = 200
PROFILE = Profile("Aigerim", ("kk",), None)


def sample(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$", line)
        if not match or match.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(match.group(3))
    return total


@pytest.fixture
def server(tmp_path: Path, redis_url: str) -> Iterator[GunicornServer]:
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp_path / "var"),
           "YURT_JWT_SECRET": JWT_SECRET, "YURT_REDIS_URL": redis_url}
    gunicorn = GunicornServer(env, tmp_path, workers=2)
    gunicorn.start()
    try:
        yield gunicorn
    finally:
        gunicorn.kill()


def test_metrics_aggregate_both_workers(server: GunicornServer, tmp_path: Path) -> None:
    url = server.url
    with ThreadPoolExecutor(8) as pool:  # concurrent, so both sync workers serve some
        statuses = list(pool.map(lambda _: requests.get(url + "/v1/missions/responsible?country=DE",
                                                        timeout=10).status_code, range(REQUESTS)))
    assert statuses == [200] * REQUESTS
    for sub in (f"metrics-{i}" for i in range(12)):
        token = mint(JWT_SECRET, sub, ["traveller"], 10)
        response = requests.put(url + "/v1/travellers/me/presence", headers={"Authorization": f"Bearer {token}"},
                                json={"lat": 43.24, "lon": 76.95, "display_name": sub, "languages": ["kk"]},
                                timeout=10)
        assert response.status_code == 200
    metric_files = list((tmp_path / f"metrics-{server.port}").glob("histogram_*.db"))
    assert len(metric_files) >= 2, metric_files  # both workers recorded samples
    for _ in range(6):  # whichever worker answers the scrape, it reports the whole server
        text = requests.get(url + "/metrics", timeout=10).text
        count = sample(text, "yurt_request_seconds_count", endpoint="/v1/missions/responsible", status="200")
        assert count == REQUESTS
        lookups = sample(text, "yurt_cache_lookups_total", cache="responsible")
        # responsible is computed for every request (its answer depends on the point): counted as a bypass
        bypassed = sample(text, "yurt_cache_lookups_total", cache="responsible", result="bypass")
        assert lookups == REQUESTS and bypassed == REQUESTS
        assert sample(text, "yurt_visible_travellers") == 10  # 12 visible, shown rounded down to a multiple of 10


@pytest.fixture(params=["embedded", "redis"])
def presence_store(request: pytest.FixtureRequest) -> Iterator[PresenceStore]:
    if request.param == "embedded":
        yield EmbeddedPresenceStore()
        return
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisPresenceStore(client)
    client.close()


def test_visible_count_follows_presence(presence_store: PresenceStore) -> None:
    now_s = 1_800_000_000.0
    cell = "871f1d489ffffff"
    for i, minutes in enumerate((15, 30, 60)):
        presence_store.put_presence(f"t{i}", cell, now_s + minutes * 60, PROFILE, now_s)
    assert presence_store.visible_count(now_s) == 3
    presence_store.delete_presence("t0", now_s)
    assert presence_store.visible_count(now_s) == 2
    presence_store.erase("t1", now_s)
    assert presence_store.visible_count(now_s) == 1
    assert presence_store.visible_count(now_s + 61 * 60) == 0  # expired, with no clean-up in between
