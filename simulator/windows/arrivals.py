"""Arrivals at the cashier hall: a non-homogeneous Poisson process from an hourly profile.

Time is **simulated minutes since 00:00 of the simulated day** (hour ``h`` covers minutes
``[60h, 60h + 60)``). A profile gives the expected number of patients arriving in each hour
(the count a HIS can report per hour of a typical day); hours the profile does not list in
between get none. Two shapes of the intensity inside the day:

- ``step`` (default): constant within each hour, so each hour's expected count is exactly its
  profile value;
- ``smooth``: piecewise linear through the middle of each hour (no jump at the full hour); the
  day's total is about the same, an hour's count moves towards its neighbours'.

Arrival times are drawn by Lewis-Shedler thinning: candidates from a homogeneous Poisson
process at each hour's majorant (the largest intensity the hour can reach), each kept with
probability intensity / majorant. For the ``step`` shape the majorant is the intensity itself
and every candidate is kept. A constant rate over a long horizon (an M/M/c run) is a profile
with the same value in every hour.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = ["SHAPES", "ArrivalProfile", "arrival_times"]

SHAPES = ("step", "smooth")


@dataclass(frozen=True, slots=True)
class ArrivalProfile:
    """Expected arrivals per hour for consecutive hours from ``first_hour``; rates per minute."""

    first_hour: int
    per_hour: tuple[float, ...]
    shape: str = "step"

    @classmethod
    def hourly(cls, per_hour: Mapping[int, float], shape: str = "step") -> ArrivalProfile:
        """A profile from ``{hour: expected arrivals in that hour}`` (hours missing between = 0)."""
        if not per_hour:
            return cls(0, (), shape)
        first, last = min(per_hour), max(per_hour)
        return cls(first, tuple(float(per_hour.get(h, 0.0)) for h in range(first, last + 1)), shape)

    @classmethod
    def constant(cls, rate_per_hour: float, hours: int, first_hour: int = 0) -> ArrivalProfile:
        """The same expected arrivals in each of ``hours`` hours (an M/M/c run)."""
        return cls(first_hour, (float(rate_per_hour),) * hours, "step")

    @property
    def start(self) -> float:
        """Minute of the first arrival hour's start."""
        return 60.0 * self.first_hour

    @property
    def end(self) -> float:
        """Minute after which nobody arrives (the end of the last hour)."""
        return 60.0 * (self.first_hour + len(self.per_hour))

    @property
    def hours(self) -> range:
        return range(self.first_hour, self.first_hour + len(self.per_hour))

    @property
    def expected_total(self) -> float:
        """Expected arrivals of the whole profile (exact for ``step``)."""
        return math.fsum(self.per_hour)

    @property
    def is_constant(self) -> bool:
        return len(set(self.per_hour)) == 1

    def _rate(self, i: int) -> float:
        """Intensity of hour index ``i`` (per minute); 0 outside the profile."""
        return self.per_hour[i] / 60.0 if 0 <= i < len(self.per_hour) else 0.0

    def rate_at(self, t: float) -> float:
        """The intensity at minute ``t``, patients per minute."""
        i = math.floor(t / 60.0) - self.first_hour
        if not 0 <= i < len(self.per_hour):
            return 0.0
        if self.shape == "step":
            return self._rate(i)
        position = t / 60.0 - self.first_hour - i  # 0..1 within the hour
        if position < 0.5:
            neighbour = self._rate(i - 1) if i > 0 else self._rate(i)
            weight = 0.5 - position
        else:
            neighbour = self._rate(i + 1) if i + 1 < len(self.per_hour) else self._rate(i)
            weight = position - 0.5
        return self._rate(i) + (neighbour - self._rate(i)) * weight

    def majorant(self, i: int) -> float:
        """An upper bound of the intensity over hour index ``i`` (per minute)."""
        if self.shape == "step":
            return self._rate(i)
        return max(self._rate(j) for j in (i - 1, i, i + 1) if 0 <= j < len(self.per_hour))


def arrival_times(profile: ArrivalProfile, rng: random.Random) -> Iterator[float]:
    """Arrival times (minutes, increasing) of one day, drawn by thinning with ``rng``."""
    rate_at = profile.rate_at
    random_ = rng.random
    log = math.log
    thin = profile.shape != "step"
    for i in range(len(profile.per_hour)):
        majorant = profile.majorant(i)
        if majorant <= 0:
            continue
        t = 60.0 * (profile.first_hour + i)
        end = t + 60.0
        scale = 1.0 / majorant
        while True:
            t -= log(1.0 - random_()) * scale
            if t >= end:
                break  # memoryless: the next hour starts afresh at its own majorant
            if thin and random_() * majorant > rate_at(t):
                continue
            yield t
