"""Over HTTP: ``nearest`` with 1,000 large alerts stored against ``nearest`` with none (issue 14: within 10 %).

The performance bench's method (``bench_http.py``): gunicorn with the project's settings (``gunicorn.conf.py``,
default 2 sync workers) on loopback, load from wrk (a separate process; Debian package ``wrk``:
``apt-get install -y wrk``), the per-client rate limit lifted (still counted), and a Flask hello-world
(``bench/hello.py``) on the same settings as the baseline of the same run. Three servers run side by side:

- A: Yurt Geo with no alert stored;
- B: Yurt Geo with the alerts of ``bench_alerts.py`` stored (1,000 area alerts of 4 to 10,000 vertices, 4.1
  million in all, plus 50 country and 50 subdivision alerts), seeded before the server starts;
- the hello-world.

Both Yurt servers answer the same fixed list of points (wrk walks it in order): half inside alert areas (a
point drawn in an area, not only its box), half uniform on the sphere. Each server is warmed with the whole list
first (on B the snapshot of 1,100 alerts is built and its rasters coded per worker, and the run waits until
the workers are idle), then runs alternate A B A B ... so that drift on the shared machine hits both alike; the
hello-world is measured before each pair. Reported: req/s, p50 and p99 per run, the medians, the ratio B/A of
the medians (and per pair, for the spread), how many of the points' answers carry alerts on B, and the server
workers' CPU milliseconds per request (from /proc; steadier than req/s on a shared machine) with the ratio A/B
of it.

    python bench/bench_alerts_http.py [--embedded] [--rounds 3] [--duration 10] [--workers 2]
                                      [--connections 8] [--alerts 1000] [--json out.json]

Redis mode (the default) starts its own redis-server: A and B use databases 0 and 1 of it. The gunicorn settings
are those of `bench_http.py` but for a worker timeout of 120 s (see `main`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry import shape

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from bench_alerts import make_records, seed_embedded
from bench_http import free_port, run_wrk, start_gunicorn, stop_processes, wait_http

from yurt.alerts.model.record import AlertRecord

TARGET_RATIO = 0.90  # nearest with alerts serves at least 90 % of the requests/s of nearest without
POINTS = 2000

WALK = """
local points = {%s}
local i = 0
request = function()
  i = i %% #points + 1
  local p = points[i]
  return wrk.format("GET", string.format("/v1/missions/nearest?lat=%%.6f&lon=%%.6f&limit=5", p[1], p[2]))
end
"""


def records_for(n: int, seed: int) -> list[AlertRecord]:
    """The bench's alerts, kept between runs in the temporary folder (making them takes a minute or more)."""
    kept = Path(tempfile.gettempdir()) / f"yurt-bench-alerts-{n}-{seed}.json"
    if kept.exists():
        return [AlertRecord(raw["doc"], raw["rev"]) for raw in orjson.loads(kept.read_bytes())]
    records = make_records(n, seed)
    kept.write_bytes(orjson.dumps([{"doc": r.doc, "rev": r.rev} for r in records]))
    return records


def query_points(records: list[AlertRecord], n: int, seed: int) -> list[tuple[float, float]]:
    """Half drawn inside random alert areas (rejection sampling in each area's box), half uniform on the
    sphere, interleaved."""
    rng = np.random.default_rng(seed + 3)
    areas = [shape(r.doc["area"]) for r in records if r.doc.get("area")]
    inside: list[tuple[float, float]] = []
    while len(inside) < n // 2:
        area = areas[int(rng.integers(len(areas)))]
        min_x, min_y, max_x, max_y = area.bounds
        for _ in range(50):
            lon, lat = float(rng.uniform(min_x, max_x)), float(rng.uniform(min_y, max_y))
            if shapely.intersects_xy(area, lon, lat):
                inside.append((lat, lon))
                break
    uniform = [(math.degrees(math.asin(rng.uniform(-1, 1))), float(rng.uniform(-180, 180)))
               for _ in range(n - len(inside))]
    return [p for pair in zip(inside, uniform, strict=True) for p in pair]


def walk_script(points: list[tuple[float, float]]) -> str:
    return WALK % ",".join(f"{{{lat:.6f},{lon:.6f}}}" for lat, lon in points)


def seed_redis(url: str, records: list[AlertRecord]) -> None:
    import redis

    from yurt.alerts.stores.redis import RedisAlertStore

    client = redis.Redis.from_url(url)
    store = RedisAlertStore(client)
    for record in records:
        store.create(record.doc, author="bench")
    client.close()


