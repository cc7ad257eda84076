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
    "RATIO_PLACES",
    "ZERO",
    "MoneyParseError",
    "parse_decimal",
    "render",
    "round_money",
    "round_ratio",
]

CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")
ZERO = Decimal("0.00")


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


def round_money(value: Decimal) -> Decimal:
    """Round to the cent, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_ratio(value: Decimal) -> Decimal:
    """Round a ratio to four places, half up."""
    return value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def render(value: Decimal) -> str:
    """Money as text with exactly two places (``"4.50"``, ``"-25.10"``, ``"0.00"``)."""
    return str(round_money(value) + ZERO)
