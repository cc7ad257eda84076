"""The month's reports, for the hospital's finance and insurance office (one month or several
consecutive ones: every function that takes ``runs`` takes one :class:`MonthRun` or a sequence,
in order):

- ``month.json`` — the (first) month in figures: the contract the cash-flow model reads
  (simulator/finance/month_input.py: ``period``, ``daily`` [{date, claimed}], ``claimed``,
  ``deducted``, ``accepted``, ``deductions_by_category``, ``declared_on``, ``reviewed_on``,
  ``paid_date``) plus the payment, the receivables' totals, the refusal analysis and the steps;
- ``receivables.csv`` — one row per settlement claimed (the HIS's receivables ledger);
- ``refusals.html`` — refusal analysis (拒付分析) by reason, department, doctor and month: tables
  and PNG plots (embedded), labels in Chinese and English.

Money is yuan, rendered as text with two decimals. Files are written atomically.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from mock_insurer.money import ZERO, parse_decimal, render, round_ratio
from scenarios.month.run import MonthRun
from scenarios.report import atomic_write

__all__ = ["CATEGORY_LABELS", "Runs", "analysis", "by_month", "department_by_month", "month_json",
           "months_json", "plots", "receivables_csv", "refusals_html", "summary_lines",
           "write_month_report"]

Runs = MonthRun | Sequence[MonthRun]
"""One month's run, or several consecutive months' runs in order."""

CATEGORY_LABELS = {
    "insurance_rules": ("违反医保规定", "insurance rules"),
    "medical_admin": ("医疗/药品管理", "medical and drug administration"),
    "pricing": ("价格违规", "pricing"),
    "personal": ("个人原因", "personal"),
    "declaration": ("申报不符", "declaration"),
}
"""The review's deduction categories (the declaration contract), as staff read them."""

CSV_COLUMNS = ("setl_id", "setl_date", "dept_code", "dept_name", "dr_code", "dr_name",
               "psn_no", "mdtrt_id", "insutype", "fund_claimed", "acct_claimed", "claimed",
               "paid", "deducted", "outstanding", "status", "dcla_id", "pay_id", "paid_date")


def _yuan(value: Any) -> Decimal:
    return ZERO if value in (None, "") else parse_decimal(value)


def _sum_by(rows: Iterable[Mapping[str, Any]], key: Any) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for row in rows:
        name = key(row)
        found[name] = found.get(name, ZERO) + _yuan(row.get("amount"))
    return dict(sorted(found.items(), key=lambda item: (-item[1], item[0])))


def _runs(runs: Runs) -> list[MonthRun]:
    return [runs] if isinstance(runs, MonthRun) else list(runs)


def _deductions(runs: Runs) -> list[dict[str, Any]]:
    """Every deduction of every month, each with its declaration's ``period``."""
    return [{**ded, "period": run.plan.period} for run in _runs(runs)
            for ded in run.declaration.get("deductions") or []]


def _dept(ded: Mapping[str, Any]) -> str:
    return f"{ded.get('dept_code') or '-'} {ded.get('dept_name') or ''}".strip()


def analysis(runs: Runs) -> dict[str, Any]:
    """The refusal analysis: deducted yuan by category, department, doctor, reason and month
    of settlement (rendered), and per department its top reason."""
    deductions = _deductions(runs)
    by_dept_reason: dict[str, dict[str, Decimal]] = {}
    for ded in deductions:
        dept = _dept(ded)
        reasons = by_dept_reason.setdefault(dept, {})
        reason = str(ded.get("reason") or "").split("：")[0]
        reasons[reason] = reasons.get(reason, ZERO) + _yuan(ded.get("amount"))
    top = {dept: max(reasons.items(), key=lambda item: (item[1], item[0]))[0]
           for dept, reasons in sorted(by_dept_reason.items())}

    def shown(values: Mapping[str, Decimal]) -> dict[str, str]:
        return {k: render(v) for k, v in values.items()}

    return {
        "by_category": shown(_sum_by(deductions, lambda d: str(d.get("category") or ""))),
        "by_department": shown(_sum_by(deductions, _dept)),
        "by_doctor": shown(_sum_by(deductions, lambda d: f"{d.get('dr_code') or '-'} "
                                                        f"{d.get('dr_name') or ''}".strip())),
        "by_reason": shown(_sum_by(deductions, lambda d: f"{str(d.get('reason') or '').split('：')[0]}"
                                                        f" / {d.get('reason_en') or ''}")),
        "by_month": shown(_sum_by(deductions, lambda d: str(d.get("settled_on") or "")[:7]
                                  or str(d["period"]))),
        "top_reason_by_department": top,
        "count": len(deductions),
    }


