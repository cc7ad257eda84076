"""The review's data (``review.yaml`` beside this module): payment lag, sampling rate, the
sampled findings and the categories of rule findings.

Loaded and validated once; a bad file raises :class:`ReviewConfigError` naming the file and the
key. Numbers that are policy are dated parameters (:mod:`mock_insurer.policy.dated`) read on
the review's business date. Guide: ``docs/review.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mock_insurer.money import MoneyParseError, parse_decimal
from mock_insurer.policy.dated import Leaf, parse_node
from mock_insurer.policy.errors import ParameterNotInForce, ProfileError
from mock_insurer.review.errors import ReviewConfigError, ReviewConflict

__all__ = [
    "CATEGORIES",
    "Reason",
    "ReviewConfig",
    "SampledReason",
    "config_from_mapping",
    "default_config",
    "load_config",
]

#: Deduction categories (the contract's names) → what they mean.
CATEGORIES: Mapping[str, str] = {
    "insurance_rules": "医保政策 — against the insurance payment rules",
    "medical_admin": "医疗/药品管理 — medical or drug administration",
    "pricing": "价格 — pricing (重复收费, 串换, 超标准)",
    "personal": "个人 — the person's fault (冒名就医)",
    "declaration": "申报 — declared above what was uploaded",
}

_TOP = ("default_seed", "payment_lag_days", "sampling_rate", "sampled_reasons",
        "rule_categories", "rule_default", "declaration_reason")
_SAMPLED = ("code", "category", "reason", "reason_en", "probability", "share", "reference")
_REASON = ("category", "reason", "reason_en")


@dataclass(frozen=True, slots=True)
class Reason:
    """A category with the reason a hospital reads (Chinese) and its English text."""

    category: str
    reason: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class SampledReason:
    """A finding of manual review: its chance for a sampled settlement and the share (0-1) of
    the settlement's fund payment refused."""

    code: str
    reason: Reason
    probability: Decimal
    share: Decimal


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """The review's data, validated."""

    default_seed: int
    payment_lag: Leaf
    sampling: Leaf
    sampled: tuple[SampledReason, ...]
    rules: Mapping[str, Reason]
    rule_default: Reason
    declaration: Reason
    source: str

    def lag_days(self, day: dt.date) -> int:
        """The payment lag (days) in force on ``day``."""
        return int(self._at(self.payment_lag, day))  # type: ignore[call-overload]

    def sampling_rate(self, day: dt.date) -> Decimal:
        """The share (0-1) of settlements sampled for manual review on ``day``."""
        value = self._at(self.sampling, day)
        assert isinstance(value, Decimal)
        return value

    def rule_reason(self, rule_id: str) -> Reason:
        return self.rules.get(rule_id, self.rule_default)

    def _at(self, leaf: Leaf, day: dt.date) -> object:
        """The value in force on ``day``; a day before the review's data begins is a
        :class:`ReviewConflict` (the request's date, answered 409), not a broken file."""
        try:
            return leaf.at(day)
        except ParameterNotInForce as exc:
            raise ReviewConflict(f"the review's parameters ({self.source}) are not in force on "
                                 f"{day.isoformat()}: {exc}") from None


def _fail(source: str, where: str, what: str) -> ReviewConfigError:
    return ReviewConfigError(f"{source}: {where}: {what}")


def _ratio(value: Any) -> Decimal:
    try:
        number = parse_decimal(value)
    except MoneyParseError as exc:
        raise ValueError(str(exc)) from None
    if not Decimal(0) <= number <= Decimal(1):
        raise ValueError(f"must be from 0 to 1 (got {value!r})")
    return number


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3660:
        raise ValueError(f"must be a whole number of days from 0 to 3660 (got {value!r})")
    return value


def _text(raw: Mapping[str, Any], key: str, source: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, f"{where}.{key}", "missing or empty")
    return value.strip()


