"""What the finance audit of ``finance cashflow`` / ``finance month`` found, as a user sees it:
the advance's recoup, the monthly table's total and next-year dates, percentages, a month file
whose figures disagree, money with three decimals, the name and the comparison of a
``--from-month`` run, and bad input exiting 2."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from cardsettle.cli import main
from mock_insurer.money import ZERO
from simulator.finance.model import YearRun, run_year
from simulator.finance.params import load_params
from tests.one_line import one_error_line
from tests.simulator.finance.conftest import month_file_data


def cli(*args: str | int | Path) -> Result:
    return CliRunner().invoke(main, ["finance", *(str(a) for a in args)])


def _deltas(run: YearRun, regime: str) -> dict[date, Decimal]:
    return {row.day: row.exposure[regime] - before.exposure[regime]
            for before, row in zip(run.days, run.days[1:], strict=False)}


def test_default_advance_is_held_to_year_end_and_recouped_with_the_first_payment_of_next_year(
        default_run: YearRun) -> None:
    amount = default_run.params.advance.amount
    last = default_run.days[-1]
    assert last.advance_held["advance_payment"] == amount
    november = next(m for m in default_run.months if m.period == "2026-11")
    assert default_run.advance_recouped_on == november.paid_on and november.paid_on.year == 2027
    assert default_run.advance_recouped_with == "2026-11" and not default_run.recouped_in_year
    # 31 December: no payment, so the advance regime's exposure moves only with the day's claims
    before = default_run.days[-2]
    assert (last.exposure["advance_payment"] - before.exposure["advance_payment"]
            == last.claimed - (last.lost - before.lost) - (last.received - before.received))


def test_the_day_of_the_recoup_does_not_change_the_net_exposure() -> None:
    params = load_params(overrides={"advance": {"recouped_on": "06-01"}})
    run = run_year(params, 2026, 1)
    amount = params.advance.amount
    recoup = run.advance_recouped_on
    assert recoup is not None and recoup >= date(2026, 6, 1) and run.recouped_in_year
    paid = next(m for m in run.months if m.period == run.advance_recouped_with)
    assert paid.paid_on == recoup  # netted against that payment
    post, advance = _deltas(run, "post_payment"), _deltas(run, "advance_payment")
    for day, change in advance.items():
        # the regimes differ only by the cash of the advance: +advance in, −advance netted out
        expected = post[day] + (amount if day == recoup else ZERO)
        assert change == expected, day
    # that day the hospital receives the payment less the advance; the exposure falls by that cash
    assert advance[recoup] == post[recoup] + amount == -(paid.accepted - amount) + post[recoup] + paid.accepted
    row = next(r for r in run.days if r.day == recoup)
    assert row.advance_held["advance_payment"] == ZERO
    assert row.exposure["advance_payment"] == row.exposure["post_payment"]


def test_the_month_table_has_a_total_tags_next_year_dates_and_explains_the_loss(tmp_path: Path) -> None:
    result = cli("cashflow", "--report", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "cashflow.html").read_text(encoding="utf-8")
    data = orjson.loads((tmp_path / "cashflow.json").read_bytes())
    table = page.split("各月申报、审核、回款", 1)[1].split("</table>", 1)[0]
    deducted = sum((Decimal(m["deducted"]) for m in data["months"]), ZERO)
    assert "合计 total" in table and f"{deducted:,.2f}" in table
    december = data["months"][11]
    assert not december["reviewed_in_year"]
    for key in ("declared_on", "reviewed_on", "paid_date"):
        assert f"{december[key]} (次年 next year)" in table
    assert data["monthly_losses"]["2026-12"] == dict.fromkeys(data["params"]["refusal_rates"], "0.00")
    lost = Decimal(data["summary"]["flows"]["lost"])
    assert lost == deducted - Decimal(december["deducted"])
    note = page.split('id="loss-vs-deducted">', 1)[1].split("</p>", 1)[0]
    assert f"{lost:,.2f}" in note and f"{Decimal(december['deducted']):,.2f}" in note
    assert "次年审核" in note and "reviewed in the next year" in note
    reasons = page.split("Refusal losses by reason</h2>", 1)[1].split("</table>", 1)[0]
    assert "占比 share of total" in reasons and "合计 total" in reasons and "100.00 %" in reasons
    assert "0.60 %" in reasons and "0.05 %" in reasons
    assert not re.search(r"\d%", page.split("</style>", 1)[1])  # every percentage: two places, a space


@pytest.mark.parametrize(("changes", "says"), [
    ({"claimed": "99999.99"}, "claimed: '99999.99' is not the sum of daily[*].claimed, 3100000.00"),
    ({"accepted": "1.00"}, "accepted: '1.00' is not claimed − deducted, 3069000.00"),
    ({"daily": [{"date": "2026-03-01", "claimed": "727.011"}], "claimed": "727.011"},
     "daily[0].claimed: money has at most two decimals, got '727.011'"),
    ({"claimed": 3100000.0}, "claimed: expected yuan as text"),
], ids=["claimed-not-daily", "accepted-wrong", "three-decimals", "json-number"])
def test_a_month_file_that_disagrees_is_refused(tmp_path: Path, changes: dict[str, object], says: str) -> None:
    path = tmp_path / "month.json"
    path.write_bytes(orjson.dumps(month_file_data(**changes)))
    result = cli("cashflow", "--from-month", path, "--report", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert one_error_line(result) == f"Error: {path}: {says}" or one_error_line(result).startswith(
        f"Error: {path}: {says}"), result.output
    assert not (tmp_path / "out").exists()


def test_money_parameter_with_three_decimals_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("advance:\n  base_amount: 100.123\n", encoding="utf-8")
    result = cli("cashflow", "--params", path, "--report", tmp_path / "out")
    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"Error: {path}: advance.base_amount: money has at most two decimals")
    assert not (tmp_path / "out").exists()


def test_a_month_run_is_named_by_its_file_and_compared_with_the_model(tmp_path: Path) -> None:
    days = [f"2026-03-{day:02d}" for day in range(2, 7)]  # one working week
    path = tmp_path / "month.json"
    path.write_bytes(orjson.dumps(month_file_data(
        daily=[{"date": day, "claimed": "1000.00"} for day in days], claimed="5000.00", deducted="50.00",
        deductions_by_category={"pricing": "50.00"})))
    result = cli("cashflow", "--from-month", path, "--report", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "default hospital" not in result.output and "month run 2026-03 (month.json)" in result.output
    data = orjson.loads((tmp_path / "out" / "cashflow.json").read_bytes())
    assert data["params"]["name"] == "月度运行 month run 2026-03 (month.json)"
    found = data["month_vs_model"]
    assert found["month_claimed"] == "5000.00" and found["month_days"] == 5 and found["model_days"] == 31
    model = Decimal(found["model_claimed"])
    assert model == Decimal(data["months"][2]["claimed"]) and model > Decimal("5000.00")
    line = f"月度运行申报 month run claimed 5,000.00 元 (2026-03, 5 天 days) vs 模型 model {model:,.2f} 元"
    assert line in result.output.replace("\n", " ") or line in result.output
    page = (tmp_path / "out" / "cashflow.html").read_text(encoding="utf-8")
    assert line in page and "the model claims every day of the month" in page
    assert f"(+{found['difference_percent']} %)" in page


@pytest.mark.parametrize("args", [
    ("month", "--days", "0", "--report", "x"),
    ("month", "--months", "13", "--report", "x"),
    ("month", "--period", "1800-01", "--report", "x"),
    ("cashflow", "--year", "1800", "--report", "x"),
    ("cashflow", "--seed", "-1", "--report", "x"),
    ("cashflow", "--bogus", "1", "--report", "x"),
    ("cashflow",),
    ("nosuchcommand",),
], ids=["days-0", "months-13", "period", "year-1800", "seed-negative", "unknown-option", "no-report",
        "unknown-command"])
def test_bad_input_exits_2_in_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, ["finance", *args])
    assert result.exit_code == 2, result.output
    assert one_error_line(result).startswith("Error: ")


def test_report_path_that_is_a_file_exits_2(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    result = cli("cashflow", "--report", afile)
    assert result.exit_code == 2 and "--report" in one_error_line(result)


def test_month_accepts_quiet_like_cashflow() -> None:
    result = cli("month", "-q", "--period", "1800-01", "--report", "x")
    assert result.exit_code == 2 and "No such option" not in result.output
    assert "--period" in one_error_line(result)
    assert "--quiet" in cli("month", "--help").output and "--quiet" in cli("cashflow", "--help").output
