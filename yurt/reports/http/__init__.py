"""Reports over HTTP; the views reach the feature's service through ``service()``."""

from __future__ import annotations

from typing import cast

from flask import current_app

from yurt.reports.service.reports import ReportService


def service() -> ReportService:
    """The app's ``ReportService``, built once by the composition root."""
    return cast(ReportService, current_app.extensions["yurt.reports"])
