"""The year at a glance, per regime, and the run as data (JSON, CSV rows).

Definitions (yuan, Decimal, cents half-up; days are calendar days of the simulated year):

- ``advanced``, ``received``, ``lost``: totals over the year (received = settlement payments,
  not the advance); ``outstanding_at_year_end``: what 31 December still waits for.
- ``dso_days`` (days sales outstanding): mean daily outstanding ÷ (advanced ÷ days in the year).
  The year starts with nothing outstanding (the previous year's claims are not modelled), so
  January pulls it down; ``days_to_payment`` does not have that bias: the claim-weighted mean
  of days from the window to the payment, over the claims paid within the year.
- ``peak_exposure`` (and the first day it is reached), ``mean_exposure``: exposure =
  outstanding − advance held, per day.
- ``cost_of_financing``: Σ over days of max(exposure, 0) × cost_of_money ÷ days in the year
  (actual/actual); a day the advance exceeds the receivable costs nothing and earns nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from mock_insurer.money import ZERO, render, round_money
from simulator.finance.model import REGIMES, YearRun
from simulator.finance.params import CATEGORIES

__all__ = ["CSV_COLUMNS", "csv_records", "monthly_losses", "run_data", "summarize"]

TENTH = Decimal("0.1")

#: Columns of cashflow.csv, one row per day (yuan; ``lost_<category>`` = that day's deductions).
CSV_COLUMNS: tuple[str, ...] = (
    "date", "claimed", "advanced", "received", "lost", "outstanding",
    "advance_held_post_payment", "advance_held_advance_payment",
    "exposure_post_payment", "exposure_advance_payment",
    *(f"lost_{category}" for category in CATEGORIES),
)


def _days_to_payment(run: YearRun) -> Decimal | None:
    last = run.days[-1].day
    weighted = ZERO
    weight = ZERO
    paid = {settlement.period: settlement.paid_on for settlement in run.months if settlement.paid_on <= last}
    for row in run.days:
        paid_on = paid.get(f"{row.day.year}-{row.day.month:02d}")
        if paid_on is not None:
            weighted += row.claimed * (paid_on - row.day).days
            weight += row.claimed
    return (weighted / weight).quantize(TENTH) if weight else None


def _regime(run: YearRun, regime: str) -> dict[str, Any]:
    count = len(run.days)
    exposures = [row.exposure[regime] for row in run.days]
    peak = max(exposures)
    peak_day = next(row.day for row in run.days if row.exposure[regime] == peak)
    rate = run.params.cost_of_money
    cost = sum((max(value, ZERO) * rate for value in exposures), ZERO) / count
    advance = run.params.advance.amount if regime == "advance_payment" else ZERO
    recouped = advance if run.recouped_in_year else ZERO
    return {
        "advance_received": render(advance),
        "advance_recouped": render(recouped),
        "advance_held_at_year_end": render(run.days[-1].advance_held[regime]),
        "peak_exposure": render(peak),
        "peak_exposure_date": peak_day.isoformat(),
        "mean_exposure": render(round_money(sum(exposures, ZERO) / count)),
        "exposure_at_year_end": render(exposures[-1]),
        "cost_of_financing": render(round_money(cost)),
    }


def summarize(run: YearRun) -> dict[str, Any]:
    """The summary: the claim flows (the same in both regimes) and each regime's exposure."""
    count = len(run.days)
    last = run.days[-1]
    lost_by_category = {category: ZERO for category in CATEGORIES}
    for row in run.days:
        for category, value in row.lost_today.items():
            lost_by_category[category] += value
    mean_outstanding = sum((row.outstanding for row in run.days), ZERO) / count
    daily_advanced = last.advanced / count
    to_payment = _days_to_payment(run)
    flows = {
        "advanced": render(last.advanced),
        "received": render(last.received),
        "lost": render(last.lost),
        "lost_by_category": {category: render(value) for category, value in lost_by_category.items()},
        "outstanding_at_year_end": render(last.outstanding),
        "mean_outstanding": render(round_money(mean_outstanding)),
        "dso_days": str((mean_outstanding / daily_advanced).quantize(TENTH)) if daily_advanced else None,
        "days_to_payment": str(to_payment) if to_payment is not None else None,
    }
    return {"flows": flows, "regimes": {regime: _regime(run, regime) for regime in REGIMES}}


