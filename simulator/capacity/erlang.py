"""Erlang C: the M/M/c queue in closed form.

Poisson arrivals at rate ``lam`` (patients per minute), exponential service at rate ``mu`` per
window (1 / mean service minutes), ``c`` windows, one first-come-first-served queue, nobody
leaving. With offered load ``a = lam / mu`` (in Erlangs) and utilization ``rho = a / c < 1``
(Erlang 1917; e.g. Kleinrock, *Queueing Systems* vol. 1, section 3.5; Gross & Harris,
*Fundamentals of Queueing Theory*, section 2.3):

- Erlang B by the stable recursion ``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))``;
- Erlang C, the probability of waiting: ``C = c B / (c - a (1 - B))``;
- mean wait in queue ``Wq = C / (c mu - lam)``; mean queue length ``Lq = lam Wq``;
- ``P(W <= t) = 1 - C exp(-(c mu - lam) t)``.

Times are minutes. These are steady-state figures: they hold over a long horizon, not for one
busy hour that starts with an empty hall.
"""

from __future__ import annotations

import math
from typing import Any

from simulator.errors import InvalidArgumentError
from simulator.windows.scenario import Scenario

__all__ = [
    "erlang_b",
    "erlang_c",
    "erlang_c_block",
    "mmc_prediction",
    "mmc_wait",
    "mmc_wait_cdf",
    "mmc_wait_quantile",
    "scenario_prediction",
    "windows_for_target",
]


def _check(lam: float, mu: float, c: int) -> None:
    if lam < 0 or mu <= 0 or c < 1:
        raise InvalidArgumentError(f"need arrival rate >= 0, service rate > 0 and c >= 1 (got {lam}, {mu}, {c})")


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of ``c`` servers with offered load ``a`` Erlangs."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits, ``c`` servers, offered load ``a`` (1.0 if a >= c)."""
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue (minutes); infinity when the queue is unstable (lam >= c mu)."""
    _check(lam, mu, c)
    if lam >= c * mu:
        return math.inf
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_wait_cdf(t: float, lam: float, mu: float, c: int) -> float:
    """P(wait <= t minutes)."""
    _check(lam, mu, c)
    if lam >= c * mu:
        return 0.0
    if t < 0:
        return 0.0
    return 1.0 - erlang_c(c, lam / mu) * math.exp(-(c * mu - lam) * t)


def mmc_wait_quantile(q: float, lam: float, mu: float, c: int) -> float:
    """The ``q`` quantile of the wait (minutes): 0 while ``q <= 1 - C``."""
    _check(lam, mu, c)
    if lam >= c * mu:
        return math.inf
    waits = erlang_c(c, lam / mu)
    if q <= 1.0 - waits:
        return 0.0
    return math.log(waits / (1.0 - q)) / (c * mu - lam)


def windows_for_target(lam: float, mu: float, wait_minutes: float, share: float, limit: int = 10_000) -> int:
    """The fewest windows with P(wait <= wait_minutes) >= share in steady state (0 if lam = 0)."""
    _check(lam, mu, 1)
    if lam == 0:
        return 0
    c = max(1, math.floor(lam / mu) + 1)
    while c <= limit:
        if mmc_wait_cdf(wait_minutes, lam, mu, c) >= share:
            return c
        c += 1
    raise InvalidArgumentError(f"no number of windows up to {limit} meets the target")


def mmc_prediction(lam: float, mu: float, c: int, wait_minutes: float, quantiles: tuple[float, ...]) -> dict[str, Any]:
    """Erlang C's figures for one M/M/c queue, as JSON-ready data (minutes)."""
    rho = lam / (c * mu)
    stable = rho < 1
    probability = erlang_c(c, lam / mu)
    wait = mmc_wait(lam, mu, c)
    return {
        "arrival_rate_per_minute": lam,
        "service_rate_per_minute": mu,
        "windows": c,
        "utilization": rho,
        "stable": stable,
        "probability_of_waiting": probability,
        "wait_mean": wait if stable else None,
        "queue_mean": lam * wait if stable else None,
        **{f"wait_p{round(q * 100)}": mmc_wait_quantile(q, lam, mu, c) if stable else None for q in quantiles},
        "within_target": mmc_wait_cdf(wait_minutes, lam, mu, c),
    }


def scenario_prediction(scenario: Scenario, quantiles: tuple[float, ...] = (0.5, 0.75, 0.9, 0.95, 0.99)) -> dict[str, Any] | None:
    """Erlang C beside a simulated M/M/c scenario (``None`` if the scenario is not M/M/c)."""
    if not scenario.is_mmc:
        return None
    lam = scenario.arrivals.per_hour[0] / 60.0
    mu = 1.0 / (scenario.mean_service(scenario.staffing.skill_trained))
    c = scenario.staffing.windows[0]
    return mmc_prediction(lam, mu, c, scenario.target.wait_minutes, quantiles)


def erlang_c_block(scenario: Scenario, report: dict[str, Any]) -> dict[str, Any] | None:
    """Erlang C's prediction for an M/M/c scenario, with the simulated report's relative
    difference from it (simulated / predicted - 1) for the mean wait, the probability of
    within target and utilization; ``None`` when the scenario is not M/M/c."""
    prediction = scenario_prediction(scenario)
    if prediction is None:
        return None
    simulated = report["wait_minutes"]["mean"]
    predicted = prediction["wait_mean"]
    differences: dict[str, float | None] = {
        "wait_mean": simulated / predicted - 1 if simulated is not None and predicted else None,
        "utilization": (
            report["utilization"] / prediction["utilization"] - 1 if report["utilization"] is not None else None
        ),
        "within_target": (
            report["within_target"]["share"] / prediction["within_target"] - 1
            if report["within_target"]["share"] is not None and prediction["within_target"] > 0
            else None
        ),
    }
    return {**prediction, "relative_difference": differences}
