"""Distributions read from scenario data: parameters, units, means, and the errors a user sees."""

from __future__ import annotations

import math
import random

import pytest

from simulator.windows.distributions import (
    Exponential,
    Fixed,
    LogNormal,
    Quantiles,
    parse_distribution,
)
from simulator.windows.errors import ScenarioError


def _sample_mean(spec: object, unit: str = "s", n: int = 40_000) -> tuple[float, float]:
    dist = parse_distribution(spec, "test", unit)
    rng = random.Random(7)
    draw = dist.sampler(rng)
    return math.fsum(draw() for _ in range(n)) / n, dist.mean


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "exponential", "mean": 30},
        {"dist": "lognormal", "mean": 20, "sd": 10},
        {"dist": "lognormal", "median": 300, "p95": 1500, "unit": "ms"},
        {"dist": "gamma", "mean": 10, "sd": 5},
        {"dist": "uniform", "low": 5, "high": 15},
        {"dist": "triangular", "low": 20, "mode": 40, "high": 90},
        {"dist": "empirical", "values": [10, 20, 60]},
        {"dist": "quantiles", "points": {0: 10, 0.5: 20, 1: 60}},
    ],
)
def test_sample_mean_matches_the_stated_mean(spec: dict[str, object]) -> None:
    sampled, mean = _sample_mean(spec)
    assert sampled == pytest.approx(mean, rel=0.03)


def test_units_convert_to_minutes() -> None:
    assert parse_distribution(90, "t", "s") == Fixed(1.5)
    assert parse_distribution({"dist": "fixed", "value": 2, "unit": "min"}, "t", "s").mean == 2.0
    assert parse_distribution({"dist": "exponential", "mean": 600, "unit": "ms"}, "t", "s").mean == pytest.approx(0.01)
    assert parse_distribution({"dist": "exponential", "mean": 1, "unit": "h"}, "t", "s").mean == 60.0


def test_lognormal_median_and_p90() -> None:
    dist = parse_distribution({"dist": "lognormal", "median": 60, "p90": 150}, "t", "min")
    assert isinstance(dist, LogNormal)
    assert math.exp(dist.mu) == pytest.approx(60)
    rng = random.Random(3)
    draws = sorted(dist.sample(rng) for _ in range(20_000))
    assert draws[int(0.9 * len(draws))] == pytest.approx(150, rel=0.05)


def test_sampler_and_sample_draw_the_same_values() -> None:
    for dist in (Exponential(2.0), parse_distribution({"dist": "lognormal", "mean": 3, "sd": 1}, "t", "min")):
        a = [dist.sample(random.Random(5)) for _ in range(3)]
        b = [dist.sampler(random.Random(5))() for _ in range(3)]
        assert a == b


def test_quantiles_interpolate() -> None:
    dist = parse_distribution({"dist": "quantiles", "points": {0: 0, 1: 60}}, "t", "min")
    assert isinstance(dist, Quantiles)
    assert dist.mean == 30


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dist": "weibull", "mean": 3}, "unknown distribution 'weibull'"),
        ({"dist": "exponential"}, "'mean' is missing"),
        ({"dist": "exponential", "mean": -1}, "must be > 0"),
        ({"dist": "exponential", "mean": 3, "sd": 1}, "unknown key 'sd'"),
        ({"dist": "exponential", "mean": 3, "unit": "days"}, "unknown unit 'days'"),
        ({"dist": "uniform", "low": 5, "high": 1}, "high must be >= low"),
        ({"dist": "lognormal", "median": 5}, "lognormal needs"),
        ({"dist": "quantiles", "points": {0.5: 1, 1: 2}}, "start at 0"),
        ({"dist": "empirical", "values": []}, "non-empty list"),
        ({"dist": "quantiles", "points": {"low": 1, 1: 2}}, "'low' is not a probability"),
        ("fast", "expected a distribution"),
    ],
)
def test_bad_distributions_say_what_and_where(spec: object, message: str) -> None:
    with pytest.raises(ScenarioError, match=r"steps\.x\.time") as caught:
        parse_distribution(spec, "steps.x.time", "s")
    assert message in str(caught.value)
