"""yurt.core.mmap_values writes the multiprocess files as prometheus_client itself does: the same observations
through ``FastHistogram``/``FastCounter`` and through the children's own ``observe``/``inc`` give the exact same
/metrics text, with two processes writing into one folder (two gunicorn workers), one of them forking after it
bound its children (a preloaded app), threads observing at once (gthread workers), and both paths mixed on one
child. Real processes: multiprocess mode is chosen when prometheus_client is imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# argv: path ("fast" or "own"), worker number. Durations in many buckets, multiples of 2**-14 s so that every sum
# is exact whatever order the threads add in; the buckets' own bounds once, single-threaded (``<=`` at an edge).
WORKER = r"""
import os, sys, threading
path, worker = sys.argv[1], int(sys.argv[2])
from yurt.core.meters import CACHE_LOOKUPS, REQUEST_SECONDS
from yurt.core.mmap_values import FastCounter, FastHistogram

AMOUNTS = [k * 2**-14 for k in (1, 8, 12, 20, 50, 200, 1000, 5000, 9000, 30000, 41000, 150000)]

def recorders(rule, status, cache):
    hist = REQUEST_SECONDS.labels(rule, "GET", status)
    counter = CACHE_LOOKUPS.labels(cache, "bypass")
    if path == "fast":
        assert FastHistogram(hist)._bound is not None, "multiprocess values not recognised: the fast path is off"
        return FastHistogram(hist).observe, FastCounter(counter).inc
    return hist.observe, counter.inc

def run(rule, status, cache, rounds):
    observe, inc = recorders(rule, status, cache)
    for i in range(rounds):
        for amount in AMOUNTS:
            observe(amount * (1 + worker / 4))
        inc()
    REQUEST_SECONDS.labels(rule, "GET", status).observe(2**-9)  # prometheus_client's own path on the same child
    observe(2**-8)

run("/a", "200", "nearest", 50)
edges, _ = recorders("/a", "200", "nearest")
for bound in REQUEST_SECONDS._upper_bounds[:-1]:
    edges(bound)
observe, inc = recorders("/b", "304", "responsible")
observe(2 * 2**-14)
pid = os.fork()  # a preloaded app: children bound in the parent, used in the child
if pid == 0:
    threads = [threading.Thread(target=run, args=("/b", "304", "responsible", 40)) for _ in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    observe(3 * 2**-14)
    inc()
    os._exit(0)
_, status = os.waitpid(pid, 0)
assert status == 0, status
run("/c", "404", "nearest", 10)
"""

SCRAPE = r"""
import sys
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
registry = CollectorRegistry()
MultiProcessCollector(registry)
sys.stdout.write(generate_latest(registry).decode())
"""


def scraped(tmp_path: Path, path: str) -> str:
    folder = tmp_path / path
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, path, str(n)], env=env, cwd=ROOT) for n in (1, 2)]
    assert [w.wait(timeout=60) for w in workers] == [0, 0]
    assert len(list(folder.glob("histogram_*.db"))) == 4  # two workers and their forked children
    return subprocess.run([sys.executable, "-c", SCRAPE], env=env, cwd=ROOT, check=True, capture_output=True,
                          text=True, timeout=60).stdout


def test_fast_path_scrapes_exactly_as_prometheus_client(tmp_path: Path) -> None:
    fast, own = scraped(tmp_path, "fast"), scraped(tmp_path, "own")
    assert fast == own
    # and it counted: 2 workers x (50 rounds x 12 amounts + 2 + the 12 bounds), on /a
    assert 'yurt_request_seconds_count{endpoint="/a",method="GET",status="200"} 1228.0' in fast
    # /b: per worker, 1 before the fork, then the child's 4 threads x (40 x 12 + 2) and 1 more
    assert 'yurt_request_seconds_count{endpoint="/b",method="GET",status="304"} 3860.0' in fast
    assert 'yurt_cache_lookups_total{cache="responsible",result="bypass"} 322.0' in fast
