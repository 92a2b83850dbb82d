"""CPU µs per request of the hot endpoints, in this process: the app's WSGI callable called directly
with a gunicorn-like environ, no sockets. On a machine shared with other work this figure moves far less than
req/s over HTTP (it is this process's CPU time, not wall time), so it is the one to compare changes with;
gunicorn's own share (parsing, socket writes) is outside it and measured by bench/perf_breakdown.py.

Production settings as in bench/bench_perf.py: access log on at INFO (written to a discarded stderr), Prometheus
multiprocess metrics, the per-client rate limit raised but counted, alerts in force over Paris, France and
Geneva's canton, and ``SHARING`` travellers sharing presence around Dubai for ``nearby`` (bench_perf's nearby
row: each request from the next traveller in turn, with a real bearer token). ``--redis URL`` for Redis mode (a
scratch Redis: it is flushed), else embedded. ``--profile`` prints the top functions by own time (cProfile) for
each endpoint.

    python bench/perf_inprocess.py [--redis redis://127.0.0.1:6390/0] [--n 3000] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# As under gunicorn.conf.py: metric samples in files. Set before prometheus_client is imported (it picks then).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="yurt-inprocess-metrics-")

from perf_fixtures import DUBAI, JWT_SECRET, NEARBY_PATH, SHARING, traveller_tokens

PUBLISHED = [{"area": {"type": "Polygon",
                       "coordinates": [[[2.2, 48.8], [2.5, 48.8], [2.5, 48.95], [2.2, 48.95], [2.2, 48.8]]]}},
             {"countries": ["FR"]}, {"subdivisions": ["CH-GE"]}]


def environ_for(path: str, query: str, headers: dict[str, str]) -> dict[str, Any]:
    """What gunicorn's sync worker hands the app for a GET (gunicorn.http.wsgi.create)."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "RAW_URI": path + ("?" + query if query else ""), "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "wsgi.input_terminated": True, "wsgi.file_wrapper": None, "gunicorn.socket": None,
        "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "wrk", "HTTP_ACCEPT": "*/*",
    }
    for name, value in headers.items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def build_app(redis_url: str | None, tmp: Path) -> Any:
    tmp.mkdir(parents=True)
    for key in [k for k in os.environ if k.startswith("YURT_")]:
        del os.environ[key]
    os.environ.update(YURT_DATA_DIR=str(tmp / "var"), YURT_LOG_LEVEL="INFO", YURT_JWT_SECRET=JWT_SECRET,
                      YURT_RATE_LIMIT="100000000/minute")
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        os.environ["YURT_REDIS_URL"] = redis_url
    from yurt import create_app
    from yurt.core.auth import mint

    app = create_app()
    client = app.test_client()
    staff = mint(JWT_SECRET, "bench-staff", ["staff"], 120)
    text = {"en": "Bench alert", "kk": "Bench alert", "ru": "Bench alert"}
    for where in PUBLISHED:
        answer = client.post("/v1/alerts", json={"severity": "advisory", "title": text, "body": text, **where},
                             headers={"Authorization": f"Bearer {staff}"})
        assert answer.status_code == 201, answer.data
    rng = random.Random(1)  # as bench_perf's share_presence: SHARING travellers a few hundred metres around Dubai
    for i, token in enumerate(traveller_tokens("bench-inprocess", SHARING)):
        body = {"lat": DUBAI[0] + rng.uniform(-0.004, 0.004), "lon": DUBAI[1] + rng.uniform(-0.004, 0.004),
                "share_minutes": 120, "display_name": f"Traveller {i}", "languages": ["kk", "ru"], "about": "bench"}
        answer = client.put("/v1/travellers/me/presence", json=body, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.data
    return app


def cases(app: Any) -> dict[str, Callable[[int], dict[str, Any]]]:
    rng = random.Random(42)
    points = []
    for _ in range(4096):
        lat = 57.29577951308232 * __import__("math").asin(2 * rng.random() - 1)
        points.append(f"lat={lat:.6f}&lon={rng.random() * 360 - 180:.6f}&limit=5")
    etag = app.test_client().get("/v1/missions").headers["ETag"]
    tokens = traveller_tokens("bench-inprocess", SHARING)  # the same tokens build_app shared presence with
    nearby_path, _, nearby_query = NEARBY_PATH.partition("?")

    def fixed(path: str, query: str = "", **headers: str) -> Callable[[int], dict[str, Any]]:
        return lambda i: environ_for(path, query, headers)

    return {
        "nearby": lambda i: environ_for(nearby_path, nearby_query,
                                        {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}),
        # The same view through Flask: the lean route serves the exact path only, Flask matches the trailing /.
        "nearby_flask": lambda i: environ_for(nearby_path + "/", nearby_query,
                                              {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}),
        "nearest": lambda i: environ_for("/v1/missions/nearest", points[i % len(points)], {}),
        "responsible": fixed("/v1/missions/responsible", "lat=46.2044&lon=6.1432"),
        "revalidate": fixed("/v1/missions", **{"If-None-Match": etag}),
        "collection": fixed("/v1/missions"),
        "collection_gzip": fixed("/v1/missions", **{"Accept-Encoding": "gzip"}),
        "bbox": fixed("/v1/missions", "bbox=-10,35,40,60"),
        "mission": fixed("/v1/missions/kz-embassy-de-berlin"),
        "ogc_items": fixed("/collections/missions/items"),
    }


def run(app: Any, make: Callable[[int], dict[str, Any]], n: int) -> float:
    """CPU µs per request over ``n`` requests (the body iterated and closed, as gunicorn does)."""
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
        statuses.append(status)
        return lambda data: None

    environs = [make(i) for i in range(n)]
    started = time.process_time()
    for env in environs:
        body = app(env, start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
    elapsed = time.process_time() - started
    bad = [s for s in statuses if s[:3] not in ("200", "304")]
    assert not bad, bad[:3]
    return elapsed / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis", help="also Redis mode, on this scratch Redis URL (flushed)")
    parser.add_argument("--n", type=int, default=2000, help="requests per endpoint per repeat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--endpoints", help="comma-separated subset")
    parser.add_argument("--profile", action="store_true", help="cProfile each endpoint, top 25 by own time")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="yurt-inprocess-"))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from hello import app as hello_app

    apps = {"embedded": build_app(None, tmp / "embedded")}
    if args.redis:
        apps["redis"] = build_app(args.redis, tmp / "redis")
    wanted = args.endpoints.split(",") if args.endpoints else None
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved_stderr = os.dup(2)
    print(f"CPU µs per request, in process, n={args.n}, median of {args.repeat} (spread), modes measured in "
          f"turn; load {os.getloadavg()[0]:.2f}")
    hello = {"hello": lambda i: environ_for("/hello", "", {})}
    rows = [("hello", {"hello": hello_app}, hello["hello"])]
    for key in cases(apps["embedded"]):
        if wanted is None or key in wanted:
            rows.append((key, apps, None))
    per_mode_cases = {mode: cases(app) for mode, app in apps.items()}
    for key, targets, make in rows:
        figures: dict[str, list[float]] = {mode: [] for mode in targets}
        profilers = {}
        os.dup2(devnull, 2)  # the access log's lines go nowhere, but are written
        try:
            for mode, app in targets.items():
                run(app, make or per_mode_cases[mode][key], 200)
            for _ in range(args.repeat):
                for mode, app in targets.items():
                    figures[mode].append(run(app, make or per_mode_cases[mode][key], args.n))
            if args.profile:
                import cProfile

                for mode, app in targets.items():
                    profilers[mode] = profiler = cProfile.Profile()
                    profiler.enable()
                    run(app, make or per_mode_cases[mode][key], args.n)
                    profiler.disable()
        finally:
            os.dup2(saved_stderr, 2)
        cells = []
        for mode, values in figures.items():
            values.sort()
            cells.append(f"{mode} {values[len(values) // 2]:7.1f} ({values[0]:.0f}–{values[-1]:.0f})")
        print(f"{key:16s} " + "   ".join(cells))
        for mode, profiler in profilers.items():
            import pstats

            print(f"--- {key}, {mode}")
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
