"""What the hospital advances at its windows each day: the insurer's share of the day's
settlements (fund_pay_sumamt + acct_pay, docs/review.md), in yuan.

A day's amount = ``daily_level`` × weekday factor × month factor × (1 + N(0, noise_sd)),
floored at 0 and rounded to the cent half-up. The noise comes from ``random.Random(seed)``
only, one draw per calendar day in date order, so the same seed gives the same year.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from mock_insurer.money import ZERO, parse_decimal, round_money, round_ratio
from simulator.finance.params import CashflowParams

__all__ = ["daily_claims", "profile_factor", "year_days"]


def year_days(year: int) -> list[date]:
    """Every calendar day of ``year``, 1 January to 31 December inclusive."""
    first = date(year, 1, 1)
    count = (date(year + 1, 1, 1) - first).days
    return [first + timedelta(days=offset) for offset in range(count)]


def profile_factor(params: CashflowParams, day: date) -> Decimal:
    """The weekday × month factor of ``day`` (no noise)."""
    return params.weekday_profile[day.weekday()] * params.monthly_profile[day.month - 1]


def daily_claims(params: CashflowParams, days: Sequence[date], seed: int) -> list[Decimal]:
    """The amount advanced on each of ``days`` (yuan, Decimal, to the cent)."""
    rng = random.Random(seed)
    amounts = []
    for day in days:
        draw = round_ratio(parse_decimal(rng.gauss(0.0, 1.0)))  # a ratio, never money
        noise = max(Decimal(0), 1 + params.noise_sd * draw)
        amounts.append(round_money(params.daily_level * profile_factor(params, day) * noise) + ZERO)
    return amounts
