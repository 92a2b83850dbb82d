"""The ``redis`` marker and the conftest agree: the marker names the variable the conftest reads, and every
test of this session that reaches the suite's Redis carries the marker (so ``-m "not redis"`` runs without one)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import REDIS_URL_VARIABLE

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_redis_marker_names_the_variable_the_conftest_reads() -> None:
    markers = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]["markers"]
    (redis_marker,) = [m for m in markers if m.startswith("redis:")]
    assert REDIS_URL_VARIABLE in redis_marker
    assert f"YURT_{REDIS_URL_VARIABLE}" not in redis_marker


def test_redis_selects_exactly_the_redis_cases() -> None:
    """Collected in a child pytest: ``-m redis`` picks the Redis case of a contract and of a fixture-built test,
    ``-m "not redis"`` the embedded and cluster cases (the cluster is a redis-server the test starts itself)."""
    files = ["tests/reports/test_mission_report_store_contract.py", "tests/core/test_markers.py"]

    env = {k: v for k, v in os.environ.items() if k != REDIS_URL_VARIABLE}  # collecting needs no Redis
    # Both children collect side by side, without the installed plugins (hypothesis, schemathesis, anyio: 8 s
    # of imports a child; the marking is the conftest's, and neither file uses them).
    plugins_off = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:schemathesis", "-p", "no:anyio"]
    children = {expression: subprocess.Popen(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *plugins_off, "-m", expression, *files],
        cwd=PYPROJECT.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for expression in ("redis", "not redis")}
    collected: dict[str, set[str]] = {}
    for expression, child in children.items():
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, (expression, out, err)
        collected[expression] = {line.split("::", 1)[1] for line in out.splitlines() if "::" in line}

    contract = ("test_submit_list_and_resolve", "test_rate_limit_per_traveller_with_retry_after")
    assert collected["redis"] == {f"{name}[redis]" for name in contract}
    assert collected["not redis"] == {f"{name}[{kind}]" for name in contract for kind in ("embedded", "cluster")} | {
        "test_the_redis_marker_names_the_variable_the_conftest_reads", "test_redis_selects_exactly_the_redis_cases"}
