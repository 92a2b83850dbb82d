"""The performance bench of issue 15: every HTTP figure, Redis mode and embedded mode, in one run.

Per mode, two gunicorn servers with the same settings (gunicorn.conf.py, ``--workers`` sync workers, default
2): the Flask hello-world (bench/hello.py) and Yurt Geo at its production defaults (access log on at INFO,
Prometheus multiprocess metrics, per-client rate limit raised to 10^8/minute but still counted, alerts in
force: an area over Paris, France, and Geneva's canton). Load from ``wrk -t1 -c<connections>`` (Debian package
``wrk``). Each endpoint is measured right after the hello-world so machine noise hits both alike; the ratio is
endpoint req/s over that hello-world req/s, and the table says the target and whether it is met.

Then, in Redis mode: Redis commands per ``nearby`` page and per presence update from ``INFO commandstats``
(reset with ``CONFIG RESETSTAT``, counted over N requests, less the idle polls over as long), and round trips
(pipelines count once) counted in redis-py through the real app in this process. Memory: RSS and PSS of each
worker (``/proc/<pid>/smaps_rollup``) after a warm-up of every endpoint, with and without
``GUNICORN_PRELOAD_APP``. Last, ``bench/bench_cluster.py --json`` (``--no-cluster`` to skip).

    python bench/bench_perf.py [--duration 8] [--modes redis,embedded] [--json out.json] [--no-cluster]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_http import GZIP, RANDOM_NEAREST, free_port, run_wrk, start_gunicorn, wait_http
from perf_fixtures import (
    JWT_SECRET,
    NEARBY_PATH,
    SHARING,
    commands_per_call,
    http,
    memory_mb,
    nearby_script,
    publish_alerts,
    round_trips_in_process,
    share_presence,
    traveller_tokens,
    worker_pids,
    workers_cpu_s,
)

ROOT = Path(__file__).resolve().parent.parent
# The ``bbox`` row's box with each edge moved by up to 2° at random: about as many missions (Europe's), but a
# different query every request, so the answer is computed each time, never one the worker kept
# (``yurt.missions.http.collection_answers.FilteredAnswers``).
JITTERED_BBOX = """
math.randomseed(15)
local function near(v) return v + (math.random() - 0.5) * 4 end
request = function()
  return wrk.format("GET", string.format("/v1/missions?bbox=%.4f,%.4f,%.4f,%.4f", near(-10), near(35), near(40),
    near(60)))
end
"""
ETAG = "ETAG"  # placeholder: the If-None-Match script is made from the live ETag
# (key, label, path, wrk script, target ratio to hello-world or None)
ENDPOINTS: list[tuple[str, str, str, str | None, float | None]] = [
    ("nearby", f"`/v1/travellers/nearby` ({SHARING} sharing)", NEARBY_PATH, "NEARBY", 0.3),
    ("nearest", "`/v1/missions/nearest` (random points)", "/", RANDOM_NEAREST, 0.5),
    ("responsible", "`/v1/missions/responsible` (Geneva)", "/v1/missions/responsible?lat=46.2044&lon=6.1432",
     None, 0.5),
    ("revalidate", "`/v1/missions` `If-None-Match` (304)", "/v1/missions", ETAG, 0.8),
    ("collection", "`/v1/missions` (whole, 200)", "/v1/missions", None, 0.6),
    ("collection_gzip", "`/v1/missions` (whole, gzip)", "/v1/missions", GZIP, None),
    ("bbox", "`/v1/missions?bbox=`", "/v1/missions?bbox=-10,35,40,60", None, 0.6),
    ("bbox_jittered", "`/v1/missions?bbox=` (jittered, never kept)", "/", JITTERED_BBOX, None),
    ("mission", "`/v1/missions/<id>`", "/v1/missions/kz-embassy-de-berlin", None, None),
    ("ogc_items", "`/collections/missions/items`", "/collections/missions/items", None, 0.6),
]


def base_env(tmp: Path, redis_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YURT_", "GUNICORN_"))}
    env.update(YURT_DATA_DIR=str(tmp / "var"), YURT_LOG_LEVEL="INFO", YURT_JWT_SECRET=JWT_SECRET,
               YURT_RATE_LIMIT="100000000/minute")  # measure the endpoint, not the 429 path; still counted
    if redis_url:
        env["YURT_REDIS_URL"] = redis_url
    return env


class Servers:
    """Processes started here, stopped (TERM, then KILL) in reverse order."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def add(self, proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def yurt_server(servers: Servers, env: dict[str, str], workers: int, preload: bool) -> tuple[Any, str]:
    port = free_port()
    proc = servers.add(start_gunicorn("wsgi:app", port, workers,
                                      {**env, "GUNICORN_PRELOAD_APP": "true" if preload else "false"}, ROOT))
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/readyz")
    return proc, base


