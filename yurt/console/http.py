"""The staff web console at ``/staff/``: static HTML, JS and CSS from ``yurt/console/``, no external assets.

The page signs in with a staff bearer token (kept in the tab's ``sessionStorage``) and calls the same staff API
as any client, so the console has no powers of its own. Its Content-Security-Policy allows only this origin, so
the page works offline and cannot load anything from elsewhere. The map is Leaflet (``vendor/leaflet-<v>/``,
committed from npm) over ``world.json`` (Natural Earth country outlines, ``tools/make_world_outline.py``).

Assets are the files under ``yurt/console/`` with a known suffix, listed once; each is answered with a strong
ETag (304 on revalidation) and gzip when the client accepts it (the outline is 1.4 MB, 0.4 MB gzipped).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response

from yurt.core.http.conventions import conditional
from yurt.core.http.problems import Problem

bp = Blueprint("console", __name__)

CONSOLE_DIR = Path(__file__).resolve().parent
SUFFIXES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json",
            ".png": "image/png"}
CONSOLE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
MAX_AGE_S = 300


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    mimetype: str
    etag: str


@lru_cache(maxsize=1)
def assets() -> dict[str, Asset]:
    """Every servable file by its path under ``/staff/``, read once (the folder ships with the code)."""
    found: dict[str, Asset] = {}
    for path in sorted(CONSOLE_DIR.rglob("*")):
        mimetype = SUFFIXES.get(path.suffix)
        if not path.is_file() or mimetype is None:
            continue
        body = path.read_bytes()
        compressible = mimetype != "image/png" and len(body) > 1024
        found[path.relative_to(CONSOLE_DIR).as_posix()] = Asset(
            body, gzip.compress(body, mtime=0) if compressible else None,
            mimetypes.types_map.get(path.suffix, mimetype), f'"{hashlib.sha256(body).hexdigest()[:20]}"')
    return found


def _serve(name: str, cache_control: str) -> Response:
    asset = assets().get(name)
    if asset is None:
        raise Problem(404, f"no console asset {name!r}")
    response = conditional(asset.etag, asset.body, gzipped=asset.gzipped, mimetype=asset.mimetype,
                           cache_control=cache_control)
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    return response


@bp.get("/staff/")
def console() -> Response:
    """The staff console (sign in with a staff token)."""
    return _serve("index.html", "no-cache")


@bp.get("/staff/<path:name>")
def console_asset(name: str) -> Response:
    """The console's scripts, style sheets, map library and world outline."""
    return _serve(name, f"public, max-age={MAX_AGE_S}")
