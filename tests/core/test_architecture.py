"""The dependency rule: the domain core imports no web framework, storage client or schema library."""

from __future__ import annotations

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "yurt" / "domain"
FORBIDDEN = {"flask", "werkzeug", "redis", "marshmallow", "gunicorn", "flask_limiter", "prometheus_client"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_imports_no_framework_or_storage() -> None:
    offenders = {}
    for path in sorted(DOMAIN.rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN or (name.startswith("yurt.") and not name.startswith("yurt.domain")):
                offenders.setdefault(path.name, []).append(name)
    assert offenders == {}
    assert len(list(DOMAIN.rglob("*.py"))) >= 5
