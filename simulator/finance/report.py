"""The report of a cash-flow year on paper: cashflow.json, cashflow.csv (one row per day),
cashflow.html (中文/English labels, the summary of both regimes side by side, the pictures
embedded) and the PNGs. Everything is rendered to bytes first, so a caller writes all of it
atomically or nothing.
"""

from __future__ import annotations

import base64
import html
from decimal import Decimal
from typing import Any

import orjson

from mock_insurer.money import parse_decimal
from simulator.finance.model import YearRun
from simulator.finance.plots import (
    CATEGORY_LABELS,
    PLOT_FILES,
    category_text,
    percent_text,
    plot_outputs,
    share_text,
    yuan_text,
)
from simulator.finance.summary import CSV_COLUMNS, csv_records, run_data
from simulator.output import csv_header, csv_rows

__all__ = ["PARAM_LABELS", "REGIME_LABELS", "SUMMARY_ROWS", "WIDE_TABLE_CSS", "comparison_lines", "render_html",
           "report_files", "summary_cells", "wide_table"]

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

WIDE_TABLE_CSS = (
    ".wrap{overflow-x:auto;margin:1em 0;"
    # a box with more table to its side shows a shadow at that edge: the white covers scroll
    # with the table (local), the shadows stay at the box's edges (scroll)
    "background:linear-gradient(to right,#fff 30%,#fff0) left/2em 100% no-repeat local,"
    "linear-gradient(to left,#fff 30%,#fff0) right/2em 100% no-repeat local,"
    "radial-gradient(farthest-side at 0 50%,#0004,#0000) left/.9em 100% no-repeat scroll,"
    "radial-gradient(farthest-side at 100% 50%,#0004,#0000) right/.9em 100% no-repeat scroll}"
    ".wrap:focus-visible{outline:2px solid #1565c0}"
    # paper does not scroll: every column on the sheet (landscape, smaller type, wrapping text)
    "@page{size:A4 landscape;margin:12mm}"
    "@media print{body{margin:0;max-width:none}.wrap{overflow:visible;background:none}"
    "table{font-size:8pt}td,th{padding:.2em .3em}h2,h3{break-after:avoid}tr,img{break-inside:avoid}}"
)
"""The finance pages' wide tables (:func:`wide_table`): on screen a box that scrolls sideways
and shows it; printed, the whole table on an A4 landscape sheet."""


def wide_table(table: str, label: str) -> str:
    """``table`` (HTML) in a box that scrolls sideways on a narrow screen, with shadows at an
    edge that has more, reachable by keyboard (a labelled region in the Tab order); printed
    whole (:data:`WIDE_TABLE_CSS`)."""
    return (f"<div class=\"wrap\" role=\"region\" tabindex=\"0\" aria-label=\"{html.escape(label)}\">"
            f"{table}</div>")


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.3em .6em}td.n{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}td.d{white-space:nowrap}th{background:#f3f3f3;text-align:left}th.n{text-align:right}"
    "img{max-width:100%}.note{color:#555;font-size:.9em}"
    ".warn{border:2px solid #e0a000;background:#fff8e1;padding:.6em 1em;margin:1em 0}.warn p{margin:.3em 0}"
    ".wrap table{margin:0}" + WIDE_TABLE_CSS
    + "@media print{td.d{white-space:normal}}"
)

#: What the month run's parameters are called on the page (``cashflow.json``'s ``sources.taken``).
PARAM_LABELS = {
    "name": ("医院名称", "name on the report"),
    "advance.base_amount": ("预付金基数", "advance base"),
    "claims.daily_level": ("日均水平", "daily level"),
    "settlement.declaration_day": ("申报日", "declaration day"),
    "settlement.declaration_months_after": ("申报间隔月数", "months until declared"),
    "settlement.review_days": ("审核天数", "days to the review"),
    "settlement.payment_lag_days": ("回款天数", "days from review to payment"),
}


def _e(value: Any) -> str:
    return html.escape("-" if value is None else str(value))


