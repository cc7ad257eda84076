"""The library of scenarios that ship with cardsettle (``cardsettle scenario list``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from scenarios.loading import load_scenario
from scenarios.model import Scenario

__all__ = ["LIBRARY", "library_path", "library_scenarios"]

LIBRARY = Path(str(resources.files("scenarios.library")))


def library_path(name: str) -> Path | None:
    """The library file of scenario ``name`` (``lost-answer-2207``), or None."""
    path = LIBRARY / f"{name}.yaml"
    return path if path.is_file() else None


def library_scenarios() -> list[Scenario]:
    """Every library scenario, loaded and checked, by file name."""
    return [load_scenario(path) for path in sorted(LIBRARY.glob("*.yaml"))]
