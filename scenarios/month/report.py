"""The month's reports, for the hospital's finance and insurance office (one month or several
consecutive ones: every function that takes ``runs`` takes one :class:`MonthRun` or a sequence,
in order):

- ``month.json`` — the (first) month in figures: the contract the cash-flow model reads
  (simulator/finance/month_input.py: ``period``, ``daily`` [{date, claimed}], ``claimed``,
  ``deducted``, ``accepted``, ``deductions_by_category``, ``declared_on``, ``reviewed_on``,
  ``paid_date``) plus the payment, the receivables' totals, the refusal analysis and the steps;
- ``receivables.csv`` — one row per settlement claimed (the HIS's receivables ledger);
- ``refusals.html`` — near the top, per month, the declaration and its reconciliation (申报与对账:
  the HIS's declared totals beside the insurer's, claimed − deducted = accepted − paid =
  outstanding, the receivables by status, each day-end); then the refusal analysis (拒付分析)
  by reason, department, doctor and month: tables and PNG plots (embedded), labels in Chinese
  and English.

The figures themselves are computed in :mod:`scenarios.month.figures`; this module draws and
writes them. Money is yuan, rendered as text with two decimals. The files are written all
together or not at all (:func:`write_all`).
"""

from __future__ import annotations

import base64
import html
import json
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from mock_insurer.money import parse_decimal, render
from scenarios.month.figures import (
    Runs,
    analysis,
    by_month,
    deductions_of,
    department_by_month,
    month_json,
    month_runs,
    months_json,
    receivables_csv,
    totals_of,
)
from scenarios.month.run import MonthRun
from simulator.bilingual import both, english
from simulator.errors import OutputError
from simulator.finance.plots import (
    CATEGORY_COLORS,
    CATEGORY_LABELS,
    CLAIMS_MONTH_LABEL,
    category_text,
    money_axis,
    percent_text,
    share_text,
    yuan_text,
)
from simulator.finance.report import WIDE_TABLE_CSS, wide_table
from simulator.masking import mask_text
from simulator.output import NotRegularFileError, atomic_write, check_target

__all__ = ["CATEGORY_LABELS", "MONTH_FILES", "PLOT_ALT", "PLOT_NAMES", "Runs", "analysis", "by_month",
           "department_by_month", "month_json", "months_json", "plots", "receivables_csv",
           "refusals_html", "summary_lines", "write_all", "write_month_report"]

def _tick_label(name: str) -> str:
    """A bar's label on at most three lines: a reason ``"中文 / English"`` as the Chinese, then the
    English wrapped (never cut); anything else as it is, wrapped when long."""
    import textwrap

    zh, _, en = name.partition(" / ")
    lines = [zh] if len(zh) <= 30 else textwrap.wrap(zh, 30)
    return "\n".join([*lines, *textwrap.wrap(en, 48)])


def _bar_chart(values: Mapping[str, str], title: tuple[str, str],
               axis: tuple[str, str]) -> bytes:
    """Horizontal bars of yuan per label (PNG), the twelve largest; long labels wrapped."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from simulator.windows.plots import figure_bytes, label, plot_style

    names = list(values)[:12][::-1]
    amounts = [float(parse_decimal(values[n])) for n in names]  # plotting only
    shown = [_tick_label(n) for n in names]
    lines = sum(max(text.count("\n") + 1, 1) for text in shown) or 1
    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(9, 0.24 * max(lines, 3) + 0.22 * len(names) + 1.3),
                        layout="constrained")
        axes = figure.subplots()
        axes.barh(shown or ["-"], amounts or [0.0], color="#c62828")
        axes.tick_params(axis="y", labelsize="small")
        money_axis(axes, "x")
        axes.set_xlabel(label(axis[1], axis[0]))
        axes.set_title(label(title[1], title[0]))
        return figure_bytes(figure, "png")


def _month_chart(rows: list[dict[str, Any]]) -> bytes:
    """Deducted yuan per month, stacked by category (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from simulator.windows.plots import figure_bytes, label, plot_style

    periods = [row["period"] for row in rows]
    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(max(6.0, 0.8 * len(periods) + 3), 4.5))
        axes = figure.subplots()
        bottom = [0.0] * len(periods)
        for name, (zh, en) in CATEGORY_LABELS.items():
            color = CATEGORY_COLORS[name]
            heights = [float(parse_decimal(row["by_category"].get(name, "0")))  # plotting only
                       for row in rows]
            if not any(heights):
                continue
            axes.bar(periods, heights, bottom=bottom, color=color, label=label(en, zh))
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        if not any(bottom):
            axes.bar(periods, bottom, color=CATEGORY_COLORS["insurance_rules"])
        money_axis(axes)
        axes.set_xlabel(label(CLAIMS_MONTH_LABEL[1], CLAIMS_MONTH_LABEL[0]))
        axes.set_ylabel(label("deducted (yuan)", "拒付金额（元）"))
        axes.set_title(label("Deducted by month and category", "按月份和类别拒付"))
        if any(bottom):
            axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15),
                        ncol=2, frameon=False)
        figure.tight_layout()
        return figure_bytes(figure, "png")


