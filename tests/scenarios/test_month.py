"""A month from window to repayment (scenarios/month), a short one: 3 working days × 10 visits
on the embedded defaults, declared, reviewed, paid and collected — and its reports as the
finance office opens them; then two months × 2 days × 6 visits on the same insurer and HIS
(``--months 2``): two declarations, two payments, the by-month analysis, a business clock that
never moves back, and ``finance cashflow --from-month`` on what it wrote."""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cardsettle.cli import main
from scenarios.errors import ScenarioFileError
from scenarios.month import MonthPlan, MonthSession, run_month, working_days, write_month_report
from scenarios.month.report import CATEGORY_LABELS, PLOT_NAMES, _tick_label, summary_lines
from scenarios.month.run import MonthRun, month_periods
from simulator.finance.month_input import month_overrides
from simulator.finance.params import params_from_data, read_params_data
from simulator.finance.plots import CATEGORY_LABELS as CASHFLOW_CATEGORY_LABELS
from simulator.finance.plots import yuan_text

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
    april = working_days("2026-04", 4)  # 清明节: Monday 6 April is a holiday
    assert [d.isoformat() for d in april] == ["2026-04-01", "2026-04-02", "2026-04-03",
                                              "2026-04-07"]
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
    claimed = [r for r in run.receivables["receivables"] if Decimal(r["claimed"]) != 0]
    assert len(rows) == len(claimed)
    assert all(Decimal(r["claimed"]) != 0 for r in rows)  # nothing claimed: no receivable
    totals = json.loads((directory / "month.json").read_text(encoding="utf-8"))["receivables"]
    assert totals["count"] == len(rows) == sum(totals["by_status"].values())
    assert totals["by_status"]["paid"] == sum(1 for r in rows if r["status"] == "paid")
    assert totals["nothing_claimed"] == len(run.receivables["receivables"]) - len(rows)
    assert {"setl_id", "dept_name", "dr_name", "claimed", "paid", "deducted", "outstanding",
            "status"} <= set(rows[0])


