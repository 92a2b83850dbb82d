"""Travellers at scale on a real Redis: nearby latency in a crowded city vs an empty area, and update throughput.

Loads ``--total`` visible travellers (default 1,000,000), ``--city`` of them (default 100,000) within ~15 km
of Dubai and the rest spread uniformly over the inhabited latitudes, in the exact key layout of
``RedisPresenceStore`` (bulk pipelines; loading through the API's limiter would take hours). Then measures:

1. ``nearby`` (the API's own page function, radius 10 km, 20 results) for viewers in the city and viewers in
   empty areas: p50/p99 and the crowded/empty p99 ratio (target ≤ 2);
2. the naive design for contrast: ``GEOSEARCH ... BYRADIUS 10 km ASC COUNT 20`` over a GEO key of the same
   people (``--no-naive`` to skip);
3. presence updates/s through ``RedisPresenceStore.put_presence`` from ``--processes`` client processes of
   ``--threads`` threads (target ≥ 5,000), each traveller updated twice, a simulated minute apart and one
   cell over (the speed check runs);
4. HTTP: ``GET /v1/travellers/nearby`` under gunicorn + wrk against a Flask hello-world in the same run
   (``--no-http`` to skip; needs wrk).

    python bench/bench_travellers.py [--total 1000000] [--city 100000] [--queries 1000] [--updates 20000]
                                     [--processes 2] [--threads 4] [--redis-url redis://...] [--duration 5]

Without ``--redis-url`` a private redis-server is started on a free loopback port and stopped at the end.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import h3
import numpy as np
import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_http import free_port, run_wrk, start_gunicorn, stop_processes, wait_http

from yurt.core.auth import mint
from yurt.core.settings import Settings
from yurt.geo import privacy
from yurt.travellers.service.nearby import nearby_page
from yurt.travellers.stores.onetrip import index_copy
from yurt.travellers.stores.presence import Profile, TravellerStores, traveller_secret
from yurt.travellers.stores.presence_redis import RedisPresenceStore

ROOT = Path(__file__).resolve().parent.parent
CITY = (25.2048, 55.2708)
JWT_SECRET = "bench-secret-not-for-production-0123456789"
PROFILE = Profile("Bench", ("kk", "ru"), None)


def city_points(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform over a 15 km disc around the city centre (small-distance approximation)."""
    r_km = 15 * np.sqrt(rng.random(n))
    theta = rng.random(n) * 2 * math.pi
    lat = CITY[0] + (r_km * np.cos(theta)) / 111.32
    lon = CITY[1] + (r_km * np.sin(theta)) / (111.32 * math.cos(math.radians(CITY[0])))
    return np.column_stack([lat, lon])


