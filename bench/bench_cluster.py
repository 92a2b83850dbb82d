"""One Redis vs a 3-master Redis Cluster: how keys and commands spread, and throughput, through Yurt's stores.

Starts a standalone redis-server and a 3-master cluster (tests/harness/cluster.py), both on loopback ports, and
runs the same mixed load against each for ``--duration`` seconds from ``--processes`` client processes of
``--threads`` threads, through the real stores (``RedisPresenceStore``, the nearby page function of the API,
``RedisMissionStore``):

- presence updates (``put_presence``: limiter + presence compare-and-set, then the geo index), travellers
  placed around the 117 missions of data/embassies.geojson, each moved a simulated minute apart;
- nearby pages (radius 25 km, 20 results) for a random traveller;
- mission writes (``update`` with a fresh ETag) on a random mission: the record of truth, one hash tag.

Mix: 6 updates : 3 nearby : 1 mission write. Reports per master: keys (DBSIZE), commands processed (INFO
stats ``total_commands_processed`` during the load) and their share; and operations/s on 1 node vs 3 masters.

    python bench/bench_cluster.py [--duration 20] [--processes 2] [--threads 3] [--travellers 3000]
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness.cluster import free_ports, running_cluster
from yurt.api.travellers_nearby import nearby_page
from yurt.dataset import read_collection_file
from yurt.domain import privacy
from yurt.domain.privacy import UpdatePolicy
from yurt.settings import Settings
from yurt.storage.base import StalePrecondition
from yurt.storage.meetups_redis import RedisMeetupStore
from yurt.storage.redis_connection import connect
from yurt.storage.redis_store import RedisMissionStore
from yurt.storage.travellers import Profile, TravellerStores
from yurt.storage.travellers_redis import RedisPresenceStore

SECRET = b"bench-cluster-secret"
T0 = 1_800_000_000.0
STEP_S = 61.0  # one simulated minute and a second between a traveller's updates: the limiter allows it
POLICY = UpdatePolicy(daily_budget=1_000_000)  # the per-day budget is not what is measured here
PROFILE = Profile("Bench", ("kk", "ru"), None)
MIX = ("update",) * 6 + ("nearby",) * 3 + ("mission",)
DATASET = ROOT / "data" / "embassies.geojson"


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    cluster: bool
    ports: list[int]


@contextmanager
def standalone() -> Iterator[Target]:
    workdir = Path(tempfile.mkdtemp(prefix="yurt-bench-redis-"))
    port = free_ports(1)[0]
    subprocess.run(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                    "no", "--dir", str(workdir), "--daemonize", "yes", "--pidfile", str(workdir / "r.pid"),
                    "--logfile", str(workdir / "r.log")], check=True)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)  # the server is starting
    try:
        yield Target("1 node", f"redis://127.0.0.1:{port}/0", False, [port])
    finally:
        with suppress(redis.RedisError):
            client.shutdown(nosave=True)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def cluster() -> Iterator[Target]:
    with running_cluster(3) as c:
        yield Target("3 masters", c.url, True, c.ports)


def places() -> list[tuple[float, float]]:
    """(lat, lon) of every mission: travellers gather where Kazakh missions are, all around the world."""
    return [(f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0])
            for f in read_collection_file(DATASET).features]


def worker(target: Target, proc: int, threads: int, travellers: int, duration_s: float,
           results: Any) -> None:
    settings = Settings(data_file=DATASET, redis_url=target.url, redis_cluster=target.cluster)
    client = connect(settings)
    seed = read_collection_file(DATASET)
    missions = RedisMissionStore(client, seed)
    stores = TravellerStores(RedisPresenceStore(client, POLICY), RedisMeetupStore(client), SECRET)
    spots = places()
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def run(thread: int) -> None:
        rng = random.Random(proc * 1000 + thread)
        mine = [f"p{proc}t{thread}n{i}" for i in range(travellers)]
        homes = {tid: rng.choice(spots) for tid in mine}
        step = {tid: 0 for tid in mine}
        known = {r.id: r for r in missions.load().records}  # what this worker's catalogue holds
        done: Counter[str] = Counter()
        for tid in mine:  # everyone visible before the mix starts
            put(stores, tid, homes[tid], 0, rng)
        deadline = time.monotonic() + duration_s
        while time.monotonic() < deadline:
            kind = rng.choice(MIX)
            if kind == "update":
                tid = rng.choice(mine)
                step[tid] += 1
                put(stores, tid, homes[tid], step[tid], rng)
            elif kind == "nearby":
                tid = rng.choice(mine)
                now_s = T0 + step[tid] * STEP_S
                viewer = stores.presence.get_presence(tid, now_s)
                if viewer is not None:
                    nearby_page(stores, viewer, 25.0, 20, None, now_s)
            else:
                record = known[rng.choice(sorted(known))]
                feature = copy.deepcopy(dict(record.feature))
                feature["properties"]["email"] = f"bench{rng.randrange(10**6)}@mfa.kz"
                try:
                    known[record.id] = missions.update(record.id, feature, if_match=record.etag, author="bench")
                except StalePrecondition:  # another worker wrote it first: refresh, as the catalogue would
                    known = {r.id: r for r in missions.load().records}
            done[kind] += 1
        with lock:
            counts.update(done)

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.put(dict(counts))
    client.close()


def put(stores: TravellerStores, tid: str, home: tuple[float, float], step: int, rng: random.Random) -> None:
    now_s = T0 + step * STEP_S
    lat = home[0] + rng.uniform(-0.05, 0.05)  # within ~6 km of the mission: a plausible minute's move
    lon = home[1] + rng.uniform(-0.05, 0.05)
    stores.presence.put_presence(tid, privacy.presence_cell(lat, lon), now_s + 3600, PROFILE, now_s)


def node_stats(ports: list[int]) -> list[tuple[int, int, int, float]]:
    """Per node: port, keys, commands processed so far, CPU seconds used so far (user + system)."""
    out = []
    for port in ports:
        node = redis.Redis(port=port)
        cpu = node.info("cpu")
        out.append((port, int(node.dbsize()), int(node.info("stats")["total_commands_processed"]),
                    float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])))
        node.close()
    return out


def measure(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    # Seed the missions once, as the first worker of a deployment would.
    client = connect(Settings(data_file=DATASET, redis_url=target.url, redis_cluster=target.cluster))
    RedisMissionStore(client, read_collection_file(DATASET))
    client.close()
    before = node_stats(target.ports)
    results: Any = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=worker, args=(target, p, args.threads, args.travellers // (
        args.processes * args.threads), args.duration, results)) for p in range(args.processes)]
    for p in procs:
        p.start()
    counts: Counter[str] = Counter()
    for _ in procs:
        counts.update(results.get())
    for p in procs:
        p.join()
    after = node_stats(target.ports)
    commands = [a[2] - b[2] for a, b in zip(after, before, strict=True)]
    cpu_s = [a[3] - b[3] for a, b in zip(after, before, strict=True)]
    return {"target": target, "counts": counts, "keys": [a[1] for a in after], "commands": commands,
            "cpu_s": cpu_s}


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\n{args.processes} processes x {args.threads} threads, {args.duration:.0f} s of load after the "
          f"initial placement of {args.travellers} travellers; mix 6 update : 3 nearby : 1 mission write\n")
    print("| setup | node | keys (DBSIZE) | share of keys | commands during run | share of commands | server CPU s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        total_keys, total_cmds = sum(row["keys"]), sum(row["commands"])
        for port, keys, cmds, cpu_s in zip(row["target"].ports, row["keys"], row["commands"], row["cpu_s"],
                                           strict=True):
            print(f"| {row['target'].name} | :{port} | {keys} | {100 * keys / total_keys:.1f} % | {cmds} | "
                  f"{100 * cmds / total_cmds:.1f} % | {cpu_s:.1f} |")
    print("\n| setup | presence updates | nearby pages | mission writes | operations/s (mixed load) |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        c = row["counts"]
        print(f"| {row['target'].name} | {c['update']} | {c['nearby']} | {c['mission']} | "
              f"{sum(c.values()) / args.duration:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--travellers", type=int, default=3000)
    args = parser.parse_args()
    rows = []
    for setup in (standalone, cluster):
        with setup() as target:
            print(f"measuring {target.name} ...", file=sys.stderr)
            rows.append(measure(target, args))
    report(rows, args)


if __name__ == "__main__":
    main()