def monthly_losses(run: YearRun) -> dict[str, dict[str, Decimal]]:
    """Deductions by the claims' month ("YYYY-MM", every month of the year) and category
    (yuan), counting only the months reviewed within the year (so they add up to ``lost``)."""
    last = run.days[-1].day
    return {
        settlement.period: {
            category: settlement.deductions[category] if settlement.reviewed_on <= last else ZERO
            for category in CATEGORIES
        }
        for settlement in run.months
    }


def csv_records(run: YearRun) -> list[dict[str, str]]:
    """One record per day for cashflow.csv (money as text with two decimals)."""
    records = []
    for row in run.days:
        record = {
            "date": row.day.isoformat(), "claimed": render(row.claimed), "advanced": render(row.advanced),
            "received": render(row.received), "lost": render(row.lost), "outstanding": render(row.outstanding),
        }
        for regime in REGIMES:
            record[f"advance_held_{regime}"] = render(row.advance_held[regime])
            record[f"exposure_{regime}"] = render(row.exposure[regime])
        for category in CATEGORIES:
            record[f"lost_{category}"] = render(row.lost_today.get(category, ZERO))
        records.append(record)
    return records


def _date(value: date) -> str:
    return value.isoformat()


def month_vs_model(run: YearRun, sources: dict[str, Any] | None) -> dict[str, Any] | None:
    """A ``--from-month`` run: the month file's claimed total beside the model's for the same
    month of the modelled year (the model claims every calendar day of the month, weekends at
    their weekday factor, with the daily noise; the month run only its listed days)."""
    if not sources or "month_claimed" not in sources:
        return None
    month = int(str(sources["period"])[5:7])
    model = run.months[month - 1]
    claimed = Decimal(str(sources["month_claimed"]))
    days = sum(1 for row in run.days if row.day.month == month)
    difference = None if not claimed else ((model.claimed - claimed) / claimed * 100).quantize(Decimal("0.01"))
    return {
        "period": sources["period"], "model_period": model.period,
        "month_claimed": render(claimed), "month_days": sources.get("month_days"),
        "model_claimed": render(model.claimed), "model_days": days,
        "difference_percent": None if difference is None else str(difference),
    }


def run_data(run: YearRun, sources: dict[str, Any] | None = None) -> dict[str, Any]:
    """cashflow.json: inputs, summary, months, per-day rows (money as strings, dates ISO)."""
    last = run.days[-1].day
    return {
        "model": "cardsettle cash flow",
        "format": 1,
        "year": run.year,
        "seed": run.seed,
        "params": run.params.as_data(),
        "sources": sources or {},
        "advance": {
            "amount": render(run.params.advance.amount),
            "paid_on": _date(run.advance_paid_on),
            "recouped_on": _date(run.advance_recouped_on) if run.advance_recouped_on else None,
            "recouped_with": run.advance_recouped_with,
            "recouped_in_year": run.recouped_in_year,
        },
        "month_vs_model": month_vs_model(run, sources),
        "summary": summarize(run),
        "months": [
            {
                "period": settlement.period, "claimed": render(settlement.claimed),
                "deducted": render(settlement.deducted), "accepted": render(settlement.accepted),
                "deductions_by_category": {category: render(value) for category, value in settlement.deductions.items()},
                "declared_on": _date(settlement.declared_on), "reviewed_on": _date(settlement.reviewed_on),
                "paid_date": _date(settlement.paid_on),
                "reviewed_in_year": settlement.reviewed_on <= last,
                "paid_in_year": settlement.paid_on <= last,
            }
            for settlement in run.months
        ],
        "monthly_losses": {
            month: {category: render(value) for category, value in values.items()}
            for month, values in monthly_losses(run).items()
        },
        "daily": csv_records(run),
    }