def carrying(base: str, points: list[tuple[float, float]]) -> dict[str, int]:
    """How many of the points' nearest answers carry alerts (and that none says ``alerts: null``), how many
    alerts they carry and their body bytes in all (a bigger body costs gunicorn and wrk too)."""
    counts = {"points": len(points), "with_alerts": 0, "alerts_null": 0, "alerts": 0, "body_bytes": 0}
    for lat, lon in points:
        with urllib.request.urlopen(f"{base}/v1/missions/nearest?lat={lat:.6f}&lon={lon:.6f}&limit=5",
                                    timeout=120) as response:
            body = response.read()
        alerts = orjson.loads(body)["alerts"]
        counts["with_alerts"] += bool(alerts)
        counts["alerts_null"] += alerts is None
        counts["alerts"] += len(alerts or ())
        counts["body_bytes"] += len(body)
    return counts


def warm(url: str, script: str, connections: int, points: int) -> None:
    """Until every worker has built its snapshot and the points went round once: wrk runs of a few seconds
    until the rate stops rising (the first requests of a worker wait for its snapshot)."""
    previous = 0.0
    for _ in range(8):
        rps = run_wrk(url, 3, connections, script)["rps"]
        if rps * 3 >= points and rps < previous * 1.1:
            return
        previous = max(previous, rps)


def median_row(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in runs), 3) for key in ("rps", "p50_ms", "p99_ms", "cpu_ms")}


