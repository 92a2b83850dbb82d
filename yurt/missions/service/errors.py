"""The missions use cases' refusals. Each says why (``detail``), which fields are at fault (``errors``: field
path → messages) and, where a client acts on them, the facts beside it (``extra``). The HTTP layer gives each
kind its status (``yurt.missions.http.problem``); the use cases know nothing of HTTP.

A stale ``If-Match`` is the stores' ``StalePrecondition`` (``yurt.core.store_errors``), raised as it is; an
undo missing its precondition is ``yurt.missions.service.restore_one.PreconditionMissing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MissionError(Exception):
    def __init__(self, detail: str, errors: Mapping[str, list[str]] | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.extra = dict(extra) if extra else None


class Unknown(MissionError):
    """No such mission, or no such audit entry."""


class Invalid(MissionError):
    """The mission, the dataset or its facts break the schema or its rules."""


class Conflict(MissionError):
    """The write contradicts the data as it is (an id taken, an undo that would revert later edits)."""
