"""One Redis vs a 3-master Redis Cluster: how keys and commands spread, and throughput, through Yurt's stores.

Starts a standalone redis-server and a 3-master cluster (tests/harness/cluster.py), both on loopback ports, and
runs the same mixed load against each for ``--duration`` seconds from ``--processes`` client processes of
``--threads`` threads, through the real stores (``RedisPresenceStore``, the nearby page function of the API,
``RedisMissionStore``):

The mix is ``bench/bench_load.py``'s at the store level, in Redis mode, driven by ``--travellers`` travellers
(so rate-limit keys spread too): every operation first counts the caller's per-client rate-limit hit (on a
single node inside the operation's first script, as the service does; on a Cluster as its own command), then

- ``presence``: a presence update (``update_head`` + ``put_presence``), travellers placed around the 117
  missions of data/embassies.geojson, each moved a simulated minute apart;
- ``nearby``: a nearby page (radius 25 km, 20 results) for a random traveller (``nearby_page``, as the API);
- ``meetups``: nearby meetups within 25 km of a random mission (``RedisMeetupStore.search``);
- ``mission``: one in ten operations, a staff mission write (``update`` with a fresh ETag).

``nearest`` and the mission list revalidated with ``If-None-Match`` are in bench_load's mix but send no Redis
command per request in Redis mode (anonymous reads are counted in each worker's memory; the catalogue polls the
dataset version every ``YURT_RELOAD_INTERVAL_S``), so they are left out here.

Reports per node: keys (DBSIZE) and commands processed during the load (INFO stats, scripts' own commands
included) with their shares, server CPU seconds per 1,000 operations (INFO CPU: used_cpu_sys + used_cpu_user)
and its ratio to the single node's (and, as an extra reading, the node's CPU over the same duration before the
load with no client, its round trips per operation (INFO stats: total_reads_processed) and the CPU less the
idle one per 1,000 operations and per round trip); and the load processes' own CPU seconds per 1,000
operations (client CPU), cluster over single node. ``--json`` prints the same figures as one JSON document
(``bench/bench_perf.py`` reads it). ``--kinds`` runs part of the mix (``bench/cluster_breakdown.py`` runs each
kind alone and lists the commands that took each node's time).

    python bench/bench_cluster.py [--duration 20] [--processes 2] [--threads 3] [--travellers 3000]
                                  [--kinds presence,nearby,meetups,mission] [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import os
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
from yurt.core.rate import RateCharge
from yurt.core.redis.connection import connect
from yurt.core.redis.counters import RedisWindowCounter
from yurt.core.settings import Settings
from yurt.core.store_errors import StalePrecondition
from yurt.geo import privacy
from yurt.geo.privacy import UpdatePolicy
from yurt.meetups.stores.meetups import Meetup
from yurt.meetups.stores.redis import RedisMeetupStore
from yurt.missions.schemas.dataset import read_collection_file
from yurt.missions.stores.redis import RedisMissionStore
from yurt.travellers.service.nearby import nearby_page
from yurt.travellers.stores.presence import Profile, TravellerStores
from yurt.travellers.stores.presence_redis import RedisPresenceStore

SECRET = b"bench-cluster-secret"
T0 = 1_800_000_000.0
STEP_S = 61.0  # one simulated minute and a second between a traveller's updates: the limiter allows it
POLICY = UpdatePolicy(daily_budget=1_000_000)  # the per-day budget is not what is measured here
PROFILE = Profile("Bench", ("kk", "ru"), None)
MIX = ("presence",) * 3 + ("nearby",) * 3 + ("meetups",) * 3 + ("mission",)
RATE_WINDOW_S = 60
MEETUPS = 300  # active meetups near the missions, searched by ``meetups``
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


def charge(tid: str) -> RateCharge:
    """The per-client rate-limit hit of a request by ``tid`` (``yurt.core.limits`` keys a verified caller by sub)."""
    return RateCharge(f"yurt:rl:100000000/{RATE_WINDOW_S}s:sub:{tid}", RATE_WINDOW_S)


def seed_meetups(target: Target) -> None:
    client = connect(Settings(data_file=DATASET, redis_url=target.url, redis_cluster=target.cluster))
    store, rng, spots = RedisMeetupStore(client), random.Random(3), places()  # parse the dataset once
    for i, (lat, lon) in enumerate(rng.choice(spots) for _ in range(MEETUPS)):
        meetup = Meetup(f"m{i}", f"organiser{i}", "Bench", "", T0, T0 + 86_400 * 30, lat + rng.uniform(-0.1, 0.1),
                        lon + rng.uniform(-0.1, 0.1), "Bench place", 20, None)
        store.create(meetup, f"otid{i}", T0, 5)
    client.close()


def worker(target: Target, proc: int, threads: int, travellers: int, duration_s: float,
           results: Any, start: Any, mix: tuple[str, ...] = MIX) -> None:
    settings = Settings(data_file=DATASET, redis_url=target.url, redis_cluster=target.cluster)
    client = connect(settings)
    seed = read_collection_file(DATASET)
    missions = RedisMissionStore(client, seed)
    stores = TravellerStores(RedisPresenceStore(client, POLICY), SECRET)
    meetups = RedisMeetupStore(client)
    counter = RedisWindowCounter(client)
    folds = stores.presence.counts_requests  # a single node counts the hit inside the first script
    spots = places()
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    ready = threading.Barrier(threads + 1)
    go = threading.Event()

    def run(thread: int) -> None:
        rng = random.Random(proc * 1000 + thread)
        mine = [f"p{proc}t{thread}n{i}" for i in range(travellers)]
        homes = {tid: rng.choice(spots) for tid in mine}
        step = {tid: 0 for tid in mine}
        known = {r.id: r for r in missions.load().records}  # what this worker's catalogue holds
        done: Counter[str] = Counter()
        for tid in mine:  # everyone visible before the mix starts
            put(stores, tid, homes[tid], 0, rng, None)
        ready.wait()
        go.wait()
        deadline = time.monotonic() + duration_s
        while time.monotonic() < deadline:
            kind = rng.choice(mix)
            tid = rng.choice(mine)
            hit = charge(tid)
            if kind != "mission" and not (folds and kind in ("presence", "nearby")):
                counter.hit(hit)
            if kind == "presence":
                step[tid] += 1
                put(stores, tid, homes[tid], step[tid], rng, hit if folds else None)
            elif kind == "nearby":
                now_s = T0 + step[tid] * STEP_S
                nearby_page(stores, tid, 25.0, 20, None, now_s, hit if folds else None)
            elif kind == "meetups":
                lat, lon = rng.choice(spots)
                meetups.search(lat, lon, 25.0, 20, T0, float("inf"), T0)
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
    ready.wait()  # placement done in every thread: measure the mix only
    results.put(("ready", proc))
    start.wait()  # every process placed its travellers: the parent read the servers' counters
    cpu_before = time.process_time()
    go.set()
    for t in pool:
        t.join()
    results.put(("done", dict(counts), time.process_time() - cpu_before))
    client.close()


def put(stores: TravellerStores, tid: str, home: tuple[float, float], step: int, rng: random.Random,
        hit: RateCharge | None) -> None:
    """A presence update as the API makes it: the head (limiter record, rate-limit hit), then the commit."""
    now_s = T0 + step * STEP_S
    lat = home[0] + rng.uniform(-0.05, 0.05)  # within ~6 km of the mission: a plausible minute's move
    lon = home[1] + rng.uniform(-0.05, 0.05)
    head = stores.presence.update_head(tid, now_s, hit)
    stores.presence.put_presence(tid, privacy.presence_cell(lat, lon), now_s + 3600, PROFILE, now_s, None, head)


NodeStats = tuple[int, int, int, float, int, dict[str, tuple[int, int]]]


def node_stats(ports: list[int]) -> list[NodeStats]:
    """Per node: port, keys, commands processed so far, CPU seconds used so far (user + system), read events
    processed so far (a client's pipeline or command: the round trips the node served), and per command its
    calls and µs so far (INFO commandstats; a script's time includes its own commands')."""
    out = []
    for port in ports:
        node = redis.Redis(port=port)
        cpu, stats, per_command = node.info("cpu"), node.info("stats"), node.info("commandstats")
        out.append((port, int(node.dbsize()), int(stats["total_commands_processed"]),
                    float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]), int(stats["total_reads_processed"]),
                    {name.removeprefix("cmdstat_"): (int(v["calls"]), int(v["usec"]))
                     for name, v in per_command.items()}))
        node.close()
    return out


def idle_cpu_s(ports: list[int], duration_s: float) -> list[float]:
    """Each node's CPU seconds over ``duration_s`` with no client load: its own background work (serverCron;
    on a Cluster also clusterCron and the cluster bus's gossip), which the loaded figure includes."""
    before = node_stats(ports)
    time.sleep(duration_s)  # measuring the servers' idle CPU over the load's duration
    return [a[3] - b[3] for a, b in zip(node_stats(ports), before, strict=True)]


def measure(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    # Seed the missions once, as the first worker of a deployment would, and the meetups.
    client = connect(Settings(data_file=DATASET, redis_url=target.url, redis_cluster=target.cluster))
    RedisMissionStore(client, read_collection_file(DATASET))
    client.close()
    seed_meetups(target)
    idle_s = idle_cpu_s(target.ports, args.duration)
    results: Any = multiprocessing.Queue()
    start = multiprocessing.Event()
    per_thread = args.travellers // (args.processes * args.threads)
    mix = tuple(k for k in MIX if k in args.kinds.split(","))
    procs = [multiprocessing.Process(target=worker, args=(target, p, args.threads, per_thread, args.duration,
                                                          results, start, mix)) for p in range(args.processes)]
    for p in procs:
        p.start()
    for _ in procs:
        assert results.get()[0] == "ready"
    before = node_stats(target.ports)
    start.set()
    counts: Counter[str] = Counter()
    client_cpu_s = 0.0
    for _ in procs:
        _, done, cpu_s = results.get()
        counts.update(done)
        client_cpu_s += cpu_s
    for p in procs:
        p.join()
    after = node_stats(target.ports)
    ops = sum(counts.values())
    commands = [a[2] - b[2] for a, b in zip(after, before, strict=True)]
    server_cpu_s = [a[3] - b[3] for a, b in zip(after, before, strict=True)]
    reads = [a[4] - b[4] for a, b in zip(after, before, strict=True)]
    per_command = [{name: (calls - b[5].get(name, (0, 0))[0], usec - b[5].get(name, (0, 0))[1])
                    for name, (calls, usec) in a[5].items()} for a, b in zip(after, before, strict=True)]
    return {"setup": target.name, "ports": target.ports, "operations": ops, "counts": dict(counts),
            "ops_per_s": ops / args.duration, "keys": [a[1] for a in after], "commands": commands,
            "commands_per_op": sum(commands) / ops, "server_cpu_s": server_cpu_s,
            "server_cpu_s_per_1000_ops": [1000 * c / ops for c in server_cpu_s],
            "client_cpu_s_per_1000_ops": 1000 * client_cpu_s / ops,
            "idle_cpu_s": idle_s, "round_trips_per_op": [r / ops for r in reads],
            "busy_cpu_s_per_1000_ops": [1000 * (c - i) / ops for c, i in zip(server_cpu_s, idle_s, strict=True)],
            "busy_cpu_us_per_round_trip": [1e6 * (c - i) / max(r, 1) for c, i, r in zip(server_cpu_s, idle_s, reads,
                                                                                        strict=True)],
            "commandstats": [{name: [calls / ops, usec / ops] for name, (calls, usec) in node.items() if calls}
                             for node in per_command]}


def figures(single: dict[str, Any], cluster: dict[str, Any]) -> dict[str, Any]:
    """The issue's cluster targets from one run: shares, CPU ratios, each with its limit."""
    keys, cmds = sum(cluster["keys"]), sum(cluster["commands"])
    key_share = [k / keys for k in cluster["keys"]]
    cmd_share = [c / cmds for c in cluster["commands"]]
    base = single["server_cpu_s_per_1000_ops"][0]
    master_ratio = [c / base for c in cluster["server_cpu_s_per_1000_ops"]]
    client_ratio = cluster["client_cpu_s_per_1000_ops"] / single["client_cpu_s_per_1000_ops"]
    busy_base = single["busy_cpu_s_per_1000_ops"][0]
    return {"key_share": key_share, "command_share": cmd_share, "master_cpu_ratio": master_ratio,
            "client_cpu_ratio": client_ratio,
            "master_busy_cpu_ratio": [c / busy_base for c in cluster["busy_cpu_s_per_1000_ops"]],
            "met": {"shares_23_43_pct": all(0.23 <= x <= 0.43 for x in key_share + cmd_share),
                    "master_cpu_at_most_0.4x": all(r <= 0.4 for r in master_ratio),
                    "client_cpu_at_most_1.3x": client_ratio <= 1.3}}


def report(single: dict[str, Any], cluster: dict[str, Any], found: dict[str, Any], args: argparse.Namespace,
           load: float) -> None:
    print(f"\nRedis mode, store level; {args.processes} processes x {args.threads} threads, {args.duration:.0f} s "
          f"of load after placing {args.travellers} travellers; mix 3 presence : 3 nearby : 3 meetups : 1 mission "
          f"write, each with its rate-limit hit; load average {load:.2f} at the start\n")
    print("| setup | node | keys | share of keys | commands | share of commands | server CPU s / 1,000 ops "
          "| vs 1 node |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    base = single["server_cpu_s_per_1000_ops"][0]
    for row in (single, cluster):
        total_keys, total_cmds = sum(row["keys"]), sum(row["commands"])
        for port, keys, cmds, cpu in zip(row["ports"], row["keys"], row["commands"],
                                         row["server_cpu_s_per_1000_ops"], strict=True):
            print(f"| {row['setup']} | :{port} | {keys} | {100 * keys / total_keys:.1f} % | {cmds} | "
                  f"{100 * cmds / total_cmds:.1f} % | {cpu:.3f} | {cpu / base:.2f}x |")
    print("\n| setup | operations | ops/s | commands / op | client CPU s / 1,000 ops |")
    print("|---|---:|---:|---:|---:|")
    for row in (single, cluster):
        print(f"| {row['setup']} | {row['operations']} | {row['ops_per_s']:.0f} | {row['commands_per_op']:.1f} | "
              f"{row['client_cpu_s_per_1000_ops']:.3f} |")
    met = found["met"]
    print(f"\nclient CPU, cluster / 1 node: {found['client_cpu_ratio']:.2f}x (target <= 1.3x: "
          f"{'met' if met['client_cpu_at_most_1.3x'] else 'NOT met'}); each master's server CPU / 1 node: "
          + ", ".join(f"{r:.2f}x" for r in found["master_cpu_ratio"])
          + f" (target <= 0.4x: {'met' if met['master_cpu_at_most_0.4x'] else 'NOT met'}); shares of keys and "
          f"commands within 23-43 %: {'met' if met['shares_23_43_pct'] else 'NOT met'}")
    print("\nWhere the servers' CPU goes (an extra reading, not the target's figure): each node's CPU over the same "
          "duration with no load (its background work), and the rest, per 1,000 operations and per round trip "
          "(read event) it served\n")
    print("| setup | node | idle CPU s over the duration | round trips / op | CPU less idle s / 1,000 ops | vs 1 node "
          "| µs / round trip |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in (single, cluster):
        for port, idle, trips, busy, per_trip in zip(row["ports"], row["idle_cpu_s"], row["round_trips_per_op"],
                                                     row["busy_cpu_s_per_1000_ops"], row["busy_cpu_us_per_round_trip"],
                                                     strict=True):
            print(f"| {row['setup']} | :{port} | {idle:.3f} | {trips:.2f} | {busy:.3f} | "
                  f"{busy / single['busy_cpu_s_per_1000_ops'][0]:.2f}x | {per_trip:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--travellers", type=int, default=3000)
    parser.add_argument("--kinds", default=",".join(dict.fromkeys(MIX)),
                        help="the operations of the mix to run (comma-separated; default all, in its proportions)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document only")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows = []
    for setup in (standalone, cluster):
        with setup() as target:
            print(f"measuring {target.name} ...", file=sys.stderr)
            rows.append(measure(target, args))
    found = figures(rows[0], rows[1])
    if args.json:  # per-command counts are ``cluster_breakdown.py``'s: bench_perf's table keeps the figures above
        single, clustered = ({k: v for k, v in row.items() if k != "commandstats"} for row in rows)
        print(json.dumps({"mode": "redis", "load_average": load, "duration_s": args.duration,
                          "travellers": args.travellers, "single": single, "cluster": clustered, **found}))
    else:
        report(rows[0], rows[1], found, args, load)


if __name__ == "__main__":
    main()