def _param(name: str) -> str:
    """A parameter as people read it, the field name in the title (for support staff)."""
    if name.startswith("refusal_rates."):
        text = f"拒付率 refusal rate: {category_text(name.split('.', 1)[1])}"
    else:
        zh, en = PARAM_LABELS.get(name, (name, ""))
        text = f"{zh} {en}".strip()
    return f"<span title=\"{_e(name)}\">{_e(text)}</span>"


def _cell(value: Any, unit: str) -> str:
    """A summary table cell: yuan with separators, days and dates as they are."""
    if unit.startswith("元") and value is not None:
        return f"<td class=\"n\">{_e(yuan_text(value))}</td>"
    return f"<td class=\"n\">{_e(value)}</td>"


def summary_cells(data: dict[str, Any], section: str, key: str) -> list[Any]:
    """The values of one summary row, one per regime."""
    summary = data["summary"]
    if section == "flows":
        return [summary["flows"][key]] * len(REGIME_LABELS)
    return [summary["regimes"][regime][key] for regime in REGIME_LABELS]


def _next_year(day: str | None, year: int) -> str:
    """A date, tagged "(次年 next year)" when it falls after the modelled year."""
    if not day:
        return "-"
    return f"{day} (次年 next year)" if int(day[:4]) > year else day


def _advance_words(data: dict[str, Any]) -> str:
    """The advance explained in words: amount = base × share, when it arrives and is recouped."""
    advance, terms = data["advance"], data["params"]["advance"]
    if advance["recouped_on"]:
        recouped = (f"冲抵 recouped {_e(_next_year(advance['recouped_on'], data['year']))}，与 "
                    f"{_e(advance['recouped_with'])} 的回款相抵 / netted against the payment of "
                    f"{_e(advance['recouped_with'])}'s claims (the insurer's first settlement payment "
                    f"{'on or after ' + _e(terms['recouped_on']) if terms['recouped_on'] else 'of the next year'};"
                    " that day the receivable falls by the whole payment and the cash is the payment "
                    "less the advance, so the recoup itself does not change the exposure)")
    else:
        recouped = "年内不冲抵 not recouped: no settlement payment after the recoup date is modelled"
    return (f"预付金 advance payment <b>{_e(yuan_text(advance['amount']))} 元</b> = 基数 base "
            f"{_e(yuan_text(terms['base_amount']))} 元（往年医保年支付额 the prior years' annual insurer "
            f"share）× 预付比例 share paid ahead {_e(percent_text(terms['ratio']))}; "
            f"到账 paid {_e(advance['paid_on'])}, {recouped}.")


def _warnings(data: dict[str, Any]) -> list[str]:
    """The notes a reader must see before the figures: a month run's figures under the
    params' advance, an advance larger than the whole year's claims."""
    sources = data.get("sources") or {}
    advance = parse_decimal(data["advance"]["amount"])
    advanced = parse_decimal(data["summary"]["flows"]["advanced"])
    notes = []
    if sources:
        level = yuan_text(data["params"]["claims"]["daily_level"])
        notes.append(
            f"<p><b>取自月度运行 / Modelled on a month run</b> ({_e(sources.get('period'))}, "
            f"{_e(sources.get('month_file'))}): 日均水平 the daily level ({_e(level)} 元), the refusal rates "
            "and the lags come from that month. "
            + ("名称取自月度文件 / the report is named after the month file; " if "name" in (sources.get("taken") or [])
               else "医院名称来自参数文件 / the name comes from the params; ")
            + "其余参数来自参数文件或默认值 / every other figure comes from the params (or the defaults).</p>")
        if "advance.base_amount" in (sources.get("taken") or []):
            base = yuan_text(data["params"]["advance"]["base_amount"])
            notes.append(
                "<p><b>预付金基数按该月规模估算 / The advance's base is estimated from this month</b>: "
                f"{_e(base)} 元, the month's daily level over the whole year (its expected claims). "
                "Set <code>advance.base_amount</code> (the hospital's prior years' annual insurer "
                "share) in <code>--params</code> to use the real one (docs/finance.md).</p>")
    if advanced and advance > advanced:
        times = (advance / advanced).quantize(Decimal(1))
        notes.append(
            f"<p><b>预付金超过全年垫付 / The advance is {_e(times)}× the year's claims</b>: under advance "
            "payment the exposure stays below zero all year (mean and peak exposure are the advance's, "
            "not the claims'), and the exposure picture shows one green block.</p>")
    return [f"<div class=\"warn\" id=\"advance-note\">{''.join(notes)}</div>"] if notes else []


