"""The debrief on paper: ``debrief.json``, ``debrief.html`` (Chinese and English labels, for the
staff's meeting after the drill) with a chart of the messages per phase (``phases.png``), and a
one-screen summary on the terminal.

Only what people read is translated here: ``debrief.json`` keeps the debrief's own keys and
codes (``settled_twice``, ``stmt_rslt`` …). Amounts are yuan (Decimal text from the debrief,
shown with thousands separators); seconds to recovery are drill seconds (wall seconds ×
accelerate). Code meanings (险种 insutype, 清算类别 clr_type, 对账结果 stmt_rslt) come from
:data:`mock_insurer.schemas.codes.CODE_TABLES`.

Each phase is shown from both sides, each labelled with whose count it is: the patients' and
the HIS's (the drill's injected patients: who came, who was settled, who left unsettled and
why; the HIS's messages without a usable answer and its reversals) and the insurer's (the
messages it received). A drill without injected patients says that side is not recorded."""

from __future__ import annotations

import base64
import html
import json
import textwrap
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mock_insurer.money import MoneyParseError, parse_decimal, round_money
from mock_insurer.schemas.codes import CODE_TABLES
from scenarios.drills.debrief import Debrief
from scenarios.page_charts import STEP_NAMES
from simulator.bilingual import bilingual, both, english, lines, said
from simulator.output import atomic_write

__all__ = ["AT_RISK_LABELS", "COLUMN_LABELS", "DAY_END_WORDS", "DEBRIEF_FILES", "EFFECT_LABELS",
           "NOT_RECORDED", "REASON_LABELS", "phase_chart", "render_console", "render_html",
           "write_debrief", "yuan"]

AT_RISK_LABELS: dict[str, tuple[str, str]] = {
    "settled_twice": ("重复结算", "settled twice"),
    "unsettled_details": ("明细上传未结算", "details uploaded, never settled"),
    "insurer_only": ("中心有、HIS无", "settled at the insurer, unknown to the HIS"),
    "his_only": ("HIS有、中心无", "in the HIS, unknown to the insurer"),
}
"""Chinese and English of the parts of ``money_at_risk`` (see :mod:`scenarios.drills.debrief`)."""

COLUMN_LABELS: dict[str, str] = {
    "mdtrt_id": "就诊ID visit (mdtrt_id)", "settlements": "结算笔数 settlements",
    "extra yuan": "多结算金额 extra (元 yuan)", "setl_id": "结算ID settlement (setl_id)",
    "psn_no": "人员编号 person", "msgid": "报文ID message (msgid)",
    "medfee_sumamt": "医疗费总额 total fees (元 yuan)", "setl_time": "结算时间 settled at",
    "visit_id": "HIS就诊号 HIS visit", "status": "HIS状态 HIS status",
    "his": "HIS金额 HIS amount (元 yuan)", "insurer": "中心金额 insurer amount (元 yuan)",
    "his_visit_id": "门诊号 HIS visit no.", "registered": "挂号时间 registered at",
    "unsettled_details": "未结算明细 details never settled",
    "unsettled_yuan": "未结算金额 unsettled (元 yuan)", "outcome": "结果 outcome",
    "omsgid": "被冲正报文 reversed message (omsgid)", "infno": "交易 transaction",
    "found": "HIS是否得知 did the HIS find out",
    "id": "患者 patient", "phase": "阶段 phase", "window": "窗口 window",
    "arrived": "到达时间 arrived at", "reason": "原因 why", "step": "环节 step",
    "message": "HIS提示 what the HIS said",
}
"""Bilingual headers of the debrief's tables (keys as in ``debrief.json``)."""

_MONEY_COLUMNS = frozenset({"extra yuan", "medfee_sumamt", "his", "insurer", "unsettled_yuan"})

_VALUE_LABELS: dict[str, dict[str, str]] = {
    "outcome": {"ok": "成功 answered", "refused": "拒绝 refused",
                "other_refused": "其他拒绝 other refusal", "failed": "无应答 no answer"},
    "infno": {"2207": "结算 settlement (2207)", "2207A": "结算 settlement (2207A)",
              "2208": "退费 refund (2208)"},
    "found": {"5203": "已查询得知 found by a 5203 query", "2601": "已冲正 reversed (2601)",
              "ledger": "HIS账上已有 in the HIS's ledger", "no": "未发现 NOT found"},
    "status": {"settled": "已结算 settled", "cancelled": "已撤销 cancelled",
               "refund": "已退费 refunded"},
}

