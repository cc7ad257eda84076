"""Showing a run: a readable result on the terminal (rich) and ``result.json`` for machines.

The JSON is :meth:`~scenarios.records.RunResult.to_json` (every visit with its steps, the
day-ends, the timeline as applied, and each check with its evidence), written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from scenarios.checks import refusal_code
from scenarios.records import RunResult

__all__ = ["atomic_write", "render", "write_json"]

OUTCOME_LABELS = {
    "settled": "结算 settled", "refunded": "全部退费 refunded",
    "partly_refunded": "部分退费 partly refunded", "refused": "拒绝 refused",
    "cancelled": "离开/撤销 walked away", "unresolved": "结果未知 unresolved",
    "error": "无应答 no answer",
}


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file: never a half-written file."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_json(result: RunResult, directory: Path) -> Path:
    """Write ``result.json`` into ``directory`` (atomically) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "result.json"
    atomic_write(path, json.dumps(result.to_json(), ensure_ascii=False, indent=1, default=str))
    return path


def _evidence_line(item: Any) -> str:
    text = json.dumps(item, ensure_ascii=False, default=str)
    return text if len(text) <= 300 else text[:297] + "..."


def render(result: RunResult, console: Console, *, evidence: int = 5) -> None:
    """The result in one screen: what ran, how visits ended, each check, and the evidence of
    each failure."""
    verdict = Text(" PASS ", style="bold white on green") if result.passed else Text(
        " FAIL ", style="bold white on red")
    console.print(Text.assemble(verdict, f"  {result.scenario} — {result.title}"))
    his = result.his
    who = f"{his.get('name') or 'HIS'} at {his['url']}"
    if his.get("embedded"):
        who += f" (embedded {his.get('class')})"
    console.print(f"  HIS {who}, institution {his.get('institution')}; insurer "
                  f"{result.insurer['url']}{' (embedded)' if result.insurer['embedded'] else ''}")
    counts = result.outcome_counts()
    recovered = sum(1 for v in result.visits if v.recovered)
    console.print(f"  {len(result.visits)} visits in {result.wall_seconds:.1f} s: " + ", ".join(
        f"{OUTCOME_LABELS.get(k, k)} {n}" for k, n in sorted(counts.items()))
        + (f"; {recovered} recovered after a lost answer" if recovered else ""))
    refusals = Counter(code for v in result.visits if (code := refusal_code(v)))
    if refusals:
        console.print("  refusals 拒绝: " + ", ".join(f"{code} {n}" for code, n in
                                                      refusals.most_common()))
    for day in result.day_ends:
        state = "balanced 对平" if day.balanced else "NOT balanced 未对平"
        console.print(f"  day-end {day.date}: {state}, {day.corrections} correction(s)")
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("", width=2)
    table.add_column("check")
    table.add_column("result")
    for check in result.checks:
        mark = Text("✓", style="green") if check.passed else Text("✗", style="bold red")
        table.add_row(mark, check.name, check.summary)
    console.print(table)
    for check in result.checks:
        if check.passed or not check.evidence:
            continue
        console.print(Text(f"  {check.name}: evidence", style="bold red"))
        for item in check.evidence[:evidence]:
            console.print(f"    {_evidence_line(item)}", markup=False, highlight=False)
        if len(check.evidence) > evidence:
            console.print(f"    ... {len(check.evidence) - evidence} more in result.json")
