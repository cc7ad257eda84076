"""The report of a cash-flow year on paper: cashflow.json, cashflow.csv (one row per day),
cashflow.html (中文/English labels, the summary of both regimes side by side, the pictures
embedded) and the PNGs. Everything is rendered to bytes first, so a caller writes all of it
atomically or nothing.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import orjson

from simulator.finance.model import YearRun
from simulator.finance.plots import CATEGORY_LABELS, PLOT_FILES, plot_outputs
from simulator.finance.summary import CSV_COLUMNS, csv_records, run_data
from simulator.output import csv_header, csv_rows

__all__ = ["REGIME_LABELS", "SUMMARY_ROWS", "render_html", "report_files", "summary_cells"]

#: Regimes as the report names them (Chinese, English).
REGIME_LABELS = {"post_payment": ("按月后付", "post-payment"), "advance_payment": ("预付金", "advance payment")}

#: Rows of the summary table: (section, key, Chinese, English, unit).
SUMMARY_ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    ("flows", "advanced", "全年垫付医保金额", "advanced at the windows (insurer share)", "元 yuan"),
    ("flows", "received", "全年回款", "received (settlement payments)", "元 yuan"),
    ("flows", "lost", "拒付损失", "lost to refusals", "元 yuan"),
    ("flows", "outstanding_at_year_end", "年末应收未收", "outstanding at year end", "元 yuan"),
    ("flows", "dso_days", "应收账款周转天数", "days sales outstanding (DSO)", "天 days"),
    ("flows", "days_to_payment", "平均回款天数", "mean days from window to payment", "天 days"),
    ("regimes", "advance_received", "收到预付金", "advance received", "元 yuan"),
    ("regimes", "advance_recouped", "预付金冲抵", "advance recouped", "元 yuan"),
    ("regimes", "peak_exposure", "资金占用峰值", "peak exposure", "元 yuan"),
    ("regimes", "peak_exposure_date", "峰值日期", "date of the peak", ""),
    ("regimes", "mean_exposure", "平均资金占用", "mean exposure", "元 yuan"),
    ("regimes", "exposure_at_year_end", "年末资金占用", "exposure at year end", "元 yuan"),
    ("regimes", "cost_of_financing", "资金成本", "cost of financing", "元 yuan"),
)

STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.3em .6em}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f3f3f3;text-align:left}img{max-width:100%}.note{color:#555;font-size:.9em}"
)


def _e(value: Any) -> str:
    return html.escape("-" if value is None else str(value))


def summary_cells(data: dict[str, Any], section: str, key: str) -> list[Any]:
    """The values of one summary row, one per regime."""
    summary = data["summary"]
    if section == "flows":
        return [summary["flows"][key]] * len(REGIME_LABELS)
    return [summary["regimes"][regime][key] for regime in REGIME_LABELS]


def render_html(data: dict[str, Any], pictures: dict[str, bytes]) -> str:
    """cashflow.html from cashflow.json's data and the PNGs."""
    params = data["params"]
    heads = "".join(f"<th>{_e(zh)}<br>{_e(en)}</th>" for zh, en in REGIME_LABELS.values())
    parts = [
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">",
        f"<title>医院现金流 / Hospital cash flow {data['year']}</title><style>{STYLE}</style></head><body>",
        f"<h1>医院医保资金现金流 / Hospital cash flow of insurance settlement, {data['year']}</h1>",
        f"<p>{_e(params['name'])} — seed {data['seed']}; 预付金 advance {_e(data['advance']['amount'])} 元 yuan "
        f"({_e(params['advance']['base_amount'])} × {_e(params['advance']['ratio'])}), "
        f"paid {_e(data['advance']['paid_on'])}, recouped {_e(data['advance']['recouped_on'] or '-')}.</p>",
        "<h2>汇总 / Summary</h2>",
        f"<table><tr><th>项目 / item</th><th>单位 unit</th>{heads}</tr>",
    ]
    for section, key, zh, en, unit in SUMMARY_ROWS:
        cells = "".join(f"<td class=\"n\">{_e(value)}</td>" for value in summary_cells(data, section, key))
        parts.append(f"<tr><td>{_e(zh)} / {_e(en)}</td><td>{_e(unit)}</td>{cells}</tr>")
    parts.append("</table>")
    parts.append("<h2>拒付损失（按原因） / Refusal losses by reason</h2><table>"
                 "<tr><th>原因 / reason</th><th>元 yuan</th><th>比例 rate</th></tr>")
    for category, amount in data["summary"]["flows"]["lost_by_category"].items():
        en, zh = CATEGORY_LABELS[category]
        parts.append(f"<tr><td>{_e(zh)} / {_e(en)}</td><td class=\"n\">{_e(amount)}</td>"
                     f"<td class=\"n\">{_e(params['refusal_rates'][category])}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>各月申报、审核、回款 / Each month: declared, reviewed, paid</h2><table><tr>"
                 "<th>月份 period</th><th>申报金额 claimed</th><th>拒付 deducted</th><th>回款 accepted</th>"
                 "<th>申报日 declared</th><th>审核日 reviewed</th><th>回款日 paid</th></tr>")
    for month in data["months"]:
        paid = month["paid_date"] if month["paid_in_year"] else f"{month['paid_date']} (次年 next year)"
        parts.append(
            f"<tr><td>{_e(month['period'])}</td><td class=\"n\">{_e(month['claimed'])}</td>"
            f"<td class=\"n\">{_e(month['deducted'])}</td><td class=\"n\">{_e(month['accepted'])}</td>"
            f"<td>{_e(month['declared_on'])}</td><td>{_e(month['reviewed_on'])}</td><td>{_e(paid)}</td></tr>")
    parts.append("</table>")
    captions = {
        PLOT_FILES["exposure"]: "应收未收与资金占用 / Outstanding receivable and exposure",
        PLOT_FILES["refusals"]: "每月拒付（按原因） / Refusal losses per month by reason",
    }
    for name, png in pictures.items():
        parts.append(f"<h2>{_e(captions.get(name, name))}</h2><img alt=\"{_e(captions.get(name, name))}\" "
                     f"src=\"data:image/png;base64,{base64.b64encode(png).decode('ascii')}\">")
    if data.get("sources"):
        parts.append(f"<p class=\"note\">来源 / taken from a month run: {_e(orjson.dumps(data['sources']).decode())}</p>")
    parts.append("<p class=\"note\">资金占用 = 应收未收 − 预付金余额 / exposure = outstanding − advance held. "
                 "See docs/finance.md.</p></body></html>")
    return "".join(parts) + "\n"


def report_files(run: YearRun, sources: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """cashflow.json's data and every file of the report directory (name → bytes)."""
    data = run_data(run, sources)
    pictures = plot_outputs(run)
    files = {
        "cashflow.json": orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE),
        "cashflow.csv": csv_header(CSV_COLUMNS) + csv_rows(csv_records(run), CSV_COLUMNS),
        "cashflow.html": render_html(data, pictures).encode("utf-8"),
        **pictures,
    }
    return data, files
