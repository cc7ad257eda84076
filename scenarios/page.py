"""The page of a run: ``report.html`` beside ``result.json``, for the vendor's QA engineer or
the hospital's IT person who ran the scenario (labels 中文 English).

One self-contained file (styles inline, plots as ``data:`` PNG, no external address) built
only from the :class:`~scenarios.records.RunResult` that result.json holds: the verdict and
what ran; every check, the failing ones first, with their evidence; how the visits ended,
the refusals by reason (with the words the cashier saw) and by department; the day-ends;
the fault timeline; the visits over the day. Times are the scenario's business clock; money
is yuan with two decimals. Nothing reads the real clock, so the same result gives the same
page byte for byte — except the section ``id="wall-clock"`` (how long the HIS took, measured
in wall-clock milliseconds) and the address of a server given by URL.
"""

from __future__ import annotations

import base64
import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from mock_insurer.money import MoneyParseError, parse_decimal
from scenarios.checks import refusal_code
from scenarios.drills.report import DAY_END_WORDS, EFFECT_LABELS, yuan
from scenarios.page_charts import OUTCOME_COLORS, latency_chart, visits_chart
from scenarios.planning import DEPARTMENTS
from scenarios.records import CheckResult, RunResult, VisitRecord
from scenarios.report import (
    CHECK_LABELS,
    OUTCOME_LABELS,
    PAGE_FILE,
    refusal_label,
)
from simulator.bilingual import bilingual
from simulator.output import atomic_write

__all__ = ["EVIDENCE_ROWS", "PRINT_CSS", "VISIT_ROWS", "bilingual",
           "render_page", "write_page"]

EVIDENCE_ROWS = 50
"""Pieces of evidence shown per failed check; all of them are in result.json."""
VISIT_ROWS = 500
"""Visits listed in the (folded) table of every visit; all of them are in result.json."""

EVIDENCE_KEYS = {
    "visit": "就诊 visit", "step": "步骤 step", "setl_id": "结算ID setl_id",
    "mdtrt_id": "就诊ID mdtrt_id", "kind": "单据 document", "differ": "不一致 differs",
    "psn_no": "人员编号 psn_no", "his_visit_id": "HIS就诊号 HIS visit", "date": "日期 date",
    "expected": "预期 expected", "got": "实际 got", "outcome": "结果 outcome",
    "refusal": "拒绝 refusal", "message": "提示 message", "error": "错误 error",
    "problem": "问题 problem", "failures": "不符 failures", "visits": "就诊数 visits",
    "other outcomes": "其他结果的就诊 other outcomes",
    "visits with this outcome": "此结果的就诊 visits with this outcome",
    "outcome at the window": "窗口结果 outcome at the window",
    "settlements in effect at the insurer": "中心有效结算 settlements in effect at the insurer",
    "settlements": "结算 settlements", "registered": "挂号时间 registered",
    "unsettled_details": "未结算明细 details never settled", "settled": "已结算 settled",
    "amounts": "金额 amounts", "status": "状态 status", "visit_id": "HIS就诊号 HIS visit",
    "msgid": "报文ID msgid", "corrections": "更正 corrections", "recovered": "恢复 recovered",
    "balanced": "已对平 balanced", "ok": "成功 ok", "unresolved": "未解决 unresolved",
    "unbalanced groups": "未对平的分组 unbalanced groups",
    "balanced groups": "已对平的分组 balanced groups",
}
"""Bilingual column heads of the evidence tables (unknown keys are shown as they are)."""

