"""The Rich console every command writes its tables and progress through.

On a terminal Rich takes the terminal's width. Piped or redirected — to a file, through
``| tee`` or ``| less``, in a CI log — it would take 80 columns and squeeze the tables (a drill's
debrief, a plan's comparison) into wrapped cells; there it takes :data:`PIPED_WIDTH` instead,
unless ``COLUMNS`` says otherwise (Rich reads it).

Output whose encoding cannot say every character (a Chinese Windows console redirected to a
file writes GBK, which has no ✓; an ASCII or cp1252 stream has no Chinese) gets ``?`` for what
it cannot say, never a ``UnicodeEncodeError`` that stops the command before its results are
written (:func:`tolerate_narrow_encodings`). Files are always written in UTF-8.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys

from rich.console import Console

__all__ = ["PIPED_WIDTH", "new_console", "tolerate_narrow_encodings"]

PIPED_WIDTH = 160
"""Columns of output that goes to a file or a pipe."""


def new_console(*, stderr: bool = False) -> Console:
    """A console on standard output (or ``stderr``)."""
    made = Console(stderr=stderr)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made = Console(stderr=stderr, width=PIPED_WIDTH)
    return made


def tolerate_narrow_encodings() -> None:
    """Make standard output and error replace what their encoding cannot say (``?``) instead of
    raising; a stream already set to another error policy is left as it is."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(errors="replace")
