"""The missions HTTP: thin views (parse → call the service → map its errors to problems).

``service()`` is the feature's ``MissionService``, built once by the composition root and installed under
``app.extensions["yurt.missions"]``; ``problem`` maps the use cases' refusals to problems.
"""

from __future__ import annotations

from typing import cast

from flask import current_app

from yurt.core.http.problems import Problem
from yurt.missions.service.errors import Conflict, Invalid, MissionError, Unknown
from yurt.missions.service.mission_service import MissionService

EXTENSION = "yurt.missions"

_STATUS: dict[type[MissionError], int] = {Unknown: 404, Invalid: 422, Conflict: 409}


def service() -> MissionService:
    return cast(MissionService, current_app.extensions[EXTENSION])


def problem(exc: MissionError) -> Problem:
    """The problem for a refusal: 404 unknown, 422 invalid, 409 conflict."""
    return Problem(_STATUS[type(exc)], exc.detail, errors=exc.errors, extra=exc.extra)
