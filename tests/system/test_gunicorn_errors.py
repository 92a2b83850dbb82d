"""Requests gunicorn refuses before the app sees them are problem documents too (``yurt/core/http/gunicorn_worker.py``).

A real gunicorn on loopback, both worker kinds ``gunicorn.conf.py`` picks, and raw sockets: an oversized request
line (414), too many header fields or one too large (431), a malformed request line, HTTP version or header
name (400). Each answer is ``application/problem+json`` with the usual members and headers, quotes none of the
client's bytes (in the answer or the log), and the server goes on serving.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import orjson
import pytest
import requests

from tests.api.test_hostile_input import SECURITY_HEADERS
from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from tests.harness.gunicorn import GunicornServer
from yurt.core.http.problems import PROBLEM_MEDIA_TYPE

# A position a client put in a request gunicorn refuses: it must be echoed and logged nowhere.
LAT, LON = "51.128207", "71.430411"
CASES = {
    "10,000-character URL": (414, b"GET /v1/missions?q=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"),
    "200 header fields": (431, b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
                               + b"".join(b"X-Field-%d: v\r\n" % i for i in range(200)) + b"\r\n"),
    "20,000-byte header value": (431, b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"v" * 20_000 + b"\r\n\r\n"),
    "garbage request line": (400, b"\x16\x03\x01 GARBAGE <script>\r\n\r\n"),
    "request line with a position": (400, f"GET /v1/missions/nearest?lat={LAT}&lon={LON} HTTP/1.1 junk\r\n"
                                          "Host: t\r\n\r\n".encode()),
    "invalid HTTP version": (400, f"GET /v1/missions/nearest?lat={LAT}&lon={LON} HTTP/7.1\r\n\r\n".encode()),
    "invalid header name": (400, f"GET /healthz HTTP/1.1\r\nHost: t\r\nLat {LAT}: {LON}\r\n\r\n".encode()),
}


@pytest.fixture(scope="module", params=["1", "4"], ids=["sync", "gthread"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    tmp = tmp_path_factory.mktemp("gunicorn-errors")
    env = {"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp / "var"), "YURT_JWT_SECRET": JWT_SECRET,
           "GUNICORN_THREADS": request.param}
    gunicorn = GunicornServer(env, tmp)
    gunicorn.start()
    kind = "ProblemThreadWorker" if request.param != "1" else "ProblemSyncWorker"
    try:
        assert f"Using worker: yurt.core.http.gunicorn_worker.{kind}" in gunicorn.log_tail()
        yield gunicorn
    finally:
        gunicorn.kill()


def send_raw(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as is and read the answer until the server closes: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    assert status_line.startswith("HTTP/1.1 "), status_line
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize("case", CASES)
def test_gunicorn_refusals_are_problems(server: GunicornServer, case: str) -> None:
    status, request = CASES[case]
    got, headers, body = send_raw(server.port, request)
    assert got == status, (case, got, body[:300])
    assert headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert int(headers["content-length"]) == len(body)
    assert headers["connection"] == "close"
    assert headers["cache-control"] == "no-store"
    for name in SECURITY_HEADERS:
        assert headers.get(name.lower()), (case, name)
    problem = orjson.loads(body)
    assert problem["status"] == status
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    assert problem["request_id"] == headers["x-request-id"]
    # The type resolves on this server to the same status.
    assert requests.get(server.url + problem["type"], timeout=5).json()["status"] == status
    # Nothing the client sent comes back, or reaches the log.
    for echoed in (b"GARBAGE", b"<script>", b"X-Field", b"vvvv", b"aaaa", LAT.encode(), LON.encode()):
        assert echoed not in body, (case, echoed)
    log = server.log_tail()
    assert problem["request_id"] in log
    assert LAT not in log and LON not in log and "GARBAGE" not in log


def test_server_keeps_serving_after_refusals(server: GunicornServer) -> None:
    for _, request in CASES.values():
        send_raw(server.port, request)
    for _ in range(3):
        assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
        response = requests.get(server.url + "/v1/missions/nearest?lat=52.5&lon=13.4", timeout=5)
        assert response.status_code == 200, response.text
    status, headers, body = send_raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert status == 200 and orjson.loads(body) == {"status": "ok"}
    assert headers["content-type"] == "application/json"




RAW_QUERIES = {
    "nearest, stray 0xFF": b"/v1/missions/nearest?lat=51.1&lon=\xff",
    "collection filter, stray 0xFE": b"/v1/missions?bbox=\xfe,1,2,3",
    "collection search, raw UTF-8": "/v1/missions?q=Алматы".encode(),
}


@pytest.mark.parametrize("case", RAW_QUERIES)
def test_raw_non_ascii_request_target_is_refused_by_gunicorn(server: GunicornServer, case: str) -> None:
    # A request-target is ASCII (RFC 9112 §3.2, RFC 3986 §2): gunicorn refuses raw non-ASCII bytes before the
    # app, as a problem document. (Behind another WSGI server the app normalises them itself:
    # tests/api/test_hostile_input.py, raw query bytes.)
    got, headers, body = send_raw(server.port, b"GET " + RAW_QUERIES[case] + b" HTTP/1.1\r\nHost: t\r\n"
                                  b"Connection: close\r\n\r\n")
    assert got == 400, (case, got, body[:300])
    assert headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert orjson.loads(body)["status"] == 400
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