def test_the_refusal_analysis_opens_with_its_plots(month: tuple[MonthRun, Path]) -> None:
    run, directory = month
    page = (directory / "refusals.html").read_text("utf-8")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert page.count("data:image/png;base64,") == 5
    for heading in ("按类别 / By category", "按科室 / By department", "主要原因 / Top reasons",
                    "按医生 / By doctor", "按月 / By month"):
        assert heading in page
    assert yuan_text(run.declaration["claimed"]) in page
    for name in ("refusals-by-category.png", "refusals-by-department.png",
                 "refusals-top-reasons.png", "refusals-by-doctor.png", "refusals-by-month.png"):
        assert (directory / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for ded in run.declaration["deductions"]:
        if ded["dept_name"]:
            assert ded["dept_name"] in page


def _seen(page: str) -> str:
    """What a reader sees: the body without tags (codes kept in title= attributes dropped)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page.split("<body>", 1)[-1]))


def test_the_refusal_page_shows_names_units_and_nothing_cut(month: tuple[MonthRun, Path]) -> None:
    run, directory = month
    page = (directory / "refusals.html").read_text("utf-8")
    seen = _seen(page)
    # categories as staff read them; the codes only in title attributes for support staff
    assert "insurance_rules" not in seen and "medical_admin" not in seen and "setl_id" not in seen
    used = {d["category"] for d in run.declaration["deductions"]}
    for category in used:
        assert f'title="{category}"' in page and CATEGORY_LABELS[category][0] in seen
    assert "结算号" in seen and "settlement ID" in seen
    # every headline figure carries its unit
    figures = seen[seen.index("申报 claimed"):seen.index("申报 declared")]
    assert figures.count("元") == 5
    # the by-month table scrolls inside the page rather than running off it; dates never wrap
    section = page[page.index('id="by-month"'):]
    assert '<div class="wrap" role="region" tabindex="0"' in section[:400]  # keyboard scrolls it
    assert f'<td class="d">{run.declaration["declared_on"]}</td>' in section
    assert "white-space:nowrap" in page and ".wrap{overflow-x:auto" in page
    rules = {d["rule_id"] for d in run.declaration["deductions"] if d.get("rule_id")}
    for rule in rules:
        assert f'<td class="d">{rule}</td>' in page  # R-DUP-001 on one line
    # money right-aligned with separators
    assert f'<td class="n">{yuan_text(run.declaration["claimed"])}</td>' in page


def test_refusal_tables_have_shares_and_a_total_row(month: tuple[MonthRun, Path]) -> None:
    _run, directory = month
    page = (directory / "refusals.html").read_text(encoding="utf-8")
    for title in ("按类别 / By category", "按科室 / By department", "主要原因 / Top reasons",
                  "按医生 / By doctor", "按结算月份 / By month of settlement", "按月 / By month"):
        table = page.split(title, 1)[1].split("</table>", 1)[0]
        if "无 / none" in table.split("<table>", 1)[0]:
            continue
        assert "占比" in table and "share of total" in table, title
        assert "合计 total" in table and "100.00 %" in table, title
    assert not re.search(r"\d%", page.split("</style>", 1)[1])  # percentages as "0.93 %"


def test_the_month_and_cash_flow_reports_share_one_table_of_category_names() -> None:
    assert CATEGORY_LABELS is CASHFLOW_CATEGORY_LABELS
    assert CATEGORY_LABELS["insurance_rules"] == ("违反医保规定", "insurance rules")


def test_top_reason_labels_are_wrapped_never_cut() -> None:
    english = "the diagnosis does not justify the services (unreasonable treatment)"
    shown = _tick_label(f"诊断与所收费用不符（不合理诊疗） / {english}")
    assert "…" not in shown and shown.startswith("诊断与所收费用不符（不合理诊疗）\n")
    assert " ".join(shown.split("\n")[1:]) == english
    assert all(len(line) <= 48 for line in shown.split("\n"))


TWO = dataclasses.replace(PLAN, days=2, visits_per_day=6, months=2)


@dataclasses.dataclass
class TwoMonths:
    runs: list[MonthRun]
    steps: list[dict[str, str]]
    biz_times: list[str]
    directory: Path
    days: list[tuple[int, int]]


@pytest.fixture(scope="module")
def two_months(tmp_path_factory: pytest.TempPathFactory) -> TwoMonths:
    directory = tmp_path_factory.mktemp("months")
    days: list[tuple[int, int]] = []
    with MonthSession(TWO, directory / "run") as session:
        runs = session.driver.run_all(on_day=lambda done, total: days.append((done, total)))
        messages = session.harness.admin.messages(fixmedins_code=session.harness.fixmedins_code)
        steps = list(session.driver.steps)
    write_month_report(runs, directory)
    return TwoMonths(runs, steps, [str(m["biz_time"]) for m in messages], directory, days)


def test_month_periods_roll_over_the_year_and_say_when_out_of_range() -> None:
    assert month_periods("2026-11", 3) == ["2026-11", "2026-12", "2027-01"]
    with pytest.raises(ScenarioFileError, match="1 to 12 months"):
        month_periods("2026-03", 13)


def test_two_months_are_each_declared_reviewed_paid_and_balanced(two_months: TwoMonths) -> None:
    runs = two_months.runs
    assert two_months.days == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [run.plan.period for run in runs] == ["2026-03", "2026-04"]
    assert [[d.isoformat() for d in run.days] for run in runs] == [
        ["2026-03-02", "2026-03-03"], ["2026-04-01", "2026-04-02"]]
    declarations = [run.declaration for run in runs]
    assert len({d["dcla_id"] for d in declarations}) == 2
    assert [d["period"] for d in declarations] == ["2026-03", "2026-04"]
    assert all(d["status"] == "paid" and d["mismatch"] == [] for d in declarations)
    assert len({run.payment["pay_id"] for run in runs}) == 2
    for run in runs:
        assert run.visits and all(v.at.strftime("%Y-%m") == run.plan.period for v in run.visits)
        assert all(d.balanced for d in run.day_ends)
        assert run.collected["ok"] and run.collected["unmatched"] == []
        items = {i["setl_id"]: i for i in run.payment["items"]}
        rows = run.receivables["receivables"]
        assert rows and {r["setl_id"] for r in rows} == set(items)
        assert all(r["setl_date"].startswith(run.plan.period) for r in rows)
        for row in rows:
            assert Decimal(row["paid"]) + Decimal(row["deducted"]) + Decimal(row["outstanding"]) \
                == Decimal(row["claimed"]), row
            assert Decimal(row["paid"]) == Decimal(items[row["setl_id"]]["paid"])
        assert run.receivables["totals"]["outstanding"] == "0.00"


def test_the_business_clock_never_moves_back(two_months: TwoMonths) -> None:
    times = two_months.biz_times
    assert times and times == sorted(times)
    assert times[0].startswith("2026-03-02") and times[-1] >= "2026-05-01"
    # the steps after the window interleave with the next month's window days, in order
    order = [(s["period"], s["step"].split(" /")[0], s["at"]) for s in two_months.steps]
    assert [s["at"] for s in two_months.steps] == sorted(s["at"] for s in two_months.steps)
    assert order[:2] == [("2026-03", "申报", "2026-04-01 09:00"),
                         ("2026-03", "审核", "2026-04-02 10:00")]
    # April is declared after the Labour Day holiday (1-5 May 2026), reviewed the day after
    assert ("2026-04", "申报", "2026-05-06 09:00") in order
    assert ("2026-04", "审核", "2026-05-07 10:00") in order
    assert {(p, step) for p, step, _at in order} == {
        (p, step) for p in ("2026-03", "2026-04") for step in ("申报", "审核", "回款")}
    april_visits = [str(v.at) for v in two_months.runs[1].visits]
    assert min(april_visits) < "2026-04-02 10:00" < max(april_visits)  # reviewed mid-window


def test_the_by_month_analysis_has_both_months(two_months: TwoMonths) -> None:
    runs, directory = two_months.runs, two_months.directory
    data = json.loads((directory / "months.json").read_text("utf-8"))
    assert data["periods"] == ["2026-03", "2026-04"]
    assert [m["period"] for m in data["months"]] == data["periods"]
    rows = data["by_month"]
    assert [r["period"] for r in rows] == ["2026-03", "2026-04"]
    for row, run in zip(rows, runs, strict=True):
        assert row["claimed"] == run.declaration["claimed"]
        assert row["deducted"] == run.declaration["deducted"]
        assert sum(Decimal(v) for v in row["by_category"].values()) == Decimal(row["deducted"])
        claimed = Decimal(row["claimed"])
        assert Decimal(row["deducted_ratio"]) == (Decimal(row["deducted"]) / claimed).quantize(
            Decimal("0.0001"))
    assert Decimal(data["totals"]["claimed"]) == sum((Decimal(r["claimed"]) for r in rows),
                                                     Decimal(0))
    for dept, months in data["department_by_month"].items():
        assert list(months) == ["2026-03", "2026-04"]
        assert sum(Decimal(v) for v in months.values()) == Decimal(
            data["refusals"]["by_department"][dept])
    page = (directory / "refusals.html").read_text("utf-8")
    section = page[page.index('id="by-month"'):]
    section = section[:section.index("</table>")]
    assert "2026-03" in section and "2026-04" in section and "拒付率" in section
    assert (directory / "refusals-by-month.png").read_bytes()[:4] == b"\x89PNG"
    lines = summary_lines(runs)
    assert lines[0].startswith("2026-03: 2 days") and lines[1].startswith("2026-04: 2 days")
    with (directory / "receivables.csv").open(encoding="utf-8-sig") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert len(csv_rows) == sum(1 for run in runs for r in run.receivables["receivables"]
                                if Decimal(r["claimed"]) != 0)  # nothing claimed: no row


def test_month_json_is_the_first_month_and_the_cash_flow_model_takes_it(
        two_months: TwoMonths, tmp_path: Path) -> None:
    directory = two_months.directory
    first = json.loads((directory / "month.json").read_text("utf-8"))
    every = json.loads((directory / "months.json").read_text("utf-8"))
    assert first == every["months"][0] and first["period"] == "2026-03"
    april = every["months"][1]["calendar"]
    assert april["announced"] and "2026" in april["source"]
    assert april["holidays"] == [{"date": "2026-04-06", "name": "清明节 Qingming"}]
    assert any("holidays this month (windows closed): 04-06 清明节" in line for line in summary_lines(two_months.runs))
    result = CliRunner().invoke(main, ["finance", "cashflow", "--from-month",
                                       str(directory / "month.json"), "--report",
                                       str(tmp_path / "cf"), "-q"])
    assert result.exit_code == 0, result.output
    cashflow = json.loads((tmp_path / "cf" / "cashflow.json").read_text("utf-8"))
    assert cashflow["sources"]["period"] == "2026-03"


def test_run_month_is_one_month() -> None:
    with pytest.raises(ValueError, match="run_months"):
        run_month(TWO, Path("unused"))


def test_the_refusal_page_reads_aloud_and_prints_whole(month: tuple[MonthRun, Path]) -> None:
    """For a screen reader: each plot described in both languages (not its file name), the
    English halves marked as English, headings without a gap (h1 then h2). For paper: the wide
    tables print whole on an A4 landscape sheet (the audit's print lost five columns)."""
    _run, directory = month
    page = (directory / "refusals.html").read_text("utf-8")
    alts = re.findall(r'<img class="plot" alt="([^"]+)"', page)
    assert len(alts) == len(PLOT_NAMES)
    for alt in alts:
        assert ".png" not in alt and " / " in alt and re.search(r"[\u4e00-\u9fff]", alt), alt
    levels = [int(n) for n in re.findall(r"<h([1-6])[ >]", page)]
    assert levels[0] == 1 and set(levels[1:]) == {2}
    assert page.count('<span class="en" lang="en">') >= 20
    assert '按月 / <span lang="en">By month</span>' in page
    assert "@page{size:A4 landscape" in page
    printed = page[page.index("@media print{"):]
    assert re.search(r"\.wrap\{overflow:visible", printed)


@pytest.mark.slow
def test_every_column_of_the_wide_tables_is_on_screen_at_1280_and_on_paper(
        month: tuple[MonthRun, Path]) -> None:
    """At 1280 px the by-month table's 14 columns fit the page; printed, the page asks for an
    A4 landscape sheet (1032 CSS px between 12 mm margins) and every table fits it."""
    from tests.support.browser import chromium_page

    _run, directory = month
    with chromium_page() as page:
        for media, width in (("screen", 1280), ("print", 1032)):
            page.emulate_media(media=media)
            page.set_viewport_size({"width": width, "height": 900})
            page.goto((directory / "refusals.html").as_uri())
            cut = page.evaluate("""() => [...document.querySelectorAll('.wrap')].filter(
                box => box.scrollWidth > box.clientWidth + 1).map(box => box.id
                || box.getAttribute('aria-label'))""")
            if media == "print":
                assert cut == [], cut  # every table whole on the sheet
            else:
                assert "按月 / By month" not in cut, cut
        sheet = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]",
                          page.pdf(prefer_css_page_size=True))
        assert sheet is not None and float(sheet[1]) > float(sheet[2]), "landscape"