PLOT_NAMES = ("refusals-by-category.png", "refusals-by-department.png",
              "refusals-top-reasons.png", "refusals-by-doctor.png", "refusals-by-month.png")
"""The plots of the refusal analysis (:func:`plots`), by file name."""

PLOT_ALT = dict(zip(PLOT_NAMES, (
    "按类别拒付金额柱状图（元），数据见下表“按类别” / bar chart: deducted yuan by category, "
    "figures in the table “By category” below",
    "按科室拒付金额柱状图（元），数据见下表“按科室” / bar chart: deducted yuan by department, "
    "figures in the table “By department” below",
    "主要拒付原因柱状图（元），数据见下表“主要原因” / bar chart: deducted yuan by the top "
    "reasons, figures in the table “Top reasons” below",
    "按医生拒付金额柱状图（元），数据见下表“按医生” / bar chart: deducted yuan by doctor, "
    "figures in the table “By doctor” below",
    "按月份和类别拒付金额堆积柱状图（元），数据见下表“按月” / stacked bar chart: deducted yuan "
    "by month and category, figures in the table “By month” below",
), strict=True))
"""What each plot shows, in words (its ``alt`` text: Chinese / English)."""

MONTH_FILES = ("month.json", "months.json", "receivables.csv", "refusals.html", *PLOT_NAMES)
"""Every file :func:`write_month_report` writes into its directory."""


def plots(runs: Runs) -> dict[str, bytes]:
    """The five plots of the refusal analysis (over every month), by file name
    (:data:`PLOT_NAMES`)."""
    from simulator.windows.plots import label

    found = analysis(runs)
    categories = {label(*CATEGORY_LABELS[k][::-1]) if k in CATEGORY_LABELS else k: v
                  for k, v in found["by_category"].items()}
    yuan = ("拒付金额（元）", "deducted (yuan)")
    return dict(zip(PLOT_NAMES, (
        _bar_chart(categories, ("按类别拒付", "Deducted by category"), yuan),
        _bar_chart(found["by_department"], ("按科室拒付", "Deducted by department"), yuan),
        _bar_chart(found["by_reason"], ("主要拒付原因", "Top reasons"), yuan),
        _bar_chart(found["by_doctor"], ("按医生拒付", "Deducted by doctor"), yuan),
        _month_chart(by_month(runs)),
    ), strict=True))


class _Html(str):
    """A cell already written as HTML (escaped where needed)."""

    __slots__ = ()


def _e(value: Any) -> str:
    return value if isinstance(value, _Html) else html.escape(str(value))


MONEY, SHORT, TEXT = "money", "short", "text"
"""Kinds of table column: yuan (right-aligned, separators); a date, id or name (never wrapped);
a long text (on screen never narrower than a short line: the table scrolls instead)."""


def _th(zh: str, en: str, kind: str = "", attrs: str = "") -> str:
    css = " class=\"n\"" if kind == MONEY else ""
    return (f"<th{css}{attrs}><span class=\"zh\">{_e(zh)}</span><br>"
            f"<span class=\"en\" lang=\"en\">{_e(en)}</span></th>")


def _td(value: Any, kind: str = "") -> str:
    if kind == "share":
        return f"<td class=\"n\">{_e(value)}</td>"
    if kind == MONEY:
        return f"<td class=\"n\">{_e(yuan_text(value))}</td>"
    if kind == TEXT:
        return f"<td class=\"why\">{_e(value)}</td>"
    return f"<td class=\"d\">{_e(value)}</td>" if kind == SHORT else f"<td>{_e(value)}</td>"


def _table(title: str, head: Sequence[tuple[str, str, str]], rows: Iterable[tuple[Any, ...]],
           anchor: str = "") -> str:
    """A titled table; ``head`` is (中文, English, kind) per column (see :data:`MONEY`)."""
    kinds = [kind for _zh, _en, kind in head]
    body = "".join("<tr>" + "".join(_td(c, k) for c, k in zip(row, kinds, strict=True)) + "</tr>"
                   for row in rows)
    heading = f"<h2 id=\"{_e(anchor)}\">" if anchor else "<h2>"
    if not body:
        return f"{heading}{_heading(title)}</h2><p class=\"none\">无 / none</p>"
    header = "".join(_th(*column) for column in head)
    return (f"{heading}{_heading(title)}</h2>"
            + wide_table(f"<table><tr>{header}</tr>{body}</table>", title))


