"""The one-page answer of a load test: ``summary.json``, ``summary.html`` (labels in Chinese
and English for hospital staff), two plots (``latency.png``: p50/p95/p99 per request name;
``timeline.png``: requests/s and failures/s over time — counted from the cumulative totals
of locust's ``<prefix>_stats_history.csv`` per interval of a few seconds, see :func:`interval_rates` —
and the windows running) and ``latency_ms.csv`` — a column ``latency_ms`` (and ``request``: the request name), the format
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
import io
import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from loadtests.samples import read_samples
from loadtests.sla import AGGREGATED, VISIT, SlaLine, read_stats
from simulator.bilingual import bilingual, english, said
from simulator.finance.report import WIDE_TABLE_CSS, wide_table
from simulator.output import atomic_write
from simulator.windows.plots import figure_bytes, label, plot_style

__all__ = ["LATENCY_FILE", "REQUEST_NAMES", "interval_rates", "rate_window", "request_label",
           "write_latency_csv", "write_report"]

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


def write_latency_csv(path: Path, samples: Sequence[float], request: str | None = None) -> Path:
    """Write *samples* (ms) as a ``latency_ms`` CSV; with *request*, a second column
    ``request`` names what each value timed (the window model warns when a whole ``visit`` is
    fed to it as one round trip)."""
    text = io.StringIO(newline="")
    out = csv.writer(text)
    out.writerow(["latency_ms", *(["request"] if request else [])])
    out.writerows([f"{value:.3f}", *([request] if request else [])] for value in samples)
    return atomic_write(path, text.getvalue())


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


REQUEST_NAMES: dict[str, str] = {
    "9001 sign-in": "签到", "1101 person": "人员信息获取", "2201 register": "挂号",
    "2202 cancel visit": "撤销挂号", "2203 diagnosis": "就诊信息上传",
    "2204 upload": "费用明细上传", "2205 cancel details": "撤销费用明细",
    "2206 pre-settle": "预结算", "2207 settle": "结算", "2208 refund": "撤销结算（退费）",
    "identify": "读卡识别", "register": "挂号", "charge": "记账", "pre-settle": "预结算",
    "settle": "结算", "refund": "退费", "info": "窗口启动（HIS 信息）",
    VISIT: "整个就诊", "all requests": "全部请求"}
"""Chinese names of the request names the locustfiles report (``loadtests.insurer_direct``,
``loadtests.his_e2e``) and of the SLA's ``all requests``; a name not here is shown as is."""

_PERCENTILE_HATCHES = {"p50_ms": "", "p95_ms": "//", "p99_ms": "xx"}
"""Each percentile's bars also differ by pattern, not only by colour (red-green colour
blindness cannot tell p95 from p99 by the default orange and green)."""

_PLOT_ALT = {
    "latency.png": "各交易响应时间分位数（p50、p95、p99，毫秒）柱状图，数据见下表 / bar chart: "
                   "latency percentiles per request (p50, p95, p99, milliseconds), figures in "
                   "the table above",
    "timeline.png": "吞吐量与失败随时间变化折线图：每秒请求、每秒失败、收费窗口数 / line chart: "
                    "requests per second, failures per second and open windows over the run",
}
"""What each plot shows, in words (its ``alt`` text: Chinese / English)."""

_PERCENTILE_LABELS = {
    "p50_ms": ("p50: half were faster", "中位数：一半更快"),
    "p95_ms": ("p95: 95 in 100 were faster", "95%更快"),
    "p99_ms": ("p99: 99 in 100 were faster", "99%更快")}


def request_label(name: str) -> str:
    """``"结算 2207 settle"``: a request name with its Chinese name (the name alone if unknown);
    locust's ``Aggregated`` row is ``"合计 total"``."""
    if name == AGGREGATED:
        return "合计 total"
    chinese = REQUEST_NAMES.get(name)
    return f"{chinese} {name}" if chinese else name


def _timed(transaction: Mapping[str, Any]) -> bool:
    """Whether a request name's percentiles are response times: some of its requests got an
    answer. Locust times a request that never connected too (the time to the error), which is
    no latency."""
    return bool(transaction["requests"]) and transaction["failures"] < transaction["requests"]


