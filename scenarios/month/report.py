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
        dept = f"{ded.get('dept_code') or '-'} {ded.get('dept_name') or ''}".strip()
        reasons = by_dept_reason.setdefault(dept, {})
        reason = str(ded.get("reason") or "").split("：")[0]
        reasons[reason] = reasons.get(reason, ZERO) + _yuan(ded.get("amount"))
    top = {dept: max(reasons.items(), key=lambda item: (item[1], item[0]))[0]
           for dept, reasons in sorted(by_dept_reason.items())}

    def shown(values: Mapping[str, Decimal]) -> dict[str, str]:
        return {k: render(v) for k, v in values.items()}

    return {
        "by_category": shown(_sum_by(deductions, lambda d: str(d.get("category") or ""))),
        "by_department": shown(_sum_by(deductions, lambda d: f"{d.get('dept_code') or '-'} "
                                                            f"{d.get('dept_name') or ''}".strip())),
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


def receivables_csv(run: MonthRun) -> str:
    """One line per receivable (UTF-8 with BOM, so a spreadsheet shows the Chinese names)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
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


def plots(run: MonthRun) -> dict[str, bytes]:
    """The four plots of the refusal analysis, by file name."""
    found = analysis(run)
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
    }


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(title: str, head: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> str:
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        return f"<h3>{_e(title)}</h3><p class=\"none\">无 / none</p>"
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<h3>{_e(title)}</h3><table><tr>{header}</tr>{body}</table>"


def refusals_html(run: MonthRun, images: Mapping[str, bytes]) -> str:
    """The refusal analysis page (plots embedded as data URIs)."""
    data = month_json(run)
    found = data["refusals"]
    css = ("body{font-family:system-ui,'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;"
           "margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;width:100%;"
           "margin-bottom:1em}td,th{border-bottom:1px solid #eee;padding:.35em;text-align:left}"
           ".figures b{font-size:1.2em}img{max-width:100%}")
    totals = data["receivables"] or {}
    parts = [
        f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>拒付分析 / "
        f"refusal analysis {_e(data['period'])}</title><style>{css}</style></head><body>",
        f"<h1>拒付分析 / Refusal analysis — {_e(data['period'])}</h1>",
        f"<p class=\"figures\" id=\"figures\">申报 claimed <b>{_e(data['claimed'])}</b> 元 · "
        f"拒付 deducted <b>{_e(data['deducted'])}</b> · 核准 accepted <b>{_e(data['accepted'])}"
        f"</b> · 已回款 paid <b>{_e(totals.get('paid', '-'))}</b> · 未回款 outstanding "
        f"<b>{_e(totals.get('outstanding', '-'))}</b></p>",
        f"<p>申报 declared {_e(data['declared_on'])} · 审核 reviewed {_e(data['reviewed_on'])} · "
        f"到期 due {_e(data['due_date'])} · 回款 paid {_e(data['paid_date'])}</p>",
    ]
    for name, png in images.items():
        parts.append(f"<img class=\"plot\" alt=\"{_e(name)}\" src=\"data:image/png;base64,"
                     f"{base64.b64encode(png).decode('ascii')}\">")
    parts.append(_table("按类别 / By category", ("类别 category", "拒付 deducted (元)"), (
        (f"{CATEGORY_LABELS.get(k, (k, k))[0]} / {CATEGORY_LABELS.get(k, (k, k))[1]}", v)
        for k, v in found["by_category"].items())))
    parts.append(_table("按科室 / By department", ("科室 department", "拒付 deducted (元)",
                                                   "主要原因 top reason"), (
        (k, v, found["top_reason_by_department"].get(k, "")) for k, v in
        found["by_department"].items())))
    parts.append(_table("主要原因 / Top reasons", ("原因 reason", "拒付 deducted (元)"),
                        found["by_reason"].items()))
    parts.append(_table("按医生 / By doctor", ("医生 doctor", "拒付 deducted (元)"),
                        found["by_doctor"].items()))
    parts.append(_table("按月份 / By month", ("月份 month", "拒付 deducted (元)"),
                        found["by_month"].items()))
    parts.append(_table("拒付明细 / Every deduction", (
        "setl_id", "科室 dept", "医生 doctor", "类别 category", "规则 rule", "原因 reason",
        "金额 yuan"), (
        (d.get("setl_id"), d.get("dept_name"), d.get("dr_name"), d.get("category"),
         d.get("rule_id") or "", f"{d.get('reason')} / {d.get('reason_en')}", d.get("amount"))
        for d in run.declaration.get("deductions") or [])))
    parts.append(_table("回款未匹配 / Payment items without a settlement in the HIS",
                        ("pay_id", "setl_id", "paid", "reason"), (
                            (u.get("pay_id"), u.get("setl_id"), u.get("paid"), u.get("reason"))
                            for u in data["unmatched_payment_items"] or [])))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_month_report(run: MonthRun, directory: Path) -> list[Path]:
    """month.json, receivables.csv, refusals.html and the PNGs into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    images = plots(run)
    written = []
    for name, text in (("month.json", json.dumps(month_json(run), ensure_ascii=False, indent=1,
                                                 default=str)),
                       ("receivables.csv", receivables_csv(run)),
                       ("refusals.html", refusals_html(run, images))):
        atomic_write(directory / name, text)
        written.append(directory / name)
    for name, png in images.items():
        temp = directory / f".{name}.tmp"
        temp.write_bytes(png)
        temp.replace(directory / name)
        written.append(directory / name)
    return written


def summary_lines(run: MonthRun) -> list[str]:
    """The one-screen summary: claimed, deducted by category, paid, outstanding; per department
    the deducted yuan and its top refusal reason."""
    data = month_json(run)
    found = data["refusals"]
    totals = data["receivables"] or {}
    lines = [f"{data['period']}: {len(run.days)} working days, {len(run.visits)} visits; "
             f"declared {data['declared_on'] or '-'}, reviewed {data['reviewed_on'] or '-'}, "
             f"paid {data['paid_date'] or '-'}",
             f"申报 claimed {data['claimed']} 元 · 拒付 deducted {data['deducted']} · "
             f"回款 paid {totals.get('paid', '-')} · 未回款 outstanding "
             f"{totals.get('outstanding', '-')}"]
    if not run.declaration:
        refusal = (run.declared.get("refusal") or {}).get("message", "")
        lines.append(f"未申报 / NOT declared: {refusal}")
    for category, amount in found["by_category"].items():
        zh, en = CATEGORY_LABELS.get(category, (category, category))
        lines.append(f"  {zh} {en}: {amount}")
    lines.append("科室 / by department (deducted, top reason):")
    for dept, amount in found["by_department"].items():
        lines.append(f"  {dept}: {amount} — {found['top_reason_by_department'].get(dept, '')}")
    unmatched = data["unmatched_payment_items"] or []
    if unmatched:
        lines.append(f"回款未匹配 / payment items without a settlement: {len(unmatched)}")
    return lines
