"""The day-by-day cash-flow model of one hospital for one calendar year, both regimes.

Every day (1 January to 31 December inclusive, simulated dates, never the wall clock) the
hospital advances the insurer's share of its window settlements (:mod:`simulator.finance.claims`).
Each month's claims are declared (申报) on ``declaration_day`` of the month
``declaration_months_after`` later, reviewed (审核) ``review_days`` later — the deductions
(拒付) by category, ``round_money(claimed × rate)``, are lost on that day — and the rest is paid
(回款) ``payment_lag_days`` after the review (docs/review.md: paid = claimed −
deducted). Events after 31 December fall outside the year and stay outstanding.

Two regimes share these claim flows exactly (same seed, same days):

- **post-payment** (按月后付): the hospital carries the whole receivable;
- **advance payment** (预付金): the insurer also pays ``base_amount × ratio`` on ``paid_on`` and
  recoups it as the mock insurer does (mock_insurer/review/service.py, docs/review.md): netted
  against the first settlement payment made on or after the recoup date — by default 1 January
  of the next year, so with the defaults the advance is held through 31 December and recouped
  with the payment of November's claims in January. On that day the month's whole accepted
  amount leaves the receivable (``received``) while the cash is that amount less the advance,
  and the advance held drops to 0: the recoup itself does not move the exposure, only the
  cash does.

Per day, end of day, in yuan: advanced (cumulative), received (cumulative settlement payments),
lost (cumulative deductions), outstanding = advanced − received − lost, advance held, and
exposure = outstanding − advance held. The invariant received + lost + outstanding = advanced
holds on every day by construction and is tested.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from mock_insurer.money import ZERO, round_money
from simulator.finance.claims import daily_claims, year_days
from simulator.finance.params import CATEGORIES, CashflowParams, ParamsError

__all__ = ["REGIMES", "DayRow", "MonthSettlement", "YearRun", "recoup_payment", "run_year", "settlement_schedule"]

#: The two regimes, in the order reports show them.
REGIMES: tuple[str, ...] = ("post_payment", "advance_payment")


@dataclass(frozen=True)
class MonthSettlement:
    """One month's claims through declaration, review and payment (yuan; simulated dates)."""

    period: str
    claimed: Decimal
    deductions: dict[str, Decimal]
    declared_on: date
    reviewed_on: date
    paid_on: date

    @property
    def deducted(self) -> Decimal:
        return sum(self.deductions.values(), ZERO)

    @property
    def accepted(self) -> Decimal:
        """What the insurer pays: claimed − deducted."""
        return self.claimed - self.deducted


@dataclass(frozen=True)
class DayRow:
    """The end of one day (yuan). ``lost_today`` holds the day's deductions by category
    (empty on most days); ``advance_held`` and exposures are per regime."""

    day: date
    claimed: Decimal
    advanced: Decimal
    received: Decimal
    lost: Decimal
    outstanding: Decimal
    lost_today: dict[str, Decimal]
    advance_held: dict[str, Decimal]
    exposure: dict[str, Decimal]


@dataclass(frozen=True)
class YearRun:
    """A year of both regimes: the days, the months' settlements, the inputs."""

    year: int
    seed: int
    params: CashflowParams
    days: list[DayRow]
    months: list[MonthSettlement]
    advance_paid_on: date
    advance_recouped_on: date | None
    #: The period whose settlement payment the advance is netted against (``None``: no payment
    #: on or after the recoup date is modelled).
    advance_recouped_with: str | None = None

    @property
    def recouped_in_year(self) -> bool:
        """Whether the recoup falls on a day of the modelled year."""
        return self.advance_recouped_on is not None and self.advance_recouped_on <= self.days[-1].day


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _day_of_year(year: int, text: str, field: str) -> date:
    month, day = (int(part) for part in text.split("-"))
    try:
        return date(year, month, day)
    except ValueError:
        raise ParamsError(f"params: {field}: {text} is not a day of {year}") from None


