"""The window model's errors: bad scenarios and unreadable latency files.

Both are :class:`simulator.errors.SimulatorError` subclasses, so the CLI prints them as one line.
Each message names the file and the place in it (``kinds.card.share``, ``line 7``) and what is
wrong there.
"""

from __future__ import annotations

from simulator.errors import DataFileError, InvalidArgumentError

__all__ = ["LatencyFileError", "ScenarioError"]


class ScenarioError(InvalidArgumentError):
    """A scenario (YAML file or command-line options) is invalid: the message says where."""


class LatencyFileError(DataFileError):
    """A latency CSV (a load test's measurements) cannot be read or holds no latencies."""
