"""Alerts over HTTP; the views reach the feature's service through ``service()``."""

from __future__ import annotations

from typing import cast

from flask import current_app

from yurt.alerts.service.alerts import AlertService


def service() -> AlertService:
    """The app's ``AlertService``, built once by the composition root."""
    return cast(AlertService, current_app.extensions["yurt.alerts"])
