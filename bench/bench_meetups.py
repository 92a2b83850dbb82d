"""Meetup spam: ``GET /v1/meetups/nearby`` in a city holding 15,000 meetups vs an empty area (issue 11).

Loads ``--meetups`` (default 15,000) active meetups uniformly within 5 km of a point in Dubai, through the store's
own ``create`` (as 3,000 organisers at the default cap of 5: loading through the API's creation quota would take
hours), then times, interleaved so that machine noise hits both alike:

1. the endpoint itself: ``GET /v1/meetups/nearby?lat=…&lon=…&radius_km=25&limit=20`` through the whole app (WSGI,
   token check, rate limit, query parsing, search, JSON), from points inside the crowded 5 km disc and from
   points in an empty area of the steppe;
2. the store search alone (``MeetupStore.search``), the same points.

and prints p50/p99 of each and the crowded/empty p99 ratio (goal: at most 2), by the wall clock and by this
thread's CPU time (which other work on a shared machine does not inflate; it leaves out waiting for Redis).
With Redis it then shows where a store search's time goes: round trips, commands, Redis's own time (``INFO
commandstats``), the client's CPU and the wall clock per search, crowded and empty.
``--mode`` embedded, redis or both (default); without ``--redis-url`` a private redis-server is started on a
free loopback port and stopped at the end.

    python bench/bench_meetups.py [--meetups 15000] [--queries 2000] [--mode both] [--redis-url redis://...]
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_http import free_port

from tests.harness.round_trips import counting_round_trips
from yurt import create_app
from yurt.core.auth import mint
from yurt.core.settings import Settings
from yurt.geo import privacy
from yurt.meetups.stores.meetups import Meetup

CITY = (25.2048, 55.2708)
EMPTY = (48.0, 67.0)  # the steppe, far from any meetup
JWT_SECRET = "bench-secret-not-for-production-0123456789"
NOW_S = time.time()


def disc(centre: tuple[float, float], radius_km: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform over a disc (small-distance approximation)."""
    r_km = radius_km * np.sqrt(rng.random(n))
    theta = rng.random(n) * 2 * math.pi
    lat = centre[0] + (r_km * np.cos(theta)) / 111.32
    lon = centre[1] + (r_km * np.sin(theta)) / (111.32 * math.cos(math.radians(centre[0])))
    return np.column_stack([lat, lon])


@contextmanager
def private_redis() -> Iterator[str]:
    port = free_port()
    folder = tempfile.mkdtemp(prefix="bench-meetups-redis-")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", folder], stdout=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def p50_p99(samples_ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples_ms, 50)), float(np.percentile(samples_ms, 99))


