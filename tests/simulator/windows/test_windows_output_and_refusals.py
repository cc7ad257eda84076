"""The simulate table shows who left per hour and says its totals are over all days; a
scenario with no window open, or a mistyped kind, is refused in one line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from cardsettle.cli.windows import simulate
from tests.simulator.windows.conftest import DATA

SMALL = DATA / "small.yaml"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(simulate, ["windows", *(str(a) for a in args)])


def test_table_shows_who_left_and_totals_are_over_all_days(tmp_path: Path) -> None:
    out = tmp_path / "day.json"
    result = run("--scenario", SMALL, "-r", 3, "--workers", 1, "--json", out)
    assert result.exit_code == 0, result.output
    assert "over all 3 simulated days" in result.output and "per day)" in result.output
    assert "balked" in result.output and "reneged" in result.output
    report = orjson.loads(out.read_bytes())
    rows = report["per_hour"]
    assert all("balked" in row and "reneged" in row for row in rows)
    left = sum(row["balked"] + row["reneged"] for row in rows)
    per_day = report["counts_per_replication"]
    assert left == pytest.approx(per_day["balked"] + per_day["reneged"], abs=0.05)
    assert report["counts"]["arrived"] == pytest.approx(3 * per_day["arrived"], abs=0.05)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("staffing: {windows: 0}\n", "staffing.windows: at least 1 window"),
        ('staffing: {hours: {"08": 0, "09": 0}}\n', "staffing.hours: no window open in any hour"),
        ("kinds:\n  ecrt: {share: 0.4}\n", "unknown kind 'ecrt' (a new kind needs steps); did you mean 'ecert'?"),
    ],
)
def test_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text, encoding="utf-8")
    result = run("--scenario", scenario, "--json", tmp_path / "day.json")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "day.json").exists()


def test_a_mistyped_share_option_suggests_the_kind(tmp_path: Path) -> None:
    result = run("--share", "ecrt=0.3", "--json", tmp_path / "day.json")
    assert result.exit_code == 2 and "did you mean 'ecert'?" in result.output
