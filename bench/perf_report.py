"""bench/bench_perf.py's output as markdown: the table the README's performance section pastes."""

from __future__ import annotations

from typing import Any


def _met(ratio: float, target: float | None) -> str:
    if target is None:
        return "—"
    return "yes" if ratio >= target else "**no**"


def endpoint_table(modes: list[dict[str, Any]]) -> list[str]:
    lines = ["| endpoint | mode | req/s | hello-world req/s | ratio | p50 ms | p99 ms | target | met? "
             "| CPU µs/req (hello) | CPU ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for mode in modes:
        for row in mode["rows"]:
            if row["key"] == "nearby" and mode["mode"] == "embedded":
                continue  # travellers live in each worker's memory there: with -w 2 half the pages were 409s
            ordered = sorted(row["runs"], key=lambda r: r["ratio"])
            row = {**row, **ordered[len(ordered) // 2]}  # the median run (files of earlier runs kept another)
            e, h = row["endpoint"], row["hello"]
            spread = f" ({'–'.join(f'{r:.2f}' for r in sorted(row['ratios']))})" if len(row["ratios"]) > 1 else ""
            target = f"≥ {row['target']}x" if row["target"] is not None else "—"
            bad = f", {e['non_2xx']:.0f} non-2xx/3xx" if e["non_2xx"] else ""
            lines.append(f"| {row['label']}{bad} | {mode['mode']} | {e['rps']:,.0f} | {h['rps']:,.0f} | "
                         f"{row['ratio']:.2f}{spread} | {e['p50_ms']:.2f} | {e['p99_ms']:.2f} | {target} | "
                         f"{_met(row['ratio'], row['target'])} | {e['cpu_us']:.0f} ({h['cpu_us']:.0f}) | "
                         f"{row['cpu_ratio']:.2f} |")
    return lines


def redis_lines(figures: dict[str, Any]) -> list[str]:
    nearby, update = figures["commands_nearby"], figures["commands_presence_update"]
    trips = figures["round_trips"]
    return [
        "| Redis, per request | commands (`INFO commandstats`) | round trips (client) | target |",
        "|---|---|---|---|",
        f"| `nearby` page | {nearby['per_call']} | {trips['nearby']} | ≤ 2 round trips: "
        f"{'yes' if trips['nearby'] <= 2 else '**no**'} |",
        f"| presence update (first) | {update['per_call']} | {trips['presence_update']} | ≤ 2 round trips: "
        f"{'yes' if trips['presence_update'] <= 2 else '**no**'} |",
        "",
        f"Commands per `nearby` page: {_commands(nearby)}.",
        f"Commands per presence update: {_commands(update)}.",
    ]


def _commands(figures: dict[str, Any]) -> str:
    return ", ".join(f"`{name}` {count}" for name, count in figures["by_command"].items()) or "none"


def memory_lines(modes: list[dict[str, Any]]) -> list[str]:
    lines = ["| mode | preload_app | master RSS / PSS MB | per worker RSS / PSS MB |", "|---|---|---|---|"]
    for mode in modes:
        for key, label in (("no_preload", "off"), ("preload", "on")):
            m = mode["memory"][key]
            workers = "; ".join(f"{w['rss']:.0f} / {w['pss']:.0f}" for w in m["workers"])
            lines.append(f"| {mode['mode']} | {label} | {m['master']['rss']:.0f} / {m['master']['pss']:.0f} | "
                         f"{workers} |")
    return lines


def cluster_lines(cluster: dict[str, Any]) -> list[str]:
    if "error" in cluster:
        return [f"Cluster: not measured ({cluster['error']})."]
    return ["Cluster (`bench/bench_cluster.py --json`):", "", "```", _flat(cluster), "```"]


def _flat(value: Any, prefix: str = "") -> str:
    if isinstance(value, dict):
        return "\n".join(_flat(v, f"{prefix}{k}.") for k, v in value.items())
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "\n".join(_flat(v, f"{prefix}{i}.") for i, v in enumerate(value))
    return f"{prefix.rstrip('.')}: {value}"


def render(results: dict[str, Any]) -> str:
    modes = results["modes"]
    lines = [f"gunicorn -w {results['workers']} (sync), wrk -t1 -c{results['connections']} "
             f"-d{results['duration_s']}s per run; load average before {results['load_before'][0]:.2f}, "
             f"after {results.get('load_after', [float('nan')])[0]:.2f}", ""]
    lines += endpoint_table(modes)
    for mode in modes:
        if "redis" in mode:
            lines += ["", f"Redis mode, {mode['redis']['commands_nearby']['calls']} requests each:", ""]
            lines += redis_lines(mode["redis"])
    if any("memory" in m for m in modes):
        measured = [m for m in modes if "memory" in m]
        lines += ["", "Memory after a warm-up of every endpoint:", "", *memory_lines(measured)]
    if "cluster" in results:
        lines += ["", *cluster_lines(results["cluster"])]
    return "\n".join(lines)