def _heading(title: str) -> str:
    """``"按类别 / By category"`` with its English half marked as English."""
    zh, sep, en = title.partition(" / ")
    return f"{_e(zh)} / <span lang=\"en\">{_e(en)}</span>" if sep else _e(title)


SHARE = ("占比", "share of total", "share")


def _refusal_table(title: str, head: Sequence[tuple[str, str, str]], rows: Iterable[tuple[Any, ...]],
                   total: int) -> str:
    """A refusal table with a share-of-total column after the money column ``total`` (its
    yuan over the column's sum) and a 合计 total row (every money column summed, 100.00 %)."""
    rows = list(rows)
    whole = sum((parse_decimal(row[total] or "0") for row in rows), Decimal(0))
    shown = [(*row[:total + 1], _Html(share_text(row[total] or "0", whole)), *row[total + 1:])
             for row in rows]
    head = [*head[:total + 1], SHARE, *head[total + 1:]]
    if rows:
        sums: list[Any] = []
        for index, (_zh, _en, kind) in enumerate(head):
            source = index if index <= total else index - 1
            if index == 0:
                sums.append(_Html("<b>合计 total</b>"))
            elif index == total + 1:
                sums.append(_Html("100.00 %" if whole else "-"))
            elif kind == MONEY:
                sums.append(sum((parse_decimal(row[source] or "0") for row in rows), Decimal(0)))
            else:
                sums.append("")
        shown.append(tuple(sums))
    return _table(title, head, shown)


def _category(name: str) -> _Html:
    """违反医保规定, the English below in grey, the code in the title (for support staff)."""
    zh, en = CATEGORY_LABELS.get(name, (name, ""))
    return _Html(f"<span title=\"{_e(name)}\"><span class=\"zh\">{_e(zh)}</span><br>"
                 f"<span class=\"en\" lang=\"en\">{_e(en)}</span></span>")


def _bilingual(zh: str, en: str) -> _Html:
    return _Html(f"{_e(zh)}<br><span class=\"en\" lang=\"en\">{_e(en)}</span>" if en else _e(zh))


def _span(runs: list[MonthRun]) -> str:
    first, last = runs[0].plan.period, runs[-1].plan.period
    return first if first == last else f"{first} – {last}"


def _month_section(rows: list[dict[str, Any]]) -> list[str]:
    """按月 / by month: month × category, the ratio, the dates (categories under one heading)."""
    cats = "".join(f"<th class=\"n\">{_category(name)}</th>" for name in CATEGORY_LABELS)
    tail = "".join(_th(*column, attrs=" rowspan=\"2\"") for column in (
        ("拒付", "deducted", MONEY), SHARE, ("申报", "claimed", MONEY), ("拒付率", "rate", MONEY),
        ("申报日", "declared", ""), ("审核日", "reviewed", ""), ("回款日", "paid", ""),
        ("未回款", "outstanding", MONEY)))
    def total(key: str) -> Decimal:
        return sum((parse_decimal(row[key] or "0") for row in rows), Decimal(0))

    deducted = total("deducted")
    body = "".join(
        "<tr>" + _td(row["period"], SHORT)
        + "".join(_td(row["by_category"][name], MONEY) for name in CATEGORY_LABELS)
        + _td(row["deducted"], MONEY) + _td(share_text(row["deducted"] or "0", deducted), "share")
        + _td(row["claimed"], MONEY)
        + _td(percent_text(row["deducted_ratio"]), "share")
        + "".join(_td(row[key] or "-", SHORT) for key in ("declared_on", "reviewed_on",
                                                         "paid_date"))
        + _td(row["outstanding"], MONEY) + "</tr>" for row in rows)
    claimed = total("claimed")
    body += ("<tr><td><b>合计 total</b></td>"
             + "".join(_td(sum((parse_decimal(row["by_category"][name]) for row in rows), Decimal(0)),
                           MONEY) for name in CATEGORY_LABELS)
             + _td(deducted, MONEY) + _td("100.00 %" if deducted else "-", "share")
             + _td(claimed, MONEY) + _td(share_text(deducted, claimed), "share")
             + "<td></td><td></td><td></td>" + _td(total("outstanding"), MONEY) + "</tr>")
    return [f"<h2 id=\"by-month\">{_heading('按月 / By month')}</h2><p class=\"note\">金额单位：元 / "
            "amounts in yuan</p>"
            + wide_table("<table class=\"months\"><tr>"
                    f"<th rowspan=\"2\">月份<br><span class=\"en\" lang=\"en\">month</span></th>"
                    f"<th colspan=\"{len(CATEGORY_LABELS)}\" class=\"group\">按类别拒付 / "
                    f"deducted by category</th>{tail}</tr>"
                    f"<tr>{cats}</tr>{body}</table>", "按月 / By month"),
            "<p class=\"note\">拒付率 rate = 该月拒付 ÷ 该月申报 / the month's deducted yuan "
            "over its claimed yuan; a month not yet reviewed shows no deduction.</p>"]