def comparison_lines(data: dict[str, Any]) -> list[str]:
    """A ``--from-month`` run: the month's claimed total beside the model's same month, with
    the reason they differ (one line each, Chinese and English)."""
    found = data.get("month_vs_model")
    if not found:
        return []
    difference = found["difference_percent"]
    shown = "-" if difference is None else f"{'+' if parse_decimal(difference) > 0 else ''}{difference} %"
    return [
        f"月度运行申报 month run claimed {yuan_text(found['month_claimed'])} 元 ({found['period']}, "
        f"{found['month_days']} 天 days) vs 模型 model {yuan_text(found['model_claimed'])} 元 "
        f"({found['model_period']}, {found['model_days']} 天 days) ({shown})",
        f"原因：模型按整月每一天计（周末按星期系数）并含每日随机波动，月度运行只含其列出的 {found['month_days']} 天 / "
        f"why: the model claims every day of the month (weekends at their weekday factor) with "
        f"daily noise; the month run only its {found['month_days']} listed days",
    ]


def _sources(sources: dict[str, Any]) -> str:
    """Where a month run's figures went, in words."""
    taken = ", ".join(_param(name) for name in sources.get("taken") or []) or "-"
    kept = ", ".join(_param(name) for name in sources.get("kept_from_params") or []) or "无 none"
    return (f"<p class=\"note\">来源 / taken from the month run {_e(sources.get('period'))} "
            f"(<code>{_e(sources.get('month_file'))}</code>): {taken}. 沿用参数 kept from the params "
            f"(the month was not yet reviewed or paid): {kept}.</p>")


