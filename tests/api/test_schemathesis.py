"""Schemathesis, quick run: every operation of /openapi.json, a few hundred generated cases (positive and
negative), valid tokens for protected operations. No 5xx, and every response as documented (status, content
type, headers, body schema where one is documented). The long run is bench/fuzz_schemathesis.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.fuzz import fuzz_app, run

EXAMPLES_PER_OPERATION = 8


# schemathesis's WSGI transport never closes a response, so static files (the console, Swagger UI assets) leave
# their file handles to the garbage collector; that is the transport's leak, not the service's.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("mode", ["embedded", "redis"])
def test_schemathesis_quick(mode: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    redis_url = request.getfixturevalue("redis_url") if mode == "redis" else None
    with fuzz_app(tmp_path / "var", redis_url) as app:
        report = run(app, EXAMPLES_PER_OPERATION, seed=1)
    print(f"\nschemathesis ({mode}): {report.summary()}")
    assert report.operations >= 40
    assert report.cases >= report.operations * EXAMPLES_PER_OPERATION // 2
    assert not any(status >= 500 for status in report.by_status)
    assert not report.failures, "\n\n".join(report.failures[:5])