def script_for(key: str, script: str | None, url: str, tokens: list[str]) -> str | None:
    if script == "NEARBY":
        return nearby_script(tokens)
    if script == ETAG:
        with urllib.request.urlopen(url, timeout=10) as response:
            return f'wrk.headers["If-None-Match"] = "{response.headers["ETag"].replace(chr(34), chr(92) + chr(34))}"\n'
    return script


def timed_wrk(url: str, master_pid: int, args: argparse.Namespace, script: str | None) -> dict[str, Any]:
    """wrk's figures, plus the server workers' CPU µs per request over the run: a figure that other work on
    a shared machine disturbs far less than requests/s."""
    before = workers_cpu_s(master_pid)
    figures: dict[str, Any] = run_wrk(url, args.duration, args.connections, script)
    requests = figures["rps"] * args.duration
    figures["cpu_us"] = (workers_cpu_s(master_pid) - before) / requests * 1e6 if requests else float("nan")
    return figures


def endpoints(base: str, hello: str, pids: tuple[int, int], tokens: list[str], args: argparse.Namespace
              ) -> list[dict[str, Any]]:
    rows = []
    for key, label, path, script, target in ENDPOINTS:
        if args.endpoints and key not in args.endpoints.split(","):
            continue
        if key == "nearby" and not tokens:
            continue
        url = base + path
        script = script_for(key, script, url, tokens)
        run_wrk(url, 2, args.connections, script)  # warm up
        runs = []
        for _ in range(args.repeat):
            baseline = timed_wrk(hello, pids[0], args, None)
            measured = timed_wrk(url, pids[1], args, script)
            runs.append({"endpoint": measured, "hello": baseline, "ratio": measured["rps"] / baseline["rps"],
                         "cpu_ratio": baseline["cpu_us"] / measured["cpu_us"]})
        ordered = sorted(runs, key=lambda r: r["ratio"])
        best = ordered[-1] if args.best else ordered[len(ordered) // 2]
        rows.append({"key": key, "label": label, "target": target, "runs": runs, **best,
                     "ratios": [round(r["ratio"], 3) for r in runs]})
    return rows


def memory(env: dict[str, str], args: argparse.Namespace, servers: Servers, tokens: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for preload in (False, True):
        proc, base = yurt_server(servers, env, args.workers, preload)
        failed = []
        for key, _, path, script, _ in ENDPOINTS:
            try:  # a warm-up that fails is reported beside the figures, not fatal to the run's other figures
                run_wrk(base + path, 1, args.connections, script_for(key, script, base + path, tokens))
            except subprocess.CalledProcessError as exc:
                failed.append(f"{key}: wrk exited {exc.returncode}: {(exc.stderr or '').strip()[-200:]}")
        out["preload" if preload else "no_preload"] = {
            "master": memory_mb(proc.pid), "workers": [memory_mb(pid) for pid in worker_pids(proc.pid)],
            "warm_up_failures": failed}
        servers.stop(proc)
    return out


def run_mode(mode: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    servers = Servers()
    result: dict[str, Any] = {"mode": mode}
    try:
        redis_url = None
        if mode == "redis":
            redis_port = free_port()
            servers.add(subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                          "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                                         stdout=subprocess.DEVNULL))
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
        env = base_env(tmp / mode, redis_url)
        hello_port = free_port()
        hello_proc = servers.add(start_gunicorn("hello:app", hello_port, args.workers, env, ROOT / "bench"))
        hello = f"http://127.0.0.1:{hello_port}/hello"
        wait_http(hello)
        proc, base = yurt_server(servers, env, args.workers, args.preload)
        publish_alerts(base)
        tokens: list[str] = []
        if redis_url:  # embedded mode keeps travellers in each worker's memory: nearby needs one process
            tokens = traveller_tokens(f"bench-{mode}", SHARING)
            share_presence(base, tokens, seed=1)
        result["rows"] = endpoints(base, hello, (hello_proc.pid, proc.pid), tokens, args)
        result["memory_after_load"] = [memory_mb(pid) for pid in worker_pids(proc.pid)]
        if redis_url and not args.no_redis_counts:
            result["redis"] = redis_figures(redis_url, base, env, tokens, args.requests)
        servers.stop(proc)
        if not args.no_memory:
            result["memory"] = memory(env, args, servers, tokens)
    finally:
        servers.stop_all()
    return result


def redis_figures(redis_url: str, base: str, env: dict[str, str], tokens: list[str], n: int) -> dict[str, Any]:
    client = redis.Redis.from_url(redis_url)
    fresh = traveller_tokens("bench-fresh", n)

    def nearby(i: int) -> None:
        status, body = http("GET", base + NEARBY_PATH, token=tokens[i % len(tokens)])
        assert status == 200, body

    def update(i: int) -> None:
        share_presence(base, [fresh[i]], seed=100 + i)

    figures = {"commands_nearby": commands_per_call(client, nearby, n),
               "commands_presence_update": commands_per_call(client, update, n),
               "round_trips": round_trips_in_process(env, tokens, traveller_tokens("bench-fresh-2", 20), n)}
    client.close()
    return figures


def cluster_figures(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """``bench/bench_cluster.py --json`` as a subprocess; it prints one JSON document on stdout."""
    cmd = [sys.executable, str(ROOT / "bench" / "bench_cluster.py"), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        return {"error": f"bench_cluster.py --json exited {done.returncode}: {done.stderr.strip()[-300:]}"}
    try:
        return dict(json.loads(done.stdout))
    except ValueError:
        return {"error": "bench_cluster.py --json wrote no JSON", "stdout": done.stdout[-2000:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per endpoint (the median is shown)")
    parser.add_argument("--best", action="store_true", help="show the best of --repeat runs, not the median")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="requests counted for Redis figures")
    parser.add_argument("--modes", default="redis,embedded")
    parser.add_argument("--endpoints", help="only these, comma-separated: " + ",".join(e[0] for e in ENDPOINTS))
    parser.add_argument("--no-memory", action="store_true", help="skip the memory figures")
    parser.add_argument("--no-redis-counts", action="store_true", help="skip the Redis command counts")
    parser.add_argument("--preload", action="store_true", help="run the throughput server with preload_app")
    parser.add_argument("--no-cluster", action="store_true", help="skip bench/bench_cluster.py")
    parser.add_argument("--json", type=Path, help="also write every figure here as JSON ('-': stdout)")
    parser.add_argument("--render", type=Path, help="print the tables of a --json file; measure nothing")
    args = parser.parse_args()
    from perf_report import render

    if args.render:
        print(render(json.loads(args.render.read_text())))
        return
    if not shutil.which("wrk"):
        sys.exit("bench_perf: needs wrk (Debian: apt-get install -y wrk); nothing was measured")
    load = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="yurt-perf-"))
    results: dict[str, Any] = {"workers": args.workers, "connections": args.connections, "duration_s": args.duration,
                               "load_before": load, "modes": []}
    try:
        for mode in args.modes.split(","):
            results["modes"].append(run_mode(mode, args, tmp))
        results["load_after"] = os.getloadavg()
        if not args.no_cluster:
            results["cluster"] = cluster_figures(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(render(results))
    if args.json:
        text = json.dumps(results, indent=1)
        print(text) if str(args.json) == "-" else args.json.write_text(text)


if __name__ == "__main__":
    main()