def month_json(run: MonthRun) -> dict[str, Any]:
    """The month in figures (see the module docstring)."""
    rows = list(run.receivables.get("receivables") or [])
    daily: dict[str, Decimal] = {day.isoformat(): ZERO for day in run.days}
    for row in rows:
        day = str(row.get("setl_date") or "")
        if day[:7] == run.plan.period:
            daily[day] = daily.get(day, ZERO) + _yuan(row.get("claimed"))
    declaration = run.declaration
    found = analysis(run)
    categories = {k: v for k, v in found["by_category"].items() if k}
    outcomes: dict[str, int] = {}
    for visit in run.visits:
        outcomes[visit.outcome] = outcomes.get(visit.outcome, 0) + 1
    return {
        "period": run.plan.period,
        "daily": [{"date": day, "claimed": render(amount)}
                  for day, amount in sorted(daily.items())],
        "claimed": render(_yuan(declaration.get("claimed"))),
        "deducted": render(_yuan(declaration.get("deducted"))),
        "accepted": render(_yuan(declaration.get("accepted"))),
        "deductions_by_category": categories,
        "declared_on": declaration.get("declared_on"),
        "reviewed_on": declaration.get("reviewed_on"),
        "due_date": declaration.get("due_date"),
        "paid_date": declaration.get("paid_date"),
        "dcla_id": declaration.get("dcla_id"),
        "declared": declaration.get("declared"),
        "uploaded": declaration.get("uploaded"),
        "mismatch": declaration.get("mismatch"),
        "payment": {k: run.payment.get(k) for k in ("pay_id", "amount", "paid_date")}
        if run.payment else None,
        "receivables": run.receivables.get("totals"),
        "unmatched_payment_items": run.collected.get("unmatched"),
        "refusals": found,
        "visits": {"planned": len(run.visits), **dict(sorted(outcomes.items()))},
        "day_ends": [{"date": str(d.date), "balanced": d.balanced} for d in run.day_ends],
        "declaration_check": {"ok": run.declared.get("ok"),
                              "refusal": run.declared.get("refusal"),
                              "groups": run.declared.get("groups")},
        "steps": run.steps,
        "plan": {"days": run.plan.days, "visits_per_day": run.plan.visits_per_day,
                 "seed": run.plan.seed, "repeat_share": run.plan.repeat_share,
                 "frequency_share": run.plan.frequency_share},
    }


def _total(runs: list[MonthRun], key: str) -> Decimal:
    return sum((_yuan(run.declaration.get(key)) for run in runs), ZERO)


def _ratio(deducted: Decimal, claimed: Decimal) -> str | None:
    return str(round_ratio(deducted / claimed)) if claimed else None


def by_month(runs: Runs) -> list[dict[str, Any]]:
    """One row per month declared (its period): claimed, deducted, accepted, the deducted ÷
    claimed ratio (four places; null when nothing was claimed), deducted by category (every
    category of :data:`CATEGORY_LABELS`), paid and outstanding (the HIS's receivables), and
    the declaration's dates."""
    rows = []
    for run in _runs(runs):
        declaration = run.declaration
        claimed, deducted = _yuan(declaration.get("claimed")), _yuan(declaration.get("deducted"))
        categories = dict.fromkeys(CATEGORY_LABELS, ZERO)
        for ded in declaration.get("deductions") or []:
            name = str(ded.get("category") or "")
            categories[name] = categories.get(name, ZERO) + _yuan(ded.get("amount"))
        totals = run.receivables.get("totals") or {}
        rows.append({
            "period": run.plan.period, "days": len(run.days), "visits": len(run.visits),
            "claimed": render(claimed), "deducted": render(deducted),
            "accepted": render(_yuan(declaration.get("accepted"))),
            "deducted_ratio": _ratio(deducted, claimed),
            "by_category": {k: render(v) for k, v in categories.items()},
            "paid": totals.get("paid"), "outstanding": totals.get("outstanding"),
            **{k: declaration.get(k) for k in ("declared_on", "reviewed_on", "due_date",
                                               "paid_date")},
        })
    return rows


