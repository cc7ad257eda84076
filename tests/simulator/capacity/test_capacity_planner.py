"""The planner finds the fewest windows per hour meeting the target in every hour; the
comparison shows what card settlement and training change."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.capacity.compare import compare_plans, comparison_data
from simulator.capacity.planner import hour_intervals, plan_windows, staffed
from simulator.errors import InvalidArgumentError
from simulator.windows.runs import run_replications
from simulator.windows.scenario import Scenario, compile_scenario

SEED = 3
REPLICATIONS = 6


def _morning(**changes: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "morning",
        "extends": "none",
        "arrivals": {"per_hour": {"08": 60, "09": 150, "10": 90}},
        "kinds": {
            "card": {"share": 0.7, "steps": ["read", "settle", "pay"], "steps_without_card": ["pay"]},
            "cash": {"share": 0.3, "steps": ["pay"]},
        },
        "steps": {
            "read": {"time": {"dist": "lognormal", "mean": 10, "sd": 5}},
            "settle": {"time": {"dist": "lognormal", "mean": 20, "sd": 10}, "insurer_calls": ["2206", "2207"]},
            "pay": {"time": {"dist": "lognormal", "mean": 40, "sd": 20}},
        },
        "insurer": {"latency": {"dist": "lognormal", "median": 400, "p95": 2000, "unit": "ms"}},
        "staffing": {"skill": {"trained": 1.0, "new": 1.6}, "hours": {"08": 1, "09": 1, "10": 1}},
        "target": {"wait_minutes": 5, "share": 0.9},
    }
    data.update(changes)
    return compile_scenario(data)


@pytest.fixture(scope="module")
def plan() -> Any:
    return plan_windows(_morning(), seed=SEED, replications=REPLICATIONS, workers=2)


def test_plan_meets_the_target_in_every_hour(plan: Any) -> None:
    assert plan.met and plan.unmet_hours == ()
    assert set(plan.windows) == {8, 9, 10}
    data = plan.as_data()
    assert all(row["within_target"] >= 0.9 for row in data["hours"])
    assert data["window_hours"] == sum(plan.windows.values())
    assert plan.windows[9] >= plan.windows[8]  # the peak needs the most


def test_plan_is_minimal(plan: Any) -> None:
    scenario = _morning()
    hours = [8, 9, 10]
    for hour in hours:
        fewer = dict(plan.windows)
        fewer[hour] -= 1
        if fewer[hour] < 1:
            continue
        days = run_replications(staffed(scenario, fewer, 0.0), SEED, REPLICATIONS, workers=2)
        lows = [low for _, low, _ in hour_intervals(days, hours).values()]
        assert min(lows) < 0.9, f"one window fewer at {hour}:00 still meets the target"


def test_plan_scenario_runs_again_with_the_plan(plan: Any) -> None:
    assert plan.scenario.staffing.windows == tuple(plan.windows[h] for h in (8, 9, 10))
    assert plan.scenario.data["staffing"]["hours"]["09"] == plan.windows[9]


def test_a_target_beyond_the_window_cap_is_reported() -> None:
    # a 45-minute insurer outage with stalling windows: only very many windows keep patients
    # from queueing (they wait at the window instead); the cap stops the search
    scenario = _morning(faults=[{"kind": "outage", "start": "09:00", "end": "09:45", "mode": "stall"}])
    plan = plan_windows(scenario, seed=SEED, replications=3, workers=1, max_windows=4)
    assert not plan.met and 9 in plan.unmet_hours
    assert max(plan.windows.values()) <= 4
    assert plan.as_data()["unmet_hours"] == [f"{hour:02d}:00" for hour in plan.unmet_hours]


def test_comparison() -> None:
    plans = compare_plans(_morning(), seed=SEED, replications=4, workers=2)
    data = comparison_data(plans)
    hours = {name: value["window_hours"] for name, value in data["variants"].items()}
    assert hours["no_card_trained"] <= hours["card_trained"] <= hours["card_new"]
    assert hours["no_card_trained"] <= hours["no_card_new"] <= hours["card_new"]
    assert data["card_settlement_adds_window_hours"]["trained"] == hours["card_trained"] - hours["no_card_trained"]
    assert data["training_saves_window_hours"]["with_card"] >= 0
    assert [row["hour"] for row in data["hours"]] == ["08:00", "09:00", "10:00"]


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="new cashiers' share"):
        plan_windows(_morning(), seed=1, replications=2, new_share=1.5)
    with pytest.raises(InvalidArgumentError, match="replications"):
        plan_windows(_morning(), seed=1, replications=0)
