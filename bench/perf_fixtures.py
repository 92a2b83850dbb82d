"""What bench/bench_perf.py sets up and reads besides wrk: travellers sharing their presence, alerts in force,
Redis commands per request (``INFO commandstats``), Redis round trips per request (counted in the client), and
the memory of gunicorn's workers (``/proc/<pid>/smaps_rollup``)."""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from yurt.core.auth import mint

JWT_SECRET = "bench-secret-not-for-production-0123456789"
NEARBY_PATH = "/v1/travellers/nearby?radius_km=10&limit=20"
DUBAI = (25.2048, 55.2708)
# Travellers sharing around one spot: every nearby page has 20 results to read, sign and answer.
SHARING = 24


def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def traveller_tokens(prefix: str, count: int) -> list[str]:
    return [mint(JWT_SECRET, f"{prefix}-{i}", ["traveller"], 120) for i in range(count)]


def share_presence(base: str, tokens: list[str], seed: int) -> None:
    """Each traveller's first presence update, a few hundred metres around ``DUBAI``."""
    rng = random.Random(seed)
    for i, token in enumerate(tokens):
        body = {"lat": DUBAI[0] + rng.uniform(-0.004, 0.004), "lon": DUBAI[1] + rng.uniform(-0.004, 0.004),
                "share_minutes": 120, "display_name": f"Traveller {i}", "languages": ["kk", "ru"],
                "about": "bench"}
        status, answer = http("PUT", f"{base}/v1/travellers/me/presence", body, token)
        if status != 200:
            raise RuntimeError(f"presence update answered {status}: {answer[:200]!r}")


def publish_alerts(base: str) -> None:
    """Alerts of each kind the answers attach: an area (Paris), a country (France), a subdivision (Geneva)."""
    staff = mint(JWT_SECRET, "bench-staff", ["staff"], 120)
    text = {"en": "Bench alert", "kk": "Bench alert", "ru": "Bench alert"}
    paris = [[[2.2, 48.8], [2.5, 48.8], [2.5, 48.95], [2.2, 48.95], [2.2, 48.8]]]
    for where in ({"area": {"type": "Polygon", "coordinates": paris}}, {"countries": ["FR"]},
                  {"subdivisions": ["CH-GE"]}):
        status, answer = http("POST", f"{base}/v1/alerts", {"severity": "advisory", "title": text, "body": text,
                                                            **where}, staff)
        if status != 201:
            raise RuntimeError(f"publishing an alert answered {status}: {answer[:300]!r}")


def nearby_script(tokens: list[str]) -> str:
    """wrk Lua: each request from the next traveller in turn (real tokens, each verified once per worker)."""
    listed = ", ".join(f'"{t}"' for t in tokens)
    return f"""
local tokens = {{{listed}}}
local i = 0
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "{NEARBY_PATH}", {{["Authorization"] = "Bearer " .. tokens[i]}})
end
"""


def _calls(client: redis.Redis) -> dict[str, int]:
    stats: dict[str, Any] = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def commands_per_call(client: redis.Redis, action: Callable[[int], None], n: int) -> dict[str, Any]:
    """Redis commands per ``action`` from ``INFO commandstats`` over ``n`` calls, less what the server does
    idle over as long (the workers' dataset and alert polls)."""
    client.config_resetstat()
    started = time.monotonic()
    for i in range(n):
        action(i)
    elapsed = time.monotonic() - started
    busy = _calls(client)
    client.config_resetstat()
    time.sleep(elapsed)
    idle = _calls(client)
    per = {k: (v - idle.get(k, 0)) / n for k, v in busy.items() if k not in {"config", "info"}}
    per = {k: round(v, 2) for k, v in sorted(per.items()) if v > 0.004}
    return {"per_call": round(sum(per.values()), 2), "by_command": per, "calls": n}


class RoundTrips:
    """Counts what redis-py sends: one ``send_packed_command`` per command or per pipeline, each answered
    before the next (a round trip). Patched on the class, in this process only."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> RoundTrips:
        from redis.connection import AbstractConnection

        self._original = original = AbstractConnection.send_packed_command

        def counted(conn: Any, command: Any, check_health: bool = True) -> None:
            self.count += 1
            original(conn, command, check_health)

        AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from redis.connection import AbstractConnection

        AbstractConnection.send_packed_command = self._original  # type: ignore[method-assign]


def round_trips_in_process(env: dict[str, str], tokens: list[str], fresh: list[str], n: int) -> dict[str, float]:
    """Round trips per nearby page and per first presence update, through the real app in this process."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith("YURT_")})
    try:
        from yurt import create_app

        client = create_app().test_client()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    for token in tokens:  # the verifier's cache and the catalogue warm, as in a running worker
        client.get(NEARBY_PATH, headers={"Authorization": f"Bearer {token}"})
    with RoundTrips() as trips:
        for i in range(n):
            response = client.get(NEARBY_PATH, headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"})
            assert response.status_code == 200, response.data
    nearby = trips.count / n
    with RoundTrips() as trips:
        for i, token in enumerate(fresh):
            body = {"lat": DUBAI[0] + 0.001 * i, "lon": DUBAI[1], "display_name": "Fresh", "languages": ["kk"]}
            response = client.put("/v1/travellers/me/presence", json=body,
                                  headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.data
    return {"nearby": round(nearby, 2), "presence_update": round(trips.count / len(fresh), 2)}


def worker_pids(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def memory_mb(pid: int) -> dict[str, float]:
    """Resident and proportional set size of one process, MB (``smaps_rollup``, kB lines)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in {"Rss", "Pss"}:
            fields[name.lower()] = round(int(rest.split()[0]) / 1024, 1)
    return fields


def workers_cpu_s(master_pid: int) -> float:
    """User + system CPU seconds of a gunicorn master's workers so far (``/proc/<pid>/stat``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in worker_pids(master_pid):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return total / tick
