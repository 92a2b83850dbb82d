"""The missions HTTP: thin views (parse → call the service → map its errors to problems).

``service()`` is the feature's ``MissionService``, built once by the composition root and installed under
``app.extensions["yurt.missions"]``; ``problem`` maps the use cases' refusals to problems, and ``refusals`` does it
around a call (with the stores' ``StalePrecondition`` as a 412).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from flask import current_app

from yurt.core.http.preconditions import stale
from yurt.core.http.problems import Problem
from yurt.core.store_errors import StalePrecondition
from yurt.missions.service.errors import Conflict, Invalid, MissionError, Unknown
from yurt.missions.service.mission_service import MissionService

EXTENSION = "yurt.missions"

_STATUS: dict[type[MissionError], int] = {Unknown: 404, Invalid: 422, Conflict: 409}


def service() -> MissionService:
    return cast(MissionService, current_app.extensions[EXTENSION])


def problem(exc: MissionError) -> Problem:
    """The problem for a refusal: 404 unknown, 422 invalid, 409 conflict."""
    return Problem(_STATUS[type(exc)], exc.detail, errors=exc.errors, extra=exc.extra)


@contextmanager
def refusals(what: str = "mission") -> Iterator[None]:
    """Map what the enclosed call refuses to problems; ``what`` names the ETag of a 412 (mission or dataset)."""
    try:
        yield
    except MissionError as exc:
        raise problem(exc) from None
    except StalePrecondition as exc:
        raise stale(exc, what) from None
