"""The month in figures: the data behind ``month.json``, ``months.json`` and ``receivables.csv``
and the refusal analysis (one month or several consecutive ones: every function that takes
``runs`` takes one :class:`MonthRun` or a sequence, in order). Money is Decimal here; the report
(:mod:`scenarios.month.report`) renders it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from mock_insurer.money import ZERO, parse_decimal, render, round_ratio
from scenarios.month.run import MonthRun
from simulator.finance.plots import CATEGORY_LABELS

__all__ = ["CSV_COLUMNS", "Runs", "analysis", "by_month", "claimed_rows", "deductions_of",
           "department_by_month", "month_json", "month_runs", "months_json", "receivable_totals",
           "receivables_csv", "total_of", "totals_of"]

Runs = MonthRun | Sequence[MonthRun]
"""One month's run, or several consecutive months' runs in order."""

CSV_COLUMNS = ("setl_id", "setl_date", "dept_code", "dept_name", "dr_code", "dr_name",
               "psn_no", "visit_id", "mdtrt_id", "insutype", "fund_claimed", "acct_claimed", "claimed",
               "paid", "deducted", "outstanding", "status", "dcla_id", "pay_id", "paid_date")


def _yuan(value: Any) -> Decimal:
    return ZERO if value in (None, "") else parse_decimal(value)


def _sum_by(rows: Iterable[Mapping[str, Any]], key: Any) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for row in rows:
        name = key(row)
        found[name] = found.get(name, ZERO) + _yuan(row.get("amount"))
    return dict(sorted(found.items(), key=lambda item: (-item[1], item[0])))


def month_runs(runs: Runs) -> list[MonthRun]:
    return [runs] if isinstance(runs, MonthRun) else list(runs)


def deductions_of(runs: Runs) -> list[dict[str, Any]]:
    """Every deduction of every month, each with its declaration's ``period``."""
    return [{**ded, "period": run.plan.period} for run in month_runs(runs)
            for ded in run.declaration.get("deductions") or []]


def _dept(ded: Mapping[str, Any]) -> str:
    return f"{ded.get('dept_code') or '-'} {ded.get('dept_name') or ''}".strip()


def analysis(runs: Runs) -> dict[str, Any]:
    """The refusal analysis: deducted yuan by category, department, doctor, reason and month
    of settlement (rendered), and per department its top reason."""
    deductions = deductions_of(runs)
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


def claimed_rows(run: MonthRun) -> list[dict[str, Any]]:
    """The HIS's receivables of the month with something claimed: a settlement whose insurer
    share is 0.00 (e.g. insutype 390 paid wholly by the patient) is no receivable — it is left
    out of receivables.csv and of the status counts, and only counted as ``nothing_claimed``."""
    return [row for row in run.receivables.get("receivables") or [] if _yuan(row.get("claimed")) != 0]


def receivable_totals(run: MonthRun) -> dict[str, Any] | None:
    """month.json's ``receivables``: the HIS's totals (yuan), with ``count`` and ``by_status``
    (settlements per status) over the rows with something claimed, ``amounts_by_status``
    (per status their claimed, paid, deducted and outstanding yuan), and ``nothing_claimed``
    the settlements left out."""
    totals = run.receivables.get("totals")
    if totals is None:
        return None
    every = run.receivables.get("receivables") or []
    rows = claimed_rows(run)
    statuses = list(totals.get("by_status") or {})
    statuses += sorted({str(row.get("status")) for row in rows} - set(statuses))
    by_status = {status: sum(1 for row in rows if row.get("status") == status)
                 for status in statuses}
    amounts = {status: {key: render(sum((_yuan(row.get(key)) for row in rows
                                         if row.get("status") == status), ZERO))
                        for key in ("claimed", "paid", "deducted", "outstanding")}
               for status in statuses}
    return {**totals, "count": len(rows), "by_status": by_status, "amounts_by_status": amounts,
            "nothing_claimed": len(every) - len(rows)}


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
        "receivables": receivable_totals(run),
        "unmatched_payment_items": run.collected.get("unmatched"),
        "refusals": found,
        "visits": {"planned": len(run.visits), **dict(sorted(outcomes.items()))},
        "day_ends": [{"date": str(d.date), "balanced": d.balanced} for d in run.day_ends],
        "declaration_check": {"ok": run.declared.get("ok"),
                              "refusal": run.declared.get("refusal"),
                              "groups": run.declared.get("groups")},
        "steps": run.steps,
        "calendar": run.calendar,
        "plan": {"days": run.plan.days, "visits_per_day": run.plan.visits_per_day,
                 "seed": run.plan.seed, "repeat_share": run.plan.repeat_share,
                 "frequency_share": run.plan.frequency_share},
    }


def total_of(runs: list[MonthRun], key: str) -> Decimal:
    return sum((_yuan(run.declaration.get(key)) for run in runs), ZERO)


def _ratio(deducted: Decimal, claimed: Decimal) -> str | None:
    return str(round_ratio(deducted / claimed)) if claimed else None


def by_month(runs: Runs) -> list[dict[str, Any]]:
    """One row per month declared (its period): claimed, deducted, accepted, the deducted ÷
    claimed ratio (four places; null when nothing was claimed), deducted by category (every
    category of :data:`CATEGORY_LABELS`), paid and outstanding (the HIS's receivables), and
    the declaration's dates."""
    rows = []
    for run in month_runs(runs):
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
    periods = [run.plan.period for run in month_runs(runs)]
    table: dict[str, dict[str, Decimal]] = {}
    for ded in deductions_of(runs):
        row = table.setdefault(_dept(ded), dict.fromkeys(periods, ZERO))
        row[ded["period"]] += _yuan(ded.get("amount"))
    ordered = sorted(table.items(), key=lambda item: (-sum(item[1].values(), ZERO), item[0]))
    return {dept: {k: render(v) for k, v in row.items()} for dept, row in ordered}


def totals_of(runs: list[MonthRun]) -> dict[str, str]:
    paid = outstanding = ZERO
    for run in runs:
        totals = run.receivables.get("totals") or {}
        paid += _yuan(totals.get("paid"))
        outstanding += _yuan(totals.get("outstanding"))
    claimed, deducted = total_of(runs, "claimed"), total_of(runs, "deducted")
    return {"claimed": render(claimed), "deducted": render(deducted),
            "accepted": render(total_of(runs, "accepted")), "paid": render(paid),
            "outstanding": render(outstanding),
            "deducted_ratio": _ratio(deducted, claimed) or "-"}


def months_json(runs: Runs) -> dict[str, Any]:
    """Every month of the run (see the module docstring: ``months.json``)."""
    runs = month_runs(runs)
    steps = [{"period": run.plan.period, **step} for run in runs for step in run.steps]
    return {
        "periods": [run.plan.period for run in runs],
        "totals": totals_of(runs),
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
    for run in month_runs(runs):
        for row in claimed_rows(run):
            writer.writerow(row)
    return "\ufeff" + out.getvalue()