def run(mode: str, settings: Settings, meetups: int, queries: int, warmup: int) -> None:
    rng = np.random.default_rng(7)
    app = create_app(settings)
    services = app.extensions["yurt"]
    if services.redis is not None:
        services.redis.flushdb()
    store = services.meetup_service.store
    started = time.perf_counter()
    for i, (lat, lon) in enumerate(disc(CITY, 5.0, meetups, rng)):
        organiser = f"spammer{i // 5}"
        meetup = Meetup(f"spam{i:06d}", organiser, "Free visa help!!!", "", NOW_S - 3600, NOW_S + 6 * 86_400,
                        float(lat), float(lon), "Somewhere", 50, "Asia/Dubai")
        store.create(meetup, privacy.traveller_id(services.travellers.secret, organiser), NOW_S, 5)
    print(f"[{mode}] loaded {meetups:,} meetups within 5 km of {CITY} in {time.perf_counter() - started:.1f} s")

    client = app.test_client()
    headers = {"Authorization": "Bearer " + mint(JWT_SECRET, "viewer", ["traveller"], 600)}
    crowded, empty = disc(CITY, 5.0, warmup + queries, rng), disc(EMPTY, 5.0, warmup + queries, rng)

    def http(lat: float, lon: float) -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.thread_time()
        response = client.get(f"/v1/meetups/nearby?lat={lat}&lon={lon}&radius_km=25&limit=20", headers=headers)
        elapsed = (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000
        assert response.status_code == 200, response.json
        return elapsed

    def direct(lat: float, lon: float) -> tuple[float, float]:
        return timed(store, lat, lon)

    for (lat, lon), (elat, elon) in zip(crowded[:warmup], empty[:warmup], strict=True):  # warm caches and pools
        http(lat, lon)
        http(elat, elon)
    full = client.get(f"/v1/meetups/nearby?lat={CITY[0]}&lon={CITY[1]}&radius_km=25&limit=20", headers=headers)
    assert len(full.json["results"]) == 20
    for name, measure in (("endpoint", http), ("store search", direct)):
        city: list[tuple[float, float]] = []
        lonely: list[tuple[float, float]] = []
        for (lat, lon), (elat, elon) in zip(crowded[warmup:], empty[warmup:], strict=True):
            city.append(measure(float(lat), float(lon)))
            lonely.append(measure(float(elat), float(elon)))
        for clock, column in (("wall", 0), ("cpu", 1)):
            (c50, c99), (e50, e99) = p50_p99([s[column] for s in city]), p50_p99([s[column] for s in lonely])
            print(f"[{mode}] {name:12s} {clock:4s} crowded p50 {c50:.3f} ms p99 {c99:.3f} ms | empty p50 "
                  f"{e50:.3f} ms p99 {e99:.3f} ms | p99 ratio {c99 / e99:.2f}")
    if services.redis is not None:
        for label, points in (("crowded", crowded), ("empty", empty)):
            print(f"[{mode}] store search {label:7s} {server_side(services.redis, store, points[:500])}")
    services.close()


def server_side(client: Any, store: Any, points: np.ndarray) -> str:
    """Where a search's time goes besides the client's CPU: round trips (one send each, as redis-py sends a
    command or a pipeline), script calls and the commands they run, and Redis's own time (``INFO
    commandstats``: every command here runs inside a script)."""
    client.config_resetstat()
    with counting_round_trips() as trips:
        walls, cpus = zip(*(timed(store, float(lat), float(lon)) for lat, lon in points), strict=True)
    stats = client.info("commandstats")
    calls = sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_config|resetstat")
    script = stats.get("cmdstat_evalsha", {"calls": 0, "usec": 0})
    n = len(points)
    return (f"per search: {trips.count / n:.2f} round trips, {script['calls'] / n:.2f} script calls running "
            f"{calls / n:.1f} commands in all, Redis {script['usec'] / n / 1000:.3f} ms; client CPU "
            f"{np.mean(cpus):.3f} ms, wall {np.mean(walls):.3f} ms (means)")


def timed(store: Any, lat: float, lon: float) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.thread_time()
    store.search(lat, lon, 25.0, 20, NOW_S, math.inf, NOW_S)
    return (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetups", type=int, default=15_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--warmup", type=int, default=1_000, help="queries before timing (caches, pools)")
    parser.add_argument("--mode", choices=["embedded", "redis", "both"], default="both")
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # A Redis timeout of 5 s: on a loaded shared machine Redis stalls past the 0.25 s default while loading.
        base = Settings(data_dir=Path(tmp) / "var", jwt_secret=JWT_SECRET, log_level="WARNING",
                        rate_limit="100000000/minute", redis_timeout_s=5.0)
        if args.mode in ("embedded", "both"):
            run("embedded", base, args.meetups, args.queries, args.warmup)
        if args.mode in ("redis", "both"):
            if args.redis_url:
                run("redis", base.replace(redis_url=args.redis_url), args.meetups, args.queries, args.warmup)
            else:
                with private_redis() as url:
                    run("redis", base.replace(redis_url=url), args.meetups, args.queries, args.warmup)


if __name__ == "__main__":
    main()
