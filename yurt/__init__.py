"""Yurt Geo: Kazakhstan's missions abroad and compatriots nearby, as an HTTP service.

``create_app`` reads like a table of contents: settings → logging → services → request hooks → blueprints →
error handlers → CLI. Nothing is built at import time.
"""

from __future__ import annotations

from flask import Flask

from yurt.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    from yurt import cli, limits, metrics, observability
    from yurt.api import (
        console,
        docs,
        health,
        meetups,
        mission_reports,
        missions,
        nearest,
        ogc,
        staff,
        traveller_reports,
        travellers,
    )
    from yurt.errors import register_error_handlers
    from yurt.services import build_services

    settings = settings or Settings.from_env()
    observability.configure_logging(settings)

    app = Flask(__name__, static_folder=None)  # no implicit /static route: every route is ours
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False

    app.extensions["yurt"] = build_services(settings)
    observability.init_app(app, settings)
    limits.init_app(app, settings, app.extensions["yurt"].verifier)

    for blueprint in (health.bp, metrics.bp, missions.bp, nearest.bp, ogc.bp, docs.bp,
                      staff.bp, mission_reports.bp, console.bp, travellers.bp, traveller_reports.bp,
                      meetups.bp):
        app.register_blueprint(blueprint)

    register_error_handlers(app)
    cli.init_app(app)
    return app
