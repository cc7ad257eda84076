"""Duration distributions for the window model, read from scenario data.

A distribution is written in a scenario as a mapping: ``{dist: lognormal, mean: 20, sd: 10,
unit: s}``. Every duration the model uses is in **simulated minutes**; the ``unit`` key (``ms``,
``s``, ``min``, ``h``) says what the numbers in the mapping are in, and each caller gives the
default unit (seconds for a window step, milliseconds for the insurer's latency). A bare number
is a fixed duration in the default unit.

=============  =====================================  =============================================
``dist``        parameters                             meaning
=============  =====================================  =============================================
fixed          ``value``                              always the same
exponential    ``mean``                               memoryless (M/M/c service)
lognormal      ``mean`` + ``sd``, or ``median`` +      right-skewed, the usual shape of a task time
               ``p90`` (or ``p95``)
gamma          ``mean`` + ``sd``                      right-skewed, lighter tail than lognormal
uniform        ``low`` + ``high``                     flat
triangular     ``low`` + ``mode`` + ``high``          "at least, usually, at most"
empirical      ``values`` (a list)                    resampled uniformly (measured times)
quantiles      ``points`` (probability: value)         piecewise-linear quantile function; must
                                                       give probabilities 0 and 1
=============  =====================================  =============================================

Sampling takes a :class:`random.Random` passed in (never the module-level one).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import NormalDist
from typing import Any

from simulator.windows.errors import ScenarioError

__all__ = [
    "DISTRIBUTIONS",
    "UNITS",
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "LogNormal",
    "Quantiles",
    "Triangular",
    "Uniform",
    "parse_distribution",
]

#: Minutes per unit of a distribution's numbers.
UNITS: dict[str, float] = {"ms": 1 / 60_000, "s": 1 / 60, "min": 1.0, "h": 60.0}


class Distribution:
    """A non-negative duration in simulated minutes. Subclasses hold their parameters in minutes."""

    __slots__ = ()

    #: The mapping this distribution was read from (for echoing the effective scenario).
    spec: Mapping[str, Any]

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        """The mean, in minutes (exact for every kind)."""
        raise NotImplementedError

    def sample(self, rng: random.Random) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        """A function drawing from this distribution with ``rng`` (the model's hot loop uses
        it; the draws are the same as :meth:`sample`'s)."""
        sample = self.sample
        return lambda: sample(rng)

    @property
    def is_exponential(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Fixed(Distribution):
    value: float
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, rng: random.Random) -> float:
        return self.value

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        value = self.value
        return lambda: value


@dataclass(frozen=True, slots=True)
class Exponential(Distribution):
    scale: float
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mean(self) -> float:
        return self.scale

    def sample(self, rng: random.Random) -> float:
        return -math.log(1.0 - rng.random()) * self.scale

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        scale, random_, log = self.scale, rng.random, math.log
        return lambda: -log(1.0 - random_()) * scale

    @property
    def is_exponential(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class LogNormal(Distribution):
    mu: float
    sigma: float
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma * self.sigma / 2)

    def sample(self, rng: random.Random) -> float:
        return math.exp(self.mu + self.sigma * rng.gauss(0.0, 1.0))

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        mu, sigma, gauss, exp = self.mu, self.sigma, rng.gauss, math.exp
        return lambda: exp(mu + sigma * gauss(0.0, 1.0))


@dataclass(frozen=True, slots=True)
class Gamma(Distribution):
    shape: float
    scale: float
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    def sample(self, rng: random.Random) -> float:
        return rng.gammavariate(self.shape, self.scale)


@dataclass(frozen=True, slots=True)
class Uniform(Distribution):
    low: float
    high: float
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: random.Random) -> float:
        return self.low + (self.high - self.low) * rng.random()


@dataclass(frozen=True, slots=True)
class Triangular(Distribution):
    low: float
    mode: float
    high: float
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def sample(self, rng: random.Random) -> float:
        return rng.triangular(self.low, self.high, self.mode)


@dataclass(frozen=True, slots=True)
class Empirical(Distribution):
    values: tuple[float, ...]
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)

    def sample(self, rng: random.Random) -> float:
        return self.values[int(rng.random() * len(self.values))]


@dataclass(frozen=True, slots=True)
class Quantiles(Distribution):
    """Piecewise-linear quantile function through ``(probs[i], values[i])``; probs run 0 to 1."""

    probs: tuple[float, ...]
    values: tuple[float, ...]
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mean(self) -> float:
        total = 0.0
        for i in range(1, len(self.probs)):
            total += (self.probs[i] - self.probs[i - 1]) * (self.values[i] + self.values[i - 1]) / 2
        return total

    def sample(self, rng: random.Random) -> float:
        u = rng.random()
        probs = self.probs
        i = bisect_right(probs, u)
        if i >= len(probs):
            return self.values[-1]
        p0, p1 = probs[i - 1], probs[i]
        v0, v1 = self.values[i - 1], self.values[i]
        return v0 + (v1 - v0) * (u - p0) / (p1 - p0)


#: The ``dist`` names a scenario may use, with the parameters each accepts.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "exponential": ("mean",),
    "lognormal": ("mean", "sd", "median", "p90", "p95"),
    "gamma": ("mean", "sd"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "empirical": ("values",),
    "quantiles": ("points",),
}

