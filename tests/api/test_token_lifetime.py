"""A bearer token valid for longer than ``YURT_JWT_MAX_LIFETIME_S`` from now is refused (401).

The probe's attack: a token with ``exp`` = 10^30 was accepted, a token that never expires; ``exp`` = 10^400
(no float holds it) answered 500 from the rate limiter's token check. Both are now a 401 problem, at the rate
limiter and at the view, as is an ``exp`` that is not a number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import jwt
import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import JWT_SECRET
from tests.harness.problems import assert_problem
from yurt import create_app
from yurt.core.settings import Settings, SettingsError

DAY_S = 86_400


def token(exp: object, **claims: object) -> dict[str, str]:
    """A token signed with the test secret, its payload written by hand (PyJWT refuses to encode 10^400)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    payload = b64(orjson.dumps({"sub": "long-lived", "scope": "staff", **claims})[:-1] + b',"exp":'
                  + str(exp).encode() + b"}")
    signature = b64(hmac.new(JWT_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return {"Authorization": f"Bearer {header}.{payload}.{signature}"}


@pytest.fixture
def short_app(settings: Settings) -> Flask:
    return create_app(settings.replace(jwt_max_lifetime_s=DAY_S))


@pytest.mark.parametrize("exp", [10**30, 10**400, "1e30", '"1900000000"', "true"])
def test_far_future_or_odd_exp_is_refused(client: FlaskClient, exp: object) -> None:
    for path in ("/v1/dataset", "/v1/audit"):  # the rate limiter checks the token first, then the view
        response = client.get(path, headers=token(exp))
        assert_problem(response, 401)
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_lifetime_is_a_setting(short_app: Flask) -> None:
    client = short_app.test_client()
    now = int(time.time())
    assert client.get("/v1/dataset", headers=token(now + DAY_S - 60)).status_code == 200
    refused = client.get("/v1/dataset", headers=token(now + DAY_S + 60))
    assert "YURT_JWT_MAX_LIFETIME_S" in assert_problem(refused, 401)["detail"]
    # A token minted the ordinary way, one hour long, passes; an expired one is still refused as expired.
    hour = jwt.encode({"sub": "a", "scope": "staff", "exp": now + 3600}, JWT_SECRET, algorithm="HS256")
    assert client.get("/v1/dataset", headers={"Authorization": f"Bearer {hour}"}).status_code == 200
    assert "expired" in assert_problem(client.get("/v1/dataset", headers=token(now - 3600)), 401)["detail"]


def test_default_is_thirty_days_and_parsing_is_strict() -> None:
    assert Settings.from_env({}).jwt_max_lifetime_s == 30 * DAY_S
    assert Settings.from_env({"YURT_JWT_MAX_LIFETIME_S": "3600"}).jwt_max_lifetime_s == 3600
    for bad in ("0", "-1", "1.5", "forever", ""):
        with pytest.raises(SettingsError, match="YURT_JWT_MAX_LIFETIME_S"):
            Settings.from_env({"YURT_JWT_MAX_LIFETIME_S": bad})