def world_points(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform on the sphere between 60° S and 70° N."""
    lo, hi = math.sin(math.radians(-60)), math.sin(math.radians(70))
    lat = np.degrees(np.arcsin(rng.uniform(lo, hi, n)))
    return np.column_stack([lat, rng.uniform(-180, 180, n)])


def bulk_load(client: redis.Redis, points: np.ndarray, expires_ms: int, ttl_ms: int,
              batch: int = 20_000) -> None:
    """The same keys ``RedisPresenceStore.put_presence`` writes (no limiter records: nobody updated yet)."""
    langs = orjson.dumps(["kk", "ru"])  # the presence hash and the index's profile copy, as the store writes
    for start in range(0, len(points), batch):
        cells: dict[str, list[tuple[str, int]]] = defaultdict(list)
        copies: dict[str, dict[str, bytes]] = defaultdict(dict)
        with client.pipeline(transaction=False) as pipe:
            for i in range(start, min(start + batch, len(points))):
                tid = f"{i:032x}"
                cell = h3.latlng_to_cell(points[i, 0], points[i, 1], 7)
                session = privacy.new_session()
                cells[cell].append((tid, privacy.session_order(session)))
                pipe.hset(f"{{t:{tid}}}:p", mapping={"cell": cell, "exp_ms": expires_ms, "name": f"T{i}",
                                                      "langs": langs, "about": "", "sid": session, "est": "0"})
                copies[privacy.index_cell(cell)][tid] = index_copy(
                    cell, expires_ms, session, False, Profile(f"T{i}", ("kk", "ru"), None).public_json())
                pipe.pexpire(f"{{t:{tid}}}:p", ttl_ms)
            by_coarse: dict[str, dict[str, int]] = defaultdict(dict)
            for cell, members in cells.items():
                coarse = privacy.index_cell(cell)
                pipe.zadd(f"{{g:{coarse}}}:c:{cell}", {tid: score for tid, score in members})
                pipe.hincrby(f"{{g:{coarse}}}:n", cell, len(members))
                by_coarse[coarse].update({f"{cell}|{tid}": expires_ms for tid, _ in members})
            for coarse, expiry in by_coarse.items():
                pipe.zadd(f"{{g:{coarse}}}:x", expiry)
                pipe.hset(f"{{g:{coarse}}}:prof", mapping=copies[coarse])
            pipe.execute()


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples_ms, 50)), float(np.percentile(samples_ms, 99))


def place_viewers(stores: TravellerStores, points: np.ndarray, prefix: str, now_s: float) -> list[str]:
    tids = []
    for i, (lat, lon) in enumerate(points):
        tid = privacy.traveller_id(stores.secret, f"{prefix}{i}")
        stores.presence.put_presence(tid, privacy.presence_cell(lat, lon), now_s + 12 * 3600, PROFILE, now_s)
        tids.append(tid)
    return tids


def measure_nearby(stores: TravellerStores, tids: list[str], queries: int, now_s: float) -> list[float]:
    samples = []
    presences = [stores.presence.get_presence(t, now_s) for t in tids]
    for q in range(queries):
        viewer = presences[q % len(presences)]
        assert viewer is not None
        started = time.perf_counter()
        nearby_page(stores, viewer.tid, 10.0, 20, None, now_s)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure_naive(client: redis.Redis, points: np.ndarray, city: np.ndarray, empty: np.ndarray,
                  queries: int) -> tuple[list[float], list[float]]:
    for start in range(0, len(points), 50_000):
        chunk = points[start:start + 50_000]
        values: list[float | str] = []
        for i, (lat, lon) in enumerate(chunk, start):
            values += [float(lon), float(lat), f"n{i}"]
        client.execute_command("GEOADD", "bench:naive", *values)

    def run(origins: np.ndarray) -> list[float]:
        samples = []
        for q in range(queries):
            lat, lon = origins[q % len(origins)]
            started = time.perf_counter()
            client.execute_command("GEOSEARCH", "bench:naive", "FROMLONLAT", float(lon), float(lat),
                                   "BYRADIUS", 10, "km", "ASC", "COUNT", 20)
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    result = run(city), run(empty)
    client.delete("bench:naive")
    return result


def _update_worker(url: str, first: int, count: int, threads: int, now_s: float, start_at: float,
                   out: multiprocessing.Queue[float]) -> None:
    """One process (a gunicorn worker's worth): ``threads`` threads, each traveller updated twice, a simulated
    minute apart and one cell over, so the speed check runs."""
    client = redis.Redis.from_url(url)
    store = RedisPresenceStore(client)
    starts = world_points(count, np.random.default_rng(first))
    per_thread = count // threads

    def work(k: int) -> None:
        for j in range(k * per_thread, (k + 1) * per_thread):
            tid = f"u{first + j:031x}"
            cell = privacy.presence_cell(*starts[j])
            store.put_presence(tid, cell, now_s + 3600, PROFILE, now_s)
            moved = str(next(iter(h3.grid_ring(cell, 1))))
            store.put_presence(tid, moved, now_s + 3660, PROFILE, now_s + 61)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    while time.time() < start_at:  # all processes start together
        time.sleep(0.001)
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(time.time())
    client.close()


def measure_updates(url: str, updates: int, processes: int, threads: int, now_s: float) -> float:
    per_process = max(threads, updates // (2 * processes))
    queue: multiprocessing.Queue[float] = multiprocessing.Queue()
    start_at = time.time() + 1.0
    procs = [multiprocessing.Process(target=_update_worker,
                                     args=(url, k * per_process, per_process, threads, now_s, start_at, queue))
             for k in range(processes)]
    for proc in procs:
        proc.start()
    finished = max(queue.get() for _ in procs)
    for proc in procs:
        proc.join()
    done = 2 * (per_process // threads) * threads * processes
    return done / (finished - start_at)


def measure_http(redis_url: str, secret_settings: Settings, city_sub: str, empty_sub: str, duration_s: int,
                 tmp: Path) -> list[tuple[str, dict[str, float]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YURT_")}
    env.update(YURT_DATA_DIR=str(tmp / "var"), YURT_LOG_LEVEL="WARNING", YURT_JWT_SECRET=JWT_SECRET,
               YURT_RATE_LIMIT="100000000/minute", YURT_REDIS_URL=redis_url)
    hello_port, yurt_port = free_port(), free_port()
    procs = [start_gunicorn("hello:app", hello_port, 2, env, ROOT / "bench"),
             start_gunicorn("wsgi:app", yurt_port, 2, env, ROOT)]
    try:
        wait_http(f"http://127.0.0.1:{hello_port}/hello")
        wait_http(f"http://127.0.0.1:{yurt_port}/readyz")
        rows = []
        cases = [("hello-world (baseline)", f"http://127.0.0.1:{hello_port}/hello", None),
                 ("nearby, crowded city", f"http://127.0.0.1:{yurt_port}/v1/travellers/nearby", city_sub),
                 ("nearby, empty area", f"http://127.0.0.1:{yurt_port}/v1/travellers/nearby", empty_sub)]
        for name, url, sub in cases:
            script = None
            if sub is not None:
                token = mint(JWT_SECRET, sub, ["traveller"], 60)
                script = f'wrk.headers["Authorization"] = "Bearer {token}"\n'
            run_wrk(url, 1, 8, script)
            rows.append((name, run_wrk(url, duration_s, 8, script)))
        return rows
    finally:
        stop_processes(procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--city", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--processes", type=int, default=2, help="update clients (like gunicorn workers)")
    parser.add_argument("--threads", type=int, default=4, help="threads per update process")
    parser.add_argument("--duration", type=int, default=5, help="seconds per HTTP case")
    parser.add_argument("--redis-url")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="yurt-bench-trav-"))
    server = None
    url = args.redis_url
    if url is None:
        port = free_port()
        server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        time.sleep(0.5)
    try:
        client = redis.Redis.from_url(url)
        client.flushdb()
        settings = Settings(jwt_secret=JWT_SECRET, redis_url=url)
        secret = traveller_secret(settings)
        stores = TravellerStores(RedisPresenceStore(client), secret)
        rng = np.random.default_rng(1)
        points = np.vstack([city_points(args.city, rng), world_points(args.total - args.city, rng)])
        now_s = time.time()
        started = time.perf_counter()
        bulk_load(client, points, round((now_s + 12 * 3600) * 1000), 12 * 3600 * 1000)
        print(f"loaded {args.total:,} travellers ({args.city:,} in one city) in {time.perf_counter() - started:.1f} s;"
              f" redis used_memory {client.info('memory')['used_memory_human']}")

        city_viewers = place_viewers(stores, city_points(50, rng), "city-viewer-", now_s)
        empty_origins = world_points(50, rng)
        empty_viewers = place_viewers(stores, empty_origins, "empty-viewer-", now_s)
        measure_nearby(stores, city_viewers + empty_viewers, 100, now_s)  # warm up
        crowded = measure_nearby(stores, city_viewers, args.queries, now_s)
        empty = measure_nearby(stores, empty_viewers, args.queries, now_s)
        (c50, c99), (e50, e99) = percentiles(crowded), percentiles(empty)
        print(f"nearby (radius 10 km, 20 results), {args.queries} queries each:")
        print(f"  crowded city  p50 {c50:.2f} ms  p99 {c99:.2f} ms")
        print(f"  empty area    p50 {e50:.2f} ms  p99 {e99:.2f} ms")
        print(f"  p99 ratio crowded/empty {c99 / e99:.2f} (target <= 2)")
        if not args.no_naive:
            naive_city, naive_empty = measure_naive(client, points, city_points(50, rng), empty_origins,
                                                    args.queries)
            (_, n99), (_, m99) = percentiles(naive_city), percentiles(naive_empty)
            print(f"naive GEOSEARCH ASC COUNT 20: crowded p99 {n99:.2f} ms, empty p99 {m99:.2f} ms, "
                  f"ratio {n99 / m99:.1f}")
        rate = measure_updates(url, args.updates, args.processes, args.threads, now_s)
        print(f"presence updates: {rate:,.0f}/s from {args.processes} processes x {args.threads} threads "
              f"(target >= 5,000)")
        if not args.no_http and shutil.which("wrk"):
            rows = measure_http(url, settings, "city-viewer-0", "empty-viewer-0", args.duration, tmp)
            base = rows[0][1]["rps"]
            print(f"HTTP (gunicorn -w 2, wrk -c8 -d{args.duration}s):")
            for name, r in rows:
                print(f"  {name:<24} {r['rps']:>8.0f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms"
                      f"  ratio {r['rps'] / base:.2f}  non-2xx {r['non_2xx']:.0f}")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
