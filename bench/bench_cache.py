"""Does the nearest-mission result cache pay, and from which dataset size?

For synthetic datasets of growing size, per query (same random points for every path, in one run):
  compute   exact index query (SpatialIndex.nearest), no cache
  miss      candidates for the query cell (cache_candidates) + writing them to Redis, then exact ranking
  hit-L2    Redis GET of the cell's candidates + exact ranking among them (a worker that has not seen the cell)
  hit-L1    in-process lookup + exact ranking (what a worker that has seen the cell pays)
The cache pays at a size where the expected hit path is cheaper than `compute`. Needs a redis-server:
    python bench/bench_cache.py --redis redis://127.0.0.1:6379/15 [--sizes 100,1000,10000,100000]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from yurt.domain.query_grid import cell_geometry, query_cell
from yurt.domain.spatial_index import SpatialIndex


def synthetic(n: int, rng: random.Random) -> tuple[list[float], list[float], list[str]]:
    lats = [math.degrees(math.asin(2 * rng.random() - 1)) for _ in range(n)]
    lons = [rng.uniform(-180, 180) for _ in range(n)]
    return lats, lons, [f"m{i:07d}" for i in range(n)]


def per_query_us(fn, points) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for lat, lon in points:
        fn(lat, lon)
    return (time.perf_counter() - start) / len(points) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", required=True)
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=5)
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis)
    rng = random.Random(3)
    points = [(math.degrees(math.asin(2 * rng.random() - 1)), rng.uniform(-180, 180)) for _ in range(args.queries)]
    print(f"{'missions':>9} {'compute':>9} {'miss':>9} {'hit-L2':>9} {'hit-L1':>9}  (µs per query, limit={args.limit})")
    for n in (int(s) for s in args.sizes.split(",")):
        lats, lons, ids = synthetic(n, random.Random(n))
        index = SpatialIndex(lats, lons, ids)
        by_id = {mission_id: i for i, mission_id in enumerate(ids)}
        local: dict[str, bytes] = {}
        client.flushdb()

        def compute(lat: float, lon: float) -> None:
            index.nearest(lat, lon, args.limit)

        def miss(lat: float, lon: float) -> None:
            cell = query_cell(lat, lon)
            c_lat, c_lon, radius_km = cell_geometry(cell)
            candidates = index.cache_candidates(c_lat, c_lon, radius_km, args.limit)
            value = orjson.dumps([ids[i] for i in candidates])
            client.set(f"bench:{cell}", value, px=600_000)
            local[cell] = value
            index.rank(lat, lon, candidates, args.limit)

        def hit_l2(lat: float, lon: float) -> None:
            value = client.get(f"bench:{query_cell(lat, lon)}")
            assert value is not None
            index.rank(lat, lon, [by_id[i] for i in orjson.loads(value)], args.limit)

        def hit_l1(lat: float, lon: float) -> None:
            value = local[query_cell(lat, lon)]
            index.rank(lat, lon, [by_id[i] for i in orjson.loads(value)], args.limit)

        for lat, lon in points[:50]:  # warm caches of cell geometry
            cell_geometry(query_cell(lat, lon))
        row = [per_query_us(f, points) for f in (compute, miss, hit_l2, hit_l1)]
        print(f"{n:>9} " + " ".join(f"{v:>9.1f}" for v in row))
    client.flushdb()


if __name__ == "__main__":
    main()
