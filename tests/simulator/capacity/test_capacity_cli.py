"""``cardsettle plan windows`` as a user runs it."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner, Result

from cardsettle.cli.windows import plan
from simulator.windows.scenario import load_scenario

SCENARIO = """
name: clinic
extends: none
arrivals: {per_hour: {"08": 40, "09": 80}}
kinds:
  card: {share: 0.7, steps: [card, pay], steps_without_card: [pay]}
  cash: {share: 0.3, steps: [pay]}
steps:
  card: {time: {dist: lognormal, mean: 30, sd: 10}, insurer_calls: ["1101", "2207"]}
  pay: {time: {dist: lognormal, mean: 40, sd: 15}}
insurer: {latency: {dist: fixed, value: 500, unit: ms}}
staffing: {skill: {new: 1.5}, hours: {"08": 1, "09": 1}}
target: {wait_minutes: 5, share: 0.9}
"""


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(plan, ["windows", *(str(a) for a in args)])


def test_plan_with_comparison_plot_and_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "clinic.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "plan.json"
    planned = tmp_path / "planned.yaml"
    result = run("--scenario", scenario, "-r", 4, "--compare", "--json", out, "--plot", tmp_path / "plan.png",
                 "--write-scenario", planned)
    assert result.exit_code == 0, result.output
    assert "window-hours" in result.output and "card settlement adds" in result.output
    document = orjson.loads(out.read_bytes())
    assert document["plan"]["met"] is True
    assert [row["hour"] for row in document["plan"]["hours"]] == ["08:00", "09:00"]
    assert set(document["comparison"]["variants"]) == {"card_trained", "card_new", "no_card_trained", "no_card_new"}
    assert (tmp_path / "plan.png").exists() and (tmp_path / "plan.svg").exists()
    text = planned.read_text(encoding="utf-8")
    assert "'08'" not in text and " 08:" not in text and '"08":' in text  # hours quoted, alike
    again = load_scenario(planned)
    assert again.staffing.windows == tuple(row["windows"] for row in document["plan"]["hours"])


def test_bad_input_one_line(tmp_path: Path) -> None:
    result = run("--target-share", "1.5", "--json", tmp_path / "p.json")
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1
    result = run("--arrival-rate", "30", "--hours", "100", "--json", tmp_path / "p.json")
    assert result.exit_code != 0 and "at most 48" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_target_not_met_in_some_hour_exits_1_with_the_plan_written(tmp_path: Path) -> None:
    """As certify and finance month: the verdict in the exit status, the plan still written
    (docs/windows.md)."""
    scenario = tmp_path / "clinic.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "plan.json"
    result = run("--scenario", scenario, "-r", 2, "--target-wait", 0, "--target-share", 1,
                 "--max-windows", 1, "--json", out)
    assert result.exit_code == 1, result.output
    assert "target NOT met in 08:00, 09:00" in result.output and f"wrote {out}" in result.output
    document = orjson.loads(out.read_bytes())
    assert document["plan"]["met"] is False and document["plan"]["unmet_hours"] == ["08:00", "09:00"]
    assert "Exit 0 when the plan meets the target in every hour; 1 when" in run("--help").output
