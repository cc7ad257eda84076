"""``cardsettle insurer ...``: the mock insurer center."""

from __future__ import annotations

import click

__all__ = ["insurer"]


@click.group()
def insurer() -> None:
    """The mock insurer center speaking the national interface."""
