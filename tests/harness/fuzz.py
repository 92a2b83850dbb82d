"""Schemathesis over every operation of ``/openapi.json``, in-process (WSGI), with valid tokens where needed.

Shared by the quick run in the suite (tests/api/test_schemathesis.py) and the long one (bench/fuzz_schemathesis.py).
Each operation gets ``examples_per_operation`` generated cases (positive and negative data); each case is sent
with a bearer token carrying the scope the operation documents, and checked by schemathesis: no 5xx, status
codes, content types, headers and bodies as documented. Failures are collected, not raised at the first, so
one run reports them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from yurt import create_app
from yurt.api.docs import SECURED
from yurt.auth import mint
from yurt.settings import Settings


@dataclass
class FuzzReport:
    cases: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    operations: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.by_status.items()))
        return (f"{self.cases} cases over {self.operations} operations in {self.seconds:.1f} s "
                f"(statuses {statuses}); {len(self.failures)} failures")


@contextmanager
def fuzz_app(data_dir: Path, redis_url: str | None = None) -> Iterator[Flask]:
    settings = Settings(data_file=FIXTURE_DATASET, data_dir=data_dir, jwt_secret=JWT_SECRET, log_level="ERROR",
                        rate_limit="1000000/minute", redis_url=redis_url)
    app = create_app(settings)
    try:
        yield app
    finally:
        app.extensions["yurt"].close()


def _checker(report: FuzzReport, headers: dict[str, str]) -> Callable[[schemathesis.Case], None]:
    def check(case: schemathesis.Case) -> None:
        report.cases += 1
        try:
            response = case.call_and_validate(headers=headers)
            status = response.status_code
        except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports every failure
            status = -1
            report.failures.append(f"{case.operation.label}: {type(exc).__name__}: {str(exc)[:600]}")
        report.by_status[status] = report.by_status.get(status, 0) + 1

    return check


# Schema-valid requests the service may still refuse, for rules OpenAPI 3.0 cannot state: 400 for rules across
# query parameters or inside one (lat with lon or country alone; a bbox's ranges and size), 412 for an If-Match
# that is well formed but not the current ETag, 422 for rules across body fields (a meetup ends after it
# starts; a Point has [lon, lat]) and 428 for a weak or '*' If-Match.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2XX", "3XX", 400, 401, 403, 404, 409, 412, 422, 428, 429]}}})


def run(app: Flask, examples_per_operation: int, *, seed: int = 0) -> FuzzReport:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG)
    tokens = {scope: {"Authorization": "Bearer " + mint(JWT_SECRET, f"fuzz-{scope}", [scope], 60)}
              for scope in ("traveller", "staff")}
    report = FuzzReport()
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        report.operations += 1
        endpoint = str(operation.definition.raw.get("operationId", "")).rsplit(".", 1)[0]
        # identity: the WSGI transport does not undo the gzip the service answers with when asked for it.
        headers = {"Accept-Encoding": "identity", **tokens.get(SECURED.get(endpoint, ""), {})}
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | operation.as_strategy(
            generation_mode=GenerationMode.NEGATIVE)

        check = given(case=strategy)(_checker(report, headers))
        hypothesis.seed(seed)(hypothesis.settings(
            max_examples=examples_per_operation, deadline=None, database=None,
            suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])(check))()
    report.seconds = time.perf_counter() - started
    return report
