"""Settings: strict parsing, every variable documented in the README, bad values stop start-up."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from yurt.core.settings import RETIRED, SETTINGS, Retired, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_parse() -> None:
    settings = Settings.from_env({})
    assert settings.redis_url is None
    assert settings.max_body_bytes == 1_048_576
    assert settings.jwt_algorithms == ("HS256",)
    assert settings == Settings()  # one default per setting: the class's are parsed from SETTINGS


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"YURT_REDIS_CLUSTER": "ture"}, "YURT_REDIS_CLUSTER"),
        ({"YURT_MAX_BODY_BYTES": "-5"}, "YURT_MAX_BODY_BYTES"),
        ({"YURT_MAX_BODY_BYTES": "1e3"}, "YURT_MAX_BODY_BYTES"),
        ({"YURT_REDIS_TIMEOUT_S": "nan"}, "YURT_REDIS_TIMEOUT_S"),
        ({"YURT_REDIS_TIMEOUT_S": "inf"}, "YURT_REDIS_TIMEOUT_S"),
        ({"YURT_REDIS_URL": "http://localhost:6379"}, "YURT_REDIS_URL"),
        ({"YURT_LOG_LEVEL": "LOUD"}, "YURT_LOG_LEVEL"),
        ({"YURT_JWT_ALGORITHMS": "none"}, "YURT_JWT_ALGORITHMS"),
        ({"YURT_REDIS_ULR": "redis://x"}, "YURT_REDIS_ULR"),
        ({"YURT_REDIS_CLUSTER": "true"}, "YURT_REDIS_CLUSTER"),
        ({"YURT_JWT_PUBLIC_KEY_FILE": "/nonexistent.pem"}, "YURT_JWT_PUBLIC_KEY_FILE"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(name)):
        Settings.from_env(env)


def test_a_cluster_url_implies_cluster_mode() -> None:
    settings = Settings.from_env({"YURT_REDIS_URL": "redis+cluster://127.0.0.1:7000", "YURT_JWT_SECRET": "x" * 40})
    assert settings.redis_cluster is True
    assert settings.redis_url == "redis://127.0.0.1:7000"


def test_booleans_accept_the_usual_spellings() -> None:
    for raw, expected in [("true", True), ("1", True), ("Yes", True), ("off", False), ("0", False)]:
        env = {"YURT_REDIS_CLUSTER": raw, "YURT_REDIS_URL": "redis://127.0.0.1:7000"}
        assert Settings.from_env(env).redis_cluster is expected


@pytest.mark.parametrize("retired", RETIRED, ids=lambda r: r.env)
def test_a_retired_setting_is_accepted_for_one_release_with_a_warning(retired: Retired) -> None:
    """A deployment that still sets it starts, told what to remove and why; any value, since it is ignored."""
    with pytest.warns(FutureWarning, match=rf"^{retired.env} is deprecated and ignored; remove it \(refused from "
                                           rf"{re.escape(retired.refused_from)} on\): .+") as caught:
        settings = Settings.from_env({retired.env: "whatever it was", "YURT_MAX_BODY_BYTES": "2048"})
    assert len(caught) == 1
    assert settings == Settings(max_body_bytes=2048)
    assert retired.env not in {s.env for s in SETTINGS}
    with pytest.raises(SettingsError, match="YURT_CACHE_ENABLD: unknown setting"):
        Settings.from_env({retired.env: "1", "YURT_CACHE_ENABLD": "1"})  # a typo is still refused


def test_retired_settings_are_in_the_readme_table_as_deprecated() -> None:
    rows = {line.split("|")[1].strip(): line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| `YURT_")}
    for retired in RETIRED:
        assert f"`{retired.env}`" in rows, retired.env
        assert f"Deprecated, ignored; refused from {retired.refused_from}" in rows[f"`{retired.env}`"]


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in readme]
    assert missing == []


def test_every_setting_is_a_field() -> None:
    fields = set(Settings.__dataclass_fields__)
    assert {s.attr for s in SETTINGS} <= fields


def test_start_up_refuses_bad_config() -> None:
    """The real entry point (wsgi.py) exits with the variable's name, before serving anything."""
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "YURT_MAX_BODY_BYTES": "lots"},
    )
    assert result.returncode != 0
    assert "YURT_MAX_BODY_BYTES" in result.stderr
