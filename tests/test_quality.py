"""The build's own checks: lint, types, and the one-way import direction of DESIGN.md."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["cardsettle", "simulator", "mock_insurer", "scenarios", "conformance", "loadtests"]

# What each package must never import (DESIGN.md: conformance, loadtests and scenarios use
# simulator and mock_insurer; the reference HIS uses the insurer's client SDK; mock_insurer
# imports nothing of the others; only the CLI sits on top of everything).
FORBIDDEN = {
    "mock_insurer": {"simulator", "scenarios", "conformance", "loadtests", "cardsettle"},
    "simulator": {"scenarios", "conformance", "loadtests", "cardsettle"},
    "scenarios": {"conformance", "loadtests", "cardsettle"},
    "conformance": {"loadtests", "cardsettle"},
    "loadtests": {"conformance", "cardsettle"},
}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imported_roots(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *PACKAGES, "tests", "benchmarks"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
