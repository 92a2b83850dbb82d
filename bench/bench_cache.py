"""Does a nearest-mission result cache pay, and from which dataset size? (It did not: the service has none.)

The cache measured is the one the service had until it was removed: an H3 resolution-5 query cell's entry held
candidates that provably contain the exact top-k for every point of the cell (every m with
d(centre, m) <= D_k(centre) + 2r + 1 mm, r the cell's centre-to-edge reach, by the triangle inequality), and
each request ranked them exactly from its own point. The cell geometry and the candidate set are built here.

For synthetic datasets of growing size, per query (same random points for every path, in one run):
  compute   exact index query (SpatialIndex.nearest), no cache
  miss      candidates for the query cell (cache_candidates) + writing them to Redis, then exact ranking
  hit-L2    Redis GET of the cell's candidates + exact ranking among them (a worker that has not seen the cell)
  hit-L1    in-process lookup + exact ranking (what a worker that has seen the cell pays)
  redis-get the baseline, measured in the same run: a bare Redis GET of a small value (one round trip)
The cache pays at a size where the expected hit path is cheaper than `compute`. Needs a redis-server:
    python bench/bench_cache.py --redis redis://127.0.0.1:6379/15 [--sizes 128,10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from functools import lru_cache
from pathlib import Path

import h3
import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from yurt.geo.geodesy import inverse_many
from yurt.geo.spatial_index import TIE_KM, SpatialIndex

QUERY_GRID_RESOLUTION = 5


def query_cell(lat: float, lon: float) -> str:
    return str(h3.latlng_to_cell(lat, lon, QUERY_GRID_RESOLUTION))


@lru_cache(maxsize=65_536)  # as the service had it
def cell_geometry(cell: str) -> tuple[float, float, float]:
    """Centre and reach of a cell: the largest centre-to-vertex geodesic, 5 % and 10 m more (H3 edges are arcs
    on the authalic sphere, not ellipsoidal geodesics)."""
    centre_lat, centre_lon = h3.cell_to_latlng(cell)
    boundary = h3.cell_to_boundary(cell)
    distances_km, _ = inverse_many(centre_lat, centre_lon, [p[0] for p in boundary], [p[1] for p in boundary])
    return float(centre_lat), float(centre_lon), float(distances_km.max()) * 1.05 + 0.01


def cache_candidates(index: SpatialIndex, lat: float, lon: float, radius_km: float, limit: int) -> list[int]:
    top = index.nearest(lat, lon, limit)
    if len(top) < limit:
        return sorted(hit.index for hit in top)
    reach_km = max(hit.distance_km for hit in top) + 2.0 * radius_km + TIE_KM + 1e-5
    return sorted(hit.index for hit in index.within(lat, lon, reach_km))


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
    parser.add_argument("--sizes", default="128,10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=5)
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis)
    rng = random.Random(3)
    points = [(math.degrees(math.asin(2 * rng.random() - 1)), rng.uniform(-180, 180)) for _ in range(args.queries)]
    client.set("bench:baseline", b"x" * 64)
    print(f"{'missions':>9} {'compute':>9} {'miss':>9} {'hit-L2':>9} {'hit-L1':>9} {'redis-get':>9}"
          f"  (µs per query, limit={args.limit})")
    for n in (int(s) for s in args.sizes.split(",")):
        lats, lons, ids = synthetic(n, random.Random(n))
        index = SpatialIndex(lats, lons, ids)
        by_id = {mission_id: i for i, mission_id in enumerate(ids)}
        local: dict[str, bytes] = {}
        client.flushdb()
        client.set("bench:baseline", b"x" * 64)

        def compute(lat: float, lon: float) -> None:
            index.nearest(lat, lon, args.limit)

        def miss(lat: float, lon: float) -> None:
            cell = query_cell(lat, lon)
            c_lat, c_lon, radius_km = cell_geometry(cell)
            candidates = cache_candidates(index, c_lat, c_lon, radius_km, args.limit)
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
        def redis_get(lat: float, lon: float) -> None:
            client.get("bench:baseline")

        row = [per_query_us(f, points) for f in (compute, miss, hit_l2, hit_l1, redis_get)]
        print(f"{n:>9} " + " ".join(f"{v:>9.1f}" for v in row))
    client.flushdb()


if __name__ == "__main__":
    main()
