"""Where a Redis Cluster master's CPU goes, per kind of operation: ``bench_cluster``'s load, one kind at a time.

For each kind of ``bench_cluster``'s mix (presence, nearby, meetups, mission; ``--kinds`` to choose), the same
load on one node and on a 3-master cluster, and per node: round trips (read events) per operation, commands per
operation (scripts' own commands included), server CPU per operation less the node's idle CPU, and the commands
that took the most time inside Redis (INFO commandstats: calls and µs per operation; a script's µs include its
own commands', which are listed too, so "other commands" counts those run by scripts and those sent alone). What
the commands' own µs leave of the CPU is the cost of reading, parsing and answering each round trip and command.

    python bench/cluster_breakdown.py [--duration 4] [--processes 1] [--threads 3] [--kinds nearby,presence]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cluster import MIX, cluster, measure, standalone

TOP = 8  # commands listed per node


def rows(kind: str, setup: str, found: dict[str, Any]) -> list[str]:
    out = []
    for i, port in enumerate(found["ports"]):
        stats = found["commandstats"][i]
        script_us = sum(usec for name, (_, usec) in stats.items() if name in ("evalsha", "eval"))
        other_us = sum(usec for name, (_, usec) in stats.items() if name not in ("evalsha", "eval"))
        top = sorted(stats.items(), key=lambda item: -item[1][1])[:TOP]
        busy_us = 1000 * found["busy_cpu_s_per_1000_ops"][i]
        print_top = "; ".join(f"{name} {calls:.2f}x {usec:.1f} µs" for name, (calls, usec) in top)
        out.append(f"| {kind} | {setup} :{port} | {found['round_trips_per_op'][i]:.2f} | "
                   f"{found['commands'][i] / found['operations']:.1f} | {busy_us:.1f} | {script_us:.1f} | "
                   f"{other_us:.1f} | {print_top} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--travellers", type=int, default=3000)
    parser.add_argument("--kinds", default=",".join(dict.fromkeys(MIX)))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at the start", file=sys.stderr)
    table = ["| kind | node | round trips / op | commands / op | CPU less idle µs / op | µs in scripts / op "
             "| µs in other commands / op | top commands (calls / op, µs / op) |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    found_all: dict[str, Any] = {}
    for kind in args.kinds.split(","):
        one = argparse.Namespace(**{**vars(args), "kinds": kind})
        for setup in (standalone, cluster):
            with setup() as target:
                found = measure(target, one)
            found_all[f"{kind}/{target.name}"] = found
            table += rows(kind, target.name, found)
    if args.json:
        print(json.dumps(found_all))
    else:
        print("\n".join(table))


if __name__ == "__main__":
    main()
