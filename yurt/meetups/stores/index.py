"""The embedded meetup store's search index: per resolution-4 root, venues in score order, read by bisection."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence

from yurt.meetups.model.cells import Venue, root_of, score_range
from yurt.meetups.model.search import AheadRead, ReadAhead


class Root:
    """One root's venues by score: parallel lists, so a bisect compares plain ints."""

    __slots__ = ("scores", "venues")

    def __init__(self) -> None:
        self.scores: list[int] = []
        self.venues: list[Venue] = []

    def add(self, at_score: int, venue: Venue) -> None:
        i = bisect.bisect_right(self.scores, at_score)
        self.scores.insert(i, at_score)
        self.venues.insert(i, venue)

    def remove(self, at_score: int, meetup_id: str) -> None:
        i = bisect.bisect_left(self.scores, at_score)
        while self.venues[i].id != meetup_id:
            i += 1
        del self.scores[i], self.venues[i]


class SortedIndex:
    """``CellReader`` over the embedded roots: a cell's venues are one bisected slice of its root."""

    batch_cells = 2  # no round trip: read a little at a time
    def __init__(self, lock: threading.Lock, index: dict[str, Root]) -> None:
        self._lock = lock
        self._index = index
        self._empty = Root()

    def _slice(self, cell: str) -> tuple[Root, int, int]:
        entries = self._index.get(root_of(cell), self._empty)
        lo, hi = score_range(cell)
        return entries, bisect.bisect_left(entries.scores, lo), bisect.bisect_right(entries.scores, hi)

    def survey(self, cells: Sequence[str], ahead: ReadAhead) -> tuple[list[int], AheadRead | None]:
        return self.counts(cells), None  # reads cost no round trip here: nothing to read ahead

    def counts(self, cells: Sequence[str]) -> list[int]:
        with self._lock:
            out = []
            for cell in cells:
                _, first, end = self._slice(cell)
                out.append(end - first)
            return out

    def venues(self, cells: Sequence[str]) -> list[list[Venue]]:
        with self._lock:
            out = []
            for cell in cells:
                entries, first, end = self._slice(cell)
                out.append(entries.venues[first:end])
            return out