def department_by_month(runs: Runs) -> dict[str, dict[str, str]]:
    """Deducted yuan per department and month declared (every month a column, "0.00" where
    nothing was deducted), departments by total deducted, largest first."""
    periods = [run.plan.period for run in _runs(runs)]
    table: dict[str, dict[str, Decimal]] = {}
    for ded in _deductions(runs):
        row = table.setdefault(_dept(ded), dict.fromkeys(periods, ZERO))
        row[ded["period"]] += _yuan(ded.get("amount"))
    ordered = sorted(table.items(), key=lambda item: (-sum(item[1].values(), ZERO), item[0]))
    return {dept: {k: render(v) for k, v in row.items()} for dept, row in ordered}


def _totals(runs: list[MonthRun]) -> dict[str, str]:
    paid = outstanding = ZERO
    for run in runs:
        totals = run.receivables.get("totals") or {}
        paid += _yuan(totals.get("paid"))
        outstanding += _yuan(totals.get("outstanding"))
    claimed, deducted = _total(runs, "claimed"), _total(runs, "deducted")
    return {"claimed": render(claimed), "deducted": render(deducted),
            "accepted": render(_total(runs, "accepted")), "paid": render(paid),
            "outstanding": render(outstanding),
            "deducted_ratio": _ratio(deducted, claimed) or "-"}


def months_json(runs: Runs) -> dict[str, Any]:
    """Every month of the run (see the module docstring: ``months.json``)."""
    runs = _runs(runs)
    steps = [{"period": run.plan.period, **step} for run in runs for step in run.steps]
    return {
        "periods": [run.plan.period for run in runs],
        "totals": _totals(runs),
        "by_month": by_month(runs),
        "department_by_month": department_by_month(runs),
        "refusals": analysis(runs),
        "steps": sorted(steps, key=lambda step: step["at"]),
        "months": [month_json(run) for run in runs],
    }


def receivables_csv(runs: Runs) -> str:
    """One line per receivable, every month (UTF-8 with BOM, so a spreadsheet shows the
    Chinese names)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for run in _runs(runs):
        for row in run.receivables.get("receivables") or []:
            writer.writerow(row)
    return "\ufeff" + out.getvalue()


def _bar_chart(values: Mapping[str, str], title: tuple[str, str],
               axis: tuple[str, str]) -> bytes:
    """Horizontal bars of yuan per label (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from simulator.windows.plots import figure_bytes, label, plot_style

    names = list(values)[:12][::-1]
    amounts = [float(parse_decimal(values[n])) for n in names]  # plotting only
    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(8, 0.45 * max(len(names), 3) + 1.2))
        axes = figure.subplots()
        shown = [n if len(n) <= 40 else n[:39] + "…" for n in names]
        axes.barh(shown or ["-"], amounts or [0.0], color="#c62828")
        axes.set_xlabel(label(axis[1], axis[0]))
        axes.set_title(label(title[1], title[0]))
        figure.tight_layout()
        return figure_bytes(figure, "png")


CATEGORY_COLORS = ("#c62828", "#ef6c00", "#6a1b9a", "#1565c0", "#546e7a")
"""Bar colours of the categories, in the order of :data:`CATEGORY_LABELS`."""


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
        for (name, (zh, en)), color in zip(CATEGORY_LABELS.items(), CATEGORY_COLORS,
                                           strict=True):
            heights = [float(parse_decimal(row["by_category"].get(name, "0")))  # plotting only
                       for row in rows]
            if not any(heights):
                continue
            axes.bar(periods, heights, bottom=bottom, color=color, label=label(en, zh))
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        if not any(bottom):
            axes.bar(periods, bottom, color=CATEGORY_COLORS[0])
        axes.set_xlabel(label("month declared", "申报月份"))
        axes.set_ylabel(label("deducted (yuan)", "拒付金额（元）"))
        axes.set_title(label("Deducted by month and category", "按月份和类别拒付"))
        if any(bottom):
            axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15),
                        ncol=2, frameon=False)
        figure.tight_layout()
        return figure_bytes(figure, "png")


