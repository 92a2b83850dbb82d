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
from typing import Any

import hypothesis
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import APIOperation

from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from tests.harness.fuzz_rules import own_operation, within_stated_rules
from yurt import create_app
from yurt.core.auth import mint
from yurt.core.settings import Settings


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


# All checks, with the statuses schemathesis expects by default, plus: 412 for a well-formed If-Match that
# names an older version (like 404 and 409, it depends on the state, not on the request's form), and 428 for a
# request without the If-Match it needs (RFC 6585 §3). Rules between values are kept by tests.harness.fuzz_rules.
CONFIG_CHECKS = {
    "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 412, 429]},
    "negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 406, 409, 412, 415, 422, 428, 429]},
    "missing_required_header": {"expected-statuses": [400, 401, 403, 406, 415, 422, 428]},
}
CONFIG = SchemathesisConfig.from_dict({"checks": CONFIG_CHECKS})

STATEFUL_CONFIG = SchemathesisConfig.from_dict({"checks": {**CONFIG_CHECKS, "use_after_free": {"enabled": False}}})


def _tokens() -> dict[str, dict[str, str]]:
    return {scope: {"Authorization": "Bearer " + mint(JWT_SECRET, f"fuzz-{scope}", [scope], 60)}
            for scope in ("traveller", "staff")}


def _headers(operation: APIOperation, tokens: dict[str, dict[str, str]]) -> dict[str, str]:
    scope = str(operation.definition.raw.get("x-scope", ""))  # the scope the operation declares
    # identity: the WSGI transport does not undo the gzip the service answers with when asked for it.
    return {"Accept-Encoding": "identity", **tokens.get(scope, {})}


def run(app: Flask, examples_per_operation: int, *, seed: int = 0) -> FuzzReport:
    # use_after_free is left out here: DELETE /v1/meetups/<id> cancels (the meetup stays readable as cancelled,
    # as documented), and an alert's or mission's history outlives it (the audit trail).
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=STATEFUL_CONFIG)
    tokens = _tokens()
    report = FuzzReport()
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        report.operations += 1
        headers = _headers(operation, tokens)
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE).map(
            within_stated_rules) | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE).map(own_operation)

        check = given(case=strategy)(_checker(report, headers))
        hypothesis.seed(seed)(hypothesis.settings(
            max_examples=examples_per_operation, deadline=None, database=None,
            suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])(check))()
    report.seconds = time.perf_counter() - started
    return report


def run_stateful(app: Flask, scenarios: int, *, seed: int = 0) -> FuzzReport:
    """Sequences of calls along the document's links (create a meetup, alert or mission, then read, change and
    delete it with the id and the ETag it answered), every response checked as in ``run``."""
    # use_after_free is left out here: DELETE /v1/meetups/<id> cancels (the meetup stays readable as cancelled,
    # as documented), and an alert's or mission's history outlives it (the audit trail).
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=STATEFUL_CONFIG)
    tokens = _tokens()
    report = FuzzReport()

    class Scenario(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            within_stated_rules(case)  # a scenario's cases mix modes; each is brought within the stated rules
            case.headers = {**(case.headers or {}), **_headers(case.operation, tokens)}

        def validate_response(self, response: Any, case: schemathesis.Case, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            report.cases += 1
            report.by_status[response.status_code] = report.by_status.get(response.status_code, 0) + 1
            try:
                super().validate_response(response, case, additional_checks, **kwargs)
            except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports every failure
                report.failures.append(f"{case.operation.label}: {type(exc).__name__}: {str(exc)[:600]}")

    started = time.perf_counter()
    # One scenario per run, each from its own seed: the service keeps its state between scenarios, which
    # hypothesis would take for flaky generation if it replayed one against another.
    for n in range(scenarios):
        hypothesis.seed(seed * 1_000_003 + n)(lambda: run_state_machine_as_test(Scenario, settings=hypothesis.settings(
            max_examples=1, deadline=None, database=None, suppress_health_check=list(HealthCheck),
            stateful_step_count=8, phases=[hypothesis.Phase.generate])))()
    report.operations = len(list(schema.get_all_operations()))
    report.seconds = time.perf_counter() - started
    return report
