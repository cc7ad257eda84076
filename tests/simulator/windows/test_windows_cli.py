"""``cardsettle simulate windows`` as a user runs it: outputs, the M/M/c form with Erlang C
beside it, reproducibility, and bad input as one line with a non-zero exit and no file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from cardsettle.cli.windows import simulate
from tests.one_line import one_error_line
from tests.simulator.windows.conftest import DATA

SMALL = DATA / "small.yaml"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(simulate, ["windows", *(str(a) for a in args)])


def test_help() -> None:
    result = run("--help")
    assert result.exit_code == 0 and "--scenario" in result.output and "--no-abandon" in result.output


def test_day_run_writes_json_and_pictures(tmp_path: Path) -> None:
    out = tmp_path / "out" / "day.json"
    result = run("--scenario", SMALL, "-r", 3, "--workers", 1, "--json", out, "--plot", tmp_path / "out" / "day.png")
    assert result.exit_code == 0, result.output
    assert "mean wait" in result.output and "08:00" in result.output
    report = orjson.loads(out.read_bytes())
    assert report["replications"] == 3 and report["erlang_c"] is None
    assert [row["hour"] for row in report["per_hour"]][:3] == ["08:00", "09:00", "10:00"]
    assert (tmp_path / "out" / "day.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "day.svg").read_bytes().startswith(b"<?xml")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["day.json", "day.png", "day.svg"]


def test_same_seed_same_json(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run("--scenario", SMALL, "-r", 2, "--seed", 5, "--json", a, "-q").exit_code == 0
    result = run("--scenario", SMALL, "-r", 2, "--seed", 5, "--workers", 1, "--json", b, "--quiet")
    assert result.exit_code == 0 and result.output == ""
    assert a.read_bytes() == b.read_bytes()


def test_mmc_run_has_erlang_c_beside(tmp_path: Path) -> None:
    out = tmp_path / "mmc.json"
    result = run("--arrival-rate", 60, "--hours", 2000, "--service-mean", 2.5, "--windows", 3, "--no-abandon",
                 "--warmup", 600, "-r", 2, "--json", out)
    assert result.exit_code == 0, result.output
    assert "Erlang C: mean wait" in result.output
    report = orjson.loads(out.read_bytes())
    assert report["scenario"]["mmc"] is True and report["per_hour"] is None
    erlang = report["erlang_c"]
    assert erlang["utilization"] == pytest.approx(60 / 60 * 2.5 / 3)
    assert set(report["wait_minutes"]) >= {"mean", "ci95", "p50", "p90", "p95"}
    assert abs(erlang["relative_difference"]["wait_mean"]) < 0.15  # the exact 3% check is test_windows_erlang


def test_mmc_hint_when_abandonment_is_left_on(tmp_path: Path) -> None:
    result = run("--arrival-rate", 60, "--hours", 50, "--service-mean", 2.5, "--windows", 3, "-r", 1,
                 "--json", tmp_path / "x.json")
    assert result.exit_code == 0, result.output
    assert "not an M/M/c run" in result.output


def test_latency_csv_option(tmp_path: Path) -> None:
    out = tmp_path / "lat.json"
    result = run("--scenario", SMALL, "-r", 1, "--latency-csv", DATA / "stats_history.csv", "--latency-name", "2207",
                 "--json", out, "-q")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arrival-rate", "-5"], "--arrival-rate"),
        (["--share", "vip=0.3"], "unknown patient kind 'vip'"),
        (["--share", "card"], "expected KIND=WEIGHT"),
        (["--latency-csv", "/nonexistent/lat.csv"], "--latency-csv /nonexistent/lat.csv: cannot read"),
        (["--scenario", "/nonexistent/s.yaml"], "cannot read scenario"),
        (["--hours", "10"], "--hours goes with --arrival-rate"),
        (["--service-mean", "3", "--service-dist", "lognormal"], "needs --service-sd"),
        (["--replications", "0"], "--replications"),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(*args, "--json", tmp_path / "out.json", "--plot", tmp_path / "out.png")
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("arrivals: {per_hour: {'08': -3}}", "arrivals.per_hour.08: must be >= 0"),
        ("arrivals: [1, 2\n", "not valid YAML"),
        ("kinds: {card: {steps: [fly]}}", "unknown step 'fly'"),
        ("arrivals: {per_hour: {'08': 5, '48': 10}}",
         'arrivals.per_hour: hour \'48\' is not an hour of the day (hours run "00" to "47"'),
        ("staffing: {hours: {'50': 3}}",
         'staffing.hours: hour \'50\' is not an hour of the day (hours run "00" to "47"'),
        ("arrivals: {rate_per_hour: 10, hours: 2, start_hour: 48}",
         "arrivals.start_hour: must be between 0 and 47, got 48"),
    ],
)
def test_bad_scenario_files(tmp_path: Path, text: str, message: str) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text, encoding="utf-8")
    result = run("--scenario", scenario, "--json", tmp_path / "out.json")
    assert result.exit_code != 0 and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_unwritable_plot_leaves_no_json(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = run("--scenario", SMALL, "-r", 1, "--json", tmp_path / "out.json", "--plot", blocker / "day.png")
    assert result.exit_code != 0 and "cannot write" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


HUGE_SEED = "99999999999999999999999"


@pytest.mark.parametrize("command", ["simulate", "plan"])
def test_a_seed_beyond_64_bits_is_one_line_naming_seed(tmp_path: Path, command: str) -> None:
    from cardsettle.cli import main

    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, [command, "windows", "--seed", HUGE_SEED, "--json", str(out)])
    assert result.exit_code != 0
    assert "'--seed'" in one_error_line(result) and "0<=x<=9223372036854775807" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "says"), [
    (["--windows", "0"], "Invalid value for '--windows': 0 is not in the range x>=1."),
    (["--arrival-rate", "1e12"], "Invalid value for '--arrival-rate': 1000000000000.0 is not in "
                                 "the range 0<=x<=100000.0."),
    (["--scale", "1e9"], "Invalid value for '--scale': 1000000000.0 is not in the range "
                         "0<=x<=1000.0."),
    (["--hours", "1000000000", "--arrival-rate", "1"], "Invalid value for '--hours'"),
    (["--arrival-rate", "100000", "--hours", "24"],
     "arrivals: 2,400,000 patients expected a replication, more than 1,000,000"),
], ids=["windows-0", "arrival-rate", "scale", "hours", "too-many-patients"])
def test_a_run_too_big_or_with_no_window_is_refused_naming_the_option(
    tmp_path: Path, args: list[str], says: str
) -> None:
    out = tmp_path / "out.json"
    result = run(*args, "--json", out)
    assert result.exit_code == 2  # bad input, as `cardsettle load`
    assert one_error_line(result).startswith(f"Error: {says}"), result.output
    assert list(tmp_path.iterdir()) == []


def test_a_latency_csv_error_names_the_option_not_a_scenario_file(tmp_path: Path) -> None:
    latency = tmp_path / "lat.csv"
    latency.write_text("latency_ms\n12\nfast\n", encoding="utf-8")
    result = run("--latency-csv", latency, "--json", tmp_path / "out.json")
    assert result.exit_code == 2
    assert one_error_line(result) == (f"Error: --latency-csv {latency}: line 3, column "
                                      "'latency_ms': not a number: 'fast'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lat.csv"]


@pytest.mark.parametrize("command", ["simulate", "plan"])
@pytest.mark.parametrize("args", [["-r", "0"], ["--no-such-option"], ["--hours", "10"]],
                         ids=["r-0", "unknown-option", "hours-alone"])
def test_usage_errors_exit_2_like_the_load_test(tmp_path: Path, command: str,
                                                args: list[str]) -> None:
    from cardsettle.cli import main

    result = CliRunner().invoke(main, [command, "windows", *args, "--json", str(tmp_path / "o.json")])
    one_error_line(result)
    assert result.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_sub_command_exits_2() -> None:
    from cardsettle.cli import main

    result = CliRunner().invoke(main, ["simulate", "hall"])
    assert result.exit_code == 2 and "No such command 'hall'" in one_error_line(result)


def test_a_plot_suffix_that_is_not_png_or_svg_is_refused(tmp_path: Path) -> None:
    result = run("--scenario", SMALL, "-r", 1, "--json", tmp_path / "o.json", "--plot", tmp_path / "out.jpg")
    assert result.exit_code == 2
    assert "--plot" in one_error_line(result) and "not .jpg" in result.output
    assert list(tmp_path.iterdir()) == []  # no out.jpg.png, out.jpg.svg


@pytest.mark.parametrize("latency", ["latency_ms\n1e12\n", "Name,50%,100%\nAggregated,5,1e12\n"],
                         ids=["samples", "locust"])
def test_a_latency_of_more_than_an_hour_is_refused(tmp_path: Path, latency: str) -> None:
    path = tmp_path / "lat.csv"
    path.write_text(latency, encoding="utf-8")
    result = run("--latency-csv", path, "--json", tmp_path / "o.json")
    assert result.exit_code == 2
    assert "more than an hour for one round trip" in one_error_line(result)


def test_a_latency_distribution_of_more_than_an_hour_is_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("insurer: {latency: {dist: fixed, value: 1.0e+12}}\n", encoding="utf-8")
    result = run("--scenario", scenario, "--json", tmp_path / "o.json")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "insurer.latency: a mean round trip of" in line and "more than an hour" in line


def test_a_whole_visit_latency_file_is_warned_about(tmp_path: Path) -> None:
    """A load test through a HIS times whole visits; fed as one round trip it inflates every
    insurer call: the run says so (and still runs)."""
    from loadtests.report import write_latency_csv

    latency = write_latency_csv(tmp_path / "latency_ms.csv", [1200.0, 1500.0], "visit")
    result = run("--scenario", SMALL, "-r", 1, "--latency-csv", latency, "--json", tmp_path / "o.json", "-q")
    assert result.exit_code == 0, result.output
    assert "warning: the insurer latency file holds whole visits" in result.output
    round_trips = write_latency_csv(tmp_path / "rt.csv", [12.0, 15.0], "2207 settle")
    result = run("--scenario", SMALL, "-r", 1, "--latency-csv", round_trips, "--json", tmp_path / "o.json", "-q")
    assert result.exit_code == 0 and result.output == ""


def _planned(args: list[str | Path]) -> Result:
    from cardsettle.cli.windows import plan

    return CliRunner().invoke(plan, ["windows", *(str(a) for a in args)])


def _csv_recorded(day_json: Path) -> str:
    return str(orjson.loads(day_json.read_bytes())["scenario"]["effective"]["insurer"]["latency"]["csv"])


def test_a_latency_csv_inside_the_report_folder_is_recorded_relative_to_it(tmp_path: Path) -> None:
    """day.json and planned.yaml name a latency CSV of their own folder by its name, so the
    folder still works when moved (or copied to another machine)."""
    report = tmp_path / "report"
    report.mkdir()
    latency = report / "latency_ms.csv"
    latency.write_bytes((DATA / "latency_ms.csv").read_bytes())
    result = run("--scenario", SMALL, "-r", 1, "--latency-csv", latency, "--json", report / "day.json", "-q")
    assert result.exit_code == 0, result.output
    assert _csv_recorded(report / "day.json") == "latency_ms.csv"
    result = _planned(["--scenario", SMALL, "-r", 1, "--max-windows", 4, "--latency-csv", latency,
                       "--json", report / "plan.json", "--write-scenario", report / "planned.yaml", "-q"])
    assert result.exit_code == 0, result.output
    assert "csv: latency_ms.csv\n" in (report / "planned.yaml").read_text("utf-8")
    moved = report.rename(tmp_path / "elsewhere")
    result = run("--scenario", moved / "planned.yaml", "-r", 1, "--json", moved / "check.json", "-q")
    assert result.exit_code == 0, result.output
    assert _csv_recorded(moved / "check.json") == "latency_ms.csv"


def test_a_latency_csv_outside_the_report_folder_is_recorded_as_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the folder: an absolute path as given; a relative one as given, from the folder
    of the file that records it (so a planned scenario written elsewhere still finds it)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "latency_ms.csv").write_bytes((DATA / "latency_ms.csv").read_bytes())
    result = run("--scenario", SMALL, "-r", 1, "--latency-csv", "load/latency_ms.csv", "--json", "day.json", "-q")
    assert result.exit_code == 0, result.output
    assert _csv_recorded(tmp_path / "day.json") == "load/latency_ms.csv"
    absolute = tmp_path / "load" / "latency_ms.csv"
    result = run("--scenario", SMALL, "-r", 1, "--latency-csv", absolute, "--json", "plans/day.json", "-q")
    assert result.exit_code == 0, result.output
    assert _csv_recorded(tmp_path / "plans" / "day.json") == str(absolute)
    result = _planned(["--scenario", SMALL, "-r", 1, "--max-windows", 4, "--latency-csv", "load/latency_ms.csv",
                       "--json", "plans/plan.json", "--write-scenario", "plans/planned.yaml", "-q"])
    assert result.exit_code == 0, result.output
    assert "csv: ../load/latency_ms.csv\n" in (tmp_path / "plans" / "planned.yaml").read_text("utf-8")
    result = run("--scenario", "plans/planned.yaml", "-r", 1, "--json", "plans/check.json", "-q")
    assert result.exit_code == 0, result.output


def test_a_latency_csv_of_the_scenario_file_is_found_from_a_planned_scenario_elsewhere(tmp_path: Path) -> None:
    """``insurer.latency.csv`` in a scenario file is relative to that file; the planned scenario
    written into another folder names it from there."""
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "latency_ms.csv").write_bytes((DATA / "latency_ms.csv").read_bytes())
    scenario = tmp_path / "hospital.yaml"
    scenario.write_text(SMALL.read_text("utf-8").replace(
        "latency: {dist: lognormal, median: 300, p95: 1500, unit: ms}", "latency: {csv: load/latency_ms.csv}"),
        encoding="utf-8")
    planned = tmp_path / "plans" / "planned.yaml"
    result = _planned(["--scenario", scenario, "-r", 1, "--max-windows", 4, "--json", tmp_path / "plan.json",
                       "--write-scenario", planned, "-q"])
    assert result.exit_code == 0, result.output
    assert "csv: ../load/latency_ms.csv\n" in planned.read_text("utf-8")
    result = run("--scenario", planned, "-r", 1, "--json", tmp_path / "check.json", "-q")
    assert result.exit_code == 0, result.output


def test_a_named_pipe_as_an_output_is_refused_and_left_a_pipe(tmp_path: Path) -> None:
    """Renaming the report over a pipe (or a device) would replace it: refused before the
    run, one line naming the option, exit 2, nothing written."""
    os.mkfifo(tmp_path / "day.json")
    result = run("--scenario", SMALL, "-r", 1, "--json", tmp_path / "day.json")
    assert result.exit_code == 2
    assert one_error_line(result) == f"Error: --json {tmp_path / 'day.json'}: not a regular file"
    os.mkfifo(tmp_path / "day.svg")
    result = run("--scenario", SMALL, "-r", 1, "--json", tmp_path / "o.json", "--plot", tmp_path / "day")
    assert result.exit_code == 2
    assert one_error_line(result) == (f"Error: --plot {tmp_path / 'day'}: {tmp_path / 'day.svg'} is "
                                      "not a regular file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.json", "day.svg"]
    assert all(stat.S_ISFIFO(p.stat().st_mode) for p in tmp_path.iterdir())
