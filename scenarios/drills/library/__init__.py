"""The drill library (``cardsettle drill list``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from scenarios.drills.loading import load_drill
from scenarios.drills.model import Drill

__all__ = ["DRILLS", "drill_path", "library_drills"]

DRILLS = Path(str(resources.files("scenarios.drills.library")))


def drill_path(name: str) -> Path | None:
    path = DRILLS / f"{name}.yaml"
    return path if path.is_file() else None


def library_drills() -> list[Drill]:
    return [load_drill(path) for path in sorted(DRILLS.glob("*.yaml"))]
