"""The ``cardsettle demo`` summary (the morning in one screen) as an IT lead reads it: 中文
English headers, refusal reasons as phrases, yuan with thousands separators."""

from __future__ import annotations

from rich.console import Console

from cardsettle.cli.demo import _summary
from scenarios.records import CheckResult
from tests.scenarios.test_report import result


def shown(width: int) -> str:
    run = result([CheckResult("exactly_once", True, "ok")])
    run.visits[0].bill = {"amounts": {"medfee_sumamt": "12345.60", "fund_pay_sumamt": "10000.00",
                                      "acct_pay": "345.60", "psn_cash_pay": "2000.00"}}
    console = Console(record=True, width=width)
    _summary(run, console)
    return console.export_text()


def test_the_department_table_is_bilingual_and_says_why_patients_were_refused() -> None:
    text = shown(120)
    for header in ("科室", "dept", "就诊", "visits", "结算", "settled", "退费", "refunded",
                   "拒绝", "refused", "离开", "walked", "拒绝原因", "refusal reasons"):
        assert header in text
    assert "社保卡已挂失 card lost 1" in text and "暂停参保 insurance suspended 1" in text
    assert "card_lost" not in text and "insurance_suspended" not in text


def test_money_has_separators_and_a_unit() -> None:
    text = shown(120)
    assert "医疗费 total 12,345.60 元" in text and "基金 fund 10,000.00 元" in text
    assert "个人账户 account 345.60 元" in text and "现金 cash 2,000.00 元" in text


def test_the_summary_fits_a_plain_80_column_terminal() -> None:
    """Piped output is 80 columns: the table keeps every count and reason readable."""
    text = shown(80)
    assert all(len(line) <= 80 for line in text.splitlines())
    row = next(line for line in text.splitlines() if line.lstrip().startswith("A03"))
    assert row.split()[2:7] == ["4", "1", "0", "2", "1"], row
    assert "社保卡已挂失" in text and "暂停参保" in text
