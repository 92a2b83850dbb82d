"""Places benchmark: subdivision accuracy (hold-out), Locator start-up time/memory, locate latency.

Run: ``python bench/places_bench.py``. Not collected by pytest.

Accuracy: 5 % of the labelled points (seeded) are held out, an index is built on the rest,
and each held-out point is located in its own country; the figures printed here are the ones
quoted in the docstring of :mod:`yurt.geo.subdivisions`.
"""

from __future__ import annotations

import gzip
import random
import resource
import statistics
import time
import tracemalloc

from yurt.geo.places import Locator
from yurt.geo.subdivisions import DEFAULT_DATA_PATH, SubdivisionIndex

CONSULAR_COUNTRIES = frozenset(["RU", "CN", "UZ", "KG", "TH", "DE", "TR", "US", "IR", "KR", "AE"])
HOLDOUT_FRACTION = 0.05
SEED = 20240601


def _rows() -> list[tuple[str, str, float, float]]:
    with gzip.open(DEFAULT_DATA_PATH, "rt", encoding="ascii") as lines:
        next(lines)
        return [
            (c, s, float(lat), float(lon))
            for c, s, lat, lon in (line.rstrip("\n").split(",") for line in lines)
        ]


def accuracy() -> None:
    rows = _rows()
    rng = random.Random(SEED)
    held = set(rng.sample(range(len(rows)), int(len(rows) * HOLDOUT_FRACTION)))
    index = SubdivisionIndex(row for i, row in enumerate(rows) if i not in held)
    for label, keep in (("consular 11", CONSULAR_COUNTRIES), ("all", None)):
        total = first = among = ambiguous = silent_wrong = 0
        for i in held:
            country, truth, lat, lon = rows[i]
            if keep is not None and country not in keep:
                continue
            match = index.match(country, lat, lon)
            if match is None:
                continue
            total += 1
            first += match.codes[0] == truth
            among += truth in match.codes
            ambiguous += match.ambiguous
            silent_wrong += (not match.ambiguous) and match.codes[0] != truth
        print(
            f"{label:12s} n={total:6d} first-right={first / total:.1%} "
            f"truth-among={among / total:.1%} ambiguous={ambiguous / total:.1%} "
            f"unambiguous-wrong={silent_wrong / total:.1%}"
        )


def startup_and_latency() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    locator = Locator()
    startup_s = time.perf_counter() - started
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(
        f"Locator() start-up {startup_s:.2f} s, traced peak {peak_mb:.0f} MB, "
        f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB"
    )
    rng = random.Random(SEED)
    points = [(rng.uniform(-60.0, 75.0), rng.uniform(-180.0, 180.0)) for _ in range(5000)]
    points += [(rng.uniform(40.0, 55.0), rng.uniform(50.0, 87.0)) for _ in range(5000)]  # KZ/CA
    timings_us = []
    for lat, lon in points:
        t0 = time.perf_counter()
        locator.locate(lat, lon)
        timings_us.append((time.perf_counter() - t0) * 1e6)
    timings_us.sort()
    print(
        f"locate() over {len(points)} points: median {statistics.median(timings_us):.0f} us, "
        f"p99 {timings_us[int(len(timings_us) * 0.99)]:.0f} us, max {timings_us[-1]:.0f} us"
    )


if __name__ == "__main__":
    accuracy()
    startup_and_latency()