REASON_LABELS: dict[str, tuple[str, str]] = {
    "timed_out": ("HIS等待超时", "the HIS timed out (the insurer answered too late)"),
    "insurer_down": ("医保中心宕机或断开", "the insurer was down or cut the connection"),
    "unreachable": ("连不上医保中心", "the insurer could not be reached"),
    "answer_lost": ("应答丢失", "the answer was lost"),
    "gateway": ("医保网关错误", "the insurer's gateway refused (HTTP error)"),
    "broken_answer": ("应答损坏", "a broken answer"),
    "insurer_refused": ("医保中心拒绝", "refused by the insurer"),
    "outcome_unknown": ("结算结果未知", "outcome unknown (the HIS could not find out)"),
    "settle_reversed": ("结算无应答已冲正", "no answer to the settlement: reversed, visit "
                                           "cancelled"),
    "his_refused": ("HIS拒绝", "refused by the HIS"),
    "his_error": ("HIS出错", "the HIS failed"),
    "not_finished": ("未完成", "not finished when the drill ended"),
}
"""Why a patient left unsettled, or why the HIS had no answer
(:data:`scenarios.drills.debrief.REASONS`)."""

_VALUE_LABELS["reason"] = {k: f"{zh} {en}" for k, (zh, en) in REASON_LABELS.items()}
_VALUE_LABELS["step"] = {k: f"{zh} {en}" for k, (en, zh) in STEP_NAMES.items()}

NOT_RECORDED = ("患者与HIS侧未记录：本演练未注入患者，复盘只有医保中心的记录 / the patients' and the "
                "HIS's side are not recorded: the drill injected no patients, so the debrief has "
                "the insurer's record only")
"""Said instead of zeros when the debrief has no record of the patients or the HIS."""

EFFECT_LABELS: dict[str, tuple[str, str]] = {
    "refuse": ("拒绝连接", "connection refused"), "close": ("断开连接", "connection closed"),
    "delay": ("延迟应答", "slow answers"), "http_error": ("HTTP 错误", "HTTP error"),
    "business_error": ("业务错误", "business error"), "malformed": ("应答损坏", "broken answer"),
    "lose_answer": ("应答丢失", "answer lost"),
    "signin_invalidated": ("签到失效", "sign-in invalidated"),
    "clock_skew": ("时钟偏差", "clock skew"),
}
"""Fault effect kinds (:data:`mock_insurer.faults.EFFECT_KINDS`) in words."""

DAY_END_WORDS: dict[bool | None, str] = {True: "对平 balanced", False: "未对平 NOT balanced",
                                         None: "未运行 not run"}
"""The day-end's verdict (``day_end.balanced``) in words."""

_INSUTYPE_EN = {"310": "employees' basic medical insurance", "320": "civil servants' subsidy",
                "330": "large-expense subsidy", "340": "retired cadres' medical security",
                "390": "residents' basic medical insurance",
                "392": "residents' serious-illness insurance", "510": "maternity insurance"}
_CLR_TYPE_EN = {"11": "outpatient", "21": "inpatient", "41": "pharmacy", "99": "other"}
_STMT_RSLT_EN = {"0": "balanced", "1": "the insurer has more", "2": "the hospital has more",
                 "3": "the data differ"}


def _code_names(table: str) -> dict[str, str]:
    """``{code: Chinese name}`` from a code table's ``meaning`` ("310 职工…; 320 …")."""
    names = {}
    for part in CODE_TABLES[table].meaning.split(";"):
        code, _, name = part.strip().partition(" ")
        if code.isdigit() and name:
            names[code] = name.strip()
    return names


def _code_text(table: str, english: Mapping[str, str], code: str) -> str:
    """``"职工基本医疗保险 employees' … (310)"``; the bare code when unknown (escaped HTML,
    the English marked as English)."""
    chinese, en = _code_names(table).get(code, ""), english.get(code, "")
    words = both(chinese, en)
    return f"{words} <small>({_e(code)})</small>" if words else _e(code)


def yuan(value: Any) -> str:
    """An amount as a person reads it: ``"1,234.50 元"`` (Decimal throughout; the text as it
    was when it is not a number)."""
    try:
        amount: Decimal = round_money(parse_decimal(value))
    except MoneyParseError:
        return str(value)
    return f"{amount:,} 元"


def _phase_label(n: int, name: str) -> str:
    """``"1. 营业\\nthe day's business"``: a phase name for a chart's axis, wrapped."""
    lines = [part.strip() for part in name.split(" / ")] if " / " in name else [name]
    wrapped = [w for line in lines for w in textwrap.wrap(line, 20) or [""]]
    return f"{n}. " + "\n".join(wrapped)


HATCHES = ("", "//", "..", "xx", "\\\\")
"""The patterns of the stacked parts, in order: they differ by pattern, not only by colour
(answered green and refused orange look alike to red-green colour-blind readers)."""


