"""The debrief on paper: ``debrief.json``, ``debrief.html`` (Chinese and English labels, for the
staff's meeting after the drill) with a chart of the messages per phase (``phases.png``), and a
one-screen summary on the terminal."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from scenarios.drills.debrief import Debrief
from scenarios.report import atomic_write

__all__ = ["phase_chart", "render_console", "write_debrief"]


def phase_chart(result: Debrief) -> bytes:
    """Stacked bars: messages per phase answered, refused, without an answer (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from simulator.windows.plots import figure_bytes, label, plot_style

    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(8, 3.6))
        axes = figure.subplots()
        names = [f"{n + 1}" for n in range(len(result.phases))]
        bottom = [0] * len(names)
        for key, color, english, chinese in (("ok", "#2e7d32", "answered", "成功"),
                                             ("refused", "#ef6c00", "refused", "拒绝"),
                                             ("failed", "#c62828", "no answer", "无应答")):
            values = [p[key] for p in result.phases]
            axes.bar(names, values, bottom=bottom, color=color, label=label(english, chinese))
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes.set_xlabel(label("phase", "阶段"))
        axes.set_ylabel(label("messages", "报文数"))
        axes.set_title(label("Messages per phase", "各阶段交易"))
        axes.legend(loc="upper right", fontsize=8)
        return figure_bytes(figure, "png")


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(title: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f"<h3>{_e(title)}</h3><p class=\"none\">无 / none</p>"
    keys = list(rows[0])
    head = "".join(f"<th>{_e(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{_e(r.get(k))}</td>" for k in keys) + "</tr>"
                   for r in rows)
    return f"<h3>{_e(title)}</h3><table><tr>{head}</tr>{body}</table>"


def render_html(result: Debrief, chart: bytes) -> str:
    verdict = ("nothing lost 无损失" if result.clean else "PROBLEMS FOUND 发现问题")
    css = ("body{font-family:system-ui,'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;"
           "margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;width:100%;"
           "margin-bottom:1em}td,th{border-bottom:1px solid #eee;padding:.35em;text-align:left}"
           ".badge{padding:.2em .6em;border-radius:.3em;color:#fff;font-weight:bold}"
           ".clean{background:#2e7d32}.problems{background:#c62828}.risk{font-size:1.3em}"
           ".phase{border-left:4px solid #1565c0;padding:.3em 1em;margin:.6em 0}")
    parts = [f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>演练复盘 / "
             f"drill debrief — {_e(result.title)}</title><style>{css}</style></head><body>",
             f"<h1>演练复盘 / Drill debrief: {_e(result.title)}</h1>",
             f"<p id=\"verdict\"><span class=\"badge {'clean' if result.clean else 'problems'}\">"
             f"{_e(verdict)}</span> started {_e(result.started)} · accelerate ×{_e(result.accelerate)}"
             f" · insurer {_e(result.insurer_url)} · HIS {_e(result.his_url or '— (insurer record only)')}"
             f" · institution {_e(result.institution or 'all')}</p>",
             f"<p class=\"risk\" id=\"money-at-risk\">涉及金额 money at risk: "
             f"<b>{_e(result.money_at_risk.get('total', '0.00'))}</b> 元 yuan "
             f"({_e(', '.join(f'{k} {v}' for k, v in result.money_at_risk.items() if k != 'total'))})</p>",
             "<h2>各阶段 / Phases</h2>",
             f"<img alt=\"messages per phase\" src=\"data:image/png;base64,"
             f"{base64.b64encode(chart).decode('ascii')}\">"]
    for n, phase in enumerate(result.phases, start=1):
        parts.append(f"<div class=\"phase\"><b>{n}. {_e(phase['name'])}</b> ({_e(phase['start'])})"
                     f" — {phase['messages']} messages: {phase['ok']} ok, {phase['refused']} refused,"
                     f" {phase['failed']} without answer; {phase['settled']} settlements"
                     f"{'; faults ' + _e(', '.join(phase['faults'])) if phase['faults'] else ''}"
                     f"<br><small>{_e(phase['instructions'])}</small></div>")
    parts.append(_table("恢复时间 / Time from each fault's end to the first good settlement",
                        result.recovery))
    parts.append(_table("重复结算 / Settled twice", [
        {"mdtrt_id": d["mdtrt_id"], "settlements": len(d["settlements"]),
         "extra yuan": d["extra_yuan"]} for d in result.doubles]))
    parts.append(_table("中心有、HIS无 / Settlements the HIS does not know of", result.insurer_only)
                 if result.compared_with_his else
                 "<h3>中心有、HIS无 / Settlements the HIS does not know of</h3><p>not compared: "
                 "the HIS has no driver API (insurer record only)</p>")
    if result.compared_with_his:
        parts.append(_table("HIS有、中心无 / HIS rows the insurer does not have", result.his_only))
        parts.append(_table("金额不符 / Amounts that disagree", result.disagreements))
    parts.append(_table("遗留挂号或明细 / Registrations or details left open", result.orphans))
    parts.append(_table("冲正 / Reversals made", result.reversals))
    day = result.day_end
    state = {True: "对平 balanced", False: "未对平 NOT balanced", None: "未运行 not run"}[
        day.get("balanced")]
    parts.append(f"<h3>日终对账 / Day-end reconciliation: {_e(state)}</h3>")
    parts.append(_table("3201", [{"group": k, **v} for k, v in day.get("insurer_3201", {}).items()]))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_debrief(result: Debrief, directory: Path) -> Path:
    """Write debrief.json, debrief.html and phases.png into ``directory``; return the HTML."""
    directory.mkdir(parents=True, exist_ok=True)
    chart = phase_chart(result)
    (directory / "phases.png").write_bytes(chart)
    atomic_write(directory / "debrief.json",
                 json.dumps(result.to_json(), ensure_ascii=False, indent=1, default=str))
    page = directory / "debrief.html"
    atomic_write(page, render_html(result, chart))
    return page


def render_console(result: Debrief, console: Console) -> None:
    table = Table(title="演练复盘 / drill debrief", title_justify="left")
    for column in ("phase 阶段", "messages", "ok", "refused", "no answer", "settled"):
        table.add_column(column, justify="left" if column.startswith("phase") else "right")
    for n, phase in enumerate(result.phases, start=1):
        table.add_row(f"{n}. {phase['name']}", str(phase["messages"]), str(phase["ok"]),
                      str(phase["refused"]), str(phase["failed"]), str(phase["settled"]))
    console.print(table)
    for item in result.recovery:
        after = item["seconds_to_first_settlement"]
        console.print(f"  after {item['phase']}: first good settlement "
                      f"{'never' if after is None else f'{after} s'} after the fault ended")
    console.print(f"  settled twice 重复结算 {len(result.doubles)} · unknown to the HIS 中心有HIS无 "
                  f"{len(result.insurer_only) if result.compared_with_his else 'n/a'} · left open "
                  f"遗留 {len(result.orphans)} · reversals 冲正 {len(result.reversals)} · day-end "
                  f"{ {True: 'balanced 对平', False: 'NOT balanced 未对平', None: 'not run'}[result.day_end.get('balanced')] }")
    style = "bold green" if result.clean else "bold red"
    console.print(f"[{style}]money at risk 涉及金额: {result.money_at_risk.get('total')} yuan — "
                  f"{'nothing lost' if result.clean else 'see the debrief'}[/{style}]")
