"""The insurer's business clock.

Wall time comes from a callable given by the caller (the CLI passes the system clock; tests pass
a fixed or stepping one). The admin API can move the business date (``set_business_date``) and a
fault can skew the clock for some messages; both are offsets over the wall clock, so time keeps
running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta

__all__ = ["BusinessClock", "FixedClock"]


class BusinessClock:
    """``now()`` = wall clock + an offset that the admin API sets (thread-safe)."""

    def __init__(self, wall: Callable[[], datetime]) -> None:
        self._wall = wall
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        offset = self._offset  # one attribute read: atomic; writers replace it whole
        moment = self._wall()
        if offset:
            moment = moment + offset
        return moment if moment.tzinfo is None else moment.replace(tzinfo=None)

    def set_business_date(self, day: date) -> None:
        """From now on the business date is ``day`` (time of day keeps following the wall)."""
        wall = self._wall().replace(tzinfo=None)
        with self._lock:
            self._offset = timedelta(days=(day - wall.date()).days)

    def set_business_time(self, moment: datetime) -> None:
        wall = self._wall().replace(tzinfo=None)
        with self._lock:
            self._offset = moment - wall

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)


class FixedClock:
    """A wall clock for tests and replays: starts at ``start`` and advances ``step`` per read."""

    def __init__(self, start: datetime, step: timedelta = timedelta(0)) -> None:
        self._now = start
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            current = self._now
            self._now = current + self._step
            return current

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta
