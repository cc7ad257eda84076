"""The debrief from the patients' and the HIS's side as well as the insurer's (audit H3): in a
"slow insurer" phase the insurer answers every message — late — while every patient timed out
at the HIS and left; the debrief says so on the terminal, on the page and in debrief.json,
and says when it has no record of that side instead of showing zeros. Also: the recovery of a
fault in the last phase (L2), the lost answers on the terminal (L3), fault names (L1) and
transaction names as the console's (L6)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from mock_insurer.schemas.catalog import TRANSACTIONS
from scenarios.drills.debrief import INFNO_NAMES, Debrief, debrief, infno_name
from scenarios.drills.loading import parse_drill
from scenarios.drills.model import Drill, Patients, Phase
from scenarios.drills.report import NOT_RECORDED, render_console, render_html, write_debrief
from scenarios.drills.runner import Clocks, DrillRun, PhaseRecord, run_drill
from scenarios.records import StepRecord, VisitRecord
from tests.scenarios.test_page import unmarked

CLOCKS = Clocks(datetime.now, time.monotonic, time.sleep, time.time)
START = datetime(2026, 11, 25, 9, 0, 0)

# -- a drill run made by hand -------------------------------------------------------------


def _message(n: int, infno: str, msgid: str, **fields: Any) -> dict[str, Any]:
    return {"id": n, "msgid": msgid, "infno": infno, "status": "answered", "infcode": 0,
            "fault": None, "received_ms": 1_800_000_000_000 + n, "request": {},
            "answer": {}, "effect_ref": None, "rejection_code": None, **fields}


def _visit(n: int, at: datetime, outcome: str, steps: list[StepRecord],
           refusal: dict[str, Any] | None = None, **fields: Any) -> VisitRecord:
    return VisitRecord(id=f"p-{n}", group="p", at=at, psn_no=f"psn{n}", psn_name="x",
                       edge_cases=[], certificate="card", operator=f"C0{n % 3 + 1}",
                       dept="A03", then="settle", items=[], outcome=outcome, refusal=refusal,
                       steps=steps, **fields)


def _no_answer(msgid: str, at: datetime) -> dict[str, Any]:
    return {"step": "identify", "code": "insurer_no_answer", "source": "his",
            "message": "医保中心无应答(1101)，请稍后重试 / no answer from the insurer to 1101",
            "infno": "1101", "msgid": msgid}


def _run(*, visits: list[VisitRecord], messages: list[dict[str, Any]],
         patients: bool = True) -> DrillRun:
    """Three phases of 10 minutes: normal, slow (a delay fault), down (the last: refuse)."""
    who = Patients(count=2) if patients else None
    drill = Drill(id="hand", title="手工 / by hand", phases=(
        Phase("正常 / normal", 10, patients=who),
        Phase("中心变慢 / slow", 10, faults=({"id": "slow", "name": "全部变慢 / all slower",
                                              "effect": {"kind": "delay", "ms": 1500}},),
              patients=who),
        Phase("中心宕机 / down", 10, faults=({"id": "down", "effect": "refuse"},),
              patients=who)))
    phases = []
    for n, phase in enumerate(drill.phases):
        record = PhaseRecord(phase.name, "", [str(f["id"]) for f in phase.faults],
                             START + timedelta(minutes=10 * n),
                             START + timedelta(minutes=10 * (n + 1)))
        record.started_epoch = 1_800_000_000 + n * 10
        record.first_message_id = [0, 10, 20][n]
        phases.append(record)
    return DrillRun(drill=drill, accelerate=100.0, insurer_url="http://insurer",
                    his_url="http://his", institution="H11010700001", started=START,
                    ended_epoch=1_800_000_030, message_id_at_start=0, phases=phases,
                    messages=messages, visits=visits, his_ledger=[])


def _slow_run() -> DrillRun:
    """Phase 1: two patients settled. Phase 2: two patients whose card reading the insurer
    answered after 1.5 s, when the HIS had given up (and a settlement the HIS reversed after
    waiting too long). Phase 3: one patient the insurer (down) never answered."""
    t1, t2, t3 = (START + timedelta(minutes=m) for m in (1, 12, 22))
    ok = [StepRecord("identify", str(t1), True, 5.0)]
    slow = {"id": "slow", "effect": "delay"}
    return _run(
        visits=[
            _visit(1, t1, "settled", ok),
            _visit(2, t1, "settled", ok),
            _visit(3, t2, "refused", [StepRecord("identify", str(t2), False, 1000.0,
                                                 _no_answer("M11", t2))],
                   {"step": "identify", **_no_answer("M11", t2)}),
            _visit(4, t2, "refused", [StepRecord("identify", str(t2), False, 1000.0,
                                                 _no_answer("M12", t2))],
                   {"step": "identify", **_no_answer("M12", t2)}),
            _visit(5, t3, "refused", [StepRecord("identify", str(t3), False, 1.0,
                                                 _no_answer("M21", t3))],
                   {"step": "identify", **_no_answer("M21", t3)})],
        messages=[
            _message(1, "1101", "M1"), _message(2, "2207", "M2", effect_ref="S1"),
            _message(11, "1101", "M11", fault=slow),
            _message(12, "1101", "M12", fault=slow, status="replayed"),
            _message(13, "2601", "M14", fault=slow,
                     request={"content": {"input": {"data": {"omsgid": "M13"}}}}),
            _message(14, "2207", "M13", fault=slow, infcode=-1,
                     rejection_code="msgid_reversed"),
            _message(21, "1101", "M21", status="faulted", infcode=None,
                     fault={"id": "down", "effect": "refuse"}),
            _message(22, "1101", "M21", status="faulted", infcode=None,
                     fault={"id": "down", "effect": "refuse"})])


@pytest.fixture(scope="module")
def slow() -> Debrief:
    return debrief(_slow_run())


def test_the_insurer_answered_while_every_patient_of_the_slow_phase_left(slow: Debrief) -> None:
    phase = slow.phases[1]
    assert phase["ok"] == 3 and phase["failed"] == 0  # the insurer's side: all answered
    assert phase["patients"] == {
        "injected": True, "came": 2, "settled": 0, "recovered": 0, "came_back": 0,
        "walked_away": 0, "turned_away": 2,
        "reasons": [{"reason": "timed_out", "step": "identify", "infno": "1101",
                     "patients": 2}]}
    # the two card readings and the settlement the HIS reversed: each msgid once
    assert phase["his"] == {"no_answer": 3, "why": {"timed_out": 3}, "reversals": 1}


def test_a_patient_the_insurer_never_answered_left_because_it_was_down(slow: Debrief) -> None:
    phase = slow.phases[2]
    assert phase["failed"] == 2  # the insurer's side counts the HIS's resend too
    assert phase["patients"]["reasons"] == [
        {"reason": "insurer_down", "step": "identify", "infno": "1101", "patients": 1}]
    assert phase["his"] == {"no_answer": 1, "why": {"insurer_down": 1}, "reversals": 0}
    assert slow.phases[0]["patients"]["settled"] == 2
    assert slow.phases[0]["his"]["no_answer"] == 0


def test_debrief_json_lists_the_patients_and_both_sides(slow: Debrief, tmp_path: Path) -> None:
    write_debrief(slow, tmp_path)
    data = json.loads((tmp_path / "debrief.json").read_text("utf-8"))
    assert data["patients_recorded"] is True
    left = [p for p in data["patients"] if p["reason"]]
    assert [(p["id"], p["phase_no"], p["reason"], p["step"], p["window"]) for p in left] == [
        ("p-3", 2, "timed_out", "identify", "C01"), ("p-4", 2, "timed_out", "identify", "C02"),
        ("p-5", 3, "insurer_down", "identify", "C03")]
    assert data["phases"][1]["patients"]["turned_away"] == 2
    assert data["phases"][1]["his"]["why"] == {"timed_out": 3}
    assert data["phases"][1]["fault_details"] == [
        {"id": "slow", "name": "全部变慢 / all slower", "effect": "delay"}]


def test_the_page_shows_both_sides_labelled(slow: Debrief) -> None:
    page = unmarked(render_html(slow, b""))
    phase = page[page.index("<b>2. 中心变慢 / slow</b>"):page.index("<b>3. 中心宕机 / down</b>")]
    assert '<b>患者 patients</b> <small>(演练注入 injected)</small>' in phase
    assert '<span class="count">来诊 2 came</span>' in phase
    assert '<span class="count bad">未结算离开 2 turned away</span>' in phase
    assert "HIS等待超时 the HIS timed out (the insurer answered too late) 于 at 读卡识别 " \
           "identify (1101): 2" in phase
    assert '<b>HIS侧 the HIS</b> <span class="count bad">无应答 3 messages without an ' \
           'answer</span> (HIS等待超时 the HIS timed out (the insurer answered too late) 3)' \
           in phase
    assert "冲正 1 reversals sent" in phase
    assert '<b>医保中心侧 the insurer</b>' in phase and "成功 3 answered" in phase
    assert "全部变慢 / all slower: 延迟应答 slow answers" in phase  # the fault's name, not its id
    summary = page[page.index('id="patients"'):page.index("<h2>")]
    assert "来诊 5 came" in summary and "已结算 2 settled" in summary
    assert "未结算离开 3 turned away" in summary
    left = page[page.index("未结算离开的患者 / Patients who left without a settlement"):]
    assert "p-3" in left and "医保中心宕机或断开 the insurer was down" in left


def test_the_terminal_shows_both_sides_labelled(slow: Debrief) -> None:
    console = Console(record=True, width=200)
    render_console(slow, console)
    text = console.export_text()
    flat = " ".join(text.split())
    assert "患者与HIS侧（演练注入的患者）/ the patients and the HIS" in flat
    assert "医保中心侧（医保中心收到的报文）/ the insurer's side" in flat
    row = next(line for line in text.splitlines() if "2. 中心变慢 / slow" in line and "│" in line)
    assert [cell.strip() for cell in row.split("│")[2:7]] == ["2", "0", "2", "3", "1"]
    assert "未结算离开 turned away 2: HIS等待超时 the HIS timed out (the insurer answered too " \
           "late) 于 at 读卡识别 identify (1101): 2" in flat
    assert "故障 faults: 全部变慢 / all slower: 延迟应答 slow answers" in flat
    assert "患者 patients: 来诊 came 5 · 已结算 settled 2 · 未结算离开 turned away 3" in flat


def test_a_fault_in_the_last_phase_says_the_drill_ended_during_it(slow: Debrief) -> None:
    """L2: no later phase to recover in is not "never recovered"."""
    last = slow.recovery[-1]
    assert last["phase"] == "中心宕机 / down" and last["ended_during_fault"] is True
    assert slow.recovery[0]["ended_during_fault"] is False
    console = Console(record=True, width=300)
    render_console(slow, console)
    flat = " ".join(console.export_text().split())
    assert ("中心宕机 / down (拒绝连接 connection refused): 演练在故障中结束，之后没有可恢复的阶段 "
            "the drill ended during the fault (no later phase to recover in)") in flat
    assert "none afterwards" not in flat.split("中心宕机 / down (")[1]
    page = unmarked(render_html(slow, b""))
    assert "the drill ended during the fault (no later phase to recover in)" in page


def test_lost_answers_on_the_terminal_say_answer_lost() -> None:
    """L3: "结算 8 (4 丢失 lost)" read as four settlements lost."""
    found = debrief(_slow_run())
    found.phases[0]["settled"], found.phases[0]["answer_lost"] = 8, 4
    console = Console(record=True, width=240)
    render_console(found, console)
    text = console.export_text()
    assert "8 (其中应答丢失 4 answer lost)" in text and "丢失 lost)" not in text


def test_without_injected_patients_the_debrief_says_so_instead_of_zeros(tmp_path: Path) -> None:
    found = debrief(_run(visits=[], messages=[_message(1, "1101", "M1")], patients=False))
    assert found.patients_recorded is False and found.patients == []
    assert all(p["patients"] is None and p["his"] is None for p in found.phases)
    page = unmarked(render_html(found, b""))
    assert NOT_RECORDED in page.replace("&#x27;", "'")
    assert "未记录 not recorded (未注入患者 no injected patients)" in page
    assert "来诊 0 came" not in page
    console = Console(record=True, width=300)
    render_console(found, console)
    flat = " ".join(console.export_text().split())
    assert NOT_RECORDED in flat and "来诊 came" not in flat
    write_debrief(found, tmp_path)
    data = json.loads((tmp_path / "debrief.json").read_text("utf-8"))
    assert data["patients_recorded"] is False and data["phases"][0]["patients"] is None


def test_transaction_names_are_the_consoles() -> None:
    """L6: one table, the console's (/console/transactions.json)."""
    console = {t.infno: f"{t.name_zh} {t.name_en}" for t in TRANSACTIONS}
    assert console == INFNO_NAMES
    assert infno_name("1101") == "人员信息获取 Person information"
    assert infno_name("3101").startswith("明细审核事前分析 ")
    assert infno_name("3102").startswith("明细审核事中分析 ")
    assert infno_name("2207A") == f"{console['2207']} (2207A)"
    assert infno_name("7777") == "7777"


