"""What the alerts feature needs of the travellers feature: a traveller's stored cell, and how many travellers
share presence in some cells. The composition root hands in the travellers' implementation (alerts → travellers
is the allowed direction, but a Protocol keeps this feature to the two reads it makes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class Located(Protocol):
    @property
    def cell(self) -> str:
        """The traveller's stored resolution-7 cell (never a finer position)."""
        ...


class Presences(Protocol):
    def get_presence(self, tid: str, now_s: float, /) -> Located | None:
        """The traveller's live presence, or None when they share none."""
        ...

    def occupied(self, index_cells: Sequence[str], now_s: float, /, established_only: bool = ...
                 ) -> Mapping[str, int]:
        """Resolution-7 cell → number of live presences (established ones only if asked), in these
        resolution-5 index cells."""
        ...
