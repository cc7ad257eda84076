"""The load tests' one exception root: bad input (an unreadable SLA file, missing data)."""

from __future__ import annotations

__all__ = ["LoadTestError"]


class LoadTestError(Exception):
    """User-facing bad input for a load test: the message says what is wrong and where."""