def workers_cpu_s(master: int) -> float:
    """CPU seconds (user + system) used so far by the worker processes of a gunicorn master (Linux /proc).

    Per request, it is what a server costs whatever else the machine runs: on a shared machine req/s swing with
    the neighbours' load, CPU per request much less (it still grows a little with cache and memory contention).
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile
        if int(fields[1]) == master:  # fields after the name: state, ppid, ..., utime (12th), stime (13th)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def settle(master: int, timeout_s: float = 120.0) -> float:
    """Wait until a server's workers are idle (under 5 % of a core over a second): after warm-up, B's workers
    code the areas' rasters in a background thread, a one-off per worker that is not the steady state.
    Returns the seconds waited."""
    started = time.monotonic()
    previous = workers_cpu_s(master)
    while time.monotonic() - started < timeout_s:
        time.sleep(1.0)
        now = workers_cpu_s(master)
        if now - previous < 0.05:
            break
        previous = now
    return time.monotonic() - started


def measured(url: str, master: int, duration_s: int, connections: int, script: str | None) -> dict[str, float]:
    """A wrk run, with the server workers' CPU milliseconds per request."""
    before = workers_cpu_s(master)
    row = run_wrk(url, duration_s, connections, script)
    row["cpu_ms"] = round(1000.0 * (workers_cpu_s(master) - before) / max(1.0, row["rps"] * duration_s), 3)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedded", action="store_true", help="no Redis: the embedded default")
    parser.add_argument("--rounds", type=int, default=3, help="pairs A B (each after a hello-world run)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_alerts_http: needs wrk (Debian: apt-get install -y wrk)")

    started = time.perf_counter()
    records = records_for(args.alerts, args.seed)
    points = query_points(records, POINTS, args.seed)
    script = walk_script(points)
    print(f"{len(records)} alerts and {len(points)} points made in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)

    tmp = Path(tempfile.mkdtemp(prefix="yurt-bench-alerts-"))
    procs: list[subprocess.Popen[bytes]] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("YURT_")}
    env.update({"YURT_LOG_LEVEL": "WARNING", "YURT_JWT_SECRET": "bench-secret-not-for-production-0123456789",
                "YURT_RATE_LIMIT": "100000000/minute"})  # measure the endpoint, not the 429 path
    # The servers' own log, and a worker timeout of 120 s instead of 30 for every server (gunicorn reads
    # GUNICORN_CMD_ARGS over its config file): a worker loads the 1,100 alerts while it boots, 5 s on a quiet
    # machine but 27 s measured at a load average of 6 on 2 cores, and gunicorn kills a worker that is silent
    # for longer than its timeout, boot included. The timeout changes nothing once a worker serves.
    log = tmp / "gunicorn.log"
    env["GUNICORN_CMD_ARGS"] = f"--error-logfile {log} --timeout 120"
    mode = "embedded" if args.embedded else "redis"
    try:
        envs = {name: {**env, "YURT_DATA_DIR": str(tmp / name)} for name in ("A", "B")}
        if args.embedded:
            seed_embedded(tmp / "B", records)
        else:
            redis_port = free_port()
            procs.append(subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                           "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                                          stdout=subprocess.DEVNULL))
            for db, name in enumerate(("A", "B")):
                envs[name]["YURT_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/{db}"
            time.sleep(0.5)
            seed_redis(envs["B"]["YURT_REDIS_URL"], records)
        ports = {name: free_port() for name in ("hello", "A", "B")}
        masters: dict[str, int] = {}
        procs.append(start_gunicorn("hello:app", ports["hello"], args.workers, env, BENCH))
        masters["hello"] = procs[-1].pid
        for name in ("A", "B"):
            procs.append(start_gunicorn("wsgi:app", ports[name], args.workers, envs[name], ROOT))
            masters[name] = procs[-1].pid
        hello = f"http://127.0.0.1:{ports['hello']}/hello"
        base = {name: f"http://127.0.0.1:{ports[name]}" for name in ("A", "B")}
        wait_http(hello)
        for name in ("A", "B"):
            wait_http(f"{base[name]}/readyz", timeout_s=180)
            warm(base[name] + "/", script, args.connections, len(points))
            print(f"{name}: workers idle {settle(masters[name]):.0f} s after warm-up", file=sys.stderr)
        carried = carrying(base["B"], points[:400])
        assert carried["alerts_null"] == 0, carried
        carried_a = carrying(base["A"], points[:400])
        assert carried_a["with_alerts"] == 0

        runs: dict[str, list[dict[str, float]]] = {"hello": [], "A": [], "B": []}
        loads = []
        for _ in range(args.rounds):
            loads.append(os.getloadavg()[0])
            runs["hello"].append(measured(hello, masters["hello"], args.duration, args.connections, None))
            for name in ("A", "B"):
                runs[name].append(measured(base[name] + "/", masters[name], args.duration, args.connections, script))
        for name in ("A", "B"):
            assert all(r["non_2xx"] == 0 for r in runs[name]), runs[name]

        medians = {name: median_row(rows) for name, rows in runs.items()}
        pairs = [round(b["rps"] / a["rps"], 3) for a, b in zip(runs["A"], runs["B"], strict=True)]
        ratio = round(medians["B"]["rps"] / medians["A"]["rps"], 3)
        cpu_ratio = round(medians["A"]["cpu_ms"] / medians["B"]["cpu_ms"], 3)
        print(f"mode={mode}, gunicorn -w {args.workers}, wrk -c{args.connections} -d{args.duration}s, "
              f"{args.rounds} rounds (hello, A, B), load average {', '.join(f'{x:.2f}' for x in loads)}")
        print(f"{'run':<34} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10}")
        labels = {"hello": "hello-world", "A": "nearest, no alerts (A)", "B": f"nearest, {len(records)} alerts (B)"}
        for i in range(args.rounds):
            for name in ("hello", "A", "B"):
                r = runs[name][i]
                print(f"{labels[name] + f' #{i + 1}':<34} {r['rps']:>7.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} "
                      f"{r['cpu_ms']:>10.3f}")
        for name in ("hello", "A", "B"):
            m = medians[name]
            print(f"{labels[name] + ' median':<34} {m['rps']:>7.0f} {m['p50_ms']:>7.2f} {m['p99_ms']:>7.2f} "
                  f"{m['cpu_ms']:>10.3f}")
        print(f"B/A req/s: {ratio} (pairs {pairs}); A/hello {medians['A']['rps'] / medians['hello']['rps']:.2f}; "
              f"answers carrying alerts on B: {carried['with_alerts']} of {carried['points']}, "
              f"{carried['alerts'] / carried['points']:.1f} alerts and "
              f"{carried['body_bytes'] / carried['points']:,.0f} bytes per answer "
              f"(A: {carried_a['body_bytes'] / carried_a['points']:,.0f} bytes)")
        print(f"worker CPU per request A/B: {cpu_ratio} (A {medians['A']['cpu_ms']} ms, B {medians['B']['cpu_ms']} ms; "
              f"B costs {medians['B']['cpu_ms'] - medians['A']['cpu_ms']:.3f} ms more)")
        report: dict[str, Any] = {"mode": mode, "workers": args.workers, "connections": args.connections,
                                  "duration_s": args.duration, "alerts": len(records), "points": len(points),
                                  "load_average_1m": loads, "runs": runs, "medians": medians,
                                  "ratio_b_over_a": ratio, "pair_ratios": pairs, "carrying": carried,
                                  "carrying_a": carried_a,
                                  "cpu_ratio_a_over_b": cpu_ratio}
        if args.json:
            args.json.write_text(json.dumps(report, indent=1) + "\n")
        ok = ratio >= TARGET_RATIO
        print("OK" if ok else f"FAILED: nearest with alerts below {TARGET_RATIO} of nearest without")
        return 0 if ok else 1
    except Exception:
        if log.exists():
            print(log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stop_processes(procs, timeout_s=20)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
