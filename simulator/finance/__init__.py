"""A year of a hospital's cash flow under post-payment and under advance payment.

The hospital advances the insurer's share at its windows every day and is repaid month by
month after declaration and review, less what the review refuses (拒付); under advance payment
(预付金) the insurer also pays part of a base amount ahead and recoups it later. The model is
plain Python over the dates of one calendar year, seeded, with money in Decimal yuan. See
docs/finance.md and ``cardsettle finance cashflow``.

Modules: :mod:`.params` (inputs, defaults.yaml), :mod:`.claims` (what is advanced each day),
:mod:`.model` (the day-by-day run), :mod:`.summary` (DSO, exposure, cost of financing, data),
:mod:`.month_input` (``--from-month``), :mod:`.plots` and :mod:`.report` (the report files).
"""

from __future__ import annotations

from simulator.finance.model import REGIMES, DayRow, MonthSettlement, YearRun, run_year
from simulator.finance.month_input import apply_month, month_overrides, read_month
from simulator.finance.params import (
    CATEGORIES,
    AdvanceTerms,
    CashflowParams,
    ParamsError,
    load_params,
    read_params_data,
)
from simulator.finance.report import report_files
from simulator.finance.summary import summarize

__all__ = [
    "CATEGORIES",
    "REGIMES",
    "AdvanceTerms",
    "CashflowParams",
    "DayRow",
    "MonthSettlement",
    "ParamsError",
    "YearRun",
    "apply_month",
    "load_params",
    "month_overrides",
    "read_month",
    "read_params_data",
    "report_files",
    "run_year",
    "summarize",
]
