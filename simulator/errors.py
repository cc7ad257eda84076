"""The simulator's exception root. Bad input from a user is raised as a subclass of
:class:`SimulatorError` with a message that says what is wrong and where; the CLI prints it
as one line."""

from __future__ import annotations

__all__ = ["SimulatorError"]


class SimulatorError(Exception):
    """Root of every error the simulator raises on purpose (bad arguments, unreadable files)."""
