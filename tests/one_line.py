"""What every command's bad input must look like: one line, ``Error: ...``, no traceback."""

from __future__ import annotations

from click.testing import Result

__all__ = ["one_error_line"]


def one_error_line(result: Result) -> str:
    """The one ``Error: ...`` line of a refused command (fails the test on a crash)."""
    crashed = isinstance(result.exception, Exception) and not isinstance(result.exception,
                                                                         SystemExit)
    assert not crashed, result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]
