"""``cardsettle generate ...``: synthetic persons, institutions and catalogue."""

from __future__ import annotations

import click

__all__ = ["generate"]


@click.group()
def generate() -> None:
    """Generate synthetic persons, institutions and the catalogue (JSONL)."""
