"""The Rich console every command writes its tables and progress through.

On a terminal Rich takes the terminal's width. Piped or redirected — to a file, through
``| tee`` or ``| less``, in a CI log — it would take 80 columns and squeeze the tables (a drill's
debrief, a plan's comparison) into wrapped cells; there it takes :data:`PIPED_WIDTH` instead,
unless ``COLUMNS`` says otherwise (Rich reads it).
"""

from __future__ import annotations

import os

from rich.console import Console

__all__ = ["PIPED_WIDTH", "new_console"]

PIPED_WIDTH = 160
"""Columns of output that goes to a file or a pipe."""


def new_console(*, stderr: bool = False) -> Console:
    """A console on standard output (or ``stderr``)."""
    made = Console(stderr=stderr)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made = Console(stderr=stderr, width=PIPED_WIDTH)
    return made