# -- the finance officer's audit: the reconciliation box, the deduction detail, all-or-nothing --

def _cells(row: str) -> list[str]:
    return [" ".join(_seen(f"<body>{cell}").split())
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


def _box_tables(page: str, period: str) -> tuple[str, dict[str, list[list[str]]]]:
    """The reconciliation box of ``period``, and its tables by caption (Chinese half): rows of
    cell texts as a reader sees them, the header row first."""
    start = page.index(f'<h2 id="reconciliation-{period}">')
    box = page[page.rindex("<section", 0, start):page.index("</section>", start)]
    tables = {}
    for table in re.findall(r"<table>(.*?)</table>", box, re.S):
        caption = _seen(f"<body>{re.search(r'<caption>(.*?)</caption>', table)[1]}")  # type: ignore[index]
        tables[caption.split(" / ")[0].strip()] = [
            _cells(row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    return box, tables


def _yuan(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def test_the_reconciliation_box_shows_the_chain_a_finance_officer_checks(
        month: tuple[MonthRun, Path]) -> None:
    from tests.support.lang import chinese_read_as_english, english_read_as_chinese

    run, directory = month
    data = json.loads((directory / "month.json").read_text("utf-8"))
    page = (directory / "refusals.html").read_text("utf-8")
    box, tables = _box_tables(page, "2026-03")
    assert page.index("申报与对账") < page.index('<img class="plot"')  # near the top
    # the chain as arithmetic: claimed − deducted = accepted; accepted − paid = outstanding
    chain = {row[1]: row for row in tables["对账链"][1:]}
    assert [row[0] for row in tables["对账链"][1:]] == ["", "−", "=", "−", "="]
    claimed, deducted = _yuan(chain["申报 claimed"][2]), _yuan(chain["拒付 deducted"][2])
    accepted, paid = _yuan(chain["核准 accepted"][2]), _yuan(chain["已回款 paid"][2])
    outstanding = _yuan(chain["未回款 outstanding"][2])
    assert (claimed, deducted, accepted) == (Decimal(data["claimed"]), Decimal(data["deducted"]),
                                             Decimal(data["accepted"]))
    assert (paid, outstanding) == (Decimal(data["receivables"]["paid"]),
                                   Decimal(data["receivables"]["outstanding"]))
    assert claimed - deducted == accepted and accepted - paid == outstanding
    assert chain["核准 accepted"][3] == chain["未回款 outstanding"][3] == "✓ 相符 agrees"
    assert f'<td class="n">{yuan_text(data["claimed"])}</td>' in box and "," in yuan_text(
        data["claimed"])  # right-aligned, thousands separated
    # the HIS's declared totals beside the insurer's uploaded ones
    declared = {row[0]: row[1:] for row in tables["申报核对"][1:]}
    for key, label in (("medfee_sumamt", "医疗费总额 medical total"), ("fund_pay_sumamt", "基金支付 fund"),
                       ("acct_pay", "个人账户 account")):
        assert declared[label] == [yuan_text(data["declared"][key]), yuan_text(data["uploaded"][key]),
                                   "0.00", "✓ 相符 agrees"], label
    assert declared["结算笔数 settlement rows"][:2] == [str(data["declared"]["setl_cnt"])] * 2
    # settlements claimed + with nothing to claim
    receivables = data["receivables"]
    count, nothing = receivables["count"], receivables["nothing_claimed"]
    assert nothing > 0  # insutype 390 settlements: the fund paid nothing
    assert (f"结算 settlements: {count} 有申报金额 claimed + {nothing} 无可申报 with nothing to claim "
            f"= {count + nothing} 医院账内结算") in html.unescape(re.sub(r"<[^>]+>", "", box))
    # receivables by status: count and yuan, adding up to the total row
    statuses = tables["应收账款按状态"]
    assert statuses[0] == ["状态 status", "笔数 count", "申报 claimed", "已回款 paid", "拒付 deducted",
                           "未回款 outstanding"]
    *rows, total = statuses[1:]
    assert total == ["合计 total", str(count), *(yuan_text(receivables[k]) for k in (
        "claimed", "paid", "deducted", "outstanding"))]
    assert sum(int(row[1]) for row in rows) == count
    for column in range(2, 6):
        assert sum(_yuan(row[column]) for row in rows) == _yuan(total[column])
    part = next(row for row in rows if row[0].startswith("部分拒付"))
    assert part[1] == str(receivables["by_status"]["part-deducted"]) != "0"
    assert _yuan(part[4]) == Decimal(data["deducted"])
    # each day-end
    assert tables["日终对账"][1:] == [[str(d.date), "✓ 平 balanced"] for d in run.day_ends]
    # every table in a keyboard-reachable scroll box; the English halves marked as English
    assert box.count('<div class="wrap" role="region" tabindex="0"') == box.count("<table>") == 4
    assert english_read_as_chinese(box, names=frozenset({"HIS"})) == []
    assert chinese_read_as_english(box) == []


def test_the_reconciliation_box_says_where_a_month_does_not_add_up(
        month: tuple[MonthRun, Path]) -> None:
    from scenarios.month.report import _reconciliation

    _run, directory = month
    data = json.loads((directory / "month.json").read_text("utf-8"))
    data["uploaded"] = {**data["uploaded"], "fund_pay_sumamt": str(
        Decimal(data["uploaded"]["fund_pay_sumamt"]) - Decimal("1234.5")),
        "setl_cnt": data["uploaded"]["setl_cnt"] - 2}
    data["day_ends"][1]["balanced"] = False
    data["receivables"] = {**data["receivables"], "outstanding": "10.00"}
    box = _reconciliation(data, several=False)
    _box, tables = _box_tables(f"<section>{box}", "2026-03")
    declared = {row[0]: row[1:] for row in tables["申报核对"][1:]}
    assert declared["基金支付 fund"][2:] == ["-1,234.50", "✗ 不符 differs"]
    assert declared["结算笔数 settlement rows"][2:] == ["-2", "✗ 不符 differs"]
    assert declared["医疗费总额 medical total"][3] == "✓ 相符 agrees"
    assert [row[1] for row in tables["日终对账"][1:]] == [
        "✓ 平 balanced", "✗ 不平 NOT balanced", "✓ 平 balanced"]
    chain = {row[1]: row for row in tables["对账链"][1:]}
    assert chain["未回款 outstanding"][2:] == ["10.00", "✗ 不符 differs +10.00"]


def test_every_deduction_names_the_visit_the_fee_row_and_the_patient_masked(
        month: tuple[MonthRun, Path]) -> None:
    run, directory = month
    page = (directory / "refusals.html").read_text("utf-8")
    section = page[page.index("拒付明细"):]
    table = section[:section.index("</table>")]
    header, *rows = [_cells(row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    assert header[2:5] == ["就诊ID visit (mdtrt_id)", "费用明细号 fee row (feedetl_sn)",
                           "人员编号 patient (psn_no)"]
    deductions = run.declaration["deductions"]
    assert len(rows) == len(deductions)
    for row, ded in zip(rows, deductions, strict=True):
        assert row[1:4] == [ded["setl_id"], ded["mdtrt_id"], ded["feedetl_sn"] or "-"]
        psn_no = ded["psn_no"]
        assert row[4] == psn_no[:6] + "*" * (len(psn_no) - 8) + psn_no[-2:]
        assert psn_no not in page  # never the whole person number
    assert any(ded["feedetl_sn"] for ded in deductions)


def test_receivables_csv_carries_the_his_visit_id(month: tuple[MonthRun, Path]) -> None:
    run, directory = month
    with (directory / "receivables.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    his = {r["setl_id"]: r for r in run.receivables["receivables"]}
    assert rows and all(r["visit_id"] and r["visit_id"] == his[r["setl_id"]]["visit_id"]
                        and r["mdtrt_id"] == his[r["setl_id"]]["mdtrt_id"] for r in rows)


def test_several_months_have_a_reconciliation_box_each(two_months: TwoMonths) -> None:
    page = (two_months.directory / "refusals.html").read_text("utf-8")
    for run in two_months.runs:
        period = run.plan.period
        _box, tables = _box_tables(page, period)
        chain = {row[1]: row for row in tables["对账链"][1:]}
        assert _yuan(chain["申报 claimed"][2]) == Decimal(run.declaration["claimed"])
        assert _yuan(chain["核准 accepted"][2]) == Decimal(run.declaration["accepted"])
        assert f"— {period}</h2>" in page


def _old_report(directory: Path, source: Path) -> dict[str, bytes]:
    from scenarios.month.report import MONTH_FILES

    directory.mkdir()
    old = {}
    for name in MONTH_FILES:
        old[name] = b"old " + name.encode() + b" " + (source / name).read_bytes()[:20]
        (directory / name).write_bytes(old[name])
    return old


def test_a_report_file_that_cannot_be_replaced_leaves_every_old_one(
        month: tuple[MonthRun, Path], tmp_path: Path) -> None:
    """The audit: Excel held receivables.csv open, the run said "cannot write", and month.json
    was new while the rest were old. Now nothing of the new run replaces an old file."""
    from simulator.errors import OutputError

    run, source = month
    directory = tmp_path / "report"
    old = _old_report(directory, source)
    (directory / "receivables.csv").unlink()
    (directory / "receivables.csv").mkdir()  # cannot be replaced
    del old["receivables.csv"]
    with pytest.raises(OutputError) as caught:
        write_month_report(run, directory)
    _left_as_they_were(str(caught.value), directory, old, "")


def _left_as_they_were(said: str, directory: Path, old: dict[str, bytes], why: str) -> None:
    """The message names receivables.csv (and ``why``) and the files left as they were; they
    are, byte for byte, and no temporary file is left."""
    from scenarios.month.report import MONTH_FILES

    assert said.startswith(f"cannot write {directory / 'receivables.csv'}: {why}")
    assert "left as they were: " + ", ".join(MONTH_FILES) in said
    assert {name: (directory / name).read_bytes() for name in old} == old
    assert sorted(p.name for p in directory.iterdir()) == sorted(MONTH_FILES)


def test_a_report_file_held_open_puts_back_those_already_replaced(
        month: tuple[MonthRun, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows a file open in Excel cannot be renamed: the files renamed before it are put
    back, and the message names the file and those left as they were."""
    import os

    from scenarios.month import report
    from scenarios.month.report import MONTH_FILES
    from simulator.errors import OutputError

    run, source = month
    directory = tmp_path / "report"
    old = _old_report(directory, source)
    replace = os.replace

    def held_open(src: Any, dst: Any) -> None:
        if "receivables.csv" in (Path(src).name, Path(dst).name):
            raise PermissionError(13, "The process cannot access the file because it is being "
                                      "used by another process")
        replace(src, dst)

    monkeypatch.setattr(report.os, "replace", held_open)
    with pytest.raises(OutputError) as caught:
        write_month_report(run, directory)
    _left_as_they_were(str(caught.value), directory, old, "The process cannot")
    monkeypatch.setattr(report.os, "replace", replace)
    write_month_report(run, directory)  # closed again: every file new
    assert all((directory / name).read_bytes() != old[name] for name in MONTH_FILES)
    assert sorted(p.name for p in directory.iterdir()) == sorted(MONTH_FILES)


def test_a_month_not_declared_says_so_in_its_box(month: tuple[MonthRun, Path]) -> None:
    from scenarios.month.report import _reconciliation

    _run, directory = month
    data = json.loads((directory / "month.json").read_text("utf-8"))
    data.update(dcla_id=None, declared=None, uploaded=None, claimed="0.00", deducted="0.00",
                accepted="0.00", reviewed_on=None,
                declaration_check={"ok": False, "refusal": {"message": "310/11/110000 不平"}})
    data["receivables"] = {**data["receivables"], "paid": "0.00",
                           "outstanding": data["receivables"]["claimed"]}
    box = _reconciliation(data, several=False)
    assert "✗ 未申报 <span lang=\"en\">NOT declared</span>: 310/11/110000 不平" in box
    _box, tables = _box_tables(f"<section>{box}", "2026-03")
    chain = {row[1]: row for row in tables["对账链"][1:]}
    assert chain["核准 accepted"][2:] == ["-", "未审核 not reviewed yet"]
    assert chain["未回款 outstanding"][3].startswith("✗ 不符 differs")  # claimed, never declared
    assert all(row[1:3] == ["-", "-"] for row in tables["申报核对"][1:])
