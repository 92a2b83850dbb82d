"""Instants as the service writes them: RFC 3339 in UTC with a ``Z`` (``2026-03-21T14:00:00Z``).

One function for every answer, audit entry and log member that carries a time, so they all read alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

Precision = Literal["auto", "seconds", "milliseconds"]


def utc_iso(instant: datetime | float, timespec: Precision = "seconds") -> str:
    """``instant`` (an aware datetime, or epoch seconds) in UTC; ``timespec`` as ``datetime.isoformat`` takes it."""
    moment = datetime.fromtimestamp(instant, UTC) if isinstance(instant, int | float) else instant.astimezone(UTC)
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def utc_now_iso() -> str:
    """Now, to the millisecond: the time stamp of an audit entry."""
    return utc_iso(datetime.now(UTC), "milliseconds")