def _stacked(axes: Any, names: list[str], bars: list[tuple[list[int], str, str, str]],
             title: str, ylabel: str) -> None:
    """Stacked bars per phase, each bar's total above it; ``bars``: values, colour, English,
    Chinese (each part also with its own hatch pattern, :data:`HATCHES`)."""
    from simulator.windows.plots import label

    bottom = [0] * len(names)
    for n, (values, color, in_english, chinese) in enumerate(bars):
        axes.bar(range(len(names)), values, bottom=bottom, color=color,
                 hatch=HATCHES[n % len(HATCHES)], edgecolor="white",
                 label=label(in_english, chinese))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for x, total in enumerate(bottom):
        axes.annotate(f"{total:,}", (x, total), xytext=(0, 3), textcoords="offset points",
                      ha="center", va="bottom", fontsize=9)
    axes.set_xticks(range(len(names)), names, fontsize=9)
    axes.tick_params(axis="x", labelbottom=axes.get_subplotspec().is_last_row())
    axes.set_ylim(0, max([*bottom, 1]) * 1.15)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=9)


def phase_chart(result: Debrief) -> bytes:
    """Per phase: the injected patients settled, left as planned and turned away (the
    patients' side, when recorded), and the messages the insurer answered, refused and
    did not answer (the insurer's side) — stacked bars (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from simulator.windows.plots import figure_bytes, label, plot_style

    recorded = _recorded(result)
    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(9, 7.4 if recorded else 3.8))
        names = [_phase_label(n, p["name"]) for n, p in enumerate(result.phases, start=1)]
        if recorded:
            top, axes = figure.subplots(2, 1, sharex=True, gridspec_kw={"hspace": 0.25})
            side = [p["patients"] for p in result.phases]
            _stacked(top, names, [
                ([s["settled"] for s in side], "#2e7d32", "settled", "已结算"),
                ([s["walked_away"] for s in side], "#9e9e9e", "left as planned", "按计划离开"),
                ([s["turned_away"] for s in side], "#c62828", "left unsettled",
                 "未结算离开")],
                label("Patients per phase (the patients' side)", "各阶段患者（患者侧）"),
                label("patients", "患者"))
        else:
            axes = figure.subplots()
        _stacked(axes, names, [
            ([p.get("ok", 0) for p in result.phases], "#2e7d32", "answered", "成功"),
            ([p.get("refused", 0) for p in result.phases], "#ef6c00", "refused", "拒绝"),
            ([p.get("other_refused", 0) for p in result.phases], "#ffcc80", "other refusals",
             "其他拒绝"),
            ([p.get("failed", 0) for p in result.phases], "#c62828", "no answer", "无应答")],
            label("Messages per phase (the insurer's side)", "各阶段报文（医保中心侧）"),
            label("messages", "报文数"))
        axes.set_xlabel(label("phase", "阶段"))
        return figure_bytes(figure, "png")


def _lost_words(phase: Mapping[str, Any]) -> str:
    """`` (其中应答丢失 2 answer lost)`` when settlements of the phase had their answer lost
    (HTML)."""
    lost = int(phase.get("answer_lost", 0))
    return f" (其中应答丢失 {lost:,} {english('answer lost')})" if lost else ""


def _words(html_: bool) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """``(text, english)``: how the sentences below say a Chinese and an English part —
    as they are (the terminal), or escaped HTML with the English marked as English."""
    return (_e, english) if html_ else (str, str)


def _where(step: str | None, infno: str | None, html_: bool = False) -> str:
    """``"读卡识别 identify (1101)"``: the step of a visit and its transaction."""
    text, english = _words(html_)
    en, zh = STEP_NAMES.get(str(step), (str(step or ""), ""))
    said = " ".join(part for part in (text(zh) if zh else "", english(en) if en else "") if part)
    code = text(str(infno or ""))
    return f"{said} ({code})" if infno and said else said or code


def _reason(reason: str, html_: bool = False) -> str:
    text, english = _words(html_)
    zh, en = REASON_LABELS.get(reason, (reason, ""))
    return f"{text(zh)} {english(en)}" if en else text(zh)


def _reasons_text(side: Mapping[str, Any], html_: bool = False) -> str:
    """``"HIS等待超时 the HIS timed out (…) 于 at 读卡识别 identify (1101): 4"``, one per
    reason, step and transaction (``html_``: escaped, the English marked)."""
    _text, english = _words(html_)
    return "; ".join(
        f"{_reason(r['reason'], html_)}"
        + (f" 于 {english('at')} {_where(r.get('step'), r.get('infno'), html_)}"
           if r.get("step") else "")
        + f": {r['patients']:,}" for r in side.get("reasons", []))


def _settled_text(side: Mapping[str, Any], html_: bool = False) -> str:
    """`` (其中重试或再来后 8 after trying again or coming back; …)`` when it applies."""
    _text, english = _words(html_)
    parts = []
    if side.get("came_back"):
        parts.append(f"重试或再来后 {side['came_back']:,} "
                     f"{english('after trying again or coming back')}")
    if side.get("recovered"):
        parts.append(f"应答丢失后查回 {side['recovered']:,} "
                     f"{english('found by the HIS after a lost or late answer')}")
    return f" (其中 {english('of which')}: {'; '.join(parts)})" if parts else ""


def _why_text(his: Mapping[str, Any], html_: bool = False) -> str:
    """``"HIS等待超时 the HIS timed out (…) 4; …"``: why the HIS had no answer."""
    return "; ".join(f"{_reason(k, html_)} {v:,}" for k, v in (his.get("why") or {}).items())


def _patients_total(result: Debrief) -> dict[str, int]:
    """The injected patients of every phase added up."""
    keys = ("came", "settled", "walked_away", "turned_away")
    total = dict.fromkeys(keys, 0)
    total["no_answer"] = 0
    for phase in result.phases:
        for key in keys:
            total[key] += int((phase.get("patients") or {}).get(key, 0))
        total["no_answer"] += int((phase.get("his") or {}).get("no_answer", 0))
    return total


def _recorded(result: Debrief) -> bool:
    """The debrief has the patients' and the HIS's side (a debrief of an older version, or of
    a drill without injected patients, has not)."""
    return result.patients_recorded and all(p.get("patients") is not None
                                            for p in result.phases)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _cell(key: str, value: Any) -> str:
    if value is None or value == "":
        return "<td>—</td>"
    if key in _MONEY_COLUMNS:
        return f'<td class="num">{_e(yuan(value))}</td>'
    if key in _VALUE_LABELS:
        return f"<td>{bilingual(str(_VALUE_LABELS[key].get(str(value), value)))}</td>"
    return f"<td>{bilingual(str(value))}</td>"  # a phase's name, what the HIS said


def _none() -> str:
    return f"<p class=\"none\">{bilingual('无 / none')}</p>"


def _table(title: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f"<h3>{bilingual(title)}</h3>{_none()}"
    keys = list(rows[0])
    head = "".join(f"<th title=\"{_e(k)}\">{bilingual(COLUMN_LABELS.get(k, k))}</th>"
                   for k in keys)
    body = "".join("<tr>" + "".join(_cell(k, r.get(k)) for k in keys) + "</tr>" for r in rows)
    return (f"<h3>{bilingual(title)}</h3><div class=\"wide\"><table><tr>{head}</tr>{body}"
            "</table></div>")


def _fault_said(name: Any, kind: Any) -> str:
    """``"中心宕机 / insurer down: 拒绝连接 connection refused"`` (the effect alone unnamed)."""
    zh, en = EFFECT_LABELS.get(str(kind or ""), (str(kind or ""), ""))
    said = f"{zh} {en}".strip()
    return f"{name}: {said}" if name and said else str(name or said)


def _fault_words(result: Debrief) -> dict[tuple[str, str], str]:
    """``{(phase name, fault id): "中心宕机 / insurer down: 拒绝连接 connection refused"}``:
    from the debrief's ``fault_details`` (the names and effects of the drill file run), else —
    a debrief without them — from the library drill of that name. Empty when neither has
    them (the ids are shown)."""
    words: dict[tuple[str, str], str] = {}
    for item in [*result.phases, *result.recovery]:
        name = item.get("name", item.get("phase"))
        for fault in item.get("fault_details") or []:
            said = _fault_said(fault.get("name"), fault.get("effect"))
            if said:
                words[(str(name), str(fault.get("id")))] = said
    if words:
        return words
    from scenarios.drills.library import drill_path
    from scenarios.drills.loading import load_drill
    from scenarios.errors import ScenarioError

    path = drill_path(result.drill)
    if path is None:
        return {}
    try:
        drill = load_drill(path)
    except (OSError, ScenarioError):
        return {}
    for phase in drill.phases:
        for n, fault in enumerate(phase.faults):
            effect = fault.get("effect") or {}
            kind = str(effect.get("kind", "")) if isinstance(effect, Mapping) else str(effect)
            words[(phase.name, str(fault.get("id", f"f{n + 1}")))] = _fault_said(
                fault.get("name"), kind)
    return words


def _faults_plain(phase: str, faults: list[str], words: Mapping[tuple[str, str], str]) -> str:
    """The faults of a phase in words for the terminal (the id where there are none)."""
    return "; ".join(words.get((phase, f)) or f for f in faults)


def _faults_text(phase: str, faults: list[str], words: Mapping[tuple[str, str], str]) -> str:
    """The faults of a phase in words, each with its id in small grey text (escaped HTML)."""
    return "; ".join(f"{said(words.get((phase, f), ''))} <small class=\"code\">{_e(f)}</small>"
                     if (phase, f) in words else f"<code>{_e(f)}</code>" for f in faults)


def _recovery_html(result: Debrief, words: Mapping[tuple[str, str], str]) -> str:
    title = "恢复时间 / Time from each fault's end to the first good settlement"
    if not result.recovery:
        return f"<h3>{bilingual(title)}</h3>{_none()}"
    rows = []
    for item in result.recovery:
        after = item["seconds_to_first_settlement"]
        drill_time = item.get("note", "seconds") != "seconds"
        unit = both("演练秒", "drill seconds") if drill_time else both("秒", "seconds")
        if after is not None:
            said = f"{_e(f'{after:,}')} {unit}"
        elif item.get("ended_during_fault"):
            said = bilingual("演练在故障中结束，之后没有可恢复的阶段 / the drill ended during the "
                              "fault (no later phase to recover in)")
        else:
            said = bilingual("之后无成功结算 none afterwards")
        rows.append(
            f"<tr><td>{bilingual(item['phase'])}</td>"
            f"<td>{_faults_text(item['phase'], list(item['faults']), words)}</td>"
            f"<td class=\"num\">{said}</td></tr>")
    note = (f"<p class=\"note\">演练时间 = 实际秒数 × 加速倍数 {result.accelerate:g} / "
            + english(f"drill time = wall-clock seconds × the acceleration {result.accelerate:g}")
            + "</p>" if result.accelerate != 1 else "")
    head = "".join(f"<th{css}>{bilingual(label)}</th>" for css, label in (
        ("", "阶段 phase"), ("", "故障 faults"),
        (" class=\"num\"", "故障结束后首笔成功结算 first good settlement after the fault ended")))
    return (f"<h3>{bilingual(title)}</h3><div class=\"wide\"><table><tr>{head}</tr>"
            f"{''.join(rows)}</table></div>{note}")


def _day_end_html(result: Debrief) -> list[str]:
    day = result.day_end
    state = DAY_END_WORDS[day.get("balanced")]
    parts = [f"<h3>{said(f'日终对账 / Day-end reconciliation: {state}')}</h3>"]
    if day.get("unbalanced_3201"):
        parts.append(f"<p>对总账 (3201) 未对平 {_e(day['unbalanced_3201'])} 次 / "
                     + english(f"totals reconciliations that did not balance (before "
                           f"corrections): {day['unbalanced_3201']}") + "</p>")
    for his in day.get("his", []):
        parts.append(
            f"<p>HIS 日终 {english('HIS day-end')} {_e(his.get('date'))}: "
            f"{bilingual('对平 balanced' if his.get('balanced') else '未对平 NOT balanced')}, "
            f"更正 {_e(his.get('corrections', 0))} 笔 {english('corrections')}</p>")
    groups = day.get("insurer_3201", {})
    if not groups:
        return parts
    parts.append(
        "<h3>" + bilingual("医保中心对总账 (3201) / The insurer's totals reconciliation (3201)")
        + "</h3><p class=\"note\">" + bilingual(
            "每组按险种、清算类别和结算经办机构（区划代码）核对医疗费总额、基金支付、个人账户支付"
            "和笔数；结果 0 表示对平。 / Each group (insurance type, clearing type, settlement "
            "agency by area code) compares total fees, fund paid, personal account paid and "
            "count; result 0 means balanced.") + "</p>")
    rows = []
    for key, value in groups.items():
        insutype, clr_type, setl_optins = [*key.split("/"), "", ""][:3]
        code = str(value.get("stmt_rslt"))
        css = "ok" if code == "0" else "bad"
        rows.append(
            f"<tr title=\"{_e(key)}\"><td>{_code_text('insutype', _INSUTYPE_EN, insutype)}</td>"
            f"<td>{_code_text('clr_type', _CLR_TYPE_EN, clr_type)}</td>"
            f"<td>{_e(setl_optins)}</td>"
            f"<td class=\"{css}\">{_code_text('stmt_rslt', _STMT_RSLT_EN, code)}</td>"
            f"<td>{_e(value.get('stmt_rslt_dscr') or '')}</td></tr>")
    head = "".join(f"<th>{bilingual(label)}</th>" for label in (
        "险种 insurance type", "清算类别 clearing type", "结算经办机构 settlement agency",
        "对账结果 result", "中心说明 the insurer's note"))
    parts.append(f"<div class=\"wide\"><table><tr>{head}</tr>{''.join(rows)}</table></div>")
    return parts


def _count(zh: str, value: int, en: str, *, bad: bool = False) -> str:
    css = "count bad" if bad and value else "count"
    return f"<span class=\"{css}\">{_e(zh)} {value:,} {english(en)}</span>"


def _sides_html(phase: Mapping[str, Any], recorded: bool) -> str:
    """A phase's patients' side and HIS's side (or that they are not recorded)."""
    side, his = phase.get("patients"), phase.get("his")
    if not recorded or side is None or his is None:
        return (f"<div class=\"side\"><b>患者与HIS侧 {english('patients, HIS')}</b> <span "
                f"class=\"na\">未记录 {english('not recorded')} (未注入患者 "
                f"{english('no injected patients')})</span></div>")
    if side.get("injected") is False and not side.get("came"):
        patients = (f"<span class=\"na\">本阶段未注入患者 {english('no patients injected in this phase')}"
                    "</span>")
    else:
        reasons = _reasons_text(side, html_=True)
        patients = (f"{_count('来诊', side['came'], 'came')} · "
                    f"{_count('已结算', side['settled'], 'settled')}"
                    f"{_settled_text(side, html_=True)}"
                    + (f" · {_count('按计划未结算离开', side['walked_away'], 'left as planned')}"
                       if side.get("walked_away") else "")
                    + f" · {_count('未结算离开', side['turned_away'], 'turned away', bad=True)}"
                    + (f": {reasons}" if reasons else ""))
    why = _why_text(his, html_=True)
    return (f"<div class=\"side\"><b>患者 {english('patients')}</b> <small>(演练注入 "
            f"{english('injected')})</small> {patients}</div><div class=\"side\"><b>HIS侧 "
            f"{english('the HIS')}</b> "
            f"{_count('无应答', his['no_answer'], 'messages without an answer', bad=True)}"
            + (f" ({why})" if why else "")
            + f" · {_count('冲正', his.get('reversals', 0), 'reversals sent')}</div>")


