"""``cardsettle demo``: the main job on embedded defaults."""

from __future__ import annotations

import click

__all__ = ["demo"]


@click.command()
def demo() -> None:
    """Run the main job on embedded defaults."""
