"""Bearer tokens: JWTs issued by the app's identity provider, verified here with PyJWT.

HS256 with ``YURT_JWT_SECRET`` (development and tests) or RS256/ES256 with ``YURT_JWT_PUBLIC_KEY_FILE``
(production). Claims: ``sub`` (the caller's id), ``scope`` (space-separated: ``traveller``, ``staff``), ``exp``
(required, and no further from now than ``YURT_JWT_MAX_LIFETIME_S``), and ``iss``/``aud`` when configured.
Missing, expired or bad tokens → 401 problem with ``WWW-Authenticate: Bearer`` (RFC 6750 §3); a valid token
without the scope → 403.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import click
import jwt
from flask import Flask, current_app, g, request
from flask.cli import AppGroup

from yurt.core.http.problems import Problem
from yurt.core.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

MAX_SUB_LENGTH = 128
VERIFIED_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Principal:
    sub: str
    scopes: frozenset[str]
    issued_at_s: float | None = None  # the token's ``iat``, if it has a numeric one (areas: account age)


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._algorithms = list(settings.jwt_algorithms)
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._hmac_key = settings.jwt_secret
        self._max_lifetime_s = settings.jwt_max_lifetime_s
        self._public_key = (Path(settings.jwt_public_key_file).read_text()
                            if settings.jwt_public_key_file else None)
        # Verified tokens, remembered until they expire: the rate limiter and the view both ask, and an app
        # sends the same token for many requests. Only successes are kept, so a bad token costs a check each time.
        self._verified: dict[str, tuple[Principal, float]] = {}

    def _key_for(self, token: str) -> Any:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError:
            raise Problem(401, "the bearer token is malformed", headers=_challenge("invalid_token")) from None
        if algorithm not in self._algorithms:
            raise Problem(401, f"token algorithm {algorithm!r} is not accepted",
                          headers=_challenge("invalid_token"))
        key = self._hmac_key if algorithm == "HS256" else self._public_key
        if not key:
            raise Problem(401, "tokens are not configured on this server", headers=_challenge("invalid_token"))
        return key

    def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None and time.time() < remembered[1]:
            return remembered[0]
        principal, expires_at = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()  # crude but bounded; refilled at one signature check per live token
        self._verified[token] = (principal, expires_at)
        return principal

    def remembered(self, token: str) -> Principal | None:
        """The principal of a token this verifier has verified and that has not expired since, else None; never
        checks a signature (a lean route answers only callers verified before, so a bad token costs no more)."""
        remembered = self._verified.get(token)
        return remembered[0] if remembered is not None and time.time() < remembered[1] else None

    def principal_or_none(self, token: str) -> Principal | None:
        """The token's principal when it verifies, else None (for callers that must not raise)."""
        try:
            return self.verify(token)
        except Problem:
            return None

    def _verify(self, token: str) -> tuple[Principal, float]:
        key = self._key_for(token)
        options: Any = {"require": ["exp", "sub"]}
        try:
            claims = jwt.decode(token, key, algorithms=self._algorithms, issuer=self._issuer,
                                audience=self._audience, options=options, leeway=30)
        except jwt.ExpiredSignatureError:
            raise Problem(401, "the bearer token has expired", headers=_challenge("invalid_token")) from None
        except jwt.PyJWTError as exc:
            raise Problem(401, f"the bearer token is invalid: {exc}", headers=_challenge("invalid_token")) from None
        # PyJWT only checks that exp has not passed: exp = 10^30 (or 10^400, which
        # no float holds) passed, a token that never expires. Refuse any token valid for longer than the maximum
        # lifetime from now, comparing exactly (ints and floats compare without conversion in Python).
        exp = claims["exp"]
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise Problem(401, "the bearer token's exp claim is not a number", headers=_challenge("invalid_token"))
        if exp > time.time() + self._max_lifetime_s:
            raise Problem(401, f"the bearer token's exp is more than {self._max_lifetime_s} s from now "
                               "(YURT_JWT_MAX_LIFETIME_S); ask for a shorter-lived token",
                          headers=_challenge("invalid_token"))
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > MAX_SUB_LENGTH:
            raise Problem(401, "the token's sub claim is missing or too long", headers=_challenge("invalid_token"))
        scope = claims.get("scope", "")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        issued = claims.get("iat")
        issued_at_s = (float(issued) if isinstance(issued, int | float) and not isinstance(issued, bool)
                       and math.isfinite(issued) else None)
        return Principal(sub=sub, scopes=scopes, issued_at_s=issued_at_s), float(exp)


def _challenge(error: str | None = None) -> dict[str, str]:
    value = 'Bearer realm="yurt"'
    if error:
        value += f', error="{error}"'
    return {"WWW-Authenticate": value}


def current_principal(verifier: TokenVerifier, scope: str) -> Principal:
    header = request.headers.get("Authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise Problem(401, "a bearer token is required", headers=_challenge())
    principal = verifier.verify(token.strip())
    if scope not in principal.scopes:
        raise Problem(403, f"this endpoint needs the {scope!r} scope",
                      headers={"WWW-Authenticate": f'Bearer realm="yurt", error="insufficient_scope", scope="{scope}"'})
    return principal


def app_verifier() -> TokenVerifier:
    """The app's verifier, built once by the composition root (``yurt.composition``), which imports this module:
    reading it from the app, not through ``yurt.composition``, keeps the import graph acyclic."""
    return verifier_of(current_app)


def verifier_of(app: Flask) -> TokenVerifier:
    """``app_verifier`` outside a request (a lean route keeps it from its installation)."""
    return cast(TokenVerifier, app.extensions["yurt"].verifier)


def requires(scope: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a view: the verified caller is ``g.principal``. The scope is also the view's declared one:
    ``/openapi.json`` reads it (``required_scope``) for the operation's security, 401 and 403."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            g.principal = current_principal(app_verifier(), scope)
            return view(*args, **kwargs)

        wrapper.__dict__["required_scope"] = scope
        return wrapper

    return decorator


def mint(secret: str, sub: str, scopes: list[str], minutes: float, *, issuer: str | None = None,
         audience: str | None = None, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"sub": sub, "scope": " ".join(scopes), "iat": issued,
                              "exp": issued + int(minutes * 60)}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


tokens_cli = AppGroup("tokens", help="Development bearer tokens.")


@tokens_cli.command("mint", with_appcontext=False)
@click.option("--sub", required=True, help="The caller's id.")
@click.option("--scope", "scopes", multiple=True, default=["traveller"], show_default=True,
              type=click.Choice(["traveller", "staff"]))
@click.option("--minutes", default=60.0, show_default=True, type=click.FloatRange(1, 60 * 24 * 30))
def mint_command(sub: str, scopes: tuple[str, ...], minutes: float) -> None:
    """Print an HS256 token signed with YURT_JWT_SECRET."""
    settings = Settings.from_env()
    if not settings.jwt_secret:
        raise click.UsageError("YURT_JWT_SECRET is not set")
    click.echo(mint(settings.jwt_secret, sub, list(scopes), minutes, issuer=settings.jwt_issuer,
                    audience=settings.jwt_audience))