_STYLE = (
    "body{font-family:system-ui,'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;margin:2em;"
    "max-width:1100px;color:#222}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid "
    "#ccc}table{border-collapse:collapse;margin:.4em 0 1em}td,th{border-bottom:1px solid #eee;"
    "padding:.3em .5em;text-align:left;vertical-align:top}th{background:#f3f3f3}"
    "td.num,th.num{text-align:right;white-space:nowrap}.wide{overflow-x:auto}"
    ".badge{display:inline-block;padding:.2em .7em;border-radius:.3em;color:#fff;"
    "font-weight:bold;white-space:nowrap}.pass{background:#2e7d32}.fail{background:#c62828}"
    ".code{color:#666;font-size:.85em}.note{color:#555;"
    "font-size:.9em}.dot{display:inline-block;width:.8em;height:.8em;border-radius:.2em;"
    "margin-right:.3em}.evidence{border-left:4px solid #c62828;padding:.2em 1em;margin:1em 0}"
    "table.data{font-size:.85em}table.data td{overflow-wrap:anywhere}img{max-width:100%}"
    "dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2em 1em}dt{color:#555}"
    "dd{margin:0;overflow-wrap:anywhere}@media (max-width:30em){dl{grid-template-columns:1fr}"
    "dd{margin-bottom:.4em}body{margin:1em}}")

PRINT_CSS = (
    "@media print{body{margin:0;max-width:none}.wide,.wrap,.scroll{overflow:visible!important}"
    "pre{max-height:none!important;overflow:visible!important}h2,h3{break-after:avoid}"
    "tr,img{break-inside:avoid}details::details-content{content-visibility:visible;"
    "display:block}summary{list-style:none}summary::-webkit-details-marker{display:none}}")
"""What a printed page needs: nothing clipped in a scroll box (paper does not scroll), every
folded ``<details>`` printed open (a printed run record shows every visit and every test, not a
"▶ show" line; ``::details-content``: Chromium 131, Firefox 143, Safari 18.4), no heading
alone at the foot of a sheet. CSS only: the pages carry no script."""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _code(value: Any) -> str:
    return f' <span class="code">{_e(value)}</span>'


def _badge(passed: bool) -> str:
    return ('<span class="badge pass">通过 PASS</span>' if passed else
            '<span class="badge fail">未通过 FAIL</span>')


def _h2(text: str) -> str:
    return f"<h2>{bilingual(text)}</h2>"


def _h3(text: str) -> str:
    return f"<h3>{bilingual(text)}</h3>"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = (),
           css: str = "") -> str:
    """A table of already-escaped cells; columns ``numeric`` right-aligned."""
    def cell(tag: str, n: int, text: str) -> str:
        return f"<{tag} class=\"num\">{text}</{tag}>" if n in numeric else f"<{tag}>{text}</{tag}>"
    body = "".join("<tr>" + "".join(cell("td", n, c) for n, c in enumerate(row)) + "</tr>"
                   for row in rows)
    heads = "".join(cell("th", n, bilingual(h)) for n, h in enumerate(head))
    return (f"<div class=\"wide\"><table class=\"{css}\"><tr>{heads}</tr>{body}</table></div>")


def _none() -> str:
    return "<p class=\"note\">无 / <span lang=\"en\">none</span></p>"


