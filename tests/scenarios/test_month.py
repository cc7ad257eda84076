"""A month from window to repayment (scenarios/month), a short one: 3 working days × 10 visits
on the embedded defaults, declared, reviewed, paid and collected — and its reports as the
finance office opens them."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from scenarios.errors import ScenarioFileError
from scenarios.month import MonthPlan, run_month, working_days, write_month_report
from scenarios.month.run import MonthRun
from simulator.finance.month_input import month_overrides
from simulator.finance.params import params_from_data, read_params_data

PLAN = MonthPlan(period="2026-03", days=3, visits_per_day=10, seed=1, population=400,
                 repeat_share=0.3, frequency_share=0.1)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[MonthRun, Path]:
    directory = tmp_path_factory.mktemp("month")
    days: list[tuple[int, int]] = []
    run = run_month(PLAN, directory / "run", on_day=lambda done, total: days.append(
        (done, total)))
    assert days == [(1, 3), (2, 3), (3, 3)]
    write_month_report(run, directory)
    return run, directory


def test_working_days_skip_weekends_and_say_when_the_month_is_too_short() -> None:
    days = working_days("2026-03", 6)
    assert [d.isoformat() for d in days][-2:] == ["2026-03-06", "2026-03-09"]
    with pytest.raises(ScenarioFileError, match="22 working days"):
        working_days("2026-03", 30)


def test_the_month_is_declared_reviewed_paid_and_collected(month: tuple[MonthRun, Path]) -> None:
    run, _directory = month
    assert len(run.visits) > 30  # the comebacks come on top of the 30 arrivals
    assert all(d.balanced for d in run.day_ends)
    declaration = run.declaration
    assert declaration["status"] == "paid" and declaration["mismatch"] == []
    assert declaration["declared"] == declaration["uploaded"]
    assert run.collected["ok"] and run.collected["unmatched"] == []
    totals = run.receivables["totals"]
    assert totals["outstanding"] == "0.00"
    assert Decimal(totals["claimed"]) == Decimal(declaration["claimed"])
    assert Decimal(totals["deducted"]) == Decimal(declaration["deducted"])


def test_every_settlements_receivable_balances(month: tuple[MonthRun, Path]) -> None:
    run, _directory = month
    items = {i["setl_id"]: i for i in run.payment["items"]}
    rows = run.receivables["receivables"]
    assert rows and {r["setl_id"] for r in rows} == set(items)
    for row in rows:
        assert Decimal(row["paid"]) + Decimal(row["deducted"]) + Decimal(row["outstanding"]) \
            == Decimal(row["claimed"]), row
        assert Decimal(row["paid"]) == Decimal(items[row["setl_id"]]["paid"])
        assert row["dept_code"] and row["dr_code"]


def test_month_json_is_what_the_cash_flow_model_reads(month: tuple[MonthRun, Path]) -> None:
    _run, directory = month
    data = json.loads((directory / "month.json").read_text("utf-8"))
    assert [d["date"] for d in data["daily"]] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert sum(Decimal(d["claimed"]) for d in data["daily"]) == Decimal(data["claimed"])
    assert Decimal(data["accepted"]) == Decimal(data["claimed"]) - Decimal(data["deducted"])
    assert sum((Decimal(v) for v in data["deductions_by_category"].values()), Decimal(0)) \
        == Decimal(data["deducted"])
    assert data["declared_on"] < data["reviewed_on"] <= data["paid_date"]
    params_data, where = read_params_data(None)
    overrides, sources = month_overrides(data, params_from_data(params_data, where))
    assert sources["period"] == "2026-03" and "claims" in overrides


def test_receivables_csv_has_a_row_per_settlement(month: tuple[MonthRun, Path]) -> None:
    run, directory = month
    with (directory / "receivables.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(run.receivables["receivables"])
    assert {"setl_id", "dept_name", "dr_name", "claimed", "paid", "deducted", "outstanding",
            "status"} <= set(rows[0])


def test_the_refusal_analysis_opens_with_its_plots(month: tuple[MonthRun, Path]) -> None:
    run, directory = month
    page = (directory / "refusals.html").read_text("utf-8")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert page.count("data:image/png;base64,") == 4
    for heading in ("按类别 / By category", "按科室 / By department", "主要原因 / Top reasons",
                    "按医生 / By doctor", "按月份 / By month"):
        assert heading in page
    assert run.declaration["claimed"] in page
    for name in ("refusals-by-category.png", "refusals-by-department.png",
                 "refusals-top-reasons.png", "refusals-by-doctor.png"):
        assert (directory / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for ded in run.declaration["deductions"]:
        if ded["dept_name"]:
            assert ded["dept_name"] in page