_META_KEYS = ("dist", "unit", "source", "note")


def _number(spec: Mapping[str, Any], key: str, where: str, *, positive: bool = False) -> float:
    if key not in spec:
        raise ScenarioError(f"{where}: '{key}' is missing")
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScenarioError(f"{where}.{key}: expected a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ScenarioError(f"{where}.{key}: must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _lognormal(spec: Mapping[str, Any], where: str, scale: float) -> tuple[float, float]:
    if "mean" in spec or "sd" in spec:
        mean = _number(spec, "mean", where, positive=True) * scale
        sd = _number(spec, "sd", where) * scale
        sigma2 = math.log(1 + (sd / mean) ** 2)
        return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
    median = _number(spec, "median", where, positive=True) * scale
    for key, prob in (("p90", 0.90), ("p95", 0.95)):
        if key in spec:
            upper = _number(spec, key, where, positive=True) * scale
            if upper < median:
                raise ScenarioError(f"{where}.{key}: must be >= median ({spec['median']!r})")
            return math.log(median), math.log(upper / median) / NormalDist().inv_cdf(prob)
    raise ScenarioError(f"{where}: lognormal needs mean and sd, or median and p90 (or p95)")


def _sequence(spec: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    values = spec.get(key)
    if not isinstance(values, (list, tuple)) or not values:
        raise ScenarioError(f"{where}.{key}: expected a non-empty list of numbers")
    return values


def parse_distribution(spec: object, where: str, default_unit: str = "s") -> Distribution:
    """Read a distribution from scenario data (a mapping, or a bare number = fixed).

    ``where`` names the place in the scenario for error messages (``steps.card_read.time``);
    ``default_unit`` applies when the mapping has no ``unit``. Raises :class:`ScenarioError`
    for an unknown ``dist``, unknown or missing parameters, and negative values.
    """
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        spec = {"dist": "fixed", "value": spec}
    if not isinstance(spec, Mapping):
        raise ScenarioError(f"{where}: expected a distribution like {{dist: lognormal, mean: 20, sd: 10}}, got {spec!r}")
    kind = spec.get("dist")
    if kind not in DISTRIBUTIONS:
        raise ScenarioError(f"{where}.dist: unknown distribution {kind!r} (use one of: {', '.join(DISTRIBUTIONS)})")
    unknown = sorted(set(spec) - set(DISTRIBUTIONS[kind]) - set(_META_KEYS))
    if unknown:
        raise ScenarioError(f"{where}: unknown key {unknown[0]!r} for dist {kind} (allowed: {', '.join(DISTRIBUTIONS[kind])})")
    unit = spec.get("unit", default_unit)
    if unit not in UNITS:
        raise ScenarioError(f"{where}.unit: unknown unit {unit!r} (use one of: {', '.join(UNITS)})")
    scale = UNITS[unit]
    frozen = dict(spec)
    if kind == "fixed":
        return Fixed(_number(spec, "value", where) * scale, frozen)
    if kind == "exponential":
        return Exponential(_number(spec, "mean", where, positive=True) * scale, frozen)
    if kind == "lognormal":
        mu, sigma = _lognormal(spec, where, scale)
        return LogNormal(mu, sigma, frozen)
    if kind == "gamma":
        mean = _number(spec, "mean", where, positive=True) * scale
        sd = _number(spec, "sd", where, positive=True) * scale
        return Gamma((mean / sd) ** 2, sd * sd / mean, frozen)
    if kind == "uniform":
        low, high = _number(spec, "low", where) * scale, _number(spec, "high", where) * scale
        if high < low:
            raise ScenarioError(f"{where}: high must be >= low")
        return Uniform(low, high, frozen)
    if kind == "triangular":
        low, mode, high = (_number(spec, key, where) * scale for key in ("low", "mode", "high"))
        if not low <= mode <= high:
            raise ScenarioError(f"{where}: need low <= mode <= high")
        return Triangular(low, mode, high, frozen)
    if kind == "empirical":
        values = _sequence(spec, "values", where)
        numbers = [_number({"v": v}, "v", f"{where}.values[{i}]") * scale for i, v in enumerate(values)]
        return Empirical(tuple(numbers), frozen)
    points = spec.get("points")
    if not isinstance(points, Mapping) or len(points) < 2:
        raise ScenarioError(f"{where}.points: expected a mapping probability: value with at least 0 and 1")
    pairs = []
    for p, v in points.items():
        try:
            prob = float(p)
        except (TypeError, ValueError):
            raise ScenarioError(f"{where}.points: {p!r} is not a probability") from None
        if not 0.0 <= prob <= 1.0:
            raise ScenarioError(f"{where}.points: probability {p!r} is not between 0 and 1")
        pairs.append((prob, _number({"v": v}, "v", f"{where}.points[{p}]") * scale))
    pairs.sort()
    probs = tuple(p for p, _ in pairs)
    quantiles = tuple(v for _, v in pairs)
    if probs[0] != 0.0 or probs[-1] != 1.0:
        raise ScenarioError(f"{where}.points: probabilities must start at 0 and end at 1")
    if any(b < a for a, b in pairwise(quantiles)):
        raise ScenarioError(f"{where}.points: values must not decrease as the probability grows")
    return Quantiles(probs, quantiles, frozen)