# -- a real drill: the audit's slow phase --------------------------------------------------
SLOW_DRILL = """\
drill: slow-card-reading
title: 读卡变慢 / slow card reading
seed: 11
his: {timeout: 1.0}
phases:
  - name: 正常营业 / normal service
    minutes: 5
    instructions: 正常收费。 / Charge as usual.
    patients: {count: 3, windows: 3}
  - name: 中心变慢 / the insurer is slow
    minutes: 2
    instructions: 交易很慢。 / Transactions are slow.
    faults:
      - {id: slow, name: 全部交易变慢 / every message slower, effect: {kind: delay, ms: 1500}}
    patients: {count: 3, windows: 3}
  - name: 拒绝一张卡 / one card refused
    minutes: 5
    instructions: 若读卡被拒，按提示告知患者。 / If a card is refused, tell the patient.
    faults:
      - {id: one-card, name: 一人读卡被拒 / one card refused, match: {infno: "1101", first: 1}, effect: {kind: business_error, err_msg: "FSI-该人员卡已挂失[card_lost]"}}
    patients: {count: 3, windows: 3}
"""


def test_a_real_slow_phase_shows_the_patients_who_timed_out(tmp_path: Path) -> None:
    drill = parse_drill(SLOW_DRILL, source="slow.yaml")
    found = debrief(run_drill(drill, tmp_path, CLOCKS, accelerate=1000.0))
    slow_phase = found.phases[1]
    assert slow_phase["failed"] == 0  # the insurer answered everything (late)
    assert slow_phase["patients"]["came"] == 3
    assert slow_phase["patients"]["turned_away"] == 3
    assert {r["reason"] for r in slow_phase["patients"]["reasons"]} == {"timed_out"}
    assert slow_phase["his"]["no_answer"] >= 3 and set(slow_phase["his"]["why"]) == {"timed_out"}
    assert found.phases[0]["patients"]["turned_away"] == 0
    last = found.phases[2]["patients"]
    assert last["reasons"] == [{"reason": "insurer_refused", "step": "identify",
                                "infno": "1101", "patients": 1}]
    assert found.recovery[-1]["ended_during_fault"] is True
    page = unmarked(write_debrief(found, tmp_path).read_text("utf-8"))
    assert "未结算离开 3 turned away" in page and "一人读卡被拒 / one card refused" in page
