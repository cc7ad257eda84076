"""Shared helpers for the cash-flow model's tests."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.finance.model import YearRun, run_year
from simulator.finance.params import CashflowParams, load_params


@pytest.fixture(scope="session")
def defaults() -> CashflowParams:
    return load_params()


@pytest.fixture(scope="session")
def default_run(defaults: CashflowParams) -> YearRun:
    """The shipped defaults, 2026, seed 1."""
    return run_year(defaults, 2026, 1)


def month_file_data(**changes: Any) -> dict[str, Any]:
    """A month run's output as the month runner writes it (2026-03, 31 days of 100,000 yuan)."""
    data: dict[str, Any] = {
        "period": "2026-03",
        "daily": [{"date": f"2026-03-{day:02d}", "claimed": "100000.00"} for day in range(1, 32)],
        "claimed": "3100000.00",
        "deducted": "31000.00",
        "deductions_by_category": {"insurance_rules": "21000.00", "pricing": "10000.00"},
        "declared_on": "2026-04-15",
        "reviewed_on": "2026-05-05",
        "paid_date": "2026-05-20",
    }
    data.update(changes)
    return data
