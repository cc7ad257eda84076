"""The scenario package's exceptions: one root, :class:`ScenarioError`.

- :class:`ScenarioFileError` — the scenario file is wrong; ``where`` is the path of the
  offending field (``visits[3].person.card``) and nothing has run.
- :class:`HarnessError` — the harness could not do its part (an insurer or HIS that cannot be
  reached, an admin API that refuses the token, data that cannot be generated): an *error* of
  the run, kept apart from a *failed* expectation (which is an outcome, not an exception).
"""

from __future__ import annotations

__all__ = ["HarnessError", "ScenarioError", "ScenarioFileError"]


class ScenarioError(Exception):
    """Root of the scenario package's errors."""


class ScenarioFileError(ScenarioError):
    """A scenario file that cannot run: ``where`` (a field path, or the file) and why."""

    def __init__(self, source: str, where: str, message: str) -> None:
        self.source = source
        self.where = where
        self.message = message
        place = f"{source}: {where}" if where else source
        super().__init__(f"{place}: {message}")


class HarnessError(ScenarioError):
    """The harness could not do its part of the run (the message says what and where)."""
