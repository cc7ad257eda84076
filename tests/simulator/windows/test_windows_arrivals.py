"""Arrivals: the hourly profile is what a HIS reports, and thinning keeps the day's shape."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from simulator.windows.arrivals import ArrivalProfile, arrival_times

PROFILE = {7: 60.0, 8: 300.0, 9: 450.0, 10: 0.0, 11: 120.0}


def _hourly(profile: ArrivalProfile, days: int) -> Counter[int]:
    counts: Counter[int] = Counter()
    for day in range(days):
        for t in arrival_times(profile, random.Random(day)):
            counts[int(t // 60)] += 1
    return counts


def test_step_profile_gives_each_hour_its_count() -> None:
    days = 200
    counts = _hourly(ArrivalProfile.hourly(PROFILE), days)
    for hour, expected in PROFILE.items():
        assert counts[hour] / days == pytest.approx(expected, rel=0.03, abs=0.5)
    assert set(counts) <= set(PROFILE)


def test_times_increase_and_stay_in_the_profile() -> None:
    profile = ArrivalProfile.hourly(PROFILE)
    times = list(arrival_times(profile, random.Random(1)))
    assert times == sorted(times)
    assert profile.start <= times[0] and times[-1] < profile.end


def test_smooth_profile_thins_but_keeps_the_day_total() -> None:
    profile = ArrivalProfile.hourly(PROFILE, shape="smooth")
    days = 200
    counts = _hourly(profile, days)
    total = sum(counts.values()) / days
    # smoothing moves arrivals between neighbouring hours; the edges lose a little
    assert total == pytest.approx(sum(PROFILE.values()), rel=0.08)
    # no jump at the full hour: the rate half an hour before 09:00 is between 08's and 09's
    assert PROFILE[8] / 60 < profile.rate_at(9 * 60 - 1) < PROFILE[9] / 60
    # hour 10 has no arrivals of its own but gets some from its neighbours
    assert counts[10] > 0


def test_same_stream_same_arrivals() -> None:
    profile = ArrivalProfile.hourly(PROFILE)
    assert list(arrival_times(profile, random.Random(9))) == list(arrival_times(profile, random.Random(9)))


def test_constant_profile() -> None:
    profile = ArrivalProfile.constant(30, hours=100)
    assert profile.is_constant and profile.end == 6000
    n = sum(1 for _ in arrival_times(profile, random.Random(2)))
    assert n == pytest.approx(3000, rel=0.06)
