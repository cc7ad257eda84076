"""Shared helpers for the window model's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.windows.scenario import Scenario, load_scenario

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def small() -> Scenario:
    """The small seeded scenario of the golden test (faults, balking, reneging, new cashiers)."""
    return load_scenario(DATA / "small.yaml")


def mmc_overrides(rate_per_hour: float, hours: int, windows: int, mean_minutes: float) -> dict[str, object]:
    """Scenario data of an M/M/c run (constant Poisson arrivals, one exponential step)."""
    return {
        "name": "M/M/c",
        "extends": "none",
        "arrivals": {"rate_per_hour": rate_per_hour, "hours": hours},
        "kinds": {"all": {"share": 1, "steps": ["service"]}},
        "steps": {"service": {"time": {"dist": "exponential", "mean": mean_minutes, "unit": "min"}}},
        "staffing": {"windows": windows},
    }
