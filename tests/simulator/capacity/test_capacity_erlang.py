"""Erlang C formulas against values that can be checked by hand or in the literature."""

from __future__ import annotations

import math

import pytest

from simulator.capacity.erlang import (
    erlang_b,
    erlang_c,
    mmc_prediction,
    mmc_wait,
    mmc_wait_cdf,
    mmc_wait_quantile,
    windows_for_target,
)
from simulator.errors import InvalidArgumentError


def test_known_values() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # a classic call-centre example: 10 agents, 8 Erlangs -> P(wait) ~ 0.409
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=5e-4)


def test_mm1_mean_wait() -> None:
    lam, mu = 0.8, 1.0
    assert mmc_wait(lam, mu, 1) == pytest.approx(lam / (mu * (mu - lam)))


def test_cdf_and_quantile_are_inverse() -> None:
    lam, mu, c = 1.5, 1 / 3, 5
    for q in (0.3, 0.5, 0.9, 0.99):
        t = mmc_wait_quantile(q, lam, mu, c)
        if t > 0:
            assert mmc_wait_cdf(t, lam, mu, c) == pytest.approx(q)
    assert mmc_wait_quantile(0.1, lam, mu, c) == 0.0  # most do not wait at all
    assert mmc_wait_cdf(0.0, lam, mu, c) == pytest.approx(1 - erlang_c(c, lam / mu))


def test_unstable_queue() -> None:
    assert mmc_wait(2.0, 1.0, 2) == math.inf
    assert mmc_wait_cdf(10, 3.0, 1.0, 2) == 0.0
    prediction = mmc_prediction(3.0, 1.0, 2, 10, (0.5,))
    assert prediction["stable"] is False and prediction["wait_mean"] is None


def test_windows_for_target_is_the_fewest() -> None:
    lam, mu = 8.0, 1.0
    c = windows_for_target(lam, mu, wait_minutes=0.5, share=0.9)
    assert mmc_wait_cdf(0.5, lam, mu, c) >= 0.9
    assert mmc_wait_cdf(0.5, lam, mu, c - 1) < 0.9
    assert windows_for_target(0.0, mu, 1, 0.9) == 0
    # more arrivals never need fewer windows
    needs = [windows_for_target(rate, mu, 0.5, 0.9) for rate in (1, 2, 4, 8, 16)]
    assert needs == sorted(needs)


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgumentError):
        mmc_wait(-1, 1, 1)
    with pytest.raises(InvalidArgumentError):
        mmc_wait(1, 0, 1)