def _patients_summary_html(result: Debrief) -> str:
    if not _recorded(result):
        return f"<p id=\"patients\" class=\"note\">{bilingual(NOT_RECORDED)}</p>"
    total = _patients_total(result)
    return (f"<p id=\"patients\">患者 {english('patients')} (演练注入 {english('injected')}): "
            f"{_count('来诊', total['came'], 'came')} · "
            f"{_count('已结算', total['settled'], 'settled')} · "
            + (f"{_count('按计划未结算离开', total['walked_away'], 'left as planned')} · "
               if total["walked_away"] else "")
            + f"{_count('未结算离开', total['turned_away'], 'turned away', bad=True)} · HIS "
            f"{_count('无应答', total['no_answer'], 'messages without an answer', bad=True)}"
            "</p>")


def render_html(result: Debrief, chart: bytes) -> str:
    verdict = ("无损失 / nothing lost" if result.clean else "发现问题 / PROBLEMS FOUND")
    css = ("body{font-family:system-ui,'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;"
           "margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;width:100%;"
           "margin-bottom:1em}td,th{border-bottom:1px solid #eee;padding:.35em;text-align:left;"
           "vertical-align:top}td.num{text-align:right;white-space:nowrap}th.num{text-align:right}"
           ".wide{overflow-x:auto}.note{color:#555;font-size:.9em}small{color:#666}"
           "td.ok{color:#2e7d32}td.bad{color:#c62828;font-weight:bold}"
           ".badge{padding:.2em .6em;border-radius:.3em;color:#fff;font-weight:bold}"
           ".clean{background:#2e7d32}.problems{background:#c62828}.risk{font-size:1.3em}"
           ".risk ul{font-size:.8em;margin:.3em 0}"
           ".phase{border-left:4px solid #1565c0;padding:.3em 1em;margin:.6em 0}"
           ".phase .count{white-space:nowrap}@media (max-width:40em){.phase .count"
           "{white-space:normal}}.phase .instructions{display:block;white-space:pre-line}"
           ".side{margin:.15em 0}.side>b{display:inline-block;min-width:9em}"
           "span.bad{color:#c62828;font-weight:bold}span.na{color:#666}"
           "img{max-width:100%}")
    risk = "".join(
        f"<li>{both(*AT_RISK_LABELS[k])}: {_e(yuan(v))}</li>"
        if k in AT_RISK_LABELS else f"<li>{_e(k)}: {_e(yuan(v))}</li>"
        for k, v in result.money_at_risk.items() if k != "total")
    his = (_e(result.his_url) if result.his_url
           else f"— (仅医保中心记录 {english('insurer record only')})")
    institution = (_e(result.institution) if result.institution
                   else bilingual("全部 all"))
    parts = [f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>演练复盘 / "
             f"drill debrief — {_e(result.title)}</title><style>{css}</style></head><body>",
             f"<h1>演练复盘 / {english('Drill debrief')}: {bilingual(result.title)}</h1>",
             f"<p id=\"verdict\"><span class=\"badge {'clean' if result.clean else 'problems'}\">"
             f"{bilingual(verdict)}</span> 开始 {english('started')} {_e(result.started)} · 加速 "
             f"{english('accelerated')} ×{result.accelerate:g} · 医保中心 {english('insurer')} "
             f"{_e(result.insurer_url)} · HIS {his} · 机构 {english('institution')} {institution}</p>",
             f"<div class=\"risk\" id=\"money-at-risk\">涉及金额 {english('money at risk')}: "
             f"<b>{_e(yuan(result.money_at_risk.get('total', '0.00')))}</b> {english('yuan')}"
             f"<ul>{risk}</ul></div>",
             _patients_summary_html(result),
             f"<h2>{bilingual('各阶段 / Phases')}</h2>",
             f"<img alt=\"各阶段患者与报文 patients and messages per phase\" "
             f"src=\"data:image/png;base64,{base64.b64encode(chart).decode('ascii')}\">"]
    words = _fault_words(result)
    recorded = _recorded(result)
    for n, phase in enumerate(result.phases, start=1):
        faults = (f"<br>故障 {english('faults')}: "
                  f"{_faults_text(phase['name'], list(phase['faults']), words)}"
                  if phase["faults"] else "")
        parts.append(
            f"<div class=\"phase\"><b>{n}. {bilingual(phase['name'])}</b> (计划开始 "
            f"{english('planned start')} {_e(phase['start'])}){_sides_html(phase, recorded)}"
            f"<div class=\"side\"><b>医保中心侧 {english('the insurer')}</b> <span "
            f"class=\"count\">报文 {phase['messages']:,} {english('messages')}:</span> <span "
            f"class=\"count\">成功 {phase['ok']:,} {english('answered')}</span> · "
            f"<span class=\"count\">拒绝 {phase['refused']:,} {english('refused')}</span> · "
            f"<span class=\"count\">其他拒绝 {phase.get('other_refused', 0):,} "
            f"{english('other refusals (queries, reversals, late answers)')}</span> · <span "
            f"class=\"count\">无应答 {phase['failed']:,} {english('no answer')}</span> · <span "
            f"class=\"count\">结算 {phase['settled']:,} {english('settlements')}"
            f"{_lost_words(phase)}</span></div>{faults}<small class=\"instructions\">"
            f"{lines(str(phase['instructions']).strip())}</small></div>")
    parts.append(_recovery_html(result, words))
    if recorded:
        parts.append(_table("未结算离开的患者 / Patients who left without a settlement", [
            {key: patient.get(key) for key in ("id", "phase", "window", "arrived", "psn_no",
                                               "reason", "step", "infno", "message")}
            for patient in result.patients if patient.get("reason")]))
    parts.append(_table("重复结算 / Settled twice", [
        {"mdtrt_id": d["mdtrt_id"], "settlements": len(d["settlements"]),
         "extra yuan": d["extra_yuan"]} for d in result.doubles]))
    parts.append(_table("中心有、HIS无 / Settlements the HIS does not know of", result.insurer_only)
                 if result.compared_with_his else
                 f"<h3>{bilingual('中心有、HIS无 / Settlements the HIS does not know of')}</h3>"
                 "<p>" + bilingual("未比较：HIS 没有驱动接口（仅医保中心记录） / not compared: "
                                    "the HIS has no driver API (insurer record only)") + "</p>")
    if result.compared_with_his:
        parts.append(_table("HIS有、中心无 / HIS rows the insurer does not have", result.his_only))
        parts.append(_table("金额不符 / Amounts that disagree", result.disagreements))
    parts.append(_table("遗留挂号或明细 / Registrations or details left open", result.orphans))
    parts.append(_table("冲正 / Reversals made", result.reversals))
    parts.append(_table("应答丢失 / Settlements and refunds whose answer was lost",
                        result.lost_answers))
    parts.extend(_day_end_html(result))
    parts.append("</body></html>")
    return "\n".join(parts)