STATUS_LABELS = {"outstanding": ("未回款", "outstanding"), "paid": ("已回款", "paid"),
                 "part-deducted": ("部分拒付", "paid less a deduction"),
                 "deducted": ("全额拒付", "all of it deducted")}
"""The receivables' statuses (simulator/his/receivables.py) as the office reads them."""

DECLARED_ROWS = (("medfee_sumamt", "医疗费总额", "medical total"),
                 ("fund_pay_sumamt", "基金支付", "fund"),
                 ("acct_pay", "个人账户", "account"),
                 ("setl_cnt", "结算笔数", "settlement rows"))
"""The declaration's totals, HIS declared beside insurer uploaded (month.json ``declared`` and
``uploaded``)."""


def _label(zh: str, en: str) -> _Html:
    """A row's label: the Chinese, then the English marked as English."""
    return _Html(both(zh, en))


def _count(value: Any) -> str:
    return "-" if value in (None, "") else f"{int(value):,}"


def _verdict(good: bool, difference: str = "") -> _Html:
    """✓ 相符 agrees, or ✗ 不符 differs (by ``difference``), marked for the eye and the ear."""
    if good:
        return _Html(f"<span class=\"ok\">✓ {both('相符', 'agrees')}</span>")
    by = f" {_e(difference)}" if difference else ""
    return _Html(f"<span class=\"bad\">✗ {both('不符', 'differs')}{by}</span>")


def _small_table(caption: str, head: Sequence[tuple[str, str, str]],
                 rows: Iterable[Sequence[Any]]) -> str:
    """A captioned table of the reconciliation box, in a box that scrolls sideways
    (:func:`wide_table`); ``head`` as for :func:`_table` (kind ``"n"``: a count or figure,
    right-aligned as given)."""
    kinds = [kind for _zh, _en, kind in head]
    header = "".join(_th(zh, en, MONEY if kind in (MONEY, "n") else "") if zh or en else "<th></th>"
                     for zh, en, kind in head)
    body = "".join(
        "<tr>" + "".join(_td(cell, "share" if kind == "n" else kind)
                         for cell, kind in zip(row, kinds, strict=True)) + "</tr>"
        for row in rows)
    zh, _sep, en = caption.partition(" / ")
    return wide_table(f"<table><caption>{_heading(caption)}</caption><tr>{header}</tr>{body}"
                      "</table>", f"{zh} / {en}")


def _declared_table(data: Mapping[str, Any]) -> str:
    """The HIS's declared totals beside the insurer's uploaded ones, and whether they agree."""
    declared, uploaded = data.get("declared") or {}, data.get("uploaded") or {}
    rows = []
    for key, zh, en in DECLARED_ROWS:
        mine, theirs = declared.get(key), uploaded.get(key)
        shown = _count if key == "setl_cnt" else yuan_text
        if mine is None or theirs is None:
            rows.append((_label(zh, en), shown(mine), shown(theirs), "-", "-"))
            continue
        if key == "setl_cnt":
            gap = int(theirs) - int(mine)
            difference = f"{gap:+,}" if gap else "0"
        else:
            diff = parse_decimal(theirs) - parse_decimal(mine)
            difference = ("+" if diff > 0 else "") + yuan_text(render(diff))
        rows.append((_label(zh, en), shown(mine), shown(theirs), difference,
                     _verdict(difference in ("0", "0.00"))))
    return _small_table("申报核对 / Declared and uploaded", (
        ("项目", "item", ""), ("医院申报", "HIS declared", "n"), ("中心上传", "insurer uploaded", "n"),
        ("差额", "insurer − HIS", "n"), ("结果", "result", "")), rows)


