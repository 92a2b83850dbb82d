"""``GET /v1/travellers/nearby`` over HTTP against a Flask hello-world, in one run, with Redis's own count of
commands per request.

Redis mode (a private redis-server on a free loopback port), gunicorn ``--workers`` (default 2) for both apps,
wrk -t1 -c``--connections`` (default 8). ``--travellers`` (default 21) share around Dubai through the API
(``PUT /v1/travellers/me/presence``), then each wrk request asks ``nearby`` (radius 25 km, 20 results) as one
of them in turn. The per-client limit is raised high but still counted. Prints requests/s, p50, p99 and the
ratio to the hello-world measured just before, ``--repeat`` times, and from ``INFO commandstats`` over the last
run: EVALSHA calls per request (each one round trip) and every other command the clients sent; and CPU per
request of the gunicorn workers (/proc) and of Redis (INFO CPU), where the time goes.

    python bench/bench_nearby_http.py [--duration 10] [--repeat 3] [--travellers 21] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_http import free_port, run_wrk, start_gunicorn, stop_processes, wait_http

from yurt.core.auth import mint

JWT_SECRET = "bench-nearby-secret-with-at-least-32-bytes"
DUBAI = (25.2048, 55.2708)


def wrk_script(tokens: list[str]) -> str:
    listed = ",".join(f'"{t}"' for t in tokens)
    return f"""
local tokens = {{{listed}}}
local i = 0
request = function()
  i = i % #tokens + 1
  local headers = {{["Authorization"] = "Bearer " .. tokens[i]}}
  return wrk.format("GET", "/v1/travellers/nearby?radius_km=25&limit=20", headers)
end
"""


def workers_cpu_s(master_pid: int) -> float:
    """CPU seconds (user + system) used so far by a gunicorn master's worker processes (Linux /proc)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # field 4 of stat: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def redis_cpu_s(server: redis.Redis) -> float:
    cpu = server.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def share(port: int, token: str, lat: float, lon: float, name: str) -> None:
    body = json.dumps({"lat": lat, "lon": lon, "display_name": name, "languages": ["kk", "ru"]}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/travellers/me/presence", data=body, method="PUT",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        assert response.status == 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--travellers", type=int, default=21)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="yurt-bench-nearby-"))
    redis_port = free_port()
    subprocess.run(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                    "no", "--daemonize", "yes", "--dir", str(tmp), "--pidfile", str(tmp / "r.pid")], check=True)
    server = redis.Redis(port=redis_port)
    for _ in range(100):
        try:
            server.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    env = {k: v for k, v in os.environ.items() if not k.startswith("YURT_")}
    env.update(YURT_DATA_DIR=str(tmp / "var"), YURT_LOG_LEVEL="WARNING", YURT_JWT_SECRET=JWT_SECRET,
               YURT_RATE_LIMIT="100000000/minute", YURT_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    hello_port, yurt_port = free_port(), free_port()
    procs = [start_gunicorn("hello:app", hello_port, args.workers, env, ROOT / "bench"),
             start_gunicorn("wsgi:app", yurt_port, args.workers, env, ROOT)]
    rows = []
    try:
        wait_http(f"http://127.0.0.1:{hello_port}/hello")
        wait_http(f"http://127.0.0.1:{yurt_port}/readyz")
        tokens = [mint(JWT_SECRET, f"bench{i}", ["traveller"], 120) for i in range(args.travellers)]
        for i, token in enumerate(tokens):
            share(yurt_port, token, DUBAI[0] + (i % 5) * 0.03, DUBAI[1] + (i // 5) * 0.03, f"Bench {i}")
        script = wrk_script(tokens)
        nearby_url = f"http://127.0.0.1:{yurt_port}/v1/travellers/nearby"
        run_wrk(nearby_url, 1, args.connections, script)  # warm both workers
        for _ in range(args.repeat):
            before = workers_cpu_s(procs[0].pid)
            hello = run_wrk(f"http://127.0.0.1:{hello_port}/hello", args.duration, args.connections, None)
            hello["worker_cpu_ms"] = 1000 * (workers_cpu_s(procs[0].pid) - before) / (hello["rps"] * args.duration)
            server.config_resetstat()
            before, before_redis = workers_cpu_s(procs[1].pid), redis_cpu_s(server)
            nearby = run_wrk(nearby_url, args.duration, args.connections, script)
            requests = nearby["rps"] * args.duration
            nearby["worker_cpu_ms"] = 1000 * (workers_cpu_s(procs[1].pid) - before) / requests
            nearby["redis_cpu_ms"] = 1000 * (redis_cpu_s(server) - before_redis) / requests
            stats = server.info("commandstats")
            rows.append({"hello": hello, "nearby": nearby, "ratio": nearby["rps"] / hello["rps"], "stats": stats,
                         "load": os.getloadavg()[0]})
    finally:
        stop_processes(procs)
        server.shutdown(nosave=True)

    print(f"Redis mode, gunicorn -w {args.workers}, wrk -t1 -c{args.connections} -d{args.duration}s, "
          f"{args.travellers} travellers sharing; load {os.getloadavg()[0]:.2f}")
    print(f"{'hello req/s':>12} {'nearby req/s':>13} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6} {'non-2xx':>8} "
          f"{'CPU ms/request: hello workers':>30} {'nearby workers':>15} {'Redis':>6} {'load':>5}")
    for row in rows:
        n = row["nearby"]
        print(f"{row['hello']['rps']:12.0f} {n['rps']:13.0f} {n['p50_ms']:7.2f} {n['p99_ms']:7.2f} "
              f"{row['ratio']:5.2f}x {n['non_2xx']:8.0f} {row['hello']['worker_cpu_ms']:30.3f} "
              f"{n['worker_cpu_ms']:15.3f} {n['redis_cpu_ms']:6.3f} {row['load']:5.2f}")
    stats = rows[-1]["stats"]
    requests = rows[-1]["nearby"]["rps"] * args.duration  # wrk's count, approximately
    evalsha = int(stats.get("cmdstat_evalsha", {}).get("calls", 0))
    print(f"last run: EVALSHA {evalsha} calls, {evalsha / requests:.2f} per request (≈{requests:.0f} requests); "
          "other commands (scripts' own included):")
    for name, value in sorted(stats.items()):
        if name not in ("cmdstat_evalsha", "cmdstat_config|resetstat"):
            print(f"  {name.removeprefix('cmdstat_')}: {value['calls']} ({value['calls'] / requests:.2f}/request)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
