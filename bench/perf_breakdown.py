"""Where a request's time goes, per component, in µs: py-spy samples of a gunicorn worker under wrk load.

One gunicorn worker serves the endpoint (Yurt's production settings, as in bench/bench_perf.py) while wrk
loads it; ``py-spy record`` (requirements-dev.txt) samples the worker; each sample is charged to the deepest
frame of ours it is in (the exact index, alerts, the country/subdivision lookup, query parsing, the rate limit,
the request id / access log / metrics, the rest of the view), else to Flask/werkzeug, else to gunicorn. The
shares times the worker's CPU µs per request (``/proc``) give µs per component. Run it beside the hello-world
for the same split of a baseline request.

    python bench/perf_breakdown.py nearest responsible revalidate hello [--duration 8] [--redis]
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_http import free_port, run_wrk, start_gunicorn, wait_http
from bench_perf import ENDPOINTS, ROOT, base_env, script_for

# (component, frame pattern): a frame "function (path:line)" matches when the pattern is found in it.
OURS = [
    ("exact index (geodesics)", r"yurt/geo/(spatial_index|geodesy)\.py"),
    ("alerts", r"yurt/alerts/"),
    ("country / subdivision lookup", r"yurt/geo/(places|subdivisions)\.py"),
    ("query parsing", r"(parse_query|query_pairs|_args_as_dict|load) \(.*yurt/core/http/conventions\.py"
                      r"|yurt/(core|missions)/http/queries\.py"),
    ("rate limit", r"yurt/core/(limits|window_counts)\.py"),
    ("request id, access log, metrics", r"(_add_headers|_path|write|observe_request|iso|redact_query) "
                                        r"\(.*yurt/core/observability\.py|yurt/core/meters\.py"),
    ("token check", r"yurt/core/auth\.py"),
    ("traveller store (Redis)", r"yurt/(travellers/stores|core/redis)/"),
    ("the rest of the view", r"yurt/(missions|api|core|composition)"),
]
FRAMEWORK = ("Flask / werkzeug (request, routing, response)", re.compile(r"[(/](flask|werkzeug)/"))
COMPONENTS = [name for name, _ in OURS] + [FRAMEWORK[0], "gunicorn (HTTP parsing, socket I/O)"]


def charge(stack: list[str]) -> str:
    """The component a sample belongs to: the deepest frame of ours, else Flask, else gunicorn."""
    for frame in reversed(stack):
        for name, pattern in OURS:
            if re.search(pattern, frame):
                return name
    if any(FRAMEWORK[1].search(frame) for frame in stack):
        return FRAMEWORK[0]
    return COMPONENTS[-1]


def profile(url: str, master_pid: int, script: str | None, duration_s: int, out: Path) -> dict[str, float]:
    from perf_fixtures import worker_pids, workers_cpu_s

    worker = worker_pids(master_pid)[0]
    spy = subprocess.Popen([shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record",
                            "-p", str(worker), "-d", str(duration_s), "-r", "250", "-f", "raw", "-o", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    before = workers_cpu_s(master_pid)
    figures = run_wrk(url, duration_s, 4, script)
    cpu_us = (workers_cpu_s(master_pid) - before) / (figures["rps"] * duration_s) * 1e6
    spy.wait()
    samples: collections.Counter[str] = collections.Counter()
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples[charge(stack.split(";"))] += int(count)
    total = sum(samples.values()) or 1
    return {"cpu_us": cpu_us, "rps": figures["rps"], **{c: samples[c] / total * cpu_us for c in COMPONENTS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("endpoints", nargs="+", help="keys of bench_perf.ENDPOINTS, or hello")
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--redis", action="store_true", help="Redis mode (default: embedded)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("perf_breakdown: needs wrk (Debian: apt-get install -y wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="yurt-breakdown-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        redis_url = None
        if args.redis:
            port = free_port()
            procs.append(subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                           "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL))
            redis_url = f"redis://127.0.0.1:{port}/0"
        env = base_env(tmp, redis_url)
        hello_port, yurt_port = free_port(), free_port()
        procs.append(start_gunicorn("hello:app", hello_port, 1, env, ROOT / "bench"))
        procs.append(start_gunicorn("wsgi:app", yurt_port, 1, env, ROOT))
        wait_http(f"http://127.0.0.1:{hello_port}/hello")
        wait_http(f"http://127.0.0.1:{yurt_port}/readyz")
        rows = {}
        for key in args.endpoints:
            if key == "hello":
                url, script, pid = f"http://127.0.0.1:{hello_port}/hello", None, procs[-2].pid
            else:
                path, raw = next((e[2], e[3]) for e in ENDPOINTS if e[0] == key)
                url = f"http://127.0.0.1:{yurt_port}{path}"
                script, pid = script_for(key, raw, url, []), procs[-1].pid
            run_wrk(url, 1, 4, script)
            rows[key] = profile(url, pid, script, args.duration, tmp / f"{key}.txt")
        print(f"µs of worker CPU per request, by component ({'Redis' if args.redis else 'embedded'} mode, "
              "one sync worker, wrk -c4):\n")
        print("| component | " + " | ".join(rows) + " |")
        print("|---|" + "---|" * len(rows))
        for component in COMPONENTS:
            print(f"| {component} | " + " | ".join(f"{r[component]:.0f}" for r in rows.values()) + " |")
        print("| **total (CPU µs/request)** | " + " | ".join(f"**{r['cpu_us']:.0f}**" for r in rows.values()) + " |")
        print("| req/s (one worker) | " + " | ".join(f"{r['rps']:,.0f}" for r in rows.values()) + " |")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=15)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
