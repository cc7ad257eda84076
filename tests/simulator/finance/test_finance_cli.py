"""``cardsettle finance cashflow`` as a user runs it: the report files, the bilingual page,
reproducibility, --from-month, and bad input as one line, exit 2, nothing written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from cardsettle.cli import main
from cardsettle.cli.finance import finance
from simulator.finance.plots import yuan_text
from tests.one_line import one_error_line
from tests.simulator.finance.conftest import month_file_data

FILES = ["cashflow.csv", "cashflow.html", "cashflow.json", "cashflow_exposure.png", "cashflow_refusals.png"]


def run(*args: str | int | Path) -> Result:
    return CliRunner().invoke(main, ["finance", "cashflow", *(str(a) for a in args)])


def test_group_is_registered_and_importable() -> None:
    assert main.get_command(None, "finance") is finance  # type: ignore[arg-type]
    result = run("--help")
    assert result.exit_code == 0 and "--from-month" in result.output and "--report" in result.output


def test_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run("--year", 2026, "--seed", 3, "--report", out)
    assert result.exit_code == 0, result.output
    assert "peak exposure" in result.output and "预付金" in result.output and "cashflow.html" in result.output
    assert sorted(path.name for path in out.iterdir()) == FILES
    data = orjson.loads((out / "cashflow.json").read_bytes())
    assert data["year"] == 2026 and data["seed"] == 3 and len(data["daily"]) == 365
    assert set(data["summary"]["regimes"]) == {"post_payment", "advance_payment"}
    lines = (out / "cashflow.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 366 and lines[0].startswith("date,claimed,advanced,received,lost,outstanding")
    page = (out / "cashflow.html").read_text(encoding="utf-8")
    for text in ("按月后付", "post-payment", "预付金", "advance payment", "资金占用峰值", "peak exposure",
                 "拒付损失", "lost to refusals", "data:image/png;base64,"):
        assert text in page
    assert yuan_text(data["summary"]["regimes"]["advance_payment"]["peak_exposure"]) in page  # 16,491,222.90
    for name in FILES[3:]:
        assert (out / name).read_bytes().startswith(b"\x89PNG") and (out / name).stat().st_size > 10_000


def test_same_seed_same_files(tmp_path: Path) -> None:
    assert run("--seed", 5, "--report", tmp_path / "a", "-q").exit_code == 0
    result = run("--seed", 5, "--report", tmp_path / "b", "--quiet")
    assert result.exit_code == 0 and result.output == ""
    for name in ("cashflow.json", "cashflow.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_from_month_takes_its_year_and_lags(tmp_path: Path) -> None:
    month = tmp_path / "month.json"
    month.write_bytes(orjson.dumps(month_file_data(period="2027-03", daily=[
        {"date": f"2027-03-{day:02d}", "claimed": "100000.00"} for day in range(1, 32)],
        declared_on="2027-04-15", reviewed_on="2027-05-05", paid_date="2027-05-20")))
    result = run("--from-month", month, "--report", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    data = orjson.loads((tmp_path / "out" / "cashflow.json").read_bytes())
    assert data["year"] == 2027 and data["sources"]["period"] == "2027-03"
    assert data["params"]["settlement"] == {"declaration_day": 15, "declaration_months_after": 1,
                                            "review_days": 20, "payment_lag_days": 15}
    assert data["months"][0]["paid_date"] == "2027-03-22"  # January: declared 02-15, +20, +15


@pytest.mark.parametrize(("name", "text", "field"), [
    ("params.yaml", "advance:\n  ratio: 2\n", "advance.ratio"),
    ("params.yaml", "claims:\n  noise: 0.1\n", "claims.noise"),
    ("month.json", '{"period": "2026-03"}', "daily"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path: Path, name: str, text: str, field: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    option = "--params" if name.endswith(".yaml") else "--from-month"
    out = tmp_path / "out"
    result = run(option, path, "--report", out)
    assert result.exit_code == 2
    assert f"{field}:" in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output and not out.exists()


def test_missing_params_file(tmp_path: Path) -> None:
    result = run("--params", tmp_path / "nope.yaml", "--report", tmp_path / "out")
    assert result.exit_code == 2 and "cannot read params" in result.output and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["cashflow", "month"])
def test_a_seed_beyond_64_bits_is_one_line_naming_seed(tmp_path: Path, command: str) -> None:
    out = tmp_path / "rep"
    result = CliRunner().invoke(main, ["finance", command, "--seed", "99999999999999999999999",
                                       "--report", str(out)])
    assert result.exit_code != 0
    assert "'--seed'" in one_error_line(result) and "0<=x<=9223372036854775807" in result.output
    assert list(tmp_path.iterdir()) == []


def _month_json(**changes: object) -> str:
    return orjson.dumps(month_file_data(**changes)).decode()


def _big_day() -> list[dict[str, str]]:
    days = [{"date": f"2026-03-{day:02d}", "claimed": "100000.00"} for day in range(1, 32)]
    days[0]["claimed"] = "99999999999999999999999999999"
    return days


@pytest.mark.parametrize(("name", "text", "field", "says"), [
    ("params.yaml", 'claims: {daily_level: "1e400"}\n', "claims.daily_level",
     "must be at most 1000000000000"),
    ("params.yaml", 'claims: {daily_level: "99999999999999999999999999999999"}\n',
     "claims.daily_level", "must be at most 1000000000000"),
    ("params.yaml", 'advance: {base_amount: "1e30"}\n', "advance.base_amount",
     "must be at most 1000000000000"),
    ("params.yaml", "claims: {weekday_profile: {mon: 1.0e+30}}\n", "claims.weekday_profile.mon",
     "must be at most 100"),
    ("params.yaml", "claims: {weekday_profile: {value: {mon: -1}}}\n",  # the bad value, not
     "claims.weekday_profile.mon", "must be at least 0, got -1"),     # "tue: missing" first
    ("month.json", _month_json(daily=_big_day()), "daily[0].claimed",
     "must be at most 1000000000000 yuan"),
    ("month.json", _month_json(claimed="1e400"), "claimed", "must be at most 1000000000000"),
], ids=["daily_level-1e400", "daily_level-32-digits", "base_amount", "weekday-factor",
        "weekday-negative-in-a-whole-profile", "daily-claimed", "claimed"])
def test_out_of_range_money_is_one_line_naming_the_field(
    tmp_path: Path, name: str, text: str, field: str, says: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    option = "--params" if name.endswith(".yaml") else "--from-month"
    result = run(option, path, "--report", tmp_path / "out")
    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"Error: {path}: {field}: {says}"), result.output
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize(("period", "months", "says"), [
    ("0001-01", 1, "expected a month YYYY-MM in 2019-12..2199-10, got '0001-01'"),
    ("9999-12", 2, "expected a month YYYY-MM in 2019-12..2199-10, got '9999-12'"),
    ("2026-13", 1, "expected a month YYYY-MM in 2019-12..2199-10, got '2026-13'"),
    ("2026-3", 1, "expected a month YYYY-MM in 2019-12..2199-10, got '2026-3'"),
    ("2199-10", 2, "2199-10 with --months 2 runs past 2199-10, the last month allowed"),
])
def test_month_period_out_of_range_names_period_and_the_range(
    tmp_path: Path, period: str, months: int, says: str
) -> None:
    out = tmp_path / "rep"
    result = CliRunner().invoke(finance, ["month", "--period", period, "--months", str(months),
                                          "--report", str(out)])
    assert result.exit_code == 2
    assert one_error_line(result) == f"Error: --period: {says}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("text", "says"), [
    ("years: {2027: {working: [2027-01-04]}}", "years.2027.working[0]: 2027-01-04 is a Monday"),
    ("", "the file is empty (expected years: {YEAR: {holidays: [...], working: [...]}}, as "
         "simulator/data/holidays.yaml)"),
    ("years:\n", "years: expected a mapping, got nothing"),
    ("years: {2027: {holidays: [{from: 2027-02-30}]}}",
     "years.2027.holidays[0].from: expected a date YYYY-MM-DD, got '2027-02-30'"),
])
def test_month_bad_holidays_file_names_the_key(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "rep"
    result = CliRunner().invoke(finance, ["month", "--holidays", str(path), "--report", str(out)])
    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"Error: --holidays: {path}: {says}")
    assert [p.name for p in tmp_path.iterdir()] == ["holidays.yaml"]


def test_a_month_file_that_is_not_text_says_so(tmp_path: Path) -> None:
    path = tmp_path / "month.json"
    path.write_bytes(b"\x00\xff\xfe\x89PNG")
    result = run("--from-month", path, "--report", tmp_path / "out")
    assert result.exit_code == 2
    assert one_error_line(result) == (f"Error: {path}: not UTF-8 text (a month file is month.json "
                                      "of `cardsettle finance month`)")


def test_a_month_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    month = tmp_path / "month.json"
    month.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(month_file_data()))
    result = run("--from-month", month, "--report", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_month_names_a_report_folder_it_cannot_create() -> None:
    result = CliRunner().invoke(finance, ["month", "--report", "/proc/x"])
    assert result.exit_code == 2
    assert one_error_line(result) == ("Error: --report /proc/x: cannot write there (No such file "
                                      "or directory)")


@pytest.mark.parametrize(("command", "name"), [("month", "month.json"),
                                                ("cashflow", "cashflow_refusals.png")])
def test_a_named_pipe_among_the_report_files_is_refused_before_the_run(
        tmp_path: Path, command: str, name: str) -> None:
    os.mkfifo(tmp_path / name)
    result = CliRunner().invoke(finance, [command, "--report", str(tmp_path)])
    assert result.exit_code == 2
    assert one_error_line(result) == (f"Error: --report {tmp_path}: {tmp_path / name} is not a "
                                      "regular file")
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert stat.S_ISFIFO((tmp_path / name).stat().st_mode)
