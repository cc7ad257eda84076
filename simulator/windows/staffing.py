"""Staffing: how many cashier windows are open in each hour, and who staffs them.

A schedule gives, per hour of the simulated day, the number of open windows and how many of
them a new cashier staffs. A new cashier's own work takes longer: each step's time is
multiplied by the skill multiplier of ``new`` (a trained cashier's is ``trained``, normally
1.0); the insurer's latency is not. New cashiers staff the highest-numbered open windows.

Hours the schedule does not list have no window open, except that after the last listed hour
the windows of that hour stay open until the queue is empty (overtime: a cashier hall does not
close with patients waiting). When the number of windows drops at the full hour, a busy
cashier finishes the current patient first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = ["SKILLS", "Staffing"]

#: The skill levels a scenario names.
SKILLS = ("trained", "new")


@dataclass(frozen=True, slots=True)
class Staffing:
    """Windows and new cashiers per hour from ``first_hour``; skill multipliers (>= 0)."""

    first_hour: int
    windows: tuple[int, ...]
    new: tuple[int, ...]
    skill_trained: float = 1.0
    skill_new: float = 1.0

    @classmethod
    def hourly(
        cls, rows: Mapping[int, tuple[int, int]], skill_trained: float = 1.0, skill_new: float = 1.0
    ) -> Staffing:
        """From ``{hour: (windows, new)}``; hours missing in between have no window open."""
        if not rows:
            return cls(0, (), (), skill_trained, skill_new)
        first, last = min(rows), max(rows)
        hours = range(first, last + 1)
        return cls(
            first,
            tuple(rows.get(h, (0, 0))[0] for h in hours),
            tuple(rows.get(h, (0, 0))[1] for h in hours),
            skill_trained,
            skill_new,
        )

    @property
    def max_windows(self) -> int:
        return max(self.windows, default=0)

    @property
    def last_hour(self) -> int:
        return self.first_hour + len(self.windows) - 1

    def at_hour(self, hour: int) -> tuple[int, int]:
        """(windows, new cashiers) in ``hour``; after the last hour, the last hour's (overtime)."""
        if not self.windows or hour < self.first_hour:
            return 0, 0
        i = min(hour - self.first_hour, len(self.windows) - 1)
        return self.windows[i], self.new[i]

    def changes(self) -> Iterator[tuple[float, int, int]]:
        """(minute, windows, new) at each hour where the staffing changes, in time order."""
        previous: tuple[int, int] | None = None
        for i, (windows, new) in enumerate(zip(self.windows, self.new, strict=True)):
            if (windows, new) != previous:
                yield 60.0 * (self.first_hour + i), windows, new
                previous = (windows, new)

    def window_hours(self) -> int:
        """Window-hours of the schedule (a cost measure; overtime not included)."""
        return sum(self.windows)

    def replace_hours(self, windows: Mapping[int, int], new_share: float) -> Staffing:
        """The same skills with ``windows`` per hour and ``round(windows x new_share)`` new."""
        rows = {h: (n, round(n * new_share)) for h, n in windows.items()}
        return Staffing.hourly(rows, self.skill_trained, self.skill_new)

    @property
    def new_share(self) -> float:
        """The share of window-hours a new cashier staffs."""
        total = sum(self.windows)
        return sum(self.new) / total if total else 0.0