def _chain_table(data: Mapping[str, Any]) -> str:
    """claimed − deducted = accepted; accepted − paid = outstanding, each step checked."""
    receivables = data.get("receivables") or {}
    claimed, deducted = parse_decimal(data["claimed"]), parse_decimal(data["deducted"])
    paid = parse_decimal(receivables.get("paid") or "0")
    outstanding = parse_decimal(receivables.get("outstanding") or "0")
    reviewed = bool(data.get("reviewed_on"))
    accepted = parse_decimal(data["accepted"]) if reviewed else claimed - deducted

    def check(expected: Decimal, shown: Decimal) -> _Html:
        gap = shown - expected
        return _verdict(gap == 0, ("+" if gap > 0 else "") + yuan_text(render(gap)))

    rows: list[tuple[Any, ...]] = [
        ("", _label("申报", "claimed"), claimed, ""),
        ("−", _label("拒付", "deducted"), deducted, ""),
        ("=", _label("核准", "accepted"), accepted if reviewed else "",
         check(claimed - deducted, accepted) if reviewed
         else _Html(both("未审核", "not reviewed yet"))),
        ("−", _label("已回款", "paid"), paid, ""),
        ("=", _label("未回款", "outstanding"), outstanding, check(accepted - paid, outstanding)),
    ]
    head = (("", "", ""), ("项目", "figure", ""), ("金额（元）", "yuan", MONEY),
            ("核对", "check", ""))
    return _small_table("对账链 / The chain", head, (
        (_Html(f"<b>{_e(op)}</b>") if op else "", label, amount, verdict)
        for op, label, amount, verdict in rows))


def _receivables_table(data: Mapping[str, Any]) -> str:
    """The HIS's receivables by status: count and yuan, a 合计 total row."""
    receivables = data.get("receivables") or {}
    counts = receivables.get("by_status") or {}
    amounts = receivables.get("amounts_by_status") or {}
    keys = ("claimed", "paid", "deducted", "outstanding")
    rows: list[tuple[Any, ...]] = []
    for status, count in counts.items():
        zh, en = STATUS_LABELS.get(status, (status, ""))
        figures = amounts.get(status) or {}
        rows.append((_Html(f"<span title=\"{_e(status)}\">{both(zh, en)}</span>"),
                     _count(count), *(figures.get(key, "0.00") for key in keys)))
    rows.append((_Html("<b>合计</b> " + english("total")), _count(receivables.get("count", 0)),
                 *(receivables.get(key) or "0.00" for key in keys)))
    return _small_table("应收账款按状态 / Receivables by status", (
        ("状态", "status", ""), ("笔数", "count", "n"), ("申报", "claimed", MONEY),
        ("已回款", "paid", MONEY), ("拒付", "deducted", MONEY), ("未回款", "outstanding", MONEY)),
        rows)


def _day_end_table(data: Mapping[str, Any]) -> str:
    """Each day-end (3201) of the month: balanced or not."""
    rows = [(day["date"], _Html(f"<span class=\"ok\">✓ {both('平', 'balanced')}</span>")
             if day.get("balanced") else
             _Html(f"<span class=\"bad\">✗ {both('不平', 'NOT balanced')}</span>"))
            for day in data.get("day_ends") or []]
    return _small_table("日终对账 / Day-ends", (("日期", "date", SHORT), ("结果", "result", "")),
                        rows)


def _reconciliation(data: Mapping[str, Any], several: bool) -> str:
    """申报与对账 / Declaration and reconciliation: one month of month.json as a finance officer
    checks it — the declaration against the insurer's upload, the chain claimed − deducted =
    accepted − paid = outstanding, the settlements claimed and not, the receivables by status,
    each day-end."""
    period = str(data["period"])
    receivables = data.get("receivables") or {}
    title = _heading("申报与对账 / Declaration and reconciliation")
    heading = f"<h2 id=\"reconciliation-{_e(period)}\">{title}" + (
        f" — {_e(period)}" if several else "") + "</h2>"
    claimed, nothing = receivables.get("count"), receivables.get("nothing_claimed")
    settlements = (
        f"<p id=\"settlements-{_e(period)}\">{both('结算', 'settlements')}: <b>{_count(claimed)}</b>"
        f" {both('有申报金额', 'claimed')} + <b>{_count(nothing)}</b> "
        f"{both('无可申报', 'with nothing to claim')} = <b>{_count((claimed or 0) + (nothing or 0))}"
        f"</b> {both('医院账内结算', 'in the HIS ledger')}</p>" if claimed is not None else "")
    refusal = ""
    if not data.get("dcla_id"):
        said = ((data.get("declaration_check") or {}).get("refusal") or {}).get("message", "")
        refusal = (f"<p class=\"bad\">✗ {both('未申报', 'NOT declared')}"
                   + (f": {_e(said)}" if said else "") + "</p>")
    note = ("<p class=\"note\">" + both("结算笔数按3201计：退费作废的结算及其作废记录各计一笔，故可多于"
                                     "应收账的结算笔数。",
                                     "settlement rows as 3201 counts them: a refunded settlement "
                                     "and its cancellation count one each, so there may be more "
                                     "than the ledger's settlements.") + "</p>")
    return ("<section class=\"recon\">" + heading + refusal + settlements
            + "<div class=\"grid\">" + _chain_table(data) + _declared_table(data)
            + _receivables_table(data) + _day_end_table(data) + "</div>" + note + "</section>")


