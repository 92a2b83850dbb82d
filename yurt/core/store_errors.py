"""What a store tells its callers when it cannot do what was asked; the HTTP layer turns each into a problem.

Shared by every feature's stores (missions, travellers, meetups, reports, alerts), so it lives in the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The largest id or sequence number a store hands out or is asked about (audit entries, mission reports):
# 2^53 - 1, exact in a JSON number for every client (and in Lua's doubles), far below Redis's 2^63 - 1. The API
# range-checks every integer a client sends against it (``yurt.core.http.queries``) before a store sees it.
MAX_ID = 2**53 - 1


class StoreError(Exception):
    """Base class for store outcomes the API turns into problems."""


class NotFound(StoreError):
    pass


class AlreadyExists(StoreError):
    pass


class StalePrecondition(StoreError):
    """If-Match did not match: ``current_etag`` is the version to retry against (None if deleted)."""

    def __init__(self, current_etag: str | None, current: Mapping[str, Any] | None = None) -> None:
        super().__init__("stale precondition")
        self.current_etag = current_etag
        self.current = current


class StoreUnavailable(StoreError):
    """The backing service cannot be reached; writes fail closed with a 503 problem."""
