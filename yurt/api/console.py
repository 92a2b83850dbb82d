"""The staff web console at ``/staff/``: static HTML, JS and CSS from ``yurt/console/``, no external assets.

The page signs in with a staff bearer token (kept in the tab's ``sessionStorage``) and calls the same staff API
as any client, so the console has no powers of its own. Its Content-Security-Policy allows only this origin, so
the page works offline and cannot load anything from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from yurt.errors import Problem

bp = Blueprint("console", __name__)

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"
ASSETS = frozenset({"app.js", "app.css", "world.json"})
CONSOLE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")


def _serve(name: str, max_age_s: int) -> Response:
    response = send_from_directory(CONSOLE_DIR, name, max_age=max_age_s)
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    return response


@bp.get("/staff/")
def console() -> Response:
    """The staff console (sign in with a staff token)."""
    return _serve("index.html", 0)


@bp.get("/staff/<name>")
def console_asset(name: str) -> Response:
    """The console's own script, style sheet and world outline."""
    if name not in ASSETS:
        raise Problem(404, f"no console asset {name!r}")
    return _serve(name, 300)
