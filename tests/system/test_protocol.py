"""Chunked request bodies are bounded like sized ones (413), and OPTIONS answers 204 with ``Allow``.

Against a real gunicorn, both worker kinds, with raw sockets: the probe sent a chunked body over
``YURT_MAX_BODY_BYTES`` and got a 400 (werkzeug silently cut the stream at the limit and the view parsed half a
document); ``OPTIONS`` answered 200 with an empty ``text/html`` body.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from flask import Flask

from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from tests.harness.gunicorn import GunicornServer
from tests.harness.problems import assert_problem
from tests.system.test_gunicorn_errors import send_raw
from yurt.core.auth import mint
from yurt.core.http.problems import PROBLEM_MEDIA_TYPE

MAX_BODY_BYTES = 4096
ORIGIN = "https://console.yurt.test"
BERLIN = "kz-embassy-de-berlin"
REPORT = b'{"category": "phone", "text": "the main number is disconnected"}'


@pytest.fixture(scope="module", params=["1", "4"], ids=["sync", "gthread"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    tmp = tmp_path_factory.mktemp("protocol")
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp / "var"), "YURT_JWT_SECRET": JWT_SECRET,
           "YURT_MAX_BODY_BYTES": str(MAX_BODY_BYTES), "YURT_CORS_ORIGINS": ORIGIN,
           "GUNICORN_THREADS": request.param}
    gunicorn = GunicornServer(env, tmp)
    gunicorn.start()
    try:
        yield gunicorn
    finally:
        gunicorn.kill()


def chunked(body: bytes, size: int = 1000) -> bytes:
    parts = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def post_chunked(server: GunicornServer, encoded: bytes, sub: str) -> tuple[int, dict[str, str], bytes]:
    token = mint(JWT_SECRET, sub, ["traveller"], 10).encode()
    head = (b"POST /v1/missions/%s/reports HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nAuthorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n"
            % (BERLIN.encode(), token))
    return send_raw(server.port, head + encoded)


def padded(size: int) -> bytes:
    """A valid report body of exactly ``size`` bytes (JSON whitespace after the object)."""
    return REPORT + b" " * (size - len(REPORT))


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 10_000, 1_000_000])
def test_chunked_body_over_the_limit_is_413(server: GunicornServer, size: int) -> None:
    status, headers, body = post_chunked(server, chunked(padded(size)), f"big-{size}")
    assert status == 413, body[:300]
    assert headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert orjson.loads(body)["status"] == 413


@pytest.mark.parametrize("size", [len(REPORT), MAX_BODY_BYTES])
def test_chunked_body_within_the_limit_is_read_whole(server: GunicornServer, size: int) -> None:
    status, _, body = post_chunked(server, chunked(padded(size), 7), f"fits-{size}")
    assert status == 201, body[:300]


def test_malformed_chunk_is_a_400_problem(server: GunicornServer) -> None:
    status, headers, body = post_chunked(server, b"zz\r\n" + REPORT + b"\r\n0\r\n\r\n", "malformed")
    assert status == 400, body[:300]
    assert headers["content-type"] == PROBLEM_MEDIA_TYPE
    status, _, _ = send_raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert status == 200


def test_options_is_204_with_allow_and_preflight_still_works(server: GunicornServer) -> None:
    status, headers, body = send_raw(server.port, b"OPTIONS /v1/missions HTTP/1.1\r\nHost: t\r\n"
                                                  b"Connection: close\r\n\r\n")
    assert (status, body) == (204, b"")
    assert "content-type" not in headers
    assert {m.strip() for m in headers["allow"].split(",")} == {"GET", "HEAD", "OPTIONS", "POST", "PUT"}
    status, headers, body = send_raw(server.port, (
        "OPTIONS /v1/travellers/me/presence HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        f"Origin: {ORIGIN}\r\nAccess-Control-Request-Method: PUT\r\n"
        "Access-Control-Request-Headers: authorization, content-type\r\n\r\n").encode())
    assert (status, body) == (204, b"")
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "PUT" in headers["access-control-allow-methods"]
    assert "PUT" in headers["allow"]


def test_options_on_every_route_is_204_with_its_methods(app: Flask) -> None:
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<int:", "<").replace("<path:", "<")
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "1" if f"<int:{arg}>" in rule.rule else "x")
        response = client.options(path)
        assert response.status_code == 204, (rule.rule, response.status_code)
        assert response.data == b"" and "Content-Type" not in response.headers
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert (rule.methods or set()) <= allowed, rule.rule
    assert_problem(client.options("/no/such/thing"), 404)