CSS = ("body{font-family:system-ui,'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;"
       "margin:2em;max-width:1100px;color:#222}"
       "table{border-collapse:collapse;font-size:.92em}.zh{white-space:nowrap}"
       "table.months{font-size:.85em}table.months th .zh{white-space:normal}"
       "td,th{border-bottom:1px solid #eee;padding:.35em .4em;text-align:left;vertical-align:top}"
       "th.n,td.n{text-align:right}td.n,td.d{white-space:nowrap;font-variant-numeric:tabular-nums}"
       "th.group{text-align:center;border-bottom:1px solid #ccc}.en{color:#666;font-weight:normal;"
       "font-size:.9em}.note{color:#555;font-size:.9em}.figures b{font-size:1.2em}"
       "img{max-width:100%}"
       # the reconciliation box: small tables side by side, each scrolling on its own
       ".recon{border:1px solid #999;border-radius:4px;padding:.2em 1em .6em;margin:1em 0}"
       ".recon h2{margin:.5em 0}.recon td{vertical-align:baseline}.recon .grid{display:flex;flex-wrap:wrap;gap:0 2em;"
       "align-items:flex-start}.recon .wrap{min-width:0;max-width:100%;margin:.5em 0}"
       "caption{text-align:left;font-weight:bold;padding:.3em 0;white-space:nowrap}"
       ".ok{color:#1b5e20;white-space:nowrap}.bad{color:#b71c1c;font-weight:bold}"
       ".recon td [lang=en],.recon p [lang=en]{color:#555}@media screen{td.why{min-width:20em}}" + WIDE_TABLE_CSS
       # printed, the by-month table's fourteen columns fit too
       + "@media print{body{font-size:10pt}table,table.months{font-size:7.5pt;width:100%}"
       ".zh{white-space:normal}}")


def _figures(totals: Mapping[str, str]) -> str:
    shown = (("申报", "claimed", "claimed"), ("拒付", "deducted", "deducted"),
             ("核准", "accepted", "accepted"), ("已回款", "paid", "paid"),
             ("未回款", "outstanding", "outstanding"))
    return " · ".join(f"{zh} {en} <b>{_e(yuan_text(totals[key]))}</b> 元"
                      for zh, en, key in shown)


