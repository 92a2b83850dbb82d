"""µs per request of the WSGI front (``yurt.core.observability.Front``) and of each of its parts, in this
process: what every request pays before and after its answer, lean or Flask's, and the Flask hello-world does
not. The front here wraps a lean route that answers a 304 at once, so ``front, whole`` is the front's own cost.

Production settings: the access log written (to a discarded stderr), Prometheus multiprocess metrics (samples
in files, as under gunicorn). Each figure is the best of ``--repeat`` runs of ``--n`` calls (timeit's advice: the
others are the machine's noise); compare two trees by running this in each, interleaved.

    python bench/perf_front.py [--n 20000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# As under gunicorn.conf.py: metric samples in files. Set before prometheus_client is imported (it picks then).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="yurt-front-metrics-")

from yurt.api.metrics import observe_request
from yurt.core import observability
from yurt.core.meters import record_cache

QUERY = "lat=46.2044&lon=6.1432&limit=5"
ENVIRON = {"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/missions", "QUERY_STRING": QUERY}
HEADERS = [("ETag", '"abc"'), ("Cache-Control", "public, max-age=60"), ("Content-Type", "application/json")]


def lean(environ: dict[str, Any]) -> observability.LeanAnswer:
    return "304 Not Modified", [("ETag", '"abc"'), ("Cache-Control", "public, max-age=60")], [], "/v1/missions"


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    log = observability.AccessLog(enabled=True)
    front = observability.Front(None, cors_origins=frozenset(), access_log=log, observe_request=observe_request)
    front.lean["/v1/missions"] = lean
    bare = observability.Front(None, cors_origins=frozenset(), access_log=observability.AccessLog(enabled=False),
                               observe_request=lambda *_: None)
    bare.lean["/v1/missions"] = lean
    parts = {
        "request id (os.urandom)": lambda: os.urandom(12).hex(),
        "latency histogram": lambda: observe_request("/v1/missions", "GET", 304, 0.00012),
        "cache counter": lambda: record_cache("nearest", "bypass"),
        "access-log line": lambda: log.write("GET", "/v1/missions/nearest", QUERY, 200, "ab" * 12, 0.1234),
        "  of which the redaction": lambda: observability.redact_query(QUERY),
        "headers": lambda: front._add_headers("200 OK", list(HEADERS), ENVIRON, "ab" * 12),
        "front, whole": lambda: front(dict(ENVIRON), start_response),
        "front without log and metrics": lambda: bare(dict(ENVIRON), start_response),
    }
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved_stderr = os.dup(2)
    os.dup2(devnull, 2)  # the access log's lines go nowhere, but are written
    try:
        figures = {name: min(timeit.repeat(call, number=args.n, repeat=args.repeat)) / args.n * 1e6
                   for name, call in parts.items()}
    finally:
        os.dup2(saved_stderr, 2)
    print(f"µs per call (wall time), in process, best of {args.repeat} x {args.n}; load {os.getloadavg()[0]:.2f}")
    for name, value in figures.items():
        print(f"{name:32s} {value:6.2f}")


if __name__ == "__main__":
    main()
