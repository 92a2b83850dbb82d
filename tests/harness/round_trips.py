"""Round trips a redis-py client makes: it sends once per command or pipeline (``send_packed_command``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from redis.connection import AbstractConnection


@dataclass
class RoundTrips:
    count: int = 0


@contextmanager
def counting_round_trips() -> Iterator[RoundTrips]:
    """Count every send of every redis-py connection in this process while the block runs."""
    trips = RoundTrips()
    send = AbstractConnection.send_packed_command

    def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        trips.count += 1
        send(self, command, check_health)

    AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
    try:
        yield trips
    finally:
        AbstractConnection.send_packed_command = send  # type: ignore[method-assign]
