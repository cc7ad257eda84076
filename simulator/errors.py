"""The simulator's exception root. Bad input from a user is raised as a subclass of
:class:`SimulatorError` with a message that says what is wrong and where; the CLI prints it
as one line."""

from __future__ import annotations

__all__ = ["DataFileError", "InvalidArgumentError", "OutputError", "SimulatorError"]


class SimulatorError(Exception):
    """Root of every error the simulator raises on purpose (bad arguments, unreadable files)."""


class InvalidArgumentError(SimulatorError):
    """An argument is out of range or unknown (a count, a rate, a division code, a label)."""


class DataFileError(SimulatorError):
    """A file given to the simulator cannot be read or does not hold what it should."""


class OutputError(SimulatorError):
    """An output file cannot be written (nothing is left behind when this is raised)."""
