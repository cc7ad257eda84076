"""Names of the interface codes the generator writes (``data/code_tables.yaml``; reference fact
sheet §4.1), for summaries and reports."""

from __future__ import annotations

from simulator.data import load_yaml

__all__ = ["code_name"]


def code_name(table: str, code: str) -> str:
    """The Chinese name of ``code`` in ``table`` (e.g. ``insutype``), or ``""`` if unknown."""
    names = load_yaml("code_tables.yaml").get(table, {})
    return str(names.get(code, ""))