def plots(runs: Runs) -> dict[str, bytes]:
    """The five plots of the refusal analysis (over every month), by file name."""
    found = analysis(runs)
    categories = {f"{CATEGORY_LABELS.get(k, (k, k))[0]} {CATEGORY_LABELS.get(k, (k, k))[1]}": v
                  for k, v in found["by_category"].items()}
    yuan = ("拒付金额（元）", "deducted (yuan)")
    return {
        "refusals-by-category.png": _bar_chart(categories, ("按类别拒付", "Deducted by category"),
                                               yuan),
        "refusals-by-department.png": _bar_chart(found["by_department"],
                                                 ("按科室拒付", "Deducted by department"), yuan),
        "refusals-top-reasons.png": _bar_chart(found["by_reason"],
                                               ("主要拒付原因", "Top reasons"), yuan),
        "refusals-by-doctor.png": _bar_chart(found["by_doctor"],
                                             ("按医生拒付", "Deducted by doctor"), yuan),
        "refusals-by-month.png": _month_chart(by_month(runs)),
    }


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(title: str, head: tuple[str, ...], rows: Iterable[tuple[Any, ...]],
           anchor: str = "") -> str:
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    heading = f"<h3 id=\"{_e(anchor)}\">" if anchor else "<h3>"
    if not body:
        return f"{heading}{_e(title)}</h3><p class=\"none\">无 / none</p>"
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"{heading}{_e(title)}</h3><table><tr>{header}</tr>{body}</table>"


def _category(name: str) -> str:
    zh, en = CATEGORY_LABELS.get(name, (name, name))
    return f"{zh} / {en}"


def _span(runs: list[MonthRun]) -> str:
    first, last = runs[0].plan.period, runs[-1].plan.period
    return first if first == last else f"{first} – {last}"


def _month_section(rows: list[dict[str, Any]]) -> list[str]:
    """按月 / by month: month × category, the ratio, the dates."""
    head = ("月份 month", *(_category(name) for name in CATEGORY_LABELS),
            "拒付 deducted (元)", "申报 claimed (元)", "拒付率 deducted/claimed", "申报日 declared",
            "审核日 reviewed", "回款日 paid", "未回款 outstanding")
    return [_table("按月 / By month", head, (
        (row["period"], *(row["by_category"][name] for name in CATEGORY_LABELS),
         row["deducted"], row["claimed"],
         "-" if row["deducted_ratio"] is None else f"{Decimal(row['deducted_ratio']):.2%}",
         row["declared_on"] or "-", row["reviewed_on"] or "-", row["paid_date"] or "-",
         row["outstanding"] or "-") for row in rows), anchor="by-month"),
        "<p>拒付率 = 该月拒付 ÷ 该月申报 / the ratio is the month's deducted yuan over its claimed "
        "yuan; a month not yet reviewed shows no deduction.</p>"]


