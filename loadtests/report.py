"""The one-page answer of a load test: ``summary.json``, ``summary.html`` (labels in Chinese
and English for hospital staff), two plots (``latency.png``: p50/p95/p99 per request name;
``timeline.png``: requests/s, failures/s and windows over time from locust's
``<prefix>_stats_history.csv``) and ``latency_ms.csv`` — one column ``latency_ms``, the format
:func:`simulator.windows.service.load_latency_csv` reads (``cardsettle plan windows
--latency-csv``).

``latency_ms.csv`` holds the raw samples of one request name (``2207 settle`` against the
insurer: one round trip, what the window model adds to a cashier's step; ``visit`` through a
HIS) kept by the locust processes (:mod:`loadtests.samples`); without samples (workers on other
machines) it is rebuilt from locust's percentile columns, 1 000 points interpolated between
them. Times are wall-clock milliseconds.
"""

from __future__ import annotations

import csv
import html
import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from loadtests.samples import read_samples
from loadtests.sla import AGGREGATED, VISIT, SlaLine, read_stats
from simulator.windows.plots import figure_bytes, label, plot_style

__all__ = ["LATENCY_FILE", "write_latency_csv", "write_report"]

LATENCY_FILE = "latency_ms.csv"
_PERCENTILES = ("50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%",
                "100%")


def _num(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "", "N/A") else None
    except ValueError:
        return None


def _from_percentiles(row: Mapping[str, str], points: int = 1000) -> list[float]:
    known = [(float(p.rstrip("%")) / 100, _num(row.get(p))) for p in _PERCENTILES]
    pairs = [(0.0, _num(row.get("Min Response Time")) or 0.0)] + [
        (q, v) for q, v in known if v is not None]
    values = []
    for i in range(points):
        q = (i + 0.5) / points
        for (q0, v0), (q1, v1) in itertools.pairwise(pairs):
            if q0 <= q <= q1:
                values.append(v0 + (v1 - v0) * ((q - q0) / (q1 - q0) if q1 > q0 else 0.0))
                break
        else:
            values.append(pairs[-1][1])
    return values