DEBRIEF_FILES = ("debrief.json", "debrief.html", "phases.png")
"""What :func:`write_debrief` writes into the report directory."""


def write_debrief(result: Debrief, directory: Path) -> Path:
    """Write debrief.json, debrief.html and phases.png (:data:`DEBRIEF_FILES`) into
    ``directory``; return the HTML."""
    directory.mkdir(parents=True, exist_ok=True)
    chart = phase_chart(result)
    atomic_write(directory / "phases.png", chart)
    atomic_write(directory / "debrief.json",
                 json.dumps(result.to_json(), ensure_ascii=False, indent=1, default=str))
    page = directory / "debrief.html"
    atomic_write(page, render_html(result, chart))
    return page


def _console_sides(result: Debrief, console: Console,
                   words: Mapping[tuple[str, str], str]) -> None:
    """The patients' and the HIS's side per phase: a table, then a line per phase saying
    its faults, why patients left unsettled and why the HIS had no answer."""
    if not _recorded(result):
        console.print(f"  {NOT_RECORDED}")
        return
    table = Table(title="患者与HIS侧（演练注入的患者）/ the patients and the HIS (the drill's "
                        "injected patients)", title_justify="left")
    table.add_column("阶段 phase")
    for column in ("来诊 came", "已结算 settled", "未结算离开 turned away",
                   "HIS无应答 no answer", "HIS冲正 reversals"):
        table.add_column(column, justify="right")
    for n, phase in enumerate(result.phases, start=1):
        side, his = phase["patients"], phase["his"]
        none = side.get("injected") is False and not side.get("came")
        turned = side["turned_away"]
        table.add_row(escape(f"{n}. {phase['name']}"), "—" if none else str(side["came"]),
                      "—" if none else str(side["settled"]),
                      "—" if none else (f"[bold red]{turned}[/bold red]" if turned
                                        else str(turned)),
                      str(his["no_answer"]), str(his.get("reversals", 0)))
    console.print(table)
    for n, phase in enumerate(result.phases, start=1):
        side, his = phase["patients"], phase["his"]
        lines = []
        if phase["faults"]:
            lines.append(f"故障 faults: {_faults_plain(phase['name'], phase['faults'], words)}")
        if side.get("injected") is False and not side.get("came"):
            lines.append("本阶段未注入患者 no patients injected in this phase")
        if _settled_text(side):
            lines.append(f"已结算 settled {side['settled']}{_settled_text(side)}")
        if side["turned_away"]:
            lines.append(f"未结算离开 turned away {side['turned_away']}: {_reasons_text(side)}")
        if his["no_answer"]:
            lines.append(f"HIS无应答 no answer {his['no_answer']}: {_why_text(his)}")
        if lines:
            console.print(escape(f"  {n}. {phase['name']}"))
            for line in lines:
                console.print(escape(f"     {line}"))