def settlement_schedule(params: CashflowParams, year: int, days: list[date],
                        claims: list[Decimal]) -> list[MonthSettlement]:
    """Each month of ``year``: its claimed total, deductions, and the dates it moves on."""
    months = []
    for month in range(1, 13):
        claimed = sum((amount for day, amount in zip(days, claims, strict=True) if day.month == month), ZERO)
        deductions = {category: round_money(claimed * params.refusal_rates[category]) for category in CATEGORIES}
        excess = sum(deductions.values(), ZERO) - claimed
        if excess > 0:  # rates adding up to 1 can overshoot by a rounded cent
            biggest = max(CATEGORIES, key=lambda category: deductions[category])
            deductions[biggest] -= excess
        declare_year, declare_month = _add_months(year, month, params.declaration_months_after)
        last_day = calendar.monthrange(declare_year, declare_month)[1]
        declared_on = date(declare_year, declare_month, min(params.declaration_day, last_day))
        reviewed_on = declared_on + timedelta(days=params.review_days)
        paid_on = reviewed_on + timedelta(days=params.payment_lag_days)
        months.append(MonthSettlement(f"{year}-{month:02d}", claimed, deductions, declared_on, reviewed_on, paid_on))
    return months


def run_year(params: CashflowParams, year: int, seed: int,
             on_progress: Callable[[int, int], None] | None = None) -> YearRun:
    """Run ``year`` day by day under both regimes; ``on_progress(done, total)`` after each day."""
    days = year_days(year)
    claims = daily_claims(params, days, seed)
    months = settlement_schedule(params, year, days, claims)
    paid_on = _day_of_year(year, params.advance.paid_on, "advance.paid_on")
    recoup_from = (_day_of_year(year, params.advance.recouped_on, "advance.recouped_on")
                   if params.advance.recouped_on is not None else date(year + 1, 1, 1))
    recoup = recoup_payment(months, max(recoup_from, paid_on))
    recouped_on = recoup.paid_on if recoup is not None else None
    reviews: dict[date, list[MonthSettlement]] = {}
    payments: dict[date, list[MonthSettlement]] = {}
    for settlement in months:
        reviews.setdefault(settlement.reviewed_on, []).append(settlement)
        payments.setdefault(settlement.paid_on, []).append(settlement)
    amount = params.advance.amount
    advanced = received = lost = ZERO
    rows = []
    for index, (day, claimed) in enumerate(zip(days, claims, strict=True)):
        advanced += claimed
        lost_today = {category: ZERO for category in CATEGORIES}
        for settlement in reviews.get(day, []):
            for category, deducted in settlement.deductions.items():
                lost_today[category] += deducted
        for settlement in payments.get(day, []):
            received += settlement.accepted
        lost += sum(lost_today.values(), ZERO)
        outstanding = advanced - received - lost
        held_advance = amount if paid_on <= day and (recouped_on is None or day < recouped_on) else ZERO
        held = {"post_payment": ZERO, "advance_payment": held_advance}
        rows.append(DayRow(
            day=day, claimed=claimed, advanced=advanced, received=received, lost=lost, outstanding=outstanding,
            lost_today={category: value for category, value in lost_today.items() if value},
            advance_held=held,
            exposure={regime: outstanding - held[regime] for regime in REGIMES},
        ))
        if on_progress is not None:
            on_progress(index + 1, len(days))
    return YearRun(year, seed, params, rows, months, paid_on, recouped_on,
                   recoup.period if recoup is not None else None)


def recoup_payment(months: list[MonthSettlement], recoup_from: date) -> MonthSettlement | None:
    """The settlement payment the advance is netted against: the first one paid on or after
    ``recoup_from`` (the mock insurer's rule with ``recoup_from`` = 1 January of the next year:
    "together with the first settlement payment made in a later year", docs/review.md)."""
    later = [settlement for settlement in months if settlement.paid_on >= recoup_from]
    return min(later, key=lambda settlement: settlement.paid_on, default=None)