def _plot_latency(path: Path, transactions: Mapping[str, Mapping[str, Any]]) -> None:
    names = [n for n in transactions if n != AGGREGATED and _timed(transactions[n])]
    with matplotlib.rc_context(plot_style()):
        fig = Figure(figsize=(10, 4.5))
        ax = fig.add_subplot()
        if not names:
            ax.text(0.5, 0.5, label("no request got an answer: no latency to show",
                                    "没有得到应答的请求：无响应时间"),
                    ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
        width = 0.27
        for offset, key in enumerate(_PERCENTILE_LABELS):
            ax.bar([i + (offset - 1) * width for i in range(len(names))],
                   [transactions[n][key] or 0 for n in names], width,
                   hatch=_PERCENTILE_HATCHES[key], edgecolor="white",
                   label=label(*_PERCENTILE_LABELS[key]))
        ax.set_xticks(range(len(names)),
                      [label(n, REQUEST_NAMES[n]) if n in REQUEST_NAMES else n for n in names],
                      rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(label("milliseconds", "毫秒"))
        ax.set_title(label("Latency percentiles per request", "各交易响应时间分位数"))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=8)
    _write_png(path, fig)


def rate_window(span: float) -> int:
    """Seconds over which the timeline averages requests/s: 5, or a 120th of a longer run."""
    return max(5, round(span / 120))


def interval_rates(seconds: Sequence[float], totals: Sequence[float],
                   window: float) -> tuple[list[float], list[float]]:
    """``(edges, rates)``: a cumulative count (*totals* at *seconds*, one row per history
    line) cut into intervals of about *window* seconds, and the count added in each interval
    divided by its seconds — what really happened per second. Locust's own ``Requests/s``
    column is an average over a shifting 10-second slice that starts short and lags, so it
    jumps at the start and after a pause. The intervals begin and end at history rows; a last
    interval shorter than half a window joins the one before. No rows or one: no interval."""
    edges_at = [0] if seconds else []
    for i, now in enumerate(seconds):
        if now >= seconds[edges_at[-1]] + window:
            edges_at.append(i)
    if seconds and edges_at[-1] != len(seconds) - 1:
        if len(edges_at) > 1 and seconds[-1] - seconds[edges_at[-1]] < window / 2:
            edges_at[-1] = len(seconds) - 1
        else:
            edges_at.append(len(seconds) - 1)
    rates = [max(0.0, (totals[b] - totals[a]) / (seconds[b] - seconds[a]))
             for a, b in itertools.pairwise(edges_at)]
    return ([seconds[i] for i in edges_at] if rates else []), rates


def _plot_timeline(path: Path, history: Path) -> bool:
    if not history.exists():
        return False
    with history.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("Name") == AGGREGATED]
    if not rows:
        return False
    start = float(rows[0]["Timestamp"])
    seconds = [float(r["Timestamp"]) - start for r in rows]
    requests = [_num(r.get("Total Request Count")) or 0.0 for r in rows]
    failures = [_num(r.get("Total Failure Count")) or 0.0 for r in rows]
    span = seconds[-1] - seconds[0]
    window = rate_window(span)
    with matplotlib.rc_context(plot_style()):
        fig = Figure(figsize=(10, 4.2))
        ax = fig.add_subplot()
        edges, rates = interval_rates(seconds, requests, window)
        lines: list[Any] = [ax.stairs(rates, edges, baseline=None, color="tab:blue",
                                      linewidth=1.5,
                                      label=label(f"requests/s (average of each {window} s)",
                                                  f"请求/秒（每{window}秒平均）"))]
        if span > 0:
            average = (requests[-1] - requests[0]) / span
            lines += ax.plot([seconds[0], seconds[-1]], [average, average], color="tab:blue",
                             linestyle=":", linewidth=1,
                             label=label(f"whole-run average {average:.1f}/s",
                                         f"全程平均 {average:.1f}/秒"))
        lines.append(ax.stairs(*reversed(interval_rates(seconds, failures, window)),
                               baseline=None, color="tab:red", linewidth=1.5,
                               label=label("failures/s", "失败/秒")))
        ax.set_xlabel(label("seconds since start", "开始后秒数"))
        ax.set_ylabel(label("per second", "每秒"))
        ax.set_ylim(bottom=0)
        users = ax.twinx()
        lines += users.step(seconds, [_num(r["User Count"]) or 0 for r in rows], where="post",
                            color="tab:gray", linestyle="--",
                            label=label("windows (locust users)", "收费窗口数"))
        users.set_ylabel(label("windows", "窗口数"))
        users.set_ylim(bottom=0)
        users.grid(False)
        ax.legend(lines, [str(line.get_label()) for line in lines], loc="upper center",
                  bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
        ax.set_title(label("Throughput and failures over time", "吞吐量与失败随时间变化"))
    _write_png(path, fig)
    return True


def _write_png(path: Path, figure: Figure) -> None:
    """The figure as a PNG, written whole (a temporary file renamed into place)."""
    atomic_write(path, figure_bytes(figure, "png"))


_LABELS = {"title": "负载测试结果 Load test result", "pass": "通过 PASS",
           "fail": "未通过 FAIL", "limit": "限值 Limit", "value": "实测 Measured",
           "line": "项目 Item", "metric": "指标 Metric", "requests": "请求数 Requests",
           "verdict": "结论 Verdict", "tx": "交易 Transactions", "files": "文件 Files",
           "balanced": "组平衡 groups balanced", "request": "交易 Request",
           "failures": "失败 Failures", "p50": "中位数 p50", "p95": "95%分位 p95",
           "p99": "99%分位 p99", "rate": "请求/秒 Requests/s", "run": "运行参数 Run"}

_SLA_COLUMNS = ("line", "metric", "value", "limit", "requests", "verdict")
_TX_COLUMNS = ("request", "requests", "failures", "p50", "p95", "p99", "rate")
"""The columns of the SLA and the transactions tables (keys of :data:`_LABELS`)."""

_METRICS = {"p95_ms": "95%分位响应时间 p95 response time", "error_rate": "失败率 error rate"}

_RUN_LABELS = {
    "target": "测试对象 Target", "url": "地址 Address", "shape": "负载形状 Load shape",
    "duration_s": "时长 Duration", "users": "窗口数参数 Windows (--users)",
    "workers": "工作进程 Worker processes", "pacing_s": "每窗口就诊间隔 Pacing per window",
    "peak_rate": "高峰就诊/秒参数 Peak visits/s (--peak-rate)",
    "windows (most)": "最多同时窗口 Most windows at once",
    "visits/s (offered)": "计划就诊/秒 Visits/s offered",
    "peak visits/s (asked)": "高峰小时计划就诊/秒 Peak-hour visits/s asked",
    "visits/s (achieved)": "实际就诊/秒 Visits/s achieved",
    "latency_ms.csv": "窗口模型时延文件 Latency file for the window model",
    "error": "运行错误 Run error"}
"""Bilingual labels of summary.json's ``run`` keys (the keys themselves stay as they are)."""

_RUN_VALUES = {
    "target": {"insurer": "医保中心 the insurer (national interface)",
               "his": "HIS（驱动接口）the HIS (driver API)"},
    "url": {"embedded": "本机内置 embedded (started on 127.0.0.1)", "(not given)": "未给出 not given"},
    "shape": {"constant": "恒定 constant", "day": "门诊一天（压缩）the outpatient day, compressed",
              "step": "阶梯 step", "soak": "长时 soak"}}

_FILE_LABELS = {"locust_html": "locust 原始报告 locust's own report",
                "locust_stats": "locust 统计 locust statistics (CSV)",
                "latency_ms": "时延样本 latency samples (CSV, window model)"}


def _table(label_: str, head: Sequence[str], rows: str, css: str = "") -> str:
    """A table (its ``head`` bilingual labels, its ``rows`` HTML) in a box that scrolls
    sideways when the screen is narrower than the table — a region in the Tab order, named in
    both languages, so a keyboard can scroll it — and prints whole (the finance pages'
    :func:`simulator.finance.report.wide_table`)."""
    heads = "".join(f"<th>{bilingual(h)}</th>" for h in head)
    table = f"<table{css}>" + (f"<tr>{heads}</tr>" if head else "") + f"{rows}</table>"
    return wide_table(table, label_)


def _number(value: float) -> str:
    """A count or a number of seconds: no trailing ``.0``, thousands separated."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _run_value(key: str, value: Any, latency: tuple[str, str, int] | None) -> str:
    """A run fact as a hospital reader sees it (escaped HTML)."""
    esc = html.escape
    if value is None:
        return "—"
    if key in _RUN_VALUES:
        return bilingual(_RUN_VALUES[key].get(str(value), str(value)))
    if key == "latency_ms.csv" and latency is not None:
        name, source, count = latency
        how = ("实测样本 measured samples" if source == "samples"
               else "由 locust 分位数插值 interpolated from locust's percentiles")
        return f"{bilingual(request_label(name))} — {count:,} {bilingual(how)}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return esc(str(value))
    if key in ("duration_s", "pacing_s"):
        return f"{_number(value)} 秒 {english('s')}"
    if key == "workers" and value == 0:
        return f"0（单进程 {english('one process')}）"
    if "/s" in key or key == "peak_rate":
        return f"{value:,.2f}"
    return _number(value)


def _rate_note(run: Mapping[str, Any], visits: int | None) -> str:
    """Why achieved visits/s may differ from offered, with this run's numbers (HTML)."""
    offered, achieved = run.get("visits/s (offered)"), run.get("visits/s (achieved)")
    duration, pacing = run.get("duration_s"), run.get("pacing_s")
    if not isinstance(offered, int | float) or not isinstance(achieved, int | float):
        return ""
    how = ""
    if visits is not None and duration:
        how = (f"实际 = {visits:,} 次就诊 ÷ {_number(duration)} 秒；"
               + english(f"achieved = {visits:,} visits ÷ {_number(duration)} s.") + " ")
    pace = (f"{_number(pacing)} 秒 {english('s')}" if isinstance(pacing, int | float)
            else english("--pacing"))
    text = (f"{how}<br>计划 = 平均窗口数 ÷ 每窗口就诊间隔（{pace}），是窗口持续工作时的速率；"
            + english("offered = average windows ÷ pacing, the rate of windows that keep going.")
            + "<br>")
    if achieved > offered * 1.05:
        text += ("实际高于计划：每个新开的窗口不等间隔，立即接待第一位患者；"
                 "运行很短或窗口数常变（day、step 形状）时，这些首次就诊使实际高于计划。"
                 + english("Achieved is above offered because every window that starts sees its "
                       "first patient at once, without waiting a pacing interval: in a short "
                       "run, or when the number of windows changes often (day, step shapes), "
                       "those first visits add up."))
    elif achieved < offered * 0.95:
        text += ("实际低于计划：就诊用时超过间隔或就诊失败，窗口跟不上计划。"
                 + english("Achieved is below offered: visits took longer than the pacing, or "
                       "failed, so the windows could not keep up."))
    return f'<p class="note">{text}</p>'


def _html(summary: Mapping[str, Any], latency: tuple[str, str, int] | None = None) -> str:
    esc = html.escape
    verdict = bilingual(_LABELS["pass"] if summary["passed"] else _LABELS["fail"])
    sla_rows = "".join(
        f"<tr class={'ok' if line['passed'] else 'bad'}>"
        f"<td>{bilingual(request_label(line['name']))}</td>"
        f"<td class=text>{bilingual(_METRICS.get(line['metric'], line['metric']))}</td>"
        f"<td>{_fmt(line['value'], line['metric'])}</td>"
        f"<td>{_fmt(line['limit'], line['metric'])}</td><td>{line['requests']:,}</td>"
        f"<td>{bilingual(_LABELS['pass'] if line['passed'] else _LABELS['fail'])}</td></tr>"
        for line in summary["sla"])

    def tx_row(name: str, t: Mapping[str, Any], css: str = "") -> str:
        timed = _timed(t)  # every request failed: its "times" are times to an error
        return (f"<tr{css}><td>{bilingual(request_label(name))}</td><td>{t['requests']:,}</td>"
                f"<td>{t['failures']:,}</td><td>{_fmt(t['p50_ms'] if timed else None)}</td>"
                f"<td>{_fmt(t['p95_ms'] if timed else None)}</td>"
                f"<td>{_fmt(t['p99_ms'] if timed else None)}</td>"
                f"<td>{_fmt(t['per_second'], 'rate')}</td></tr>")

    transactions = summary["transactions"]
    tx_rows = "".join(tx_row(name, t) for name, t in transactions.items() if name != AGGREGATED)
    if AGGREGATED in transactions:
        tx_rows += tx_row(AGGREGATED, transactions[AGGREGATED], " class=total")
    run = summary.get("run", {})
    facts = "".join(
        f"<tr><th>{bilingual(_RUN_LABELS.get(k, k))}</th><td>{_run_value(k, v, latency)}</td>"
        "</tr>" for k, v in run.items() if k not in ("day_end", "error"))
    error = summary.get("error")
    error_html = (f'<h2>{bilingual(_RUN_LABELS["error"])}</h2><p class=bad>{said(str(error))}'
                  '</p><p class="note">运行本身失败：没有请求得到应答，以下数字不是服务水平的测量'
                  "结果。" + english("The run itself failed: no request got an answer, so the "
                                "figures below do not measure the service level.") + "</p>"
                  if error else "")
    per_second = ("请求/秒 = 请求数 ÷ 运行时长（秒）"
                  + english("requests/s = requests ÷ the run's duration (seconds).")
                  if isinstance(run.get("duration_s"), int | float)
                  else "请求/秒 = 请求数 ÷ 从开始到最后一个请求的秒数 "
                       + english("requests/s = requests ÷ seconds from the start to the last "
                             "request."))
    images = "".join(f'<img src="{esc(name)}" alt="{esc(_PLOT_ALT.get(name, name))}">'
                     for name in summary["files"].get("plots", []))
    files = "".join(f"<li>{bilingual(_FILE_LABELS.get(k, k))}: <code>{esc(str(v))}</code></li>"
                    for k, v in summary["files"].items() if k != "plots")
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{_LABELS['title']}</title><style>
body{{font-family:sans-serif;margin:2em;max-width:1100px}} table{{border-collapse:collapse}}
@media (max-width:30em){{body{{margin:1em}}}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} td:first-child{{text-align:left}}
td.text,th:first-child{{text-align:left}}
table.run th{{text-align:left;font-weight:normal;background:#f6f6f6}}
table.run td{{text-align:left}} tr.total td{{font-weight:bold;background:#f6f6f6}}
.ok td:last-child,p.ok{{color:#070}} .bad td:last-child,p.bad{{color:#b00;font-weight:bold}}
h1 span{{padding:0 .4em;color:#fff;background:{'#070' if summary['passed'] else '#b00'}}}
p.note{{color:#444;font-size:.9em;max-width:60em}} code{{word-break:break-all}}
img{{max-width:100%;display:block;margin:1em 0}}{WIDE_TABLE_CSS}</style></head><body>
<h1>{bilingual(_LABELS['title'])} <span>{verdict}</span></h1>
{error_html}<h2>{bilingual(_LABELS['run'])}</h2>
{_table("运行参数 / Run", (), facts, " class=run")}
{_rate_note(run, transactions.get(VISIT, {}).get("requests"))}{_day_end_html(summary)}
<h2>服务水平 {english('SLA')} ({bilingual(_LABELS['verdict'])})</h2>
{_table("服务水平 / SLA", [_LABELS[k] for k in _SLA_COLUMNS], sla_rows)}
<h2>{bilingual(_LABELS['tx'])}</h2>
{_table("交易 / Transactions", [_LABELS[k] for k in _TX_COLUMNS], tx_rows)}
<p class="note">响应时间：一半请求快于中位数 p50，100 个请求中 95 个快于 p95，99 个快于 p99（毫秒）。
{english("Response times: half of the requests were faster than p50, 95 in 100 faster than p95, "
     "99 in 100 faster than p99 (milliseconds);")} — 无数据 {english("no value (every request of "
                                                                "that name failed).")}
{per_second}</p>{images}
<h2>{bilingual(_LABELS['files'])}</h2><ul>{files}</ul></body></html>
"""


def _day_end_html(summary: Mapping[str, Any]) -> str:
    """The day-end reconciliation's verdict and the groups that did not balance."""
    reconciled = summary["day_end"]
    if not reconciled["ran"]:
        return ""
    verdict = bilingual(_LABELS["pass"] if reconciled["passed"] else _LABELS["fail"])
    bad = "".join(
        f"<tr class=bad><td>{html.escape(str(group.get('fixmedins_code', '')))}</td>"
        f"<td>{html.escape(str(group.get('insutype', '')))}</td>"
        f"<td>{html.escape(str(group.get('stmt_rslt_dscr', '')))}</td></tr>"
        for group in summary["run"].get("day_end", []) if group.get("stmt_rslt") != "0")
    table = (_table("未对平的组 / Groups that did not balance", (
        "机构编码 Institution code", "险种 Insurance type", "对账结果说明 Result"), bad)
             if bad else "")
    return (f"<h2>{bilingual('日终对账 Day-end reconciliation (3201)')}</h2><p class="
            f"{'ok' if reconciled['passed'] else 'bad'}>{reconciled['balanced']:,}/"
            f"{reconciled['groups']:,} {bilingual(_LABELS['balanced'])} — {verdict}</p>{table}")


def _fmt(value: Any, metric: str = "p95_ms") -> str:
    if value is None:
        return "—"
    if metric == "error_rate":
        return f"{float(value) * 100:.2f}%"
    if metric == "rate":
        return f"{float(value):,.2f}"
    return f"{float(value):,.0f} ms"


def write_report(directory: Path, lines: Sequence[SlaLine], *, prefix: str = "locust",
                 latency_name: str = "2207 settle",
                 run: Mapping[str, Any] | None = None,
                 day_end: Sequence[Mapping[str, Any]] | None = None,
                 error: str | None = None) -> dict[str, Any]:
    """Write the summary, plots and latency file into *directory* from locust's CSVs there
    (``<prefix>_stats.csv``, ``<prefix>_stats_history.csv``), the SLA *lines* and the day-end
    reconciliation's groups (*day_end*, None when none ran); return the summary (what
    summary.json holds). The run passes when every SLA line does and every group balanced, and no *error*
    (the run itself failed: no request got through) is given. With the run's ``duration_s``,
    each request name's ``per_second`` is its requests over that duration (locust's own is over
    the time from the first to the last request: 2 failed requests 20 ms apart make 100/s)."""
    rows = read_stats(directory / f"{prefix}_stats.csv")
    transactions = _transactions(rows)
    duration = (run or {}).get("duration_s")
    if isinstance(duration, int | float) and duration > 0:
        for transaction in transactions.values():
            transaction["per_second"] = round(transaction["requests"] / duration, 3)
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
        files["latency_ms"] = str(write_latency_csv(directory / LATENCY_FILE, samples,
                                                         latency_name))
    visits = transactions.get(VISIT, {})
    achieved = (visits["requests"] / duration if duration and visits.get("requests") is not None
                else visits.get("per_second"))  # locust's: over first to last request
    balanced = sum(1 for group in day_end or () if group.get("stmt_rslt") == "0")
    reconciled = {"ran": day_end is not None, "groups": len(day_end or ()),
                  "balanced": balanced, "passed": balanced == len(day_end or ())}
    summary = {
        "passed": (all(line.passed for line in lines) and reconciled["passed"]
                   and error is None),
        **({"error": error} if error is not None else {}),
        "run": {**(run or {}), "visits/s (achieved)": achieved,
                "latency_ms.csv": f"{latency_name} ({source}, {len(samples)} values)",
                **({"day_end": list(day_end)} if day_end is not None else {})},
        "day_end": reconciled,
        "sla": [line.to_json() for line in lines], "transactions": transactions,
        "files": files}
    atomic_write(directory / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False))
    atomic_write(directory / "summary.html", _html(summary, (latency_name, source, len(samples))))
    files["summary"] = str(directory / "summary.html")
    return summary
