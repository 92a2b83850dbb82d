"""HTTP throughput and latency of the read endpoints against a Flask hello-world, in one run.

Both apps run under gunicorn with the same settings (default: 2 sync workers) on loopback; the Yurt app uses a
real redis-server started here (YURT_REDIS_URL) unless --embedded. Load comes from wrk (Debian package `wrk`),
a separate process. Each endpoint is reported as requests/s, p50 and p99, and the ratio of its requests/s to
the hello-world's measured in the same run.

    python bench/bench_http.py [--duration 10] [--workers 2] [--connections 8] [--embedded] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

RANDOM_NEAREST = """
math.randomseed(42)
request = function()
  local lat = math.deg(math.asin(2 * math.random() - 1))
  local lon = math.random() * 360 - 180
  return wrk.format("GET", string.format("/v1/missions/nearest?lat=%.6f&lon=%.6f&limit=5", lat, lon))
end
"""
GZIP = """
wrk.headers["Accept-Encoding"] = "gzip"
"""
ETAG_TEMPLATE = """
wrk.headers["If-None-Match"] = "%s"
"""
# 20 fixed cells, points jittered inside a few hundred metres: travellers standing near each other.
HOT_NEAREST = """
math.randomseed(7)
local centres = {}
for i = 1, 20 do centres[i] = {math.random() * 120 - 60, math.random() * 360 - 180} end
request = function()
  local c = centres[math.random(1, 20)]
  return wrk.format("GET", string.format("/v1/missions/nearest?lat=%.6f&lon=%.6f&limit=5",
    c[1] + (math.random() - 0.5) * 0.002, c[2] + (math.random() - 0.5) * 0.002))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def start_gunicorn(app: str, port: int, workers: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    cmd = [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), app]
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_processes(procs: list[subprocess.Popen[bytes]], timeout_s: float = 10) -> None:
    """TERM each process (the newest first), then KILL whichever has not exited within ``timeout_s``."""
    for proc in reversed(procs):
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_wrk(url: str, duration_s: int, connections: int, script: str | None) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        if script:
            handle.write(script)
            cmd[1:1] = ["-s", handle.name]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    os.unlink(handle.name)

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50_ms": latency("50"), "p99_ms": latency("99"),
            "non_2xx": float(errors.group(1)) if errors else 0.0, "socket_errors": bool(socket_errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--embedded", action="store_true", help="no Redis: the embedded default")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_http: needs wrk (apt-get install wrk)")

    tmp = Path(tempfile.mkdtemp(prefix="yurt-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("YURT_")}
    env["YURT_DATA_DIR"] = str(tmp / "var")
    env["YURT_LOG_LEVEL"] = "WARNING"
    env["YURT_JWT_SECRET"] = "bench-secret-not-for-production-0123456789"
    env["YURT_RATE_LIMIT"] = "100000000/minute"  # measure the endpoint, not the 429 path
    try:
        if not args.embedded:
            redis_port = free_port()
            procs.append(subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                           "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                                          stdout=subprocess.DEVNULL))
            env["YURT_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        hello_port, yurt_port = free_port(), free_port()
        procs.append(start_gunicorn("hello:app", hello_port, args.workers, env, ROOT / "bench"))
        procs.append(start_gunicorn("wsgi:app", yurt_port, args.workers, env, ROOT))
        wait_http(f"http://127.0.0.1:{hello_port}/hello")
        wait_http(f"http://127.0.0.1:{yurt_port}/readyz")
        y = f"http://127.0.0.1:{yurt_port}"
        hello = f"http://127.0.0.1:{hello_port}/hello"
        cases = [
            ("/v1/missions (whole, 200)", f"{y}/v1/missions", None),
            ("/v1/missions?bbox=", f"{y}/v1/missions?bbox=-10,35,40,60", None),
            ("/v1/missions/<id>", f"{y}/v1/missions/kz-embassy-de-berlin", None),
            ("/v1/missions (gzip)", f"{y}/v1/missions", GZIP),
            ("/v1/missions (If-None-Match, 304)", f"{y}/v1/missions", "ETAG"),
            ("/v1/missions/nearest (random points)", f"{y}/", RANDOM_NEAREST),
            ("/v1/missions/nearest (20 hot cells)", f"{y}/", HOT_NEAREST),
            ("/v1/missions/responsible", f"{y}/v1/missions/responsible?lat=46.2044&lon=6.1432", None),
        ]
        rows = []
        for name, url, script in cases:
            if script == "ETAG":
                with urllib.request.urlopen(url, timeout=10) as response:
                    script = ETAG_TEMPLATE % response.headers["ETag"].replace('"', '\\"')
            run_wrk(url, 2, args.connections, script)  # warm up
            # The baseline is measured right before each endpoint, so machine noise hits both alike.
            base = run_wrk(hello, args.duration, args.connections, None)
            rows.append((name, run_wrk(url, args.duration, args.connections, script), base))
        mode = "embedded" if args.embedded else "redis"
        print(f"gunicorn -w {args.workers}, wrk -c{args.connections} -d{args.duration}s, mode={mode}")
        print(f"{'endpoint':<38} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'hello':>7} {'h p99':>7} {'ratio':>6} "
              f"{'non-2xx':>7}")
        for name, r, b in rows:
            print(f"{name:<38} {r['rps']:>7.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {b['rps']:>7.0f} "
                  f"{b['p99_ms']:>7.2f} {r['rps'] / b['rps']:>6.2f} {r['non_2xx']:>7.0f}")
        if args.json:
            args.json.write_text(json.dumps({"mode": mode, "workers": args.workers,
                                             "rows": {n: {"endpoint": r, "hello": b} for n, r, b in rows}}, indent=1))
    finally:
        stop_processes(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