def refusals_html(runs: Runs, images: Mapping[str, bytes]) -> str:
    """The refusal analysis page over every month (plots embedded as data URIs)."""
    runs = month_runs(runs)
    found = analysis(runs)
    rows = by_month(runs)
    span = _span(runs)
    deductions = deductions_of(runs)
    english = {str(d.get("reason") or "").split("：")[0]: str(d.get("reason_en") or "")
               for d in deductions}
    parts = [
        f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>拒付分析 / "
        f"refusal analysis {_e(span)}</title><style>{CSS}</style></head><body>",
        f"<h1>拒付分析 / Refusal analysis — {_e(span)}</h1>",
        f"<p class=\"figures\" id=\"figures\">{_figures(totals_of(runs))}</p>",
    ]
    if len(runs) == 1:
        data = rows[0]
        parts.append(f"<p>申报 declared {_e(data['declared_on'])} · 审核 reviewed "
                     f"{_e(data['reviewed_on'])} · 到期 due {_e(data['due_date'])} · 回款 paid "
                     f"{_e(data['paid_date'])}</p>")
    parts += [_reconciliation(month_json(run), len(runs) > 1) for run in runs]
    for name, png in images.items():
        parts.append(f"<img class=\"plot\" alt=\"{_e(PLOT_ALT.get(name, name))}\" "
                     "src=\"data:image/png;base64,"
                     f"{base64.b64encode(png).decode('ascii')}\">")
    parts += _month_section(rows)
    yuan = ("拒付（元）", "deducted", MONEY)
    parts.append(_refusal_table("按类别 / By category", (("类别", "category", ""), yuan), (
        (_category(k), v) for k, v in found["by_category"].items()), 1))
    periods = [run.plan.period for run in runs] if len(runs) > 1 else []
    months = department_by_month(runs)
    parts.append(_refusal_table("按科室 / By department", (
        ("科室", "department", SHORT), *((f"{p}（元）", "deducted", MONEY) for p in periods),
        ("拒付（元）", "deducted, all months" if periods else "deducted", MONEY),
        ("主要原因", "top reason", "")), (
        (k, *(months.get(k, {}).get(p, "0.00") for p in periods), v,
         _bilingual(top, english.get(top, ""))) for k, v in found["by_department"].items()
        for top in [found["top_reason_by_department"].get(k, "")]), 1 + len(periods)))
    parts.append(_refusal_table("主要原因 / Top reasons", (("原因", "reason", ""), yuan), (
        (_bilingual(*k.partition(" / ")[::2]), v) for k, v in found["by_reason"].items()), 1))
    parts.append(_refusal_table("按医生 / By doctor", (("医生", "doctor", SHORT), yuan),
                                found["by_doctor"].items(), 1))
    parts.append(_refusal_table("按结算月份 / By month of settlement", (("月份", "month", SHORT), yuan),
                                sorted(found["by_month"].items()), 1))
    parts.append(_table("拒付明细 / Every deduction", (
        ("月份", "month", SHORT), ("结算号", "settlement ID", SHORT),
        ("就诊ID", "visit (mdtrt_id)", SHORT), ("费用明细号", "fee row (feedetl_sn)", SHORT),
        ("人员编号", "patient (psn_no)", SHORT), ("科室", "dept", SHORT),
        ("医生", "doctor", SHORT), ("类别", "category", ""), ("规则", "rule", SHORT),
        ("原因", "reason", TEXT), ("金额（元）", "amount", MONEY)), (
        (d["period"], d.get("setl_id"), d.get("mdtrt_id") or "-", d.get("feedetl_sn") or "-",
         mask_text("psn_no", str(d.get("psn_no") or "")) or "-", d.get("dept_name"),
         d.get("dr_name"), _category(str(d.get("category") or "")), d.get("rule_id") or "-",
         _bilingual(str(d.get("reason") or ""), str(d.get("reason_en") or "")), d.get("amount"))
        for d in deductions)))
    parts.append("<p class=\"note\">规则 rule: the review rule that found the deduction "
                 "(docs/review.md); - = 抽查或申报核对 found by the review's sample or the "
                 "declaration check. 费用明细号 fee row: - = 整笔结算 the settlement as a whole. "
                 "人员编号 patient: masked (脱敏), as on the certification report.</p>")
    unmatched = [(run.plan.period, u) for run in runs
                 for u in run.collected.get("unmatched") or []]
    parts.append(_table("回款未匹配 / Payment items without a settlement in the HIS", (
        ("月份", "month", SHORT), ("支付单号", "payment ID", SHORT),
        ("结算号", "settlement ID", SHORT), ("已付（元）", "paid", MONEY), ("原因", "reason", "")), (
        (period, u.get("pay_id"), u.get("setl_id"), u.get("paid"), u.get("reason"))
        for period, u in unmatched)))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_month_report(runs: Runs, directory: Path) -> list[Path]:
    """month.json (the first month), months.json, receivables.csv, refusals.html and the PNGs
    (:data:`MONTH_FILES`) into ``directory`` — all of them or none (:func:`write_all`)."""
    runs = month_runs(runs)
    images = plots(runs)

    def dump(data: Any) -> str:
        return json.dumps(data, ensure_ascii=False, indent=1, default=str)

    return write_all(directory, {
        "month.json": dump(month_json(runs[0])), "months.json": dump(months_json(runs)),
        "receivables.csv": receivables_csv(runs), "refusals.html": refusals_html(runs, images),
        **images})


