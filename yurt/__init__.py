"""Yurt Geo: Kazakhstan's missions abroad and compatriots nearby, as an HTTP service.

``create_app`` reads like a table of contents: settings → logging → the app → services (the composition root)
→ request hooks → blueprints (app-wide, then one group per feature) → error handlers → CLI. Nothing is built at
import time.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from yurt.core.http.protocol import YurtFlask
from yurt.core.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    from yurt import cli
    from yurt.api import metrics
    from yurt.composition import build_services, install
    from yurt.core import limits, observability
    from yurt.core.http import protocol
    from yurt.core.http.problems import register_error_handlers
    from yurt.core.http.queries import BoundedIntConverter

    settings = settings or Settings.from_env()
    observability.configure_logging(settings)

    app = YurtFlask(__name__, static_folder=None)  # no implicit /static route: every route is ours
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    app.url_map.converters["int"] = BoundedIntConverter  # every <int:…> in a path is bounded, before any store

    install(app, build_services(settings))
    observability.init_app(app, settings, metrics.observe_request)
    protocol.init_app(app, settings.max_body_bytes)  # chunked bodies bounded like sized ones (413)
    limits.init_app(app, settings, app.extensions["yurt"].verifier)

    for blueprint in _blueprints():
        app.register_blueprint(blueprint)

    register_error_handlers(app)
    cli.init_app(app)
    from yurt.missions.http import lean_answers, missions
    from yurt.travellers.http import lean_nearby

    missions.init_app(app)  # lean routes (yurt.core.observability.Front), once every request hook is in place
    lean_answers.init_app(app)
    lean_nearby.init_app(app)
    return app


def _blueprints() -> list[Blueprint]:
    """Every blueprint, in the order routes are matched and documented."""
    from yurt.alerts.http import alerts
    from yurt.alerts.http import travellers as alert_travellers
    from yurt.api import docs, health, metrics
    from yurt.console import http as console
    from yurt.meetups.http import meetups
    from yurt.missions.http import missions, nearest, ogc, quality, staff, staff_audit, staff_tools
    from yurt.reports.http import missions as mission_reports
    from yurt.reports.http import travellers as traveller_reports
    from yurt.travellers.http import travellers

    return [health.bp, metrics.bp, missions.bp, nearest.bp, quality.bp, ogc.bp, docs.bp, staff.bp, staff_tools.bp,
            mission_reports.bp, console.bp, travellers.bp, traveller_reports.bp, meetups.bp, alerts.bp,
            alert_travellers.bp, staff_audit.bp]
