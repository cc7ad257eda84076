"""The scenario result on the terminal (scenarios/report.py ``render``) as a cashier's IT lead
reads it: 中文 English labels, refusal reasons as phrases (the code in grey), check names
with a label, nothing that only a developer understands."""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from mock_insurer.refusals import LABELS as REFUSAL_LABELS
from mock_insurer.refusals import TEXTS
from scenarios.checks import CHECKS
from scenarios.records import CheckResult, DayEndRecord, RunResult, VisitRecord
from scenarios.report import CHECK_LABELS, refusal_label, render
from simulator.output import NotRegularFileError, atomic_write


def visit(n: int, outcome: str, refusal: str | None = None, dept: str = "A03") -> VisitRecord:
    return VisitRecord(
        id=f"v{n}", group="am", at=datetime(2026, 3, 2, 8, n % 60), psn_no=f"p{n}",
        psn_name="张三", edge_cases=[], certificate="card", operator="op1", dept=dept,
        then="settle", items=[], outcome=outcome,
        refusal={"rejection_code": refusal} if refusal else None)


def result(checks: list[CheckResult] | None = None) -> RunResult:
    visits = [visit(1, "settled"), visit(2, "refused", "card_lost"),
              visit(3, "refused", "insurance_suspended"), visit(4, "cancelled"),
              visit(5, "refunded", dept="A04")]
    return RunResult(
        scenario="demo-morning", title="一个上午 / a morning", concern="demo", source="x.yaml",
        seed=1, his={"name": "reference", "url": "http://127.0.0.1:1", "institution": "H1"},
        insurer={"url": "http://127.0.0.1:2", "embedded": True}, visits=visits,
        day_ends=[DayEndRecord("2026-03-02", True, True, 0, {}, 1.0)], events=[],
        checks=checks if checks is not None else [
            CheckResult("exactly_once", True, "every visit is settled at most once")])


def shown(run: RunResult) -> str:
    console = Console(record=True, width=160)
    render(run, console)
    return console.export_text()


def test_refusal_reasons_are_phrases_with_the_code_kept() -> None:
    text = shown(result())
    assert "拒绝原因 refusal reasons: 社保卡已挂失 card lost 1 (card_lost)" in text
    assert "暂停参保 insurance suspended 1 (insurance_suspended)" in text
    assert "refusals 拒绝: card_lost" not in text


def test_labels_are_bilingual() -> None:
    text = shown(result())
    assert "通过 PASS" in text and "就诊 5 visits" in text and "结算 settled 1" in text
    assert "日终对账 day-end 2026-03-02: 对平 balanced, 更正 corrections 0" in text
    assert "检查 check" in text and "结果 result" in text
    assert "只结算一次 exactly once exactly_once" in text


def test_a_failed_check_names_its_evidence_in_both_languages() -> None:
    bad = CheckResult("exactly_once", False, "2 visit(s) settled twice",
                      [{"visit": f"v{i}"} for i in range(8)])
    text = shown(result([bad]))
    assert "未通过 FAIL" in text
    assert "只结算一次 exactly once exactly_once: evidence 证据" in text
    assert "另有 3 more in result.json" in text


def test_every_refusal_and_check_has_a_label() -> None:
    """A new refusal code (mock_insurer/refusals.py) or check needs its 中文 English phrase."""
    assert set(TEXTS) <= set(REFUSAL_LABELS), set(TEXTS) - set(REFUSAL_LABELS)
    assert set(CHECKS) <= set(CHECK_LABELS), set(CHECKS) - set(CHECK_LABELS)
    assert refusal_label("gender_restricted") == "限性别用药 gender limit"
    assert refusal_label("something_new") == "something_new"


def test_reports_are_readable_by_colleagues(tmp_path: Path) -> None:
    """A report written atomically gets the mode open() would give (here 0644 under umask
    022), not the temporary file's 0600: colleagues on a shared drive can open it."""
    previous = os.umask(0o022)
    try:
        atomic_write(tmp_path / "report.json", "{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o644
    assert (tmp_path / "report.json").read_text() == "{}"


def test_a_report_never_replaces_a_named_pipe(tmp_path: Path) -> None:
    """result.json, report.html, the debrief and the month report are renamed into place
    through the one writer that refuses a device or a pipe (simulator.output)."""
    os.mkfifo(tmp_path / "report.json")
    with pytest.raises(NotRegularFileError, match=r"report\.json: not a regular file"):
        atomic_write(tmp_path / "report.json", "{}")
    assert stat.S_ISFIFO((tmp_path / "report.json").stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
