"""Money and ratios: the one place they are parsed, rounded and rendered.

Money is :class:`decimal.Decimal` in yuan with two places; ratios have four places. Rounding is
half-up (ROUND_HALF_UP), applied only where a caller asks for it (the points named in
``shared/reference/README.md``, "Settlement arithmetic"). A float never enters: inputs are
parsed from their text.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "CENT",
    "MAX_MONEY",
    "RATIO_PLACES",
    "ZERO",
    "MoneyParseError",
    "parse_amount",
    "parse_decimal",
    "render",
    "round_money",
    "round_ratio",
]

CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")
ZERO = Decimal("0.00")
MAX_MONEY = Decimal("999999999999.99")
"""The largest amount a data file may give (a price, a balance; under a trillion yuan): sums of
such amounts stay far inside the ledger's 64-bit cents."""


class MoneyParseError(ValueError):
    """A value that should be a number is not one (the message says what was given)."""


def parse_decimal(value: object) -> Decimal:
    """Parse a number as it arrives on the wire or in a data file: int, Decimal, numeric string,
    or float (parsed from its shortest repr, so 4.52 stays 4.52). Rejects bool, NaN, infinity."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or value is None:
        raise MoneyParseError(f"not a number: {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise MoneyParseError(f"not a number: {value!r}") from None
    else:
        raise MoneyParseError(f"not a number: {value!r}")
    if not result.is_finite():
        raise MoneyParseError(f"not a finite number: {value!r}")
    return result


def parse_amount(value: object, *, largest: Decimal = MAX_MONEY) -> Decimal:
    """An amount of money as a data file gives it (a price, a balance): a number
    (:func:`parse_decimal`) of yuan from 0 to ``largest`` with at most two places. Raises
    :class:`MoneyParseError` saying what is wrong (``1e9999`` is finite, but no price)."""
    if value is None:
        raise MoneyParseError("must be yuan (a number), got null")
    amount = parse_decimal(value)
    if amount < 0:
        raise MoneyParseError(f"must not be negative (got {value!r})")
    if amount > largest or amount != round_money(amount):
        raise MoneyParseError(f"must be yuan with at most two places, up to {largest} "
                              f"(got {_shown(value)})")
    return amount


def _shown(value: object) -> str:
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def round_money(value: Decimal) -> Decimal:
    """Round to the cent, half up. Only a Decimal: a float is refused (TypeError) — it is
    not exact, and rounding it would hide that (parse text or ints with :func:`parse_decimal`)."""
    if not isinstance(value, Decimal):
        raise TypeError(f"round_money needs a Decimal, got {type(value).__name__} {value!r}"
                        + (" (floats are not exact: build amounts from Decimal or text)"
                           if isinstance(value, float) else ""))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_ratio(value: Decimal) -> Decimal:
    """Round a ratio to four places, half up."""
    return value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def render(value: Decimal) -> str:
    """Money as text with exactly two places (``"4.50"``, ``"-25.10"``, ``"0.00"``)."""
    return str(round_money(value) + ZERO)
