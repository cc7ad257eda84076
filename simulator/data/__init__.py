"""Data files of the generator (code tables, name material, distributions, the catalogue).

Each file says in its header where its contents come from. Files are read once per process.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["load_yaml", "read_lines", "read_tsv"]


def _text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@cache
def read_lines(name: str) -> tuple[str, ...]:
    """The non-empty lines of a data file that are not comments (``#``), stripped."""
    lines = (line.strip() for line in _text(name).splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


@cache
def read_tsv(name: str) -> tuple[tuple[str, ...], ...]:
    """The rows of a tab-separated data file (comment lines skipped)."""
    rows = []
    for line in _text(name).splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(tuple(cell.strip() for cell in line.split("\t")))
    return tuple(rows)


@cache
def load_yaml(name: str) -> Any:
    """A YAML data file, parsed (callers must not mutate the result: it is shared)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
    return yaml.load(_text(name), Loader=loader)
