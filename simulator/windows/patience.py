"""Balking and reneging: patients who do not join the queue, or leave it before being called.

- **Balking**: on arrival a patient sees how many are waiting (the number-calling display) and
  may leave at once. A scenario gives steps ``{queue_at_least: N, probability: P}``: the
  probability of the highest step whose ``N`` the queue reaches applies.
- **Reneging**: each patient has a patience (a distribution, minutes); one still waiting when
  it runs out leaves the queue. No patience given = nobody leaves.

Patients who balk or renege are counted, never served, and count as not served within the
wait target. Both rules are assumptions until a hospital measures its own (see docs/windows.md).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["Balking"]


@dataclass(frozen=True, slots=True)
class Balking:
    """Steps of (queue length at least, probability of leaving on arrival), ascending."""

    thresholds: tuple[int, ...]
    probabilities: tuple[float, ...]

    def probability(self, waiting: int) -> float:
        """The probability that a patient who finds ``waiting`` patients queued leaves at once."""
        index = bisect_right(self.thresholds, waiting) - 1
        return self.probabilities[index] if index >= 0 else 0.0

    @property
    def first(self) -> int:
        """The shortest queue at which anybody balks (no draw is needed below it)."""
        return self.thresholds[0] if self.thresholds else 1 << 62
