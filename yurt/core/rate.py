"""A hit of the per-client request counter and what it counted: the values the limiter (``yurt.core.limits``)
and the stores that count a hit inside their own round trip hand each other. Pure values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateCharge:
    """One hit of the per-client request counter (``yurt.core.limits``), counted inside a store's own round trip."""

    key: str
    window_s: int
    most: int = 0  # hits the window allows (0: not said): a store may skip work for a request already refused


@dataclass(frozen=True)
class RateCount:
    count: int  # hits in the window, this one included
    ttl_ms: int  # until the window ends
