"""Histogram observations and counter increments written straight into prometheus_client's multiprocess files,
as its own ``MmapedValue.inc`` writes them, at about a third of the cost.

Per increment, ``MmapedValue.inc`` takes the module's lock, asks the kernel for the process id (``getpid``) to
notice a fork, looks the sample's key up in its file's positions and packs the value into the mapped file; a
histogram's ``observe`` does it twice (its sum and one bucket, found by a loop over the bounds). Together, with
the counter of a result cache, a tenth of a cheap request. Here a labelled child's values are bound once to
their positions in the file; an observation finds its bucket by bisection and, under the same lock, adds to the
values and writes them at those positions. A fork is noticed by ``os.register_at_fork``, not a system call per
sample: the first observation in the child lets prometheus_client reopen its files (its own pid check), then
binds again.

Nothing is batched: every observation is in the mapped file when ``observe`` returns, as before, so a SIGKILLed
worker loses no sample it had counted. The in-memory value each ``MmapedValue`` keeps is updated too, so a
sample written here and one written by prometheus_client itself (``child.observe`` elsewhere, a test) add up.
What is read from prometheus_client is private (``_value``, ``_file``, ``_key``, the lock in ``inc``'s
closure; pinned version in requirements.txt): when any of it is missing, and without multiprocess mode, the
child's own ``observe``/``inc`` is used. ``tests/core/test_mmap_values.py`` compares the scraped text with what
prometheus_client's own path gives, across two processes.
"""

from __future__ import annotations

import os
import struct
from bisect import bisect_left
from typing import Any

_PACK = struct.Struct("dd").pack  # value, timestamp: MmapedDict's layout (timestamp 0.0 for counters)


class _Forks:
    generation = 0  # bumped in every forked child: a bound position may belong to the parent's file


def _forked() -> None:
    _Forks.generation += 1


os.register_at_fork(after_in_child=_forked)


def _mmap_lock(value: Any) -> Any:
    """The lock ``MmapedValue.inc`` takes (a cell of its closure), or None if this is not that class."""
    if not getattr(value, "_multiprocess", False):
        return None
    inc = type(value).inc
    cells = dict(zip(inc.__code__.co_freevars, inc.__closure__ or (), strict=False))
    cell = cells.get("lock")
    if cell is None or not all(hasattr(value, name) for name in ("_value", "_file", "_key")):
        return None
    return cell.cell_contents


class _Bound:
    """``MmapedValue`` objects of one child and their positions in their mapped file."""

    def __init__(self, targets: list[Any], lock: Any) -> None:
        self._targets = targets
        self._lock = lock
        self._generation = -1
        self._positions: list[int] = []

    def _bind(self) -> None:
        self._targets[0].get()  # prometheus_client's pid check: after a fork it reopens every value's file
        with self._lock:
            self._positions = [t._file._positions[t._key] for t in self._targets]
        self._generation = _Forks.generation

    def add(self, index: int, amount: float) -> None:
        """Adds ``amount`` to target ``index``, as its ``inc`` would."""
        if self._generation != _Forks.generation:
            self._bind()
        target, at = self._targets[index], self._positions[index]
        with self._lock:
            target._value += amount
            target._file._m[at:at + 16] = _PACK(target._value, 0.0)

    def add2(self, index: int, amount: float, index2: int, amount2: float) -> None:
        """``add(index, amount)`` then ``add(index2, amount2)``, under one lock."""
        if self._generation != _Forks.generation:
            self._bind()
        first, second = self._targets[index], self._targets[index2]
        at, at2 = self._positions[index], self._positions[index2]
        with self._lock:
            first._value += amount
            first._file._m[at:at + 16] = _PACK(first._value, 0.0)
            second._value += amount2
            second._file._m[at2:at2 + 16] = _PACK(second._value, 0.0)


class FastHistogram:
    """``observe`` of a labelled histogram child (sum, then one bucket: ``Histogram.observe``'s order)."""

    def __init__(self, child: Any) -> None:
        self._child = child
        self._bounds = list(child._upper_bounds)
        lock = _mmap_lock(child._sum)
        self._bound = _Bound([child._sum, *child._buckets], lock) if lock is not None else None

    def observe(self, amount: float) -> None:
        if self._bound is None:
            self._child.observe(amount)
        else:  # the first bound >= amount: Histogram.observe's ``amount <= bound``; +Inf ends the list
            self._bound.add2(0, amount, 1 + bisect_left(self._bounds, amount), 1.0)


class FastCounter:
    """``inc(1)`` of a labelled counter child."""

    def __init__(self, child: Any) -> None:
        self._child = child
        lock = _mmap_lock(child._value)
        self._bound = _Bound([child._value], lock) if lock is not None else None

    def inc(self) -> None:
        if self._bound is None:
            self._child.inc()
        else:
            self._bound.add(0, 1.0)

