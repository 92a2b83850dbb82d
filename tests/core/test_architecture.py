"""The shape of the code, checked: the dependency rules (import-linter, contracts in ``pyproject.toml``) hold,
every feature package is under them, and no module grows past the size a reader takes in at once."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
YURT = ROOT / "yurt"
MAX_MODULE_LINES = 300


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_import_contracts_are_kept() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:]
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in result.stdout


def test_every_feature_package_is_layered() -> None:
    """A package with an ``http`` part is a feature: it must be a container of the layers contract."""
    features = {f"yurt.{p.parent.parent.name}" for p in YURT.glob("*/http/__init__.py")
                if (p.parent.parent / "service").is_dir() or (p.parent.parent / "stores").is_dir()}
    layered = next(c for c in _contracts() if c["type"] == "layers" and "containers" in c)
    assert features and features == set(layered["containers"])  # type: ignore[arg-type]


def test_no_module_is_too_long() -> None:
    long = {str(p.relative_to(ROOT)): n for p in YURT.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}