def write_all(directory: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write ``files`` ({name: content}) into ``directory`` together: each is first written
    whole to a temporary file in ``directory`` (:func:`~simulator.output.atomic_write`), and
    only when every one was written are they renamed into place, each old file set aside
    until all are in. If one cannot be written or replaced (a directory or a device in its
    place; on Windows a file held open, e.g. receivables.csv in Excel), the files already
    replaced are put back and :class:`OutputError` names the file that failed and the files
    left as they were (should putting one back fail too: which are new, and where their old
    ones are)."""
    directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    staged: dict[str, Path] = {}
    moved: list[tuple[Path, Path | None]] = []  # (target, its old file set aside, or None)
    current = ""
    try:
        for current in files:
            check_target(directory / current)  # a directory or a device there: refused first
        for current, content in files.items():
            staged[current] = atomic_write(directory / f".{current}.{token}.new", content)
        for current in files:
            target = check_target(directory / current)
            old = None
            if target.exists() or target.is_symlink():
                old = directory / f".{current}.{token}.old"
                os.replace(target, old)
            moved.append((target, old))
            os.replace(staged[current], target)
            del staged[current]
    except BaseException as exc:
        for path in staged.values():
            path.unlink(missing_ok=True)
        stuck = _put_back(moved)
        if not isinstance(exc, (OSError, OutputError)):
            raise
        said = (str(exc).replace(f".{current}.{token}.new", current)
                if isinstance(exc, OutputError)
                else f"cannot write {directory / current}: {exc.strerror or exc}")
        failed = (NotRegularFileError(exc.path) if isinstance(exc, NotRegularFileError)
                  else OutputError())  # a device or a pipe in the way stays bad input
        failed.args = (f"{said}; {_left(list(files), stuck)}",)
        raise failed from exc
    for _target, old in moved:
        if old is not None:
            old.unlink(missing_ok=True)
    return [directory / name for name in files]


def _put_back(moved: list[tuple[Path, Path | None]]) -> list[tuple[Path, Path | None]]:
    """Undo :func:`write_all`'s renames, newest first: each old file back in its place, a file
    that was not there before removed. Returns those that could not be put back."""
    stuck = []
    for target, old in reversed(moved):
        try:
            if old is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(old, target)
        except OSError:
            stuck.append((target, old))
    return stuck


def _left(names: list[str], stuck: list[tuple[Path, Path | None]]) -> str:
    """What a failed :func:`write_all` says about the files: those left as they were, and
    any new one that could not be taken back."""
    new = {target.name for target, _old in stuck}
    kept = [name for name in names if name not in new]
    said = "left as they were: " + ", ".join(kept) if kept else ""
    if stuck:
        said += ("; " if said else "") + "REPLACED, could not be put back: " + ", ".join(
            f"{target.name} (the old one is {old.name})" if old else f"{target.name} (new)"
            for target, old in stuck)
    return said


def summary_lines(runs: Runs) -> list[str]:
    """The one-screen summary: one line per month (days, visits, dates, claimed, deducted and
    its ratio, paid, outstanding), then over every month: the totals, deducted by category, and
    per department the deducted yuan and its top refusal reason."""
    runs = month_runs(runs)
    found = analysis(runs)
    lines = []

    def yuan(value: Any) -> str:
        return "-" if value in (None, "") else f"{yuan_text(value)} 元"

    for run, row in zip(runs, by_month(runs), strict=True):
        ratio = percent_text(row["deducted_ratio"])
        lines.append(f"{row['period']}: {row['days']} days, {row['visits']} visits; declared "
                     f"{row['declared_on'] or '-'}, reviewed {row['reviewed_on'] or '-'}, paid "
                     f"{row['paid_date'] or '-'}; 申报 claimed {yuan(row['claimed'])} · 拒付 deducted "
                     f"{yuan(row['deducted'])} ({ratio}) · 回款 paid {yuan(row['paid'])} · 未回款 "
                     f"outstanding {yuan(row['outstanding'])}")
        holidays = run.calendar.get("holidays") or []
        if holidays:
            lines.append("  本月节假日（不开窗）/ holidays this month (windows closed): " + ", ".join(
                f"{h['date'][5:]} {h['name']}" for h in holidays))
        if run.calendar and not run.calendar.get("announced"):
            lines.append(f"  {row['period'][:4]}: 无节假日安排数据 / no announced holidays on file: "
                         "weekends and fixed-date holidays only (--holidays FILE)")
        if not run.declaration:
            refusal = (run.declared.get("refusal") or {}).get("message", "")
            lines.append(f"  未申报 / NOT declared: {refusal}")
    totals = totals_of(runs)
    lines.append(f"{_span(runs)} 合计 total: " + " · ".join(
        f"{zh} {en} {yuan(totals[en])}" for zh, en in (
            ("申报", "claimed"), ("拒付", "deducted"), ("回款", "paid"), ("未回款", "outstanding"))))
    for category, amount in found["by_category"].items():
        lines.append(f"  {category_text(category)}: {yuan(amount)} "
                     f"({share_text(amount, totals['deducted'])})")
    lines.append("科室 / by department (deducted, top reason):")
    for dept, amount in found["by_department"].items():
        lines.append(f"  {dept}: {yuan(amount)} — {found['top_reason_by_department'].get(dept, '')}")
    unmatched = sum(len(run.collected.get("unmatched") or []) for run in runs)
    if unmatched:
        lines.append(f"回款未匹配 / payment items without a settlement: {unmatched}")
    return lines