def write_latency_csv(path: Path, samples: Sequence[float]) -> Path:
    """Write *samples* (ms) as a one-column ``latency_ms`` CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["latency_ms"])
        out.writerows([f"{value:.3f}"] for value in samples)
    return path


def _transactions(rows: Sequence[Mapping[str, str]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        found[row["Name"]] = {
            "type": row.get("Type", ""), "requests": int(_num(row.get("Request Count")) or 0),
            "failures": int(_num(row.get("Failure Count")) or 0),
            "p50_ms": _num(row.get("50%")), "p95_ms": _num(row.get("95%")),
            "p99_ms": _num(row.get("99%")), "max_ms": _num(row.get("Max Response Time")),
            "per_second": _num(row.get("Requests/s"))}
    return found


def _plot_latency(path: Path, transactions: Mapping[str, Mapping[str, Any]]) -> None:
    names = [n for n in transactions if n != AGGREGATED]
    with matplotlib.rc_context(plot_style()):
        fig = Figure(figsize=(10, 4.5))
        ax = fig.add_subplot()
        width = 0.27
        for offset, key in enumerate(("p50_ms", "p95_ms", "p99_ms")):
            ax.bar([i + (offset - 1) * width for i in range(len(names))],
                   [transactions[n][key] or 0 for n in names], width, label=key[:-3])
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(label("milliseconds", "毫秒"))
        ax.set_title(label("Latency percentiles per request", "各交易响应时间分位数"))
        ax.legend()
    _write_png(path, fig)


def _plot_timeline(path: Path, history: Path) -> bool:
    if not history.exists():
        return False
    with history.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("Name") == AGGREGATED]
    if not rows:
        return False
    start = float(rows[0]["Timestamp"])
    seconds = [float(r["Timestamp"]) - start for r in rows]
    with matplotlib.rc_context(plot_style()):
        fig = Figure(figsize=(10, 4))
        ax = fig.add_subplot()
        lines = ax.plot(seconds, [_num(r["Requests/s"]) or 0 for r in rows],
                        label=label("requests/s", "请求/秒"))
        lines += ax.plot(seconds, [_num(r["Failures/s"]) or 0 for r in rows],
                         label=label("failures/s", "失败/秒"), color="tab:red")
        ax.set_xlabel(label("seconds since start", "开始后秒数"))
        ax.set_ylabel(label("per second", "每秒"))
        users = ax.twinx()
        lines += users.step(seconds, [_num(r["User Count"]) or 0 for r in rows], where="post",
                            color="tab:gray", linestyle="--",
                            label=label("windows (users)", "收费窗口"))
        users.set_ylabel(label("windows", "窗口数"))
        ax.legend(lines, [str(line.get_label()) for line in lines], loc="upper left")
        ax.set_title(label("Throughput and failures over time", "吞吐量与失败随时间变化"))
    _write_png(path, fig)
    return True


def _write_png(path: Path, figure: Figure) -> None:
    """The figure as a PNG, written whole (a temporary file renamed into place)."""
    scratch = path.with_name(path.name + ".part")
    scratch.write_bytes(figure_bytes(figure, "png"))
    scratch.replace(path)


_LABELS = {"title": "负载测试结果 Load test result", "pass": "通过 PASS",
           "fail": "未通过 FAIL", "limit": "限值 Limit", "value": "实测 Measured",
           "line": "项目 Item", "metric": "指标 Metric", "requests": "请求数 Requests",
           "verdict": "结论 Verdict", "tx": "交易 Transactions", "files": "文件 Files",
           "balanced": "组平衡 groups balanced"}


def _html(summary: Mapping[str, Any]) -> str:
    esc = html.escape
    verdict = _LABELS["pass"] if summary["passed"] else _LABELS["fail"]
    sla_rows = "".join(
        f"<tr class={'ok' if line['passed'] else 'bad'}><td>{esc(line['name'])}</td>"
        f"<td>{esc(line['metric'])}</td><td>{_fmt(line['value'], line['metric'])}</td>"
        f"<td>{_fmt(line['limit'], line['metric'])}</td><td>{line['requests']}</td>"
        f"<td>{_LABELS['pass'] if line['passed'] else _LABELS['fail']}</td></tr>"
        for line in summary["sla"])
    tx_rows = "".join(
        f"<tr><td>{esc(name)}</td><td>{t['requests']}</td><td>{t['failures']}</td>"
        f"<td>{_fmt(t['p50_ms'])}</td><td>{_fmt(t['p95_ms'])}</td><td>{_fmt(t['p99_ms'])}</td>"
        f"<td>{_fmt(t['per_second'], 'rate')}</td></tr>"
        for name, t in summary["transactions"].items())
    run = summary.get("run", {})
    facts = "".join(f"<li>{esc(str(k))}: {esc(str(v))}</li>" for k, v in run.items()
                    if k != "day_end")
    images = "".join(f'<img src="{esc(name)}" alt="{esc(name)}">'
                     for name in summary["files"].get("plots", []))
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{_LABELS['title']}</title><style>
body{{font-family:sans-serif;margin:2em;max-width:1100px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} td:first-child{{text-align:left}}
.ok td:last-child,p.ok{{color:#070}} .bad td:last-child,p.bad{{color:#b00;font-weight:bold}}
h1 span{{padding:0 .4em;color:#fff;background:{'#070' if summary['passed'] else '#b00'}}}
img{{max-width:100%;display:block;margin:1em 0}}</style></head><body>
<h1>{_LABELS['title']} <span>{verdict}</span></h1><ul>{facts}</ul>{_day_end_html(summary)}
<h2>SLA 服务水平 ({_LABELS['verdict']})</h2><table><tr><th>{_LABELS['line']}</th>
<th>{_LABELS['metric']}</th><th>{_LABELS['value']}</th><th>{_LABELS['limit']}</th>
<th>{_LABELS['requests']}</th><th>{_LABELS['verdict']}</th></tr>{sla_rows}</table>
<h2>{_LABELS['tx']}</h2><table><tr><th>name</th><th>{_LABELS['requests']}</th>
<th>失败 Failures</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>每秒 /s</th></tr>
{tx_rows}</table>{images}
<h2>{_LABELS['files']}</h2><ul>{"".join(f"<li>{esc(str(v))}</li>" for k, v in
summary["files"].items() if k != "plots")}</ul></body></html>
"""


