"""The Redis meetup store's search index as ``meetup_search`` reads it: the ``{mi:<res4>}`` sorted sets.

A search's first round trip is one script (``SURVEY``) that sweeps, counts and reads the fast path's cells: on
a standalone Redis one call for all the roots a search touches, on a Cluster one per root (its own slot), where
only a level whose cells all lie in that root is read ahead. Later reads (a ring the read-ahead missed, the
best-first search) are one script call per root, all of a round trip in one pipeline. The client's CPU per
command and per venue parsed, not Redis, is what a search spends: the read-ahead sends back only the venues
within its chord bound (about ``limit`` of them), not every venue of the cells it read.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import redis
from redis.client import Pipeline
from redis.commands.core import Script

from yurt.core.redis.common import text
from yurt.core.redis.scripts import evalsha, run_scripts
from yurt.geo.geodesy import WGS84_A_M, WGS84_E2, ecef_point_m
from yurt.meetups.model.cells import Venue, cells_of, root_of, score_range
from yurt.meetups.model.search import AHEAD_ADD_KM, GEODESIC_PER_CHORD, AheadRead, ReadAhead


def index_key(res4: str, kind: str) -> str:
    return f"{{mi:{res4}}}:{kind}"


def _finite(ms: float) -> float:
    return max(-1e300, min(1e300, ms))  # an open window end, as a number Lua reads


def _ranges(cells: Iterable[str]) -> bytes:
    """The cells' score ranges as little-endian doubles (exact: scores have 40 bits), one argument for all."""
    bounds = [bound for cell in cells for bound in score_range(cell)]
    return struct.pack(f"<{len(bounds)}d", *bounds)


@lru_cache(maxsize=1 << 14)
def _geometry(cells: tuple[str, ...]) -> bytes:
    """(lo, hi, centre x, y, z km, subtree bound km) of each cell, as little-endian doubles."""
    geometry = cells_of(cells).geometry
    rows = [(*score_range(cell), *geometry[i, 2:6].tolist()) for i, cell in enumerate(cells)]
    return struct.pack(f"<{6 * len(rows)}d", *(x for row in rows for x in row))


def _by_root(cells: Sequence[str]) -> dict[str, list[int]]:
    """Positions of ``cells`` grouped by the root that holds them (first-seen order)."""
    groups: dict[str, list[int]] = {}
    for position, cell in enumerate(cells):
        groups.setdefault(root_of(cell), []).append(position)
    return groups


@dataclass(frozen=True)
class IndexScripts:
    counts: Script
    ranges: Script
    survey: Script
    loaded: tuple[Script, ...]  # every script of the store, loaded again together if Redis lost them


class RedisIndex:
    """``CellReader`` over the ``{mi:…}`` sorted sets; roots are swept of ended meetups as they are counted."""

    batch_cells = 8  # a round trip costs about as much as ranking a few dozen venues

    def __init__(self, client: redis.Redis, scripts: IndexScripts, by_slot: bool, now_ms: int,
                 window_ms: tuple[float, float]) -> None:
        self._r = client
        self._scripts = scripts
        self._by_slot = by_slot
        self._now_ms = now_ms
        self._window_ms = window_ms

    def _run(self, calls: list[tuple[Script, list[str], list[Any]]]) -> list[Any]:
        def build(pipe: Pipeline) -> None:
            for script, keys, args in calls:
                evalsha(pipe, script, keys, args)

        return run_scripts(self._r, self._scripts.loaded, build)

    def survey(self, cells: Sequence[str], ahead: ReadAhead) -> tuple[list[int], AheadRead | None]:
        by_root = _by_root(cells)
        groups = [[top] for top in by_root] if self._by_slot else [list(by_root)]
        head = [self._now_ms, ahead.limit, *(_finite(ms) for ms in self._window_ms),
                *(c / 1000.0 for c in ecef_point_m(ahead.lat, ahead.lon)), WGS84_A_M / 1000.0, WGS84_E2,
                GEODESIC_PER_CHORD, AHEAD_ADD_KM]
        calls, plans = [], []
        for roots in groups:
            counted = [p for top in roots for p in by_root[top]] if self._by_slot else range(len(cells))
            local = {p: i for i, p in enumerate(counted)} if self._by_slot else None
            levels, plan = [], []
            for level in ahead.levels:
                at = level.disk_at if local is None else local.get(level.disk_at)
                last = level.disk_at + len(level.disk) - 1
                if at is None or (local is not None and local.get(last) != at + len(level.disk) - 1):
                    break  # this call cannot count the level's disk, nor tell whether a coarser one is chosen
                levels.append(level)
                plan += [at + 1, len(level.disk), _geometry((*level.disk, *level.ring))]
            numbers = struct.pack(f"<{len(roots)}d", *(score_range(top)[0] >> 21 for top in roots))
            keys = [k for top in roots for k in (index_key(top, "z"), index_key(top, "x"))]
            args = [*head, numbers, _ranges(cells[p] for p in counted), len(levels), *plan]
            calls.append((self._scripts.survey, keys, args))
            plans.append((counted, levels))
        out = [0] * len(cells)
        read = None
        for (counted, levels), reply in zip(plans, self._run(calls), strict=True):
            for p, n in zip(counted, reply[0], strict=True):
                out[p] = int(n)
            if reply[1]:
                level = levels[int(reply[1]) - 1]
                named = (*level.disk, *level.ring)
                read = AheadRead(level.res, {named[int(i) - 1]: [Venue.from_member(text(m)) for m in members]
                                             for i, members in zip(reply[3::2], reply[4::2], strict=True)},
                                 float(reply[2]))
        return out, read

    def counts(self, cells: Sequence[str]) -> list[int]:
        groups = _by_root(cells)
        calls = [(self._scripts.counts, [index_key(top, "z"), index_key(top, "x")],
                  [self._now_ms, *(bound for i in positions for bound in score_range(cells[i]))])
                 for top, positions in groups.items()]
        out = [0] * len(cells)
        for positions, counts in zip(groups.values(), self._run(calls), strict=True):
            for i, n in zip(positions, counts, strict=True):
                out[i] = int(n)
        return out

    def venues(self, cells: Sequence[str]) -> list[list[Venue]]:
        groups = _by_root(cells)
        calls = [(self._scripts.ranges, [index_key(top, "z")],
                  [bound for i in positions for bound in score_range(cells[i])])
                 for top, positions in groups.items()]
        out: list[list[Venue]] = [[] for _ in cells]
        for positions, members in zip(groups.values(), self._run(calls), strict=True):
            for i, found in zip(positions, members, strict=True):
                out[i] = [Venue.from_member(text(m)) for m in found]
        return out
