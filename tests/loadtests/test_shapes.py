"""The load shapes' plans: what locust is told at each second (pure, no locust import)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.errors import LoadTestError
from loadtests.shapes import (
    ConstantShape,
    DayShape,
    ShapeSettings,
    SoakShape,
    StepShape,
    build_plan,
    offered,
    read_profile,
)


def ticks(plan: object, seconds: list[float]) -> list[object]:
    return [plan.tick_at(s) for s in seconds]  # type: ignore[attr-defined]


def test_constant_holds_the_users_then_stops() -> None:
    plan = ConstantShape(ShapeSettings(duration=10, users=4))
    assert ticks(plan, [0, 5, 9.9, 10]) == [(4, 4.0), (4, 4.0), (4, 4.0), None]


def test_step_climbs_in_equal_steps() -> None:
    plan = StepShape(ShapeSettings(duration=50, users=20, steps=5))
    assert ticks(plan, [0, 9.9, 10, 25, 49, 50]) == [(4, 4.0), (4, 4.0), (8, 4.0), (12, 4.0),
                                                     (20, 4.0), None]


def test_soak_ramps_quickly_and_holds() -> None:
    plan = SoakShape(ShapeSettings(duration=1000, users=30))
    assert ticks(plan, [0, 500, 999, 1000]) == [(30, 0.5), (30, 0.5), (30, 0.5), None]


def test_day_meets_the_arrival_rate_of_each_hour() -> None:
    settings = ShapeSettings(duration=40, users=1, pacing=2.0, peak_rate=5.0,
                             profile=(2, 10, 5, 1))
    plan = DayShape(settings)
    assert plan.rates() == [1.0, 5.0, 2.5, 0.5]
    # windows = ceil(rate x pacing): each window starts one visit every 2 s
    assert plan.users() == [2, 10, 5, 1]
    assert ticks(plan, [0, 10, 19.9, 20, 35, 40]) == [(2, 10.0), (10, 10.0), (10, 10.0),
                                                      (5, 10.0), (1, 10.0), None]


def test_day_peak_defaults_to_users_over_pacing() -> None:
    plan = build_plan("day", ShapeSettings(duration=110, users=12, pacing=3.0))
    assert isinstance(plan, DayShape)
    users = plan.users()
    assert max(users) == 12 and len(users) == len(read_profile())


def test_what_a_plan_offers_is_set_beside_what_was_achieved() -> None:
    """The most windows a shape runs and the visits/s they start (mean over the run)."""
    day = DayShape(ShapeSettings(duration=40, users=1, pacing=2.0, peak_rate=5.0,
                                 profile=(2, 10, 5, 1)))
    assert offered(day) == {"windows (most)": 10, "visits/s (offered)": 18 / 4 / 2.0,
                            "peak visits/s (asked)": 5.0}
    step = StepShape(ShapeSettings(duration=50, users=20, steps=5, pacing=4.0))
    assert offered(step) == {"windows (most)": 20, "visits/s (offered)": 60 / 5 / 4.0}
    constant = ConstantShape(ShapeSettings(users=8, pacing=0.4))
    assert offered(constant) == {"windows (most)": 8, "visits/s (offered)": 20.0}


def test_unknown_shape_and_bad_profile_are_named(tmp_path: Path) -> None:
    with pytest.raises(LoadTestError, match="unknown load shape 'ramp'"):
        build_plan("ramp", ShapeSettings())
    bad = tmp_path / "day.yaml"
    bad.write_text("hours: {'08': -1}\n", encoding="utf-8")
    with pytest.raises(LoadTestError, match="hours must be numbers"):
        read_profile(bad)