def _day_end_html(summary: Mapping[str, Any]) -> str:
    """The day-end reconciliation's verdict and the groups that did not balance."""
    reconciled = summary["day_end"]
    if not reconciled["ran"]:
        return ""
    verdict = _LABELS["pass"] if reconciled["passed"] else _LABELS["fail"]
    bad = "".join(
        f"<tr class=bad><td>{html.escape(str(group.get('fixmedins_code', '')))}</td>"
        f"<td>{html.escape(str(group.get('insutype', '')))}</td>"
        f"<td>{html.escape(str(group.get('stmt_rslt_dscr', '')))}</td></tr>"
        for group in summary["run"].get("day_end", []) if group.get("stmt_rslt") != "0")
    table = (f"<table><tr><th>fixmedins_code</th><th>insutype</th><th>stmt_rslt_dscr</th></tr>"
             f"{bad}</table>" if bad else "")
    return (f"<h2>日终对账 Day-end reconciliation (3201)</h2><p class="
            f"{'ok' if reconciled['passed'] else 'bad'}>{reconciled['balanced']}/"
            f"{reconciled['groups']} {_LABELS['balanced']} — {verdict}</p>{table}")


def _fmt(value: Any, metric: str = "p95_ms") -> str:
    if value is None:
        return "—"
    if metric == "error_rate":
        return f"{float(value) * 100:.2f}%"
    if metric == "rate":
        return f"{float(value):.2f}"
    return f"{float(value):.0f} ms"


def write_report(directory: Path, lines: Sequence[SlaLine], *, prefix: str = "locust",
                 latency_name: str = "2207 settle",
                 run: Mapping[str, Any] | None = None,
                 day_end: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Write the summary, plots and latency file into *directory* from locust's CSVs there
    (``<prefix>_stats.csv``, ``<prefix>_stats_history.csv``), the SLA *lines* and the day-end
    reconciliation's groups (*day_end*, None when none ran); return the summary (what
    summary.json holds). The run passes when every SLA line does and every group balanced."""
    rows = read_stats(directory / f"{prefix}_stats.csv")
    transactions = _transactions(rows)
    files: dict[str, Any] = {"locust_html": str(directory / f"{prefix}.html"),
                             "locust_stats": str(directory / f"{prefix}_stats.csv")}
    plots = []
    _plot_latency(directory / "latency.png", transactions)
    plots.append("latency.png")
    if _plot_timeline(directory / "timeline.png", directory / f"{prefix}_stats_history.csv"):
        plots.append("timeline.png")
    files["plots"] = plots
    samples = read_samples(directory / "samples").get(latency_name, [])
    source = "samples"
    if not samples and latency_name in transactions:
        row = next(r for r in rows if r["Name"] == latency_name)
        samples, source = _from_percentiles(row), "percentiles"
    if samples:
        files["latency_ms"] = str(write_latency_csv(directory / LATENCY_FILE, samples))
    visits = transactions.get(VISIT, {})
    duration = (run or {}).get("duration_s")
    achieved = (visits["requests"] / duration if duration and visits.get("requests") is not None
                else visits.get("per_second"))  # locust's: over first to last request
    balanced = sum(1 for group in day_end or () if group.get("stmt_rslt") == "0")
    reconciled = {"ran": day_end is not None, "groups": len(day_end or ()),
                  "balanced": balanced, "passed": balanced == len(day_end or ())}
    summary = {
        "passed": all(line.passed for line in lines) and reconciled["passed"],
        "run": {**(run or {}), "visits/s (achieved)": achieved,
                "latency_ms.csv": f"{latency_name} ({source}, {len(samples)} values)",
                **({"day_end": list(day_end)} if day_end is not None else {})},
        "day_end": reconciled,
        "sla": [line.to_json() for line in lines], "transactions": transactions,
        "files": files}
    (directory / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False),
                                            encoding="utf-8")
    (directory / "summary.html").write_text(_html(summary), encoding="utf-8")
    files["summary"] = str(directory / "summary.html")
    return summary
