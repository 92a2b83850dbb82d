"""The alert feature's core (model, geometry, snapshot) imports no web framework, storage client or schema
library, as the domain core does (tests/core/test_architecture.py)."""

from __future__ import annotations

from pathlib import Path

from tests.core.test_architecture import FORBIDDEN, _imports

ALERTS = Path(__file__).resolve().parents[2] / "yurt" / "alerts"
PURE = ("model.py", "geometry.py", "raster.py", "snapshot.py")
PURE_PROJECT_IMPORTS = ("yurt.domain", "yurt.alerts.model", "yurt.alerts.geometry", "yurt.alerts.raster",
                        "yurt.alerts.snapshot")


def test_alert_core_is_pure() -> None:
    offenders = {}
    for name in PURE:
        for imported in _imports(ALERTS / name):
            top = imported.split(".")[0]
            if top in FORBIDDEN or (imported.startswith("yurt.") and not imported.startswith(PURE_PROJECT_IMPORTS)):
                offenders.setdefault(name, []).append(imported)
    assert offenders == {}
