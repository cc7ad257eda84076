"""Kinds of parameter values in a policy profile: each turns one raw YAML value into a typed
value, or raises ValueError saying what is wrong (the loader adds the file and parameter).

Money is yuan with at most two decimal places; ratios are fractions of 1 with at most four
(70% is written 0.70); a scale is a list of marginal-rate brackets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from mock_insurer.money import CENT, RATIO_PLACES, MoneyParseError, parse_decimal
from mock_insurer.policy.dated import Kind

__all__ = [
    "Bracket",
    "choice",
    "codes",
    "days",
    "money",
    "money_or_none",
    "ratio",
    "scale",
    "whole_days",
]


@dataclass(frozen=True, slots=True)
class Bracket:
    """One band of a marginal-rate scale: ``rate`` applies from ``above`` (yuan) up to the next
    band's ``above``."""

    above: Decimal
    rate: Decimal


def _number(raw: Any) -> Decimal:
    try:
        return parse_decimal(raw)
    except MoneyParseError as exc:
        raise ValueError(str(exc)) from None


def money(raw: Any) -> Decimal:
    """Yuan >= 0 with at most two decimal places."""
    value = _number(raw)
    if value < 0:
        raise ValueError(f"{value} is negative (expected yuan >= 0)")
    if value != value.quantize(CENT):
        raise ValueError(f"{value} has more than two decimal places (expected yuan and fen)")
    return value.quantize(CENT)


def money_or_none(raw: Any) -> Decimal | None:
    """Yuan, or null meaning \"none\" (e.g. no annual cap)."""
    return None if raw is None else money(raw)


def ratio(raw: Any) -> Decimal:
    """A fraction of 1 (0..1), at most four decimal places."""
    value = _number(raw)
    if not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"{value} is outside 0..1 (write 70% as 0.70)")
    if value != value.quantize(RATIO_PLACES):
        raise ValueError(f"{value} has more than four decimal places")
    return value.quantize(RATIO_PLACES)


def days(raw: Any) -> Decimal:
    """A number of days >= 0 (may be fractional)."""
    value = _number(raw)
    if value < 0:
        raise ValueError(f"{value} is negative (expected days >= 0)")
    return value


def whole_days(raw: Any) -> int:
    """A whole number of days >= 1."""
    value = days(raw)
    if value != value.to_integral_value() or value < 1:
        raise ValueError(f"{value} is not a whole number of days >= 1")
    return int(value)


def codes(raw: Any) -> frozenset[str]:
    """A list of codes (e.g. med_type values); [] is allowed and means \"none\"."""
    if not isinstance(raw, list) or not all(isinstance(c, str | int) for c in raw):
        raise ValueError(f"expected a list of codes such as [\"11\", \"14\"], got {raw!r}")
    return frozenset(str(c) for c in raw)


def scale(raw: Any) -> tuple[Bracket, ...]:
    """Marginal-rate brackets, the first from 0, in increasing order."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("expected a list of brackets [{above: yuan, rate: ratio}, ...]")
    brackets = []
    for band in raw:
        if not isinstance(band, Mapping) or set(band) != {"above", "rate"}:
            raise ValueError(f"a bracket must have exactly 'above' and 'rate', got {band!r}")
        brackets.append(Bracket(money(band["above"]), ratio(band["rate"])))
    if brackets[0].above != 0:
        raise ValueError("the first bracket must start at above: 0")
    if any(b.above <= a.above for a, b in pairwise(brackets)):
        raise ValueError("brackets must be in increasing order of 'above'")
    return tuple(brackets)


def choice(options: tuple[str, ...]) -> Kind:
    """One of the given words."""
    def parse(raw: Any) -> str:
        if raw not in options:
            raise ValueError(f"{raw!r} is not one of {', '.join(options)}")
        return str(raw)

    return parse
