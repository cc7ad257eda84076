"""The planner accepts an hour only when the lower bound of its share's 95% interval meets
the target, shows the intervals, and warns when there are few replications."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from cardsettle.cli.windows import plan as plan_group
from simulator.capacity.planner import CRITERION, hour_intervals, hour_shares, plan_windows
from simulator.windows.runs import run_replications
from simulator.windows.stats import mean_ci
from tests.simulator.capacity.test_capacity_cli import SCENARIO
from tests.simulator.capacity.test_capacity_planner import _morning

SEED = 5


def test_hour_intervals_are_student_t_over_the_replications_clipped() -> None:
    scenario = _morning()
    days = run_replications(scenario, SEED, 8, workers=1)
    hours = [8, 9, 10]
    intervals = hour_intervals(days, hours)
    pooled = hour_shares(days, hours)
    for hour in hours:
        share, low, high = intervals[hour]
        assert share == pooled[hour]
        per_day = [row.within / sum(row.counts) for day in days if (row := day.hours.get(hour)) and sum(row.counts)]
        _, raw_low, raw_high = mean_ci(per_day)
        assert low == pytest.approx(max(0.0, raw_low)) and high == pytest.approx(min(1.0, raw_high))
        assert 0.0 <= low <= high <= 1.0
    one = hour_shares(days[:1], hours)[9]
    assert hour_intervals(days[:1], hours)[9] == (one, one, one)  # one replication: no interval


def test_every_planned_hour_meets_the_target_by_its_lower_bound() -> None:
    plan = plan_windows(_morning(), seed=SEED, replications=10, workers=1)
    data = plan.as_data()
    assert data["criterion"] == CRITERION
    for row in data["hours"]:
        low, high = row["within_target_ci95"]
        assert row["met"] is True and low >= 0.9 - 1e-4 and low <= row["within_target"] <= high
    assert plan.met and plan.unmet_hours == ()


def test_plan_shows_intervals_and_warns_below_20_replications(tmp_path: Path) -> None:
    scenario = tmp_path / "clinic.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(plan_group, ["windows", "--scenario", str(scenario), "-r", "4", "--json", str(out)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: -r 4 is below 20")]
    assert len(warnings) == 1
    assert "95% CI" in result.stdout and "lower bound" in result.stdout
    rows = orjson.loads(out.read_bytes())["plan"]["hours"]
    assert all(len(row["within_target_ci95"]) == 2 for row in rows)
    result = CliRunner().invoke(
        plan_group, ["windows", "--scenario", str(scenario), "-r", "20", "--quiet", "--json", str(out)])
    assert result.exit_code == 0 and "warning" not in result.output
