"""Taking a real month into the model: ``--from-month FILE``, the JSON written by the month
runner (``cardsettle finance month``).

The file holds at least::

    {"period": "YYYY-MM", "daily": [{"date": "YYYY-MM-DD", "claimed": "…"}], "claimed": "…",
     "deducted": "…", "deductions_by_category": {category: "…"},
     "declared_on": "YYYY-MM-DD", "reviewed_on": "YYYY-MM-DD" | null, "paid_date": "YYYY-MM-DD" | null}

(money in yuan as JSON strings with at most two decimals, as the month runner writes it — a
JSON number is refused, it may not be exact; categories of docs/review.md). The totals must
agree with the rows: ``claimed`` = Σ daily claimed, ``deducted`` = Σ deductions_by_category
(within a cent) and, when given, ``accepted`` = claimed − deducted. The mapping:

- ``claims.daily_level`` = Σ daily claimed ÷ Σ (weekday factor × month factor) over the listed
  days: the level that, with the profiles, reproduces the month's total;
- ``refusal_rates.<category>`` = deductions_by_category[category] ÷ claimed (a category the
  file does not list: 0);
- ``settlement.declaration_day`` = the day of ``declared_on``; ``declaration_months_after`` = its
  month minus the period's; ``review_days`` = reviewed_on − declared_on; ``payment_lag_days`` =
  paid_date − reviewed_on (a null date keeps the params' lag, and says so in the sources).

Every problem raises :class:`~simulator.finance.params.ParamsError` naming the file and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from mock_insurer.money import MoneyParseError, parse_decimal
from simulator.finance.claims import profile_factor
from simulator.finance.params import (
    CATEGORIES,
    MAX_YUAN,
    MONTHS,
    CashflowParams,
    ParamsError,
    default_data,
    merge_data,
    params_from_data,
)

__all__ = ["apply_month", "month_overrides", "read_month"]

CENT = Decimal("0.01")

#: Refusal rates taken from a month keep this many places.
RATE_PLACES = Decimal("0.000001")


def read_month(path: str | Path) -> dict[str, Any]:
    """The month file's JSON object (errors name the file)."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise ParamsError(f"cannot read month file {source}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (an editor's) is no content
    except UnicodeDecodeError:
        raise ParamsError(f"{source}: not UTF-8 text (a month file is month.json of "
                          "`cardsettle finance month`)") from None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ParamsError(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{source}: expected a JSON object at the top")
    return data


def _money(data: Mapping[str, Any], key: str, where: str, field: str) -> Decimal:
    if key not in data:
        raise ParamsError(f"{where}: {field}: missing")
    raw = data[key]
    if not isinstance(raw, str):
        raise ParamsError(f"{where}: {field}: expected yuan as text (\"1234.50\"), got the JSON "
                          f"{type(raw).__name__} {raw!r}")
    try:
        value = parse_decimal(raw)
    except MoneyParseError:
        raise ParamsError(f"{where}: {field}: expected an amount in yuan, got {raw!r}") from None
    if value < 0:
        raise ParamsError(f"{where}: {field}: must not be negative, got {data[key]!r}")
    if value > MAX_YUAN:
        raise ParamsError(f"{where}: {field}: must be at most {MAX_YUAN} yuan, got {data[key]!r}")
    if value != value.quantize(CENT):
        raise ParamsError(f"{where}: {field}: money has at most two decimals, got {raw!r}")
    return value


def _date(data: Mapping[str, Any], key: str, where: str, field: str, optional: bool = False) -> date | None:
    if key not in data:
        raise ParamsError(f"{where}: {field}: missing")
    raw = data[key]
    if raw is None and optional:
        return None
    try:
        if not isinstance(raw, str) or len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ParamsError(f"{where}: {field}: expected a date \"YYYY-MM-DD\", got {raw!r}") from None


def month_overrides(data: Mapping[str, Any], params: CashflowParams,
                    where: str = "month") -> tuple[dict[str, Any], dict[str, Any]]:
    """Params data (to merge over ``params``' own) and the sources note, from a month file."""
    period = data.get("period")
    try:
        if not isinstance(period, str) or len(period) != 7:
            raise ValueError(period)
        first = date.fromisoformat(f"{period}-01")
    except ValueError:
        raise ParamsError(f"{where}: period: expected \"YYYY-MM\", got {period!r}") from None
    daily = data.get("daily")
    if not isinstance(daily, list) or not daily:
        raise ParamsError(f"{where}: daily: expected a non-empty list of {{date, claimed}}")
    total = Decimal(0)
    weight = Decimal(0)
    for index, entry in enumerate(daily):
        field = f"daily[{index}]"
        if not isinstance(entry, Mapping):
            raise ParamsError(f"{where}: {field}: expected an object {{date, claimed}}")
        day = _date(entry, "date", where, f"{field}.date")
        assert day is not None
        if (day.year, day.month) != (first.year, first.month):
            raise ParamsError(f"{where}: {field}.date: {day} is not in the period {period}")
        total += _money(entry, "claimed", where, f"{field}.claimed")
        weight += profile_factor(params, day)
    claimed = _money(data, "claimed", where, "claimed")
    if claimed != total:
        raise ParamsError(f"{where}: claimed: {data['claimed']!r} is not the sum of daily[*].claimed, "
                          f"{total}")
    deducted = _money(data, "deducted", where, "deducted")
    if deducted > claimed:
        raise ParamsError(f"{where}: deducted: {deducted} is more than claimed {claimed}")
    if "accepted" in data:
        accepted = _money(data, "accepted", where, "accepted")
        if accepted != claimed - deducted:
            raise ParamsError(f"{where}: accepted: {data['accepted']!r} is not claimed − deducted, "
                              f"{claimed - deducted}")
    by_category = data.get("deductions_by_category")
    if not isinstance(by_category, Mapping):
        raise ParamsError(f"{where}: deductions_by_category: expected an object {{category: yuan}}")
    rates: dict[str, str] = {}
    for category in by_category:
        if category not in CATEGORIES:
            raise ParamsError(f"{where}: deductions_by_category.{category}: unknown category "
                              f"(use {', '.join(CATEGORIES)})")
    amounts = {category: _money(by_category, category, where, f"deductions_by_category.{category}")
               for category in by_category}
    if abs(sum(amounts.values(), Decimal(0)) - deducted) > Decimal("0.01"):
        raise ParamsError(f"{where}: deductions_by_category: adds up to {sum(amounts.values(), Decimal(0))}, "
                          f"not deducted {deducted}")
    for category in CATEGORIES:
        amount = amounts.get(category, Decimal(0))
        rates[category] = str((amount / claimed).quantize(RATE_PLACES)) if claimed else "0"
    declared_on = _date(data, "declared_on", where, "declared_on")
    reviewed_on = _date(data, "reviewed_on", where, "reviewed_on", optional=True)
    paid_date = _date(data, "paid_date", where, "paid_date", optional=True)
    assert declared_on is not None
    months_after = (declared_on.year - first.year) * 12 + declared_on.month - first.month
    if months_after < 1:
        raise ParamsError(f"{where}: declared_on: {declared_on} is not after the period {period}")
    if months_after > 12:
        raise ParamsError(f"{where}: declared_on: {declared_on} is more than 12 months after the period {period}")
    settlement: dict[str, Any] = {"declaration_day": declared_on.day, "declaration_months_after": months_after}
    kept: list[str] = []
    if reviewed_on is None:
        kept += ["review_days", "payment_lag_days"]
    else:
        if reviewed_on < declared_on:
            raise ParamsError(f"{where}: reviewed_on: {reviewed_on} is before declared_on {declared_on}")
        settlement["review_days"] = (reviewed_on - declared_on).days
        if paid_date is None:
            kept.append("payment_lag_days")
        elif paid_date < reviewed_on:
            raise ParamsError(f"{where}: paid_date: {paid_date} is before reviewed_on {reviewed_on}")
        else:
            settlement["payment_lag_days"] = (paid_date - reviewed_on).days
    level = total / weight if weight else Decimal(0)
    if level > MAX_YUAN:
        raise ParamsError(f"{where}: daily: the level it implies, {level:.6g} yuan a day, is above "
                          f"{MAX_YUAN} (check the profiles of the params)")
    level = level.quantize(Decimal("0.01"))
    overrides = {
        "claims": {"daily_level": {"value": str(level), "reference": f"{where}: {period}, {len(daily)} days"}},
        "settlement": {key: {"value": value, "reference": f"{where}: {period}"} for key, value in settlement.items()},
        "refusal_rates": {category: {"value": rate, "reference": f"{where}: {period}"} for category, rate in rates.items()},
    }
    sources = {
        "month_file": where,
        "period": period,
        "month_factor": MONTHS[first.month - 1],
        "month_claimed": str(claimed),
        "month_days": len(daily),
        "taken": ["claims.daily_level", *(f"settlement.{key}" for key in settlement),
                  *(f"refusal_rates.{category}" for category in CATEGORIES)],
        "kept_from_params": [f"settlement.{key}" for key in kept],
    }
    return overrides, sources


def apply_month(params_data: Mapping[str, Any], params: CashflowParams, path: str | Path,
                where_params: str = "params") -> tuple[CashflowParams, dict[str, Any]]:
    """``params`` (built from ``params_data``) with the month file's level, rates and lags."""
    data = read_month(path)
    overrides, sources = month_overrides(data, params, str(path))
    defaults = default_data()
    if _base_of(params_data) == _base_of(defaults):  # the defaults' base, not the hospital's
        _scale_advance(overrides, sources, params)
    if params_data.get("name") == defaults.get("name"):  # the default hospital's name would lie
        overrides["name"] = f"月度运行 month run {sources['period']} ({Path(path).name})"
        sources["taken"].insert(0, "name")
    return params_from_data(merge_data(params_data, overrides), where_params), sources


def _base_of(params_data: Mapping[str, Any]) -> Any:
    advance = params_data.get("advance")
    base = advance.get("base_amount") if isinstance(advance, Mapping) else None
    return base.get("value") if isinstance(base, Mapping) else base


def _scale_advance(overrides: dict[str, Any], sources: dict[str, Any],
                   params: CashflowParams) -> None:
    """The advance's base (the prior years' annual insurer share) as the month's daily level
    over the period's whole year, when the params do not give it: the defaults' base belongs
    to the default hospital, not to the one the month was run for."""
    year = int(sources["period"][:4])
    level = Decimal(overrides["claims"]["daily_level"]["value"])
    day, weight = date(year, 1, 1), Decimal(0)
    while day.year == year:
        weight += profile_factor(params, day)
        day += timedelta(days=1)
    base = min((level * weight).quantize(Decimal("0.01")), MAX_YUAN)
    overrides["advance"] = {"base_amount": {
        "value": str(base),
        "reference": f"{sources['month_file']}: the daily level over {year} (its expected claims)"}}
    sources["taken"].append("advance.base_amount")
