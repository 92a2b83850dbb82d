"""60-second mixed load against gunicorn (2 workers) with a real redis-server, driven by wrk in separate processes.

    python bench/bench_load.py [--seconds 60] [--workers 2] [--connections 2]

Five concurrent streams, one wrk process each (so each reports its own throughput and latency percentiles):
nearest, the mission list revalidated with If-None-Match (304s), presence updates, nearby travellers and
nearby meetups. Every traveller call carries a token from a pool minted here with ``yurt.core.auth.mint``, rotated
per request by the Lua script. Presence updates use a pool of fresh tokens, each used once, so the one-update-
per-minute limit never refuses one; nearby callers shared their presence before the run. Any status other than
the expected ones is an error; 429s are reported separately. Needs wrk and redis-server on PATH.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from tests.harness.gunicorn import GunicornServer
from tests.harness.redis_process import RedisProcess
from yurt.core.auth import mint

SECRET = "bench-load-secret-with-at-least-32-bytes"
ALMATY_LIKE = [(52.52, 13.40), (48.86, 2.35), (41.01, 28.98), (55.75, 37.62), (25.20, 55.27), (40.71, -74.01)]

LUA = r"""
local tokens = {%(tokens)s}
local paths = {%(paths)s}
local method, body, etag_mode = "%(method)s", %(body)s, %(etag)s
local counter = 0
statuses = {}  -- global: done() reads each thread's copy with thread:get
local threads = {}

function setup(thread) table.insert(threads, thread) end

function init(args)
  counter = tonumber(args[1] or "0")
end

function request()
  counter = counter + 1
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1] end
  if etag_mode and etag ~= nil then headers["If-None-Match"] = etag end
  if body ~= nil then headers["Content-Type"] = "application/json" end
  return wrk.format(method, paths[(counter %% #paths) + 1], headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if etag_mode and status == 200 then etag = headers["ETag"] end
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do total[code] = (total[code] or 0) + n end
  end
  for code, n in pairs(total) do io.write(string.format("STATUS %%d %%d\n", code, n)) end
  for _, p in ipairs({50, 99}) do
    io.write(string.format("PCT %%d %%.3f\n", p, latency:percentile(p) / 1000.0))
  end
end
"""


def lua_list(items: list[str]) -> str:
    return ",".join(f'"{item}"' for item in items)


def write_script(workdir: Path, name: str, *, paths: list[str], tokens: list[str], method: str = "GET",
                 body: str | None = None, etag: bool = False) -> Path:
    path = workdir / f"{name}.lua"
    body_lua = "nil" if body is None else "[[" + body + "]]"
    path.write_text(LUA % {"tokens": lua_list(tokens), "paths": lua_list(paths), "method": method,
                           "body": body_lua, "etag": "true" if etag else "false"})
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=2, help="per stream")
    args = parser.parse_args()
    if not (shutil.which("wrk") and shutil.which("redis-server")):
        print("needs wrk and redis-server on PATH", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="yurt-load-"))
    redis_process = RedisProcess(workdir)
    redis_process.start()
    server = GunicornServer({"YURT_REDIS_URL": redis_process.url, "YURT_JWT_SECRET": SECRET,
                             "YURT_DATA_DIR": str(workdir / "var"), "YURT_RATE_LIMIT": "10000000/minute"},
                            workdir, workers=args.workers)
    server.start()
    try:
        return run(server.url, workdir, args)
    finally:
        server.kill()
        redis_process.stop()


def run(url: str, workdir: Path, args: argparse.Namespace) -> int:
    minted = time.perf_counter()
    visible = [mint(SECRET, f"visible-{i}", ["traveller"], 120) for i in range(300)]
    fresh = [mint(SECRET, f"fresh-{i}", ["traveller"], 120) for i in range(20_000)]
    print(f"minted {len(visible) + len(fresh)} tokens in {time.perf_counter() - minted:.1f} s")
    session = requests.Session()
    for i, token in enumerate(visible):  # nearby needs the caller's own presence
        lat, lon = ALMATY_LIKE[i % len(ALMATY_LIKE)]
        response = session.put(url + "/v1/travellers/me/presence", headers={"Authorization": f"Bearer {token}"},
                               json={"lat": lat + (i % 7) * 0.01, "lon": lon, "display_name": f"V{i}",
                                     "languages": ["kk"], "share_minutes": 120}, timeout=10)
        assert response.status_code == 200, response.text
    for i, (lat, lon) in enumerate(ALMATY_LIKE):
        response = session.post(url + "/v1/meetups", headers={"Authorization": f"Bearer {visible[i]}"}, json={
            "title": "Nauryz", "starts_at": "2099-03-21T14:00:00Z", "ends_at": "2099-03-21T18:00:00Z",
            "lat": lat, "lon": lon, "place_name": "Park", "capacity": 50}, timeout=10)
        assert response.status_code == 201, response.text
    points = [(-60 + (i * 37) % 130, -180 + (i * 71) % 360) for i in range(500)]
    streams = {
        "nearest": write_script(workdir, "nearest", tokens=[], paths=[
            f"/v1/missions/nearest?lat={lat}&lon={lon}&limit=5" for lat, lon in points]),
        "list (If-None-Match)": write_script(workdir, "list", tokens=[], paths=["/v1/missions"], etag=True),
        "presence PUT": write_script(workdir, "presence", tokens=fresh, paths=["/v1/travellers/me/presence"],
                                     method="PUT", body='{"lat": 43.24, "lon": 76.95, "display_name": "Load", '
                                                        '"languages": ["kk"]}'),
        "travellers nearby": write_script(workdir, "nearby", tokens=visible,
                                          paths=["/v1/travellers/nearby?radius_km=50"]),
        "meetups nearby": write_script(workdir, "meetups", tokens=visible, paths=[
            f"/v1/meetups/nearby?lat={lat}&lon={lon}&radius_km=50" for lat, lon in ALMATY_LIKE]),
    }
    expected = {"nearest": {200}, "list (If-None-Match)": {200, 304}, "presence PUT": {200},
                "travellers nearby": {200}, "meetups nearby": {200}}
    procs = {name: subprocess.Popen(
        ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "10s", "-s", str(script), url],
        stdout=subprocess.PIPE, text=True) for name, script in streams.items()}
    outputs = {name: proc.communicate()[0] for name, proc in procs.items()}
    errors = 0
    print(f"\n{args.seconds} s mixed load, gunicorn {args.workers} sync workers + Redis, "
          f"{args.connections} connections per stream\n")
    print(f"| {'stream':<22} | {'req/s':>8} | {'p50 ms':>8} | {'p99 ms':>8} | statuses |")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 10}|{'-' * 10}|----------|")
    total_rps = 0.0
    for name, out in outputs.items():
        rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
        pct = dict(re.findall(r"PCT (\d+) ([0-9.]+)", out))
        statuses = {int(code): int(n) for code, n in re.findall(r"STATUS (\d+) (\d+)", out)}
        socket_errors = re.search(r"Socket errors: (.*)", out)
        bad = sum(n for code, n in statuses.items() if code not in expected[name] and code != 429)
        errors += bad + (1 if socket_errors else 0)
        total_rps += rps
        shown = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
        print(f"| {name:<22} | {rps:>8.1f} | {float(pct['50']):>8.2f} | {float(pct['99']):>8.2f} | {shown} |"
              + (f" socket errors: {socket_errors.group(1)}" if socket_errors else ""))
    print(f"\ntotal {total_rps:.1f} req/s; errors (unexpected statuses, socket errors): {errors}; 429s are "
          "listed per stream (expected only if a presence token were reused within a minute)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