def render_html(data: dict[str, Any], pictures: dict[str, bytes]) -> str:
    """cashflow.html from cashflow.json's data and the PNGs."""
    params = data["params"]
    heads = "".join(f"<th class=\"n\">{_e(zh)}<br>{_e(en)}</th>" for zh, en in REGIME_LABELS.values())
    parts = [
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">",
        f"<title>医院现金流 / Hospital cash flow {data['year']}</title><style>{STYLE}</style></head><body>",
        f"<h1>医院医保资金现金流 / Hospital cash flow of insurance settlement, {data['year']}</h1>",
        f"<p>{_e(params['name'])} — 随机种子 seed {data['seed']}.</p>",
        f"<p>{_advance_words(data)}</p>",
        *_warnings(data),
        *(f"<p id=\"month-vs-model\"><b>{_e(line)}</b></p>" if index == 0 else f"<p class=\"note\">{_e(line)}</p>"
          for index, line in enumerate(comparison_lines(data))),
        "<h2>汇总 / Summary</h2>",
        "<div class=\"wrap\" role=\"region\" tabindex=\"0\" aria-label=\"汇总 / Summary\">"
        f"<table><tr><th>项目 / item</th><th>单位 unit</th>{heads}</tr>",
    ]
    for section, key, zh, en, unit in SUMMARY_ROWS:
        cells = "".join(_cell(value, unit) for value in summary_cells(data, section, key))
        parts.append(f"<tr><td>{_e(zh)} / {_e(en)}</td><td>{_e(unit)}</td>{cells}</tr>")
    parts.append("</table></div>")
    lost = data["summary"]["flows"]["lost_by_category"]
    order = {category: index for index, category in enumerate(CATEGORY_LABELS)}
    lost_total = data["summary"]["flows"]["lost"]
    parts.append("<h2>拒付损失（按原因） / Refusal losses by reason</h2><table>"
                 "<tr><th>原因 / reason</th><th class=\"n\">拒付 lost (元)</th>"
                 "<th class=\"n\">占比 share of total</th>"
                 "<th class=\"n\">拒付率 rate (% of claimed)</th></tr>")
    for category, amount in sorted(lost.items(), key=lambda item: (-parse_decimal(item[1]),
                                                                   order.get(item[0], len(order)))):
        parts.append(f"<tr><td title=\"{_e(category)}\">{_e(category_text(category, ' / '))}</td>"
                     f"<td class=\"n\">{_e(yuan_text(amount))}</td>"
                     f"<td class=\"n\">{_e(share_text(amount, lost_total))}</td>"
                     f"<td class=\"n\">{_e(percent_text(params['refusal_rates'][category]))}</td></tr>")
    total_rate = sum((parse_decimal(rate) for rate in params["refusal_rates"].values()), Decimal(0))
    parts.append(f"<tr><td><b>合计 total</b></td><td class=\"n\"><b>{_e(yuan_text(lost_total))}</b></td>"
                 f"<td class=\"n\">{'100.00 %' if parse_decimal(lost_total) else '-'}</td>"
                 f"<td class=\"n\">{_e(percent_text(total_rate))}</td></tr></table>")
    parts.append("<h2>各月申报、审核、回款 / Each month: declared, reviewed, paid</h2><div class=\"wrap\" "
                 "role=\"region\" tabindex=\"0\" aria-label=\"各月申报、审核、回款 / Each month\"><table><tr>"
                 "<th>月份 period</th><th class=\"n\">申报 claimed (元)</th><th class=\"n\">拒付 deducted (元)</th>"
                 "<th class=\"n\">核准 accepted (元)</th><th>申报日 declared</th><th>审核日 reviewed</th>"
                 "<th>回款日 paid</th></tr>")
    year = data["year"]
    sums = {key: Decimal(0) for key in ("claimed", "deducted", "accepted")}
    for month in data["months"]:
        for key in sums:
            sums[key] += parse_decimal(month[key])
        parts.append(
            f"<tr><td class=\"d\">{_e(month['period'])}</td><td class=\"n\">{_e(yuan_text(month['claimed']))}</td>"
            f"<td class=\"n\">{_e(yuan_text(month['deducted']))}</td>"
            f"<td class=\"n\">{_e(yuan_text(month['accepted']))}</td>"
            + "".join(f"<td class=\"d\">{_e(_next_year(month[key], year))}</td>"
                      for key in ("declared_on", "reviewed_on", "paid_date")) + "</tr>")
    parts.append("<tr><td><b>合计 total</b></td>" + "".join(
        f"<td class=\"n\"><b>{_e(yuan_text(value))}</b></td>" for value in sums.values())
        + "<td></td><td></td><td></td></tr>")
    later = [month for month in data["months"] if not month["reviewed_in_year"]]
    later_deducted = sum((parse_decimal(month["deducted"]) for month in later), Decimal(0))
    parts.append("</table></div><p class=\"note\">核准 accepted = 申报 claimed − 拒付 deducted: what the insurer "
                 "pays (回款) on the paid date.</p>")
    if later:
        periods = ", ".join(month["period"] for month in later)
        parts.append(
            f"<p class=\"note\" id=\"loss-vs-deducted\">全年拒付损失 {_e(yuan_text(lost_total))} 元 = 拒付合计 "
            f"{_e(yuan_text(sums['deducted']))} 元 − {_e(periods)} 的拒付 {_e(yuan_text(later_deducted))} 元：这些月份"
            f"在次年审核，其拒付计入次年。 / The year's loss to refusals ({_e(yuan_text(lost_total))} yuan) is the "
            f"deducted total ({_e(yuan_text(sums['deducted']))} yuan) less {_e(periods)}'s "
            f"{_e(yuan_text(later_deducted))} yuan: those months are reviewed in the next year, so their "
            "deductions are lost then (cashflow.json: <code>monthly_losses</code> counts only the months "
            "reviewed within the year).</p>")
    captions = {
        PLOT_FILES["exposure"]: "应收未收与资金占用 / Outstanding receivable and exposure",
        PLOT_FILES["refusals"]: "每月拒付（按原因） / Refusal losses per month by reason",
    }
    for name, png in pictures.items():
        parts.append(f"<h2>{_e(captions.get(name, name))}</h2><img alt=\"{_e(captions.get(name, name))}\" "
                     f"src=\"data:image/png;base64,{base64.b64encode(png).decode('ascii')}\">")
    if data.get("sources"):
        parts.append(_sources(data["sources"]))
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