def _image(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    return (f"<p><img alt=\"{_e(alt)}\" src=\"data:image/png;base64,"
            f"{base64.b64encode(png).decode('ascii')}\"></p>")


def _clock(stamp: str) -> str:
    """``"08:50"`` of ``"2026-03-02 08:50:00"``; the date too when it is another day."""
    return stamp[11:16] if len(stamp) >= 16 else stamp


def _value(value: Any) -> str:
    """An evidence cell: text as it is; an object as ``key: value`` lines; a list joined."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, float) and value != value:  # NaN: nothing to show
        return "—"
    if isinstance(value, Mapping):
        return "<br>".join(f"{_e(k)}: " + (" · ".join(f"{_e(a)} {_value(b)}" for a, b in
                                                     v.items())
                                          if isinstance(v, Mapping) else _value(v))
                           for k, v in value.items())
    if isinstance(value, list | tuple):
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            return ", ".join(_value(v) for v in value) or "—"
        return _e(json.dumps(value, ensure_ascii=False, default=str))
    return _e(value)


def _evidence(check: CheckResult) -> str:
    """A failing check's evidence: a table when its pieces are objects, a list otherwise."""
    shown = check.evidence[:EVIDENCE_ROWS]
    head = (f"<div class=\"evidence\" id=\"evidence-{_e(check.name)}\"><h3>"
            f"{_e(CHECK_LABELS.get(check.name, check.name))}{_code(check.name)}: 证据 evidence "
            f"({len(check.evidence):,})</h3>")
    if shown and all(isinstance(item, Mapping) for item in shown):
        keys: list[str] = []
        for item in shown:
            keys.extend(k for k in item if k not in keys)
        body = _table([EVIDENCE_KEYS.get(k, k) for k in keys],
                      ([_value(item.get(k)) for k in keys] for item in shown), css="data")
    else:
        body = "<ul>" + "".join(f"<li>{_value(item)}</li>" for item in shown) + "</ul>"
    more = (f"<p class=\"note\">另有 {len(check.evidence) - len(shown):,} 条见 result.json / "
            f"{len(check.evidence) - len(shown):,} more in result.json</p>"
            if len(check.evidence) > len(shown) else "")
    return head + body + more + "</div>"


def _checks(result: RunResult) -> list[str]:
    ordered = sorted(result.checks, key=lambda c: c.passed)  # failing first, else as run
    rows = [(_badge(c.passed), _e(CHECK_LABELS.get(c.name, c.name)) + _code(c.name),
             _e(c.summary)) for c in ordered]
    parts = [_h2("检查 / Checks"),
             _table(["结果 verdict", "检查 check", "说明 what was checked"], rows)
             if rows else _none()]
    parts.extend(_evidence(c) for c in ordered if not c.passed and c.evidence)
    return parts


def _who(result: RunResult) -> list[tuple[str, str]]:
    his, insurer = result.his, result.insurer
    his_words = _e(his.get("name") or "HIS")
    his_words += (f" (内置 embedded{_code(his.get('class'))})" if his.get("embedded")
                  else f" {_e(his.get('url'))}")
    return [("场景 scenario", _e(result.scenario) + (_code(result.source) if result.source
                                                     else "")),
            ("关注点 concern", _e(result.concern or "—")),
            ("随机种子 seed", _e(result.seed)),
            ("日期 date (场景时间 scenario clock)", _e(result.date or _first_day(result))),
            ("医院系统 HIS", his_words),
            ("机构 institution", _e(his.get("institution") or "—")),
            ("医保中心 insurer", "内置 embedded mock insurer" if insurer.get("embedded")
             else _e(insurer.get("url")))]


def _first_day(result: RunResult) -> str:
    """The first visit's day, for a result written before result.json had ``date``."""
    return min(v.at for v in result.visits).strftime("%Y-%m-%d") if result.visits else "—"


def _outcomes(result: RunResult) -> list[str]:
    counts = result.outcome_counts()
    total = len(result.visits)
    order = [o for o in OUTCOME_LABELS if o in counts] + sorted(set(counts) - set(OUTCOME_LABELS))
    rows = [(f"<span class=\"dot\" style=\"background:{OUTCOME_COLORS.get(o, '#757575')}\">"
             f"</span>{_e(OUTCOME_LABELS.get(o, o))}", f"{counts[o]:,}",
             f"{100 * counts[o] / total:.1f}%") for o in order]
    rows.append(("<b>合计 total</b>", f"<b>{total:,}</b>", ""))
    retried = sum(1 for v in result.visits if v.retries)
    recovered = sum(1 for v in result.visits if v.recovered)
    settled = [v.bill for v in result.visits if v.bill]
    fees = sum((_amount(b) for b in settled), start=Decimal(0))
    return [_h2("就诊结果 / How the visits ended"),
            _table(["结果 outcome", "就诊 visits", "占比 share"], rows, numeric=(1, 2)),
            f"<p>再次尝试的就诊 visits tried again (patient came back or cashier retried): "
            f"{retried:,} · 应答丢失后恢复 recovered after a lost answer: {recovered:,} · "
            f"现有票据医疗费总额 total fees on the bills standing: {_e(yuan(fees))}</p>",
            _image(visits_chart(result), "全天就诊及结果 visits over the day by outcome")]


def _amount(bill: Mapping[str, Any]) -> Decimal:
    """A bill's total fees (yuan); a bill without a readable total counts 0."""
    try:
        return parse_decimal((bill.get("amounts") or {}).get("medfee_sumamt") or "0")
    except MoneyParseError:
        return Decimal(0)


def _refusals(result: RunResult) -> list[str]:
    refused = [(v, code) for v in result.visits if (code := refusal_code(v))]
    parts = [_h2("拒绝 / Refusals")]
    if not refused:
        return [*parts, _none()]
    by_code: dict[str, list[VisitRecord]] = {}
    for visit, code in refused:
        by_code.setdefault(code, []).append(visit)
    rows = []
    for code, visits in sorted(by_code.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        steps = Counter(str((v.refusal or {}).get("step", "")) for v in visits)
        words = Counter(str((v.refusal or {}).get("message") or "") for v in visits)
        said = "<br>".join(f"“{_e(w)}” ×{n:,}" for w, n in words.most_common(3) if w)
        reason = _e(refusal_label(code)) + (_code(code) if refusal_label(code) != code else "")
        rows.append((reason, f"{len(visits):,}", _e(", ".join(sorted(steps))),
                     said or "—", _e(", ".join(v.id for v in visits[:8]))
                     + (" …" if len(visits) > 8 else "")))
    parts.append(_h3("按原因 / By reason"))
    parts.append(_table(["原因 reason", "就诊 visits", "步骤 step",
                         "收费员看到的提示 what the cashier saw", "就诊 visit ids"], rows,
                        numeric=(1,)))
    by_dept: dict[str, list[VisitRecord]] = {}
    for visit in result.visits:
        by_dept.setdefault(visit.dept, []).append(visit)
    dept_rows = []
    for dept, visits in sorted(by_dept.items()):
        codes = Counter(c for v in visits if (c := refusal_code(v)))
        name = DEPARTMENTS[dept][0] if dept in DEPARTMENTS else ""
        dept_rows.append((f"{_e(name)}{_code(dept)}", f"{len(visits):,}",
                          f"{sum(codes.values()):,}",
                          _e(", ".join(f"{refusal_label(c)} {n}" for c, n in
                                       codes.most_common())) or "—"))
    parts.append(_h3("按科室 / By department"))
    parts.append(_table(["科室 department", "就诊 visits", "拒绝 refused", "原因 reasons"],
                        dept_rows, numeric=(1, 2)))
    return parts


def _timeline(result: RunResult) -> list[str]:
    parts = [_h2("故障时间线 / Fault timeline")]
    if not result.events:
        return [*parts, _none()]
    rows = []
    for n, event in enumerate(result.events):
        until = result.events[n + 1]["at"] if n + 1 < len(result.events) else "9999"
        hit = [s for v in result.visits for s in v.steps if event["at"] <= s.at < until]
        failed = sum(1 for s in hit if not s.ok)
        faults = []
        for effect in event.get("effects") or [{"id": f} for f in event.get("faults") or []]:
            zh, en = EFFECT_LABELS.get(str(effect.get("kind")), ("", ""))
            words = " ".join(w for w in (effect.get("name"), zh, en) if w)
            faults.append(f"{_e(words)}{_code(effect.get('id'))}" if words
                          else _e(effect.get("id")))
        rows.append((_e(_clock(event["at"])), _e(event.get("note") or "—"),
                     "<br>".join(faults) or "无故障 no fault (恢复 back to normal)",
                     f"{len(hit):,}", f"{failed:,}"))
    return [*parts, _table(["时间 time", "说明 note", "故障 faults", "此后步骤 steps until the "
                            "next event", "未成功 not ok"], rows, numeric=(3, 4))]


def _day_ends(result: RunResult) -> list[str]:
    parts = [_h2("日终对账 / Day-end reconciliation")]
    if not result.day_ends:
        return [*parts, _none()]
    rows = [(_e(d.date), _e(DAY_END_WORDS[d.balanced] if d.ok else
                            f"出错 error: {d.body.get('error') or d.body.get('message') or '—'}"),
             f"{d.corrections:,}") for d in result.day_ends]
    return [*parts, _table(["日期 date", "结果 result", "更正 corrections"], rows, numeric=(2,))]


def _visits(result: RunResult) -> list[str]:
    rows = []
    for v in result.visits[:VISIT_ROWS]:
        refusal = v.refusal or {}
        code = refusal_code(v)
        bill = v.bill or {}
        rows.append((
            _e(v.id), _e(_clock(v.at.strftime("%Y-%m-%d %H:%M:%S"))),
            _e(DEPARTMENTS[v.dept][0] if v.dept in DEPARTMENTS else v.dept),
            _e(OUTCOME_LABELS.get(v.outcome, v.outcome)),
            (_e(refusal_label(code)) + (f" @ {_e(refusal.get('step'))}" if refusal.get("step")
                                        else "")) if code else _e(v.error or "—"),
            _e(bill.get("setl_id") or "—"),
            _e(yuan((bill.get("amounts") or {}).get("medfee_sumamt"))) if bill else "—"))
    more = (f"<p class=\"note\">另有 {len(result.visits) - VISIT_ROWS:,} 个见 result.json / "
            f"{len(result.visits) - VISIT_ROWS:,} more in result.json</p>"
            if len(result.visits) > VISIT_ROWS else "")
    return [_h2("每个就诊 / Every visit"),
            f"<details><summary>{len(result.visits):,} 个就诊 visits (展开 show)</summary>"
            + _table(["就诊 visit", "到达 arrived", "科室 department", "结果 outcome",
                      "拒绝/错误 refusal or error", "结算ID setl_id", "医疗费总额 total fees"],
                     rows, numeric=(6,), css="data") + more + "</details>"]


def _wall_clock(result: RunResult) -> list[str]:
    return ["<section id=\"wall-clock\">" + _h2("响应时间 / How long the HIS took"),
            f"<p class=\"note\">实际时间，每次运行不同 / wall-clock time, different on every "
            f"run. 用时 the run took {result.wall_seconds:.1f} s.</p>",
            _image(latency_chart(result), "HIS 各步骤响应时间 HIS answer times per step"),
            "</section>"]


def render_page(result: RunResult) -> str:
    """The whole page as one HTML string (UTF-8, no external resources)."""
    verdict = "通过 PASS" if result.passed else "未通过 FAIL"
    failed = [c for c in result.checks if not c.passed]
    parts = [f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
             f"<title>{_e(verdict)} — 场景 scenario {_e(result.scenario)}</title>"
             f"<style>{_STYLE}{PRINT_CSS}</style></head><body>",
             f"<h1>场景运行报告 / Scenario run: {_e(result.title)}</h1>",
             f"<p id=\"verdict\">{_badge(result.passed)} "
             + (f"{len(failed):,} / {len(result.checks):,} 项检查未通过 checks failed: "
                + ", ".join(f"<a href=\"#evidence-{_e(c.name)}\">"
                            f"{_e(CHECK_LABELS.get(c.name, c.name))}</a>" for c in failed)
                if failed else f"全部 {len(result.checks):,} 项检查通过 all checks passed")
             + "</p>",
             "<dl>" + "".join(f"<dt>{bilingual(k)}</dt><dd>{v}</dd>" for k, v in _who(result))
             + "</dl>"]
    parts += _checks(result)
    parts += _outcomes(result)
    parts += _refusals(result)
    parts += _timeline(result)
    parts += _day_ends(result)
    parts += _visits(result)
    parts += _wall_clock(result)
    parts.append("<p class=\"note\">完整数据见同目录的 result.json / every detail is in "
                 "result.json beside this page.</p></body></html>")
    return "\n".join(p for p in parts if p)


def write_page(result: RunResult, directory: Path) -> Path:
    """Write ``report.html`` into ``directory`` atomically (never a half page); its path."""
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / PAGE_FILE
    atomic_write(page, render_page(result))
    return page
