"""Showing a run: a readable result on the terminal (rich), ``result.json`` for machines and,
beside it, the page ``report.html`` for people (:mod:`scenarios.page`).

The JSON is :meth:`~scenarios.records.RunResult.to_json` (every visit with its steps, the
day-ends, the timeline as applied, and each check with its evidence), written atomically.
The labels here (outcomes, checks, refusal codes in 中文 English) serve all three.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mock_insurer.refusals import LABELS as REFUSAL_LABELS
from scenarios.checks import refusal_code
from scenarios.records import RunResult
from simulator.output import atomic_write

__all__ = ["CHECK_LABELS", "HIS_REFUSAL_LABELS", "OUTCOME_LABELS", "PAGE_FILE",
           "check_label", "refusal_label", "render", "write_json"]

PAGE_FILE = "report.html"
"""The run's page, written beside result.json (:mod:`scenarios.page`)."""

OUTCOME_LABELS = {
    "settled": "结算 settled", "refunded": "全部退费 refunded",
    "partly_refunded": "部分退费 partly refunded", "refused": "拒绝 refused",
    "cancelled": "离开/撤销 walked away", "unresolved": "结果未知 unresolved",
    "error": "无应答 no answer",
}
"""Each visit outcome as hospital staff read it (中文 English); the codes stay in result.json."""


CHECK_LABELS: dict[str, str] = {
    "answers": "均有应答 answers", "no_orphans": "无遗留 no orphans",
    "exactly_once": "只结算一次 exactly once", "ledgers_agree": "台账一致 ledgers agree",
    "bills_match": "票据一致 bills match", "day_end_balanced": "日终对平 day-end balanced",
    "nothing_unresolved": "结果均已知 nothing unresolved", "outcomes": "结果分布 outcomes",
    "refusals": "拒绝 refusals", "day_end_corrections": "日终更正 day-end corrections",
    "recovered": "应答丢失后恢复 recovered", "visits": "预设就诊 scripted visits",
    "harness": "HIS 停止应答 HIS stopped answering",
}
"""Each check of scenarios/checks.py as staff read it (中文 English)."""


HIS_REFUSAL_LABELS: dict[str, tuple[str, str]] = {
    "insurer_refused": ("医保中心拒绝", "refused by the insurer"),
    "visit_state": ("就诊状态不允许", "not allowed in the visit's state"),
    "insurer_unavailable": ("无法连接医保中心", "insurer unreachable"),
    "insurer_no_answer": ("医保中心无应答", "no answer from the insurer"),
    "insurer_gateway": ("医保网关出错", "insurer gateway error"),
    "insurer_answer_unusable": ("医保应答无法使用", "unusable answer from the insurer"),
    "settlement_unknown": ("结算结果未知", "settlement outcome unknown"),
    "refund_unknown": ("退费结果未知", "refund outcome unknown"),
    "settlement_failed": ("结算失败", "settlement failed"),
    "refund_failed": ("退费失败", "refund failed"),
    "rule_check_severe": ("规则审核严重警告", "severe rule-check warning"),
}
"""The reference HIS's own refusal codes (:data:`scenarios.loading.HIS_REFUSALS`, used when the
insurer gave no rejection code: it could not be reached, or did not answer) in words."""


def refusal_label(code: str) -> str:
    """``"社保卡已挂失 card lost"`` for ``card_lost`` (an insurer's rejection code, or the HIS's
    own: ``insurer_no_answer``); an unknown code is shown as it is."""
    known = REFUSAL_LABELS.get(code) or HIS_REFUSAL_LABELS.get(code)
    return f"{known[0]} {known[1]}" if known else code


def check_label(name: str) -> str:
    """``"只结算一次 exactly once"`` for ``exactly_once``; an unknown check is shown as it is."""
    return CHECK_LABELS.get(name, name)


def write_json(result: RunResult, directory: Path) -> Path:
    """Write ``result.json`` into ``directory`` (atomically) and return its path. The page
    beside it is :func:`scenarios.page.write_page`'s (a scenario run writes both; a
    certification's runs only this)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "result.json"
    atomic_write(path, json.dumps(result.to_json(), ensure_ascii=False, indent=1, default=str))
    return path


EVIDENCE_CHARS = 600
"""A piece of evidence is cut to this many characters on the terminal (whole in result.json);
the checks put what fails first in each piece, so the cut falls after it."""


def _evidence_line(item: Any) -> str:
    text = json.dumps(item, ensure_ascii=False, default=str)
    return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS - 3] + "..."


def _refusals(counts: Counter[str]) -> Text:
    """Each refusal as a short 中文 English phrase with its count, the code in grey."""
    text = Text()
    for index, (code, n) in enumerate(counts.most_common()):
        if index:
            text.append(", ")
        text.append(f"{refusal_label(code)} {n}")
        if refusal_label(code) != code:
            text.append(f" ({code})", style="dim")
    return text


def render(result: RunResult, console: Console, *, evidence: int = 5) -> None:
    """The result in one screen: what ran, how visits ended, each check, and the evidence of
    each failure. Labels are 中文 English; codes are kept in grey for support staff."""
    verdict = Text(" 通过 PASS ", style="bold white on green") if result.passed else Text(
        " 未通过 FAIL ", style="bold white on red")
    console.print(Text.assemble(verdict, f"  {result.scenario} — {result.title}"))
    his = result.his
    who = f"{his.get('name') or 'HIS'} at {his['url']}"
    if his.get("embedded"):
        who += f" (内置 embedded {his.get('class')})"
    console.print(f"  医院系统 HIS {who}, 机构 institution {his.get('institution')}; "
                  f"医保中心 insurer {result.insurer['url']}"
                  f"{' (内置 embedded)' if result.insurer['embedded'] else ''}",
                  markup=False, highlight=False)
    counts = result.outcome_counts()
    recovered = sum(1 for v in result.visits if v.recovered)
    console.print(f"  就诊 {len(result.visits):,} visits, 用时 {result.wall_seconds:.1f} s: "
                  + ", ".join(f"{OUTCOME_LABELS.get(k, k)} {n:,}" for k, n in
                              sorted(counts.items()))
                  + (f"; 应答丢失后恢复 recovered after a lost answer {recovered}"
                     if recovered else ""), markup=False, highlight=False)
    refusals = Counter(code for v in result.visits if (code := refusal_code(v)))
    if refusals:
        console.print(Text.assemble("  拒绝原因 refusal reasons: ", _refusals(refusals)))
    for day in result.day_ends:
        state = "对平 balanced" if day.balanced else "未对平 NOT balanced"
        console.print(f"  日终对账 day-end {day.date}: {state}, 更正 corrections "
                      f"{day.corrections}", markup=False, highlight=False)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("", width=2)
    table.add_column("检查 check")
    table.add_column("结果 result")
    for check in result.checks:
        mark = Text("✓", style="green") if check.passed else Text("✗", style="bold red")
        name = Text(check_label(check.name))
        if check.name in CHECK_LABELS:
            name.append(f" {check.name}", style="dim")
        table.add_row(mark, name, Text(check.summary))
    console.print(table)
    for check in result.checks:
        if check.passed or not check.evidence:
            continue
        head = f"{CHECK_LABELS[check.name]} " if check.name in CHECK_LABELS else ""
        console.print(Text(f"  {head}{check.name}: evidence 证据", style="bold red"))
        for item in check.evidence[:evidence]:
            console.print(f"    {_evidence_line(item)}", markup=False, highlight=False)
        if len(check.evidence) > evidence:
            console.print(f"    ... 另有 {len(check.evidence) - evidence:,} more in result.json")