def render_console(result: Debrief, console: Console) -> None:
    words = _fault_words(result)
    _console_sides(result, console, words)
    table = Table(title="医保中心侧（医保中心收到的报文）/ the insurer's side (the messages it "
                        "received)", title_justify="left")
    table.add_column("阶段 phase")
    for column in ("报文 messages", "成功 ok", "拒绝 refused", "其他拒绝 other",
                   "无应答 no answer", "结算 settled"):
        table.add_column(column, justify="right")
    for n, phase in enumerate(result.phases, start=1):
        lost = int(phase.get("answer_lost", 0))
        table.add_row(escape(f"{n}. {phase['name']}"), str(phase["messages"]), str(phase["ok"]),
                      str(phase["refused"]), str(phase.get("other_refused", 0)),
                      str(phase["failed"]), str(phase["settled"])
                      + (f" (其中应答丢失 {lost} answer lost)" if lost else ""))
    console.print(table)
    if result.lost_answers:
        found = {key: sum(1 for lost in result.lost_answers if lost["found"] == key)
                 for key in ("5203", "2601", "ledger", "no")}
        refunds = sum(1 for lost in result.lost_answers if lost["infno"] == "2208")
        console.print(f"  应答丢失 answers lost {len(result.lost_answers)} (结算 settlements "
                      f"{len(result.lost_answers) - refunds}, 退费 refunds {refunds}): "
                      f"HIS查询得知 found by "
                      f"5203 {found['5203']} · 冲正 reversed {found['2601']} · HIS账上已有 in "
                      f"the HIS's ledger {found['ledger']} · 未发现 not found {found['no']}")
    for item in result.recovery:
        after = item["seconds_to_first_settlement"]
        faults = _faults_plain(item["phase"], list(item["faults"]), words)
        if after is not None:
            said = (f" 之后 after: 首笔成功结算 first good settlement {after} s（故障结束后 "
                    "after the fault ended）")
        elif item.get("ended_during_fault"):
            said = (": 演练在故障中结束，之后没有可恢复的阶段 the drill ended during the fault "
                    "(no later phase to recover in)")
        else:
            said = (" 之后 after: 首笔成功结算 first good settlement 之后无 none afterwards"
                    "（故障结束后 after the fault ended）")
        console.print(escape(f"  {item['phase']} ({faults}){said}"))
    unknown = (str(len(result.insurer_only)) if result.compared_with_his
               else "未比较 not compared")
    day = result.day_end
    corrections = sum(int(his.get("corrections") or 0) for his in day.get("his", []))
    day_words = DAY_END_WORDS[day.get("balanced")]
    if day.get("unbalanced_3201") or corrections:
        day_words += (f" (3201 未对平 not balanced {day.get('unbalanced_3201', 0)} · 更正 "
                      f"corrections {corrections})")
    console.print(f"  重复结算 settled twice {len(result.doubles)} · 中心有HIS无 unknown to the "
                  f"HIS {unknown} · 遗留 left open {len(result.orphans)} · 冲正 reversals "
                  f"{len(result.reversals)} · 日终 day-end {day_words}")
    if _recorded(result):
        total = _patients_total(result)
        console.print(f"  患者 patients: 来诊 came {total['came']} · 已结算 settled "
                      f"{total['settled']}"
                      + (f" · 按计划未结算离开 left as planned {total['walked_away']}"
                         if total["walked_away"] else "")
                      + f" · 未结算离开 turned away {total['turned_away']} · HIS无应答 "
                      f"no answer {total['no_answer']}")
    style = "bold green" if result.clean else "bold red"
    console.print(f"[{style}]money at risk 涉及金额: {yuan(result.money_at_risk.get('total'))} "
                  f"yuan — {'nothing lost 无损失' if result.clean else 'see the debrief 见复盘'}"
                  f"[/{style}]")
