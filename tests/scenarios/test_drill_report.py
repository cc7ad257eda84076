"""The drill debrief as the staff read it after a drill: money at risk, recovery, the day-end
groups and the phases in words (Chinese and English), no raw keys or Python lists; and the
library's instructions written as whole sentences. Built from a debrief by hand (no drill
run); a real run's debrief is in test_drills.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from scenarios.drills.debrief import Debrief
from scenarios.drills.library import DRILLS, library_drills
from scenarios.drills.report import render_html, write_debrief, yuan
from tests.scenarios.test_page import unmarked


def _debrief(**changes: Any) -> Debrief:
    phase = {"instructions": "正常收费。\nCharge as usual.\n", "ok": 40, "refused": 1,
             "failed": 0, "messages": 41, "settled": 6, "faults": [], "by_infno": {}}
    fields: dict[str, Any] = {
        "drill": "outage-at-peak", "title": "早高峰医保中心宕机 / the insurer goes down",
        "accelerate": 100.0, "started": "2026-11-24 09:00:00",
        "insurer_url": "http://127.0.0.1:1", "his_url": "http://127.0.0.1:2",
        "institution": "H11011300001", "totals": {"ok": 80, "failed": 22},
        "phases": [
            {**phase, "name": "正常营业 / normal service", "start": "2026-11-24 09:00:00"},
            {**phase, "name": "中心宕机 / the insurer is down", "start": "2026-11-24 09:10:00",
             "ok": 0, "failed": 22, "messages": 22, "settled": 0, "faults": ["down"]},
            {**phase, "name": "恢复 / the insurer is back", "start": "2026-11-24 09:30:00"}],
        "doubles": [{"mdtrt_id": "M1", "settlements": [{}, {}], "extra_yuan": "1234.50"}],
        "recovery": [{"phase": "中心宕机 / the insurer is down", "faults": ["down"],
                      "seconds_to_first_settlement": 30.8,
                      "note": "drill time (wall seconds × accelerate)"}],
        "day_end": {"ran": True, "balanced": True, "his": [],
                    "insurer_3201": {"310/11/110000": {
                        "stmt_rslt": "0", "stmt_rslt_dscr": "对平：医疗费总额468.45 笔数17"}}},
        "money_at_risk": {"settled_twice": "1234.50", "unsettled_details": "0.00",
                          "insurer_only": "0.00", "his_only": "0.00", "total": "1234.50"},
        "compared_with_his": True}
    fields.update(changes)
    return Debrief(**fields)


@pytest.fixture(scope="module")
def page() -> str:
    return unmarked(render_html(_debrief(), b""))


def test_money_at_risk_is_in_words_with_yuan(page: str) -> None:
    risk = page[page.index('id="money-at-risk"'):page.index("<h2>")]
    assert "重复结算 settled twice: 1,234.50 元" in risk
    assert "明细上传未结算 details uploaded, never settled: 0.00 元" in risk
    assert "中心有、HIS无" in risk and "HIS有、中心无" in risk
    assert "<b>1,234.50 元</b>" in risk
    for raw in ("settled_twice", "unsettled_details", "insurer_only", "his_only"):
        assert raw not in risk, raw
    assert "1,234.50 元" in page.split("重复结算 / Settled twice")[1]  # the table's amount


def test_yuan_keeps_decimals_and_separates_thousands() -> None:
    assert yuan("1234567.5") == "1,234,567.50 元"
    assert yuan("0") == "0.00 元"
    assert yuan("n/a") == "n/a"


def test_recovery_names_the_fault_in_words_not_a_python_list(page: str) -> None:
    recovery = page[page.index("恢复时间"):page.index("重复结算 / Settled twice")]
    assert "['down']" not in recovery and "seconds_to_first_settlement" not in recovery
    assert "<th>阶段 phase</th>" in recovery and "故障 faults" in recovery
    assert "中心宕机 / insurer down: 拒绝连接 connection refused" in recovery  # from the library
    assert "30.8 演练秒 drill seconds" in recovery and "加速倍数 100" in recovery


def test_a_fault_not_in_the_library_shows_its_id() -> None:
    shown = render_html(_debrief(drill="my-own-drill"), b"")
    assert "<code>down</code>" in shown and "['down']" not in shown


def test_phase_lines_are_bilingual(page: str) -> None:
    assert "成功 40 answered" in page and "无应答 22 no answer" in page
    assert "结算 6 settlements" in page and "拒绝 1 refused" in page
    assert re.search(r"<br>故障 faults: 中心宕机 / insurer down: 拒绝连接 connection refused", page)
    assert "faults down" not in page


def test_day_end_groups_are_explained(page: str) -> None:
    day = page[page.index("日终对账 / Day-end reconciliation"):]
    assert "<th>group</th>" not in day and "<th>stmt_rslt" not in day and "<h3>3201</h3>" not in day
    assert "医保中心对总账 (3201)" in day and "结果 0 表示对平" in day
    assert "职工基本医疗保险 employees&#x27; basic medical insurance <small>(310)</small>" in day
    assert "门诊 outpatient" in day and "110000" in day
    assert "对平 balanced <small>(0)</small>" in day


def test_the_verdict_keeps_its_words() -> None:
    assert "无损失 / nothing lost" in unmarked(render_html(_debrief(doubles=[], money_at_risk={
        "settled_twice": "0.00", "total": "0.00"}), b""))
    assert "发现问题 / PROBLEMS FOUND" in unmarked(render_html(_debrief(), b""))


def test_the_debrief_files_are_the_same_twice_and_json_keeps_its_keys(tmp_path: Path) -> None:
    write_debrief(_debrief(), tmp_path / "a")
    write_debrief(_debrief(), tmp_path / "b")
    for name in ("debrief.html", "debrief.json", "phases.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    data = json.loads((tmp_path / "a" / "debrief.json").read_text("utf-8"))
    assert data["money_at_risk"]["settled_twice"] == "1234.50"
    assert data["recovery"][0]["faults"] == ["down"]


def test_library_instructions_are_whole_sentences() -> None:
    """A drill file's instructions keep no line break inside a sentence (the console shows
    them with their line breaks): every line ends a sentence."""
    drills = library_drills()
    assert len(drills) == len(list(DRILLS.glob("*.yaml")))
    for drill in drills:
        for phase in drill.phases:
            for line in phase.instructions.strip().splitlines():
                assert line == "" or line.rstrip()[-1] in "。.！!？?）)", (drill.id, line)


def test_the_terminal_summary_is_bilingual() -> None:
    from rich.console import Console

    from scenarios.drills.report import render_console

    console = Console(record=True, width=240)
    render_console(_debrief(compared_with_his=False, day_end={
        "ran": False, "balanced": None, "unbalanced_3201": 0, "his": [], "insurer_3201": {}}),
        console)
    text = " ".join(console.export_text().split())
    assert "中心有HIS无 unknown to the HIS 未比较 not compared" in text
    assert "日终 day-end 未运行 not run" in text
    assert "n/a" not in text


def test_refusals_nobody_saw_at_the_window_are_apart() -> None:
    """slow-insurer: the HIS's queries that found nothing and the late answers to reversed
    settlements are not refused patients."""
    slow = {"name": "中心变慢 / the insurer slows down", "start": "2026-11-24 09:05:00",
            "instructions": "", "faults": [], "messages": 65, "ok": 58, "refused": 0,
            "other_refused": 7, "failed": 0, "settled": 7, "answer_lost": 0, "by_infno": {}}
    page = unmarked(render_html(_debrief(phases=[slow]), b""))
    assert "拒绝 0 refused" in page
    assert "其他拒绝 7 other refusals (queries, reversals, late answers)" in page
