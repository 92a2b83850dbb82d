"""``GET /v1/travellers/nearby`` over real HTTP (gunicorn, Redis mode): the lean route's pages are Flask's own,
byte for byte and header for header, each is one Redis call, its access-log line and its latency sample are
those of the Flask view, and the rate limit counts each request once.

Flask answers ``/v1/travellers/nearby/`` (the app matches a trailing slash without redirecting) with the same
view, and the lean route serves only the exact path: the two URLs compare the two paths on one server.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
import requests

from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from tests.harness.gunicorn import GunicornServer
from tests.travellers.helpers import auth as mint_auth

pytestmark = pytest.mark.slow

DUBAI = (25.2048, 55.2708)
LIMIT = 20  # requests per caller per minute
# One token per caller: the lean route answers callers the worker's verifier has verified before (by Flask)
auth = functools.cache(mint_auth)
HOP = {"Date", "X-Request-ID"}  # gunicorn's clock; the id differs per request unless sent


@pytest.fixture
def server(tmp_path: Path, redis_url: str) -> Iterator[GunicornServer]:
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp_path / "var"),
           "YURT_JWT_SECRET": JWT_SECRET, "YURT_REDIS_URL": redis_url, "YURT_LOG_LEVEL": "INFO",
           "YURT_RATE_LIMIT": f"{LIMIT}/minute", "YURT_RELOAD_INTERVAL_S": "3600"}
    gunicorn = GunicornServer(env, tmp_path, workers=1)
    gunicorn.start()
    try:
        yield gunicorn
    finally:
        gunicorn.kill()


def _get(url: str, sub: str, params: dict[str, Any], request_id: str) -> requests.Response:
    return requests.get(url, params=params, headers={**auth(sub), "X-Request-ID": request_id}, timeout=10)


def _samples(server: GunicornServer, status: str) -> float:
    text = requests.get(server.url + "/metrics", timeout=10).text
    found = re.search(r'^yurt_request_seconds_count\{endpoint="/v1/travellers/nearby",method="GET",'
                      rf'status="{status}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_lean_pages_over_http_are_flasks_logged_measured_and_counted_once(server: GunicornServer, redis_url: str,
                                                                         tmp_path: Path) -> None:
    for i in range(9):
        body = {"lat": DUBAI[0] + (i % 3) * 0.03, "lon": DUBAI[1] + (i // 3) * 0.03, "display_name": f"T{i}",
                "languages": ["kk"]}
        shared = requests.put(server.url + "/v1/travellers/me/presence", json=body, headers=auth(f"t{i}"), timeout=10)
        assert shared.status_code == 200  # each caller's first count
    lean_url, flask_url = server.url + "/v1/travellers/nearby", server.url + "/v1/travellers/nearby/"
    redis_server = redis.Redis.from_url(redis_url)
    pages, cursors = 0, 0
    for sub in ("t0", "t4"):
        for _ in range(2):  # this worker's first head of sub, then a page read with it (each script loaded)
            assert _get(lean_url, sub, {"limit": 2}, "warm").status_code == 200
        params: dict[str, Any] = {"radius_km": 10, "limit": 2}
        while True:
            redis_server.config_resetstat()
            lean = _get(lean_url, sub, params, f"lean-{pages}")
            evalsha = redis_server.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
            flask = _get(flask_url, sub, params, f"lean-{pages}")
            assert evalsha == 1  # the page and the rate limit's count: one call
            assert (lean.status_code, lean.content) == (200, flask.content)
            assert ({k: v for k, v in lean.headers.items() if k not in HOP}
                    == {k: v for k, v in flask.headers.items() if k not in HOP})
            assert lean.headers["X-Request-ID"] == f"lean-{pages}"
            pages += 1
            cursor = orjson.loads(lean.content)["next_cursor"]
            if cursor is None:
                break
            cursors += 1
            params["cursor"] = cursor
    assert cursors >= 2
    redis_server.close()
    lines = (tmp_path / f"gunicorn-{server.port}.log").read_text().splitlines()
    log = [orjson.loads(line) for line in lines if '"yurt.access"' in line]
    lean_lines = [e for e in log if e["request_id"].startswith("lean-") and e["path"] == "/v1/travellers/nearby"]
    assert len(lean_lines) == pages and all(e["status"] == 200 for e in lean_lines)
    assert lean_lines[0]["query"] == "radius_km=10&limit=2"
    assert any(e["query"] == "radius_km=10&limit=2&cursor=REDACTED" for e in lean_lines)
    assert _samples(server, "200") == 2 * pages + 4  # lean and Flask, each labelled by the route rule
    # The limit, on the same server (one start): a caller's presence, then lean pages up to its budget.
    body = {"lat": DUBAI[0], "lon": DUBAI[1], "display_name": "A", "languages": ["kk"]}
    assert requests.put(server.url + "/v1/travellers/me/presence", json=body, headers=auth("a"),
                        timeout=10).status_code == 200  # 1
    url = server.url + "/v1/travellers/nearby"
    statuses = [_get(url, "a", {"limit": 1}, f"count-{i}").status_code for i in range(LIMIT)]
    assert statuses == [200] * (LIMIT - 1) + [429]
    assert _get(url, "b", {}, "count-other").status_code == 409  # another caller: its own budget, not sharing