def _keys(raw: Any, allowed: tuple[str, ...], source: str, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise _fail(source, where, f"expected a mapping with {', '.join(allowed)}")
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise _fail(source, where, f"unknown keys {unknown} (allowed: {', '.join(allowed)})")
    return raw


def _reason(raw: Any, source: str, where: str, *, category: str | None = None) -> Reason:
    keys = _REASON if category is None else ("reason", "reason_en")
    data = _keys(raw, keys, source, where)
    cat = category if category is not None else _text(data, "category", source, where)
    if cat not in CATEGORIES:
        raise _fail(source, f"{where}.category",
                    f"{cat!r} is not one of {', '.join(CATEGORIES)}")
    return Reason(cat, _text(data, "reason", source, where),
                  _text(data, "reason_en", source, where))


def _sampled(raw: Any, n: int, source: str) -> SampledReason:
    where = f"sampled_reasons[{n}]"
    data = _keys(raw, _SAMPLED, source, where)
    _text(data, "reference", source, where)
    reason = _reason({k: data.get(k) for k in _REASON}, source, where)
    numbers = {}
    for key in ("probability", "share"):
        try:
            numbers[key] = _ratio(data.get(key))
        except ValueError as exc:
            raise _fail(source, f"{where}.{key}", str(exc)) from None
    return SampledReason(_text(data, "code", source, where), reason, numbers["probability"],
                         numbers["share"])


def config_from_mapping(data: Any, *, source: str = "review.yaml") -> ReviewConfig:
    """The review's data from a parsed YAML mapping (errors name ``source`` and the key)."""
    top = _keys(data, _TOP, source, "top level")
    for key in _TOP:
        if key not in top:
            raise _fail(source, key, "missing")
    seed = top["default_seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _fail(source, "default_seed", "must be a whole number >= 0")
    try:
        lag = parse_node(top["payment_lag_days"], "payment_lag_days", _days, (), source,
                         splittable=False)
        sampling = parse_node(top["sampling_rate"], "sampling_rate", _ratio, (), source,
                              splittable=False)
    except ProfileError as exc:
        raise ReviewConfigError(str(exc)) from None
    assert isinstance(lag, Leaf) and isinstance(sampling, Leaf)
    reasons = top["sampled_reasons"]
    if not isinstance(reasons, list):
        raise _fail(source, "sampled_reasons", "must be a list")
    sampled = tuple(_sampled(raw, n, source) for n, raw in enumerate(reasons))
    if sum((r.probability for r in sampled), Decimal(0)) > 1:
        raise _fail(source, "sampled_reasons", "the probabilities add up to more than 1")
    codes = [r.code for r in sampled]
    if len(set(codes)) != len(codes):
        raise _fail(source, "sampled_reasons", "a code is listed twice")
    rules_raw = top["rule_categories"]
    if not isinstance(rules_raw, Mapping):
        raise _fail(source, "rule_categories", "must map rule ids to category and reasons")
    rules = {str(rule_id): _reason(raw, source, f"rule_categories.{rule_id}")
             for rule_id, raw in rules_raw.items()}
    return ReviewConfig(
        default_seed=seed, payment_lag=lag, sampling=sampling, sampled=sampled, rules=rules,
        rule_default=_reason(top["rule_default"], source, "rule_default"),
        declaration=_reason(top["declaration_reason"], source, "declaration_reason",
                            category="declaration"),
        source=source)


def load_config(path: str | Path | None = None) -> ReviewConfig:
    """The review's data from ``path`` (default: ``review.yaml`` beside this module)."""
    if path is None:
        text = resources.files("mock_insurer.review").joinpath("review.yaml").read_text(
            encoding="utf-8")
        source = "review.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ReviewConfigError(f"cannot read the review data {path}: {exc}") from None
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ReviewConfigError(f"{source}: not valid YAML ({exc})") from None
    return config_from_mapping(data, source=source)


@cache
def default_config() -> ReviewConfig:
    """The embedded ``review.yaml`` (read once)."""
    return load_config()
