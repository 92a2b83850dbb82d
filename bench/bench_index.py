"""Benchmark: the exact nearest-mission index against the fastest brute-force geodesic scan, in one run.

For synthetic datasets of 100, 10,000 and 100,000 missions (seeded: uniform on the sphere, city clusters, an
antimeridian band, polar caps, and points exactly at the poles and on ±180), it runs random queries (the same
mixture plus queries exactly at ±90 and ±180 and exactly at a mission) through ``SpatialIndex.nearest`` and
through ``brute_force_nearest`` (one vectorised ``Geod.inv`` over every point + ``np.argpartition``), counts
answers that differ (index, distance and bearing compared exactly; must be 0), and reports per-query times and
their ratio. It also times one geodesic for a single pair through pyproj and through geopy.

    python bench/bench_index.py                 # the full run (a few minutes, mostly the brute force)
    python bench/bench_index.py --quick         # a tenth of the queries
    python bench/bench_index.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geopy.distance import geodesic
from pyproj import Geod

from yurt.geo.geodesy import geodesic_km
from yurt.geo.spatial_index import Neighbour, SpatialIndex, brute_force_nearest

FloatArray = npt.NDArray[np.float64]
Query = Callable[[float, float], list[Neighbour]]
SIZES_AND_QUERIES = ((100, 10_000), (10_000, 10_000), (100_000, 1_000))
TARGET_SPEEDUP_AT_100K = 20.0


def mixture(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray]:
    """n points: 55 % uniform on the sphere, 25 % in clusters, 12 % near the antimeridian, 8 % polar."""
    counts = rng.multinomial(n, [0.55, 0.25, 0.12, 0.08])
    lat_u = np.degrees(np.arcsin(rng.uniform(-1, 1, counts[0])))  # uniform by area
    lon_u = rng.uniform(-180, 180, counts[0])
    centres = rng.integers(0, max(1, counts[1] // 8 + 1), counts[1])
    centre_lat = rng.uniform(-60, 70, centres.max(initial=0) + 1)
    centre_lon = rng.uniform(-180, 180, centres.max(initial=0) + 1)
    lat_c = np.clip(centre_lat[centres] + rng.normal(0, 0.2, counts[1]), -90, 90)
    lon_c = (centre_lon[centres] + rng.normal(0, 0.2, counts[1]) + 180) % 360 - 180
    lat_a = rng.uniform(-75, 75, counts[2])
    lon_a = (180 + rng.uniform(-5, 5, counts[2]) + 180) % 360 - 180
    lat_p = rng.choice([-1, 1], counts[3]) * (90 - np.abs(rng.normal(0, 3, counts[3])).clip(0, 10))
    lon_p = rng.uniform(-180, 180, counts[3])
    lats = np.concatenate([lat_u, lat_c, lat_a, lat_p])
    lons = np.concatenate([lon_u, lon_c, lon_a, lon_p])
    # A few exact extremes: the poles, and the antimeridian written both ways.
    special = min(n, 4)
    lats[:special] = [90.0, -90.0, 0.0, 65.0][:special]
    lons[:special] = [0.0, 33.0, 180.0, -180.0][:special]
    return lats, lons


def query_points(rng: np.random.Generator, count: int, lats: FloatArray, lons: FloatArray
                 ) -> list[tuple[float, float]]:
    q_lats, q_lons = mixture(rng, count)
    points = list(zip(q_lats.tolist(), q_lons.tolist(), strict=True))
    extremes = [(90.0, 0.0), (-90.0, 0.0), (0.0, 180.0), (0.0, -180.0), (-17.0, 180.0), (65.0, -180.0)]
    at_missions = rng.integers(0, len(lats), count // 20)
    points[: len(extremes)] = extremes
    for slot, i in enumerate(at_missions, start=len(extremes)):
        points[slot] = (float(lats[i]), float(lons[i]))  # exactly at a mission: distance 0
    return points


def timed_in_blocks(index_call: Query, brute_call: Query, points: list[tuple[float, float]], block: int = 50
                    ) -> tuple[list[list[Neighbour]], list[float], list[list[Neighbour]], list[float]]:
    """Alternate blocks of queries between the two ways.

    Blocks, not single queries: a brute-force scan between two index queries would evict the k-d tree from
    the CPU caches, which a server answering only index queries never sees. Alternating still spreads the
    load of other processes on a shared machine over both ways alike.
    """
    got: list[list[Neighbour]] = []
    expected: list[list[Neighbour]] = []
    index_s: list[float] = []
    brute_s: list[float] = []
    for first in range(0, len(points), block):
        for call, results, seconds in ((index_call, got, index_s), (brute_call, expected, brute_s)):
            for lat, lon in points[first:first + block]:
                start = time.perf_counter()
                results.append(call(lat, lon))
                seconds.append(time.perf_counter() - start)
    return got, index_s, expected, brute_s


def run_size(n: int, queries: int, limit: int, seed: int) -> dict[str, float | int]:
    rng = np.random.default_rng(seed + n)
    lats, lons = mixture(rng, n)
    ids = [f"m{k:06d}" for k in rng.permutation(n)]
    start = time.perf_counter()
    index = SpatialIndex(lats.tolist(), lons.tolist(), ids)
    build_s = time.perf_counter() - start
    points = query_points(rng, queries, lats, lons)

    got, index_s, expected, brute_s = timed_in_blocks(
        lambda lat, lon: index.nearest(lat, lon, limit),
        lambda lat, lon: brute_force_nearest(lats, lons, ids, lat, lon, limit),
        points,
    )
    mismatches = sum(a != b for a, b in zip(got, expected, strict=True))
    index_us = statistics.fmean(index_s) * 1e6
    brute_us = statistics.fmean(brute_s) * 1e6
    return {
        "missions": n, "queries": queries, "limit": limit, "mismatches": mismatches,
        "build_ms": build_s * 1e3,
        "index_mean_us": index_us, "index_p50_us": statistics.median(index_s) * 1e6,
        "index_p99_us": float(np.quantile(index_s, 0.99)) * 1e6,
        "brute_mean_us": brute_us, "brute_p50_us": statistics.median(brute_s) * 1e6,
        "speedup": brute_us / index_us, "speedup_p50": statistics.median(brute_s) / statistics.median(index_s),
    }


def single_pair_costs() -> dict[str, float]:
    geod = Geod(ellps="WGS84")
    a, b = (51.1283, 71.4305), (40.6413, -73.7781)  # Astana to JFK, (lat, lon)
    reps = 20_000
    pyproj_s = min(timeit.repeat(lambda: geod.inv(a[1], a[0], b[1], b[0]), number=reps, repeat=3)) / reps
    ours_s = min(timeit.repeat(lambda: geodesic_km(a[0], a[1], b[0], b[1]), number=reps, repeat=3)) / reps
    geopy_s = min(timeit.repeat(lambda: geodesic(a, b).km, number=reps // 10, repeat=3)) / (reps // 10)
    return {"pyproj_geod_inv_us": pyproj_s * 1e6, "geodesic_km_us": ours_s * 1e6,
            "geopy_geodesic_us": geopy_s * 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="run a tenth of the queries")
    parser.add_argument("--limit", type=int, default=5, help="k of each nearest query (API default 5)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    rows = []
    for n, queries in SIZES_AND_QUERIES:
        rows.append(run_size(n, max(100, queries // 10) if args.quick else queries, args.limit, args.seed))
        r = rows[-1]
        print(f"{r['missions']:>8,} missions  {r['queries']:>6,} queries  mismatches {r['mismatches']}  "
              f"build {r['build_ms']:.1f} ms  index {r['index_mean_us']:.1f} us "
              f"(p50 {r['index_p50_us']:.1f}, p99 {r['index_p99_us']:.1f})  "
              f"brute {r['brute_mean_us']:.1f} us  speedup {r['speedup']:.1f}x",
              flush=True)
    pair = single_pair_costs()

    print()
    print(f"{'missions':>9} {'queries':>8} {'mismatch':>9} {'index us':>9} {'brute us':>10} {'speedup':>8}"
          f" {'p50 speedup':>12}")
    for r in rows:
        print(f"{r['missions']:>9,} {r['queries']:>8,} {r['mismatches']:>9} {r['index_mean_us']:>9.1f} "
              f"{r['brute_mean_us']:>10.1f} {r['speedup']:>7.1f}x {r['speedup_p50']:>11.1f}x")
    print("(times are means per query; speedup = brute mean / index mean, p50 speedup = ratio of medians)")
    print(f"\none pair: pyproj Geod.inv {pair['pyproj_geod_inv_us']:.2f} us, geodesic_km "
          f"{pair['geodesic_km_us']:.2f} us, geopy geodesic() {pair['geopy_geodesic_us']:.2f} us")

    at_100k = next(r for r in rows if r["missions"] == 100_000)
    ok = all(r["mismatches"] == 0 for r in rows) and at_100k["speedup"] >= TARGET_SPEEDUP_AT_100K
    if args.json:
        args.json.write_text(json.dumps({
            "python": platform.python_version(), "machine": platform.machine(), "quick": args.quick,
            "sizes": rows, "single_pair": pair, "target_speedup_at_100k": TARGET_SPEEDUP_AT_100K, "ok": ok,
        }, indent=2) + "\n", encoding="utf-8")
    print("\nOK" if ok else "\nFAILED: mismatches or speedup below target")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
