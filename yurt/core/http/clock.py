"""The request clock: what "now" is for the request being answered. Tests pin it by setting ``g.now`` (an aware
datetime, ``tests/conftest.py``'s ``pin_clock``); otherwise it is the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g


def request_now() -> datetime:
    pinned = g.get("now")
    return pinned if isinstance(pinned, datetime) else datetime.now(UTC)


def request_now_s() -> float:
    """The request clock in epoch seconds."""
    return request_now().timestamp()