def refusals_html(runs: Runs, images: Mapping[str, bytes]) -> str:
    """The refusal analysis page over every month (plots embedded as data URIs)."""
    runs = _runs(runs)
    found = analysis(runs)
    rows = by_month(runs)
    totals = _totals(runs)
    span = _span(runs)
    css = ("body{font-family:system-ui,'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;"
           "margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;width:100%;"
           "margin-bottom:1em}td,th{border-bottom:1px solid #eee;padding:.35em;text-align:left}"
           ".figures b{font-size:1.2em}img{max-width:100%}")
    parts = [
        f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>拒付分析 / "
        f"refusal analysis {_e(span)}</title><style>{css}</style></head><body>",
        f"<h1>拒付分析 / Refusal analysis — {_e(span)}</h1>",
        f"<p class=\"figures\" id=\"figures\">申报 claimed <b>{_e(totals['claimed'])}</b> 元 · "
        f"拒付 deducted <b>{_e(totals['deducted'])}</b> · 核准 accepted <b>"
        f"{_e(totals['accepted'])}</b> · 已回款 paid <b>{_e(totals['paid'])}</b> · 未回款 "
        f"outstanding <b>{_e(totals['outstanding'])}</b></p>",
    ]
    if len(runs) == 1:
        data = rows[0]
        parts.append(f"<p>申报 declared {_e(data['declared_on'])} · 审核 reviewed "
                     f"{_e(data['reviewed_on'])} · 到期 due {_e(data['due_date'])} · 回款 paid "
                     f"{_e(data['paid_date'])}</p>")
    for name, png in images.items():
        parts.append(f"<img class=\"plot\" alt=\"{_e(name)}\" src=\"data:image/png;base64,"
                     f"{base64.b64encode(png).decode('ascii')}\">")
    parts += _month_section(rows)
    parts.append(_table("按类别 / By category", ("类别 category", "拒付 deducted (元)"), (
        (_category(k), v) for k, v in found["by_category"].items())))
    periods = [run.plan.period for run in runs]
    months = department_by_month(runs)
    parts.append(_table("按科室 / By department", (
        "科室 department", *(f"{p} (元)" for p in periods if len(periods) > 1),
        "拒付 deducted (元)", "主要原因 top reason"), (
        (k, *(months.get(k, {}).get(p, "0.00") for p in periods if len(periods) > 1), v,
         found["top_reason_by_department"].get(k, "")) for k, v in
        found["by_department"].items())))
    parts.append(_table("主要原因 / Top reasons", ("原因 reason", "拒付 deducted (元)"),
                        found["by_reason"].items()))
    parts.append(_table("按医生 / By doctor", ("医生 doctor", "拒付 deducted (元)"),
                        found["by_doctor"].items()))
    parts.append(_table("按结算月份 / By month of settlement", ("月份 month",
                                                              "拒付 deducted (元)"),
                        found["by_month"].items()))
    parts.append(_table("拒付明细 / Every deduction", (
        "月份 month", "setl_id", "科室 dept", "医生 doctor", "类别 category", "规则 rule",
        "原因 reason", "金额 yuan"), (
        (d["period"], d.get("setl_id"), d.get("dept_name"), d.get("dr_name"), d.get("category"),
         d.get("rule_id") or "", f"{d.get('reason')} / {d.get('reason_en')}", d.get("amount"))
        for d in _deductions(runs))))
    unmatched = [(run.plan.period, u) for run in runs
                 for u in run.collected.get("unmatched") or []]
    parts.append(_table("回款未匹配 / Payment items without a settlement in the HIS",
                        ("月份 month", "pay_id", "setl_id", "paid", "reason"), (
                            (period, u.get("pay_id"), u.get("setl_id"), u.get("paid"),
                             u.get("reason")) for period, u in unmatched)))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_month_report(runs: Runs, directory: Path) -> list[Path]:
    """month.json (the first month), months.json, receivables.csv, refusals.html and the PNGs
    into ``directory``."""
    runs = _runs(runs)
    directory.mkdir(parents=True, exist_ok=True)
    images = plots(runs)
    written = []

    def dump(data: Any) -> str:
        return json.dumps(data, ensure_ascii=False, indent=1, default=str)

    for name, text in (("month.json", dump(month_json(runs[0]))),
                       ("months.json", dump(months_json(runs))),
                       ("receivables.csv", receivables_csv(runs)),
                       ("refusals.html", refusals_html(runs, images))):
        atomic_write(directory / name, text)
        written.append(directory / name)
    for name, png in images.items():
        temp = directory / f".{name}.tmp"
        temp.write_bytes(png)
        temp.replace(directory / name)
        written.append(directory / name)
    return written


def summary_lines(runs: Runs) -> list[str]:
    """The one-screen summary: one line per month (days, visits, dates, claimed, deducted and
    its ratio, paid, outstanding), then over every month: the totals, deducted by category, and
    per department the deducted yuan and its top refusal reason."""
    runs = _runs(runs)
    found = analysis(runs)
    lines = []
    for run, row in zip(runs, by_month(runs), strict=True):
        ratio = "-" if row["deducted_ratio"] is None else f"{Decimal(row['deducted_ratio']):.2%}"
        lines.append(f"{row['period']}: {row['days']} days, {row['visits']} visits; declared "
                     f"{row['declared_on'] or '-'}, reviewed {row['reviewed_on'] or '-'}, paid "
                     f"{row['paid_date'] or '-'}; 申报 claimed {row['claimed']} · 拒付 deducted "
                     f"{row['deducted']} ({ratio}) · 回款 paid {row['paid'] or '-'} · 未回款 "
                     f"outstanding {row['outstanding'] or '-'}")
        if not run.declaration:
            refusal = (run.declared.get("refusal") or {}).get("message", "")
            lines.append(f"  未申报 / NOT declared: {refusal}")
    totals = _totals(runs)
    lines.append(f"{_span(runs)} 合计 total: 申报 claimed {totals['claimed']} 元 · 拒付 deducted "
                 f"{totals['deducted']} · 回款 paid {totals['paid']} · 未回款 outstanding "
                 f"{totals['outstanding']}")
    for category, amount in found["by_category"].items():
        zh, en = CATEGORY_LABELS.get(category, (category, category))
        lines.append(f"  {zh} {en}: {amount}")
    lines.append("科室 / by department (deducted, top reason):")
    for dept, amount in found["by_department"].items():
        lines.append(f"  {dept}: {amount} — {found['top_reason_by_department'].get(dept, '')}")
    unmatched = sum(len(run.collected.get("unmatched") or []) for run in runs)
    if unmatched:
        lines.append(f"回款未匹配 / payment items without a settlement: {unmatched}")
    return lines
