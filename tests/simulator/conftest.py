"""Shared samples for the generator's tests (generated once per session; deterministic)."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.population import iter_persons

#: Rates high enough that a 20,000-person sample holds thousands of each edge case.
HIGH_RATES: dict[str, float] = {
    "name_outside_gbk": 0.08,
    "name_middle_dot": 0.08,
    "name_long": 0.08,
    "compound_surname": 0.08,
    "certno_lowercase_x": 0.15,
    "fullwidth_digits": 0.12,
    "typed_spaces": 0.12,
    "twin": 0.10,
    "replaced_card": 0.10,
}
HIGH_RATES_COUNT = 20_000


@pytest.fixture(scope="session")
def high_rate_persons() -> list[dict[str, Any]]:
    """20,000 persons (seed 11) with every edge case at a high rate."""
    return list(iter_persons(HIGH_RATES_COUNT, seed=11, edge_rates=HIGH_RATES))


@pytest.fixture(scope="session")
def default_persons() -> list[dict[str, Any]]:
    """30,000 persons at the default rates (seed 5)."""
    return list(iter_persons(30_000, seed=5))
