"""The inputs of the cash-flow model: the YAML format, its defaults, and the checked form.

A params file is merged over ``defaults.yaml`` (beside this module) key by key. Every leaf is a
bare value or ``{value: ..., reference: ...}`` (the reference says where the number comes from).
Sections (money in yuan, rates as fractions, lags in calendar days, dates of the year "MM-DD"):

================  ============================================================================
``name``          a title for reports
``claims``        ``daily_level`` (yuan of insurer share advanced at the windows on a typical
                  working day), ``weekday_profile`` {mon..sun: factor}, ``monthly_profile``
                  {jan..dec: factor}, ``noise_sd`` (relative, seeded)
``settlement``    ``declaration_day`` (day of month), ``declaration_months_after`` (1 = the next
                  month), ``review_days``, ``payment_lag_days``
``refusal_rates`` {category: fraction of the month's claimed amount deducted at review}
``advance``       ``base_amount`` (yuan), ``ratio``, ``paid_on`` "MM-DD", ``recouped_on`` "MM-DD"
                  or null (recouped with the first settlement payment of the next year)
``finance``       ``cost_of_money`` (annual rate)
================  ============================================================================

Every value is checked; a problem raises :class:`ParamsError` naming the file and the field.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from mock_insurer.money import MoneyParseError, parse_decimal, round_money
from simulator.errors import DataFileError

__all__ = [
    "CATEGORIES",
    "MAX_FACTOR",
    "MAX_YUAN",
    "MONTHS",
    "WEEKDAYS",
    "AdvanceTerms",
    "CashflowParams",
    "ParamsError",
    "default_data",
    "load_params",
    "merge_data",
    "params_from_data",
    "read_params_data",
]

#: Deduction reason categories (docs/review.md, ``Deduction.category``).
CATEGORIES: tuple[str, ...] = ("insurance_rules", "medical_admin", "pricing", "personal", "declaration")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS: tuple[str, ...] = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

#: The most yuan any amount may be (10^12, a trillion: far above any hospital's day or year,
#: and far below where the model's cent arithmetic would leave Decimal's 28 digits).
MAX_YUAN = Decimal(10) ** 12
#: The largest weekday or monthly profile factor (the default profiles are 0.3 .. 1.15).
MAX_FACTOR = Decimal(100)

_SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "claims": ("daily_level", "weekday_profile", "monthly_profile", "noise_sd"),
    "settlement": ("declaration_day", "declaration_months_after", "review_days", "payment_lag_days"),
    "advance": ("base_amount", "ratio", "paid_on", "recouped_on"),
    "finance": ("cost_of_money",),
}


class ParamsError(DataFileError):
    """A params file (or a month file) holds a value the model cannot use; the message names
    the file and the field."""


@dataclass(frozen=True)
class AdvanceTerms:
    """The advance payment (预付金): ``base_amount`` (yuan, the prior years' annual insurer share)
    × ``ratio`` paid on ``paid_on`` and recouped with the first settlement payment made on or
    after ``recouped_on`` (``None``: on or after 1 January of the next year, the mock insurer's rule).
    Both dates are "MM-DD" of the modelled year."""

    base_amount: Decimal
    ratio: Decimal
    paid_on: str
    recouped_on: str | None

    @property
    def amount(self) -> Decimal:
        """The advance in yuan, rounded to the cent half-up."""
        return round_money(self.base_amount * self.ratio)


@dataclass(frozen=True)
class CashflowParams:
    """The checked inputs of one hospital's year (see the module docstring for units)."""

    name: str
    daily_level: Decimal
    weekday_profile: tuple[Decimal, ...]
    monthly_profile: tuple[Decimal, ...]
    noise_sd: Decimal
    declaration_day: int
    declaration_months_after: int
    review_days: int
    payment_lag_days: int
    refusal_rates: dict[str, Decimal]
    advance: AdvanceTerms
    cost_of_money: Decimal
    references: dict[str, str] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        """The params as JSON-ready data (money and rates as strings)."""
        return {
            "name": self.name,
            "claims": {
                "daily_level": str(self.daily_level),
                "weekday_profile": {day: str(value) for day, value in zip(WEEKDAYS, self.weekday_profile, strict=True)},
                "monthly_profile": {month: str(value) for month, value in zip(MONTHS, self.monthly_profile, strict=True)},
                "noise_sd": str(self.noise_sd),
            },
            "settlement": {
                "declaration_day": self.declaration_day,
                "declaration_months_after": self.declaration_months_after,
                "review_days": self.review_days,
                "payment_lag_days": self.payment_lag_days,
            },
            "refusal_rates": {category: str(rate) for category, rate in self.refusal_rates.items()},
            "advance": {
                "base_amount": str(self.advance.base_amount),
                "ratio": str(self.advance.ratio),
                "amount": str(self.advance.amount),
                "paid_on": self.advance.paid_on,
                "recouped_on": self.advance.recouped_on,
            },
            "finance": {"cost_of_money": str(self.cost_of_money)},
            "references": dict(self.references),
        }


def default_data() -> dict[str, Any]:
    """The shipped defaults as loaded from ``defaults.yaml``."""
    text = files("simulator.finance").joinpath("defaults.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def merge_data(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` merged into a copy of ``base``: mappings key by key, except a leaf given as
    ``{value: ...}`` or a bare value, which replaces the leaf whole."""
    merged = copy.deepcopy(dict(base))
    for key, value in over.items():
        old = merged.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping) and "value" not in value and "value" not in old:
            merged[key] = merge_data(old, value)
        elif isinstance(value, Mapping) and isinstance(old, Mapping) and "value" not in value and "value" in old:
            # a profile given bare ({mon: 1.1}) over a default {value: {...}, reference}
            inner = old["value"]
            merged[key] = {"value": {**inner, **value} if isinstance(inner, Mapping) else value}
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class _Reader:
    """Reads leaves of the merged data, naming ``where`` and the field in every error."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where
        self.references: dict[str, str] = {}

    def fail(self, path: str, message: str) -> ParamsError:
        return ParamsError(f"{self.where}: {path}: {message}")

    def raw(self, path: str) -> Any:
        node: Any = self.data
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise self.fail(path, "missing")
            node = node[part]
        if isinstance(node, Mapping) and "value" in node:
            reference = node.get("reference")
            if reference is not None:
                self.references[path] = str(reference).strip()
            return node["value"]
        return node

    def number(self, path: str, low: Decimal | None = None, high: Decimal | None = None,
               value: Any = None, given: bool = False) -> Decimal:
        raw = value if given else self.raw(path)
        try:
            number = parse_decimal(raw)
        except MoneyParseError:
            raise self.fail(path, f"expected a number, got {raw!r}") from None
        if low is not None and number < low:
            raise self.fail(path, f"must be at least {low}, got {raw!r}")
        if high is not None and number > high:
            raise self.fail(path, f"must be at most {high}, got {raw!r}")
        return number

    def money(self, path: str) -> Decimal:
        """Yuan: at most two decimals (money has cents, nothing finer), 0 to :data:`MAX_YUAN`."""
        raw = self.raw(path)
        amount = self.number(path, Decimal(0), MAX_YUAN, value=raw, given=True)
        if amount != amount.quantize(Decimal("0.01")):
            raise self.fail(path, f"money has at most two decimals (yuan and fen), got {raw!r}")
        return amount

    def integer(self, path: str, low: int, high: int) -> int:
        raw = self.raw(path)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(path, f"expected a whole number, got {raw!r}")
        if not low <= raw <= high:
            raise self.fail(path, f"must be between {low} and {high}, got {raw!r}")
        return raw

    def profile(self, path: str, keys: tuple[str, ...]) -> tuple[Decimal, ...]:
        raw = self.raw(path)
        if not isinstance(raw, Mapping):
            raise self.fail(path, f"expected a mapping of {', '.join(keys)} to factors")
        unknown = sorted(str(key) for key in raw if key not in keys)
        if unknown:
            raise self.fail(path, f"unknown key {unknown[0]!r} (use {', '.join(keys)})")
        factors = {key: self.number(f"{path}.{key}", Decimal(0), MAX_FACTOR, value=raw[key],
                                    given=True) for key in keys if key in raw}  # a bad one first
        missing = [key for key in keys if key not in raw]
        if missing:
            raise self.fail(f"{path}.{missing[0]}", "missing")
        return tuple(factors[key] for key in keys)

    def day_of_year(self, path: str, optional: bool) -> str | None:
        raw = self.raw(path)
        if raw is None and optional:
            return None
        text = str(raw)
        try:
            month, day = (int(part) for part in text.split("-"))
            date(2024, month, day)  # a leap year: 02-29 is allowed here, checked per year later
        except ValueError:
            raise self.fail(path, f"expected a day of the year as \"MM-DD\", got {raw!r}") from None
        return f"{month:02d}-{day:02d}"


def params_from_data(data: Mapping[str, Any], where: str = "params") -> CashflowParams:
    """Check merged params data and build :class:`CashflowParams` (errors name ``where``)."""
    reader = _Reader(data, where)
    for section, keys in _SECTION_KEYS.items():
        given = data.get(section)
        if not isinstance(given, Mapping):
            raise reader.fail(section, "expected a mapping")
        unknown = sorted(str(key) for key in given if key not in keys)
        if unknown:
            raise reader.fail(f"{section}.{unknown[0]}", f"unknown field (use {', '.join(keys)})")
    name = data.get("name", "cash-flow model")
    rates_raw = reader.raw("refusal_rates")
    if not isinstance(rates_raw, Mapping):
        raise reader.fail("refusal_rates", f"expected a mapping of {', '.join(CATEGORIES)} to rates")
    unknown = sorted(str(key) for key in rates_raw if key not in CATEGORIES)
    if unknown:
        raise reader.fail(f"refusal_rates.{unknown[0]}", f"unknown category (use {', '.join(CATEGORIES)})")
    rates = {
        category: reader.number(f"refusal_rates.{category}", Decimal(0), Decimal(1))
        if category in rates_raw else Decimal(0)
        for category in CATEGORIES
    }
    if sum(rates.values(), Decimal(0)) > 1:
        raise reader.fail("refusal_rates", "the rates add up to more than 1")
    advance = AdvanceTerms(
        base_amount=reader.money("advance.base_amount"),
        ratio=reader.number("advance.ratio", Decimal(0), Decimal(1)),
        paid_on=reader.day_of_year("advance.paid_on", optional=False) or "01-01",
        recouped_on=reader.day_of_year("advance.recouped_on", optional=True),
    )
    if advance.recouped_on is not None and advance.recouped_on < advance.paid_on:
        raise reader.fail("advance.recouped_on", f"{advance.recouped_on} is before paid_on {advance.paid_on}")
    return CashflowParams(
        name=str(name),
        daily_level=round_money(reader.money("claims.daily_level")),
        weekday_profile=reader.profile("claims.weekday_profile", WEEKDAYS),
        monthly_profile=reader.profile("claims.monthly_profile", MONTHS),
        noise_sd=reader.number("claims.noise_sd", Decimal(0), Decimal(1)),
        declaration_day=reader.integer("settlement.declaration_day", 1, 31),
        declaration_months_after=reader.integer("settlement.declaration_months_after", 1, 12),
        review_days=reader.integer("settlement.review_days", 0, 365),
        payment_lag_days=reader.integer("settlement.payment_lag_days", 0, 365),
        refusal_rates=rates,
        advance=advance,
        cost_of_money=reader.number("finance.cost_of_money", Decimal(0), Decimal(1)),
        references=reader.references,
    )


def read_params_data(path: str | Path | None = None) -> tuple[dict[str, Any], str]:
    """The defaults merged with a params file (``None``: the defaults alone), unchecked, and
    the name errors should give for it."""
    data = default_data()
    if path is None:
        return data, "defaults"
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamsError(f"cannot read params {source}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise ParamsError(f"{source}: not a UTF-8 text file") from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ParamsError(f"{source}: not valid YAML{at}: {getattr(exc, 'problem', None) or 'bad YAML'}") from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise ParamsError(f"{source}: expected a mapping of params sections at the top")
    unknown = sorted(str(key) for key in loaded if key not in data)
    if unknown:
        raise ParamsError(f"{source}: {unknown[0]}: unknown section (use {', '.join(sorted(data))})")
    return merge_data(data, loaded), str(source)


def load_params(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> CashflowParams:
    """Read a params file (``None``: the defaults alone) merged over the defaults, then
    ``overrides`` (data in the same format), and check it."""
    data, where = read_params_data(path)
    if overrides:
        data = merge_data(data, overrides)
    return params_from_data(data, where)
