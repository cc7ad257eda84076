"""JSON in and out of the wire: the one place bodies are serialised and parsed.

Out (:func:`dumps`): :mod:`orjson`, with every :class:`~decimal.Decimal` written as a JSON
*number* exactly as the Decimal reads (``Decimal("4.50")`` → ``4.50``, ``Decimal("0.0500")`` →
``0.0500``) through :class:`orjson.Fragment`. The caller decides the places by quantizing:
money with :func:`mock_insurer.money.round_money` (two places, yuan), ratios with
:func:`mock_insurer.money.round_ratio` (four places). A negative zero is written as ``0``
with the same places (a cancellation negates zero amounts; ``-0.00`` confuses cashiers).
``datetime`` values are written as ``yyyy-MM-dd HH:mm:ss`` and ``date`` values as
``yyyy-MM-dd`` (the interface's 日期时间型 / 日期型, fact sheet §2.1), in the wall-clock time
they carry (see :mod:`mock_insurer.wire.timefmt`). See docs/adr/0002-wire-json.md.

In (:func:`loads`): the standard library's parser with ``parse_float=Decimal``, so a number
on the wire becomes the Decimal of its exact text (``4.52`` stays ``4.52``, whatever its
digits; a float never appears); whole numbers are ``int`` (beyond 64 bits they are written
back through a slower path). ``NaN``/``Infinity`` are refused, and so are strings holding
lone UTF-16 surrogates (they cannot be written back as UTF-8). Errors are
:class:`json.JSONDecodeError` (a :class:`ValueError`) with line and column.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import orjson

from mock_insurer.wire.errors import WireEncodeError
from mock_insurer.wire.timefmt import format_date, format_datetime

__all__ = ["decimal_text", "dumps", "loads", "loads_text"]

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def decimal_text(value: Decimal) -> str:
    """The JSON text of a Decimal: fixed-point, the Decimal's own places, no negative zero."""
    text = str(value)
    if text[0].isdigit() and "E" not in text:  # the common case: fixed-point, not negative
        return text
    if not value.is_finite():
        raise WireEncodeError(f"cannot write {value!r} as a JSON number")
    if value.is_zero() and value.is_signed():
        value = value.copy_abs()
    return format(value, "f")


def _default(value: Any) -> Any:
    if value.__class__ is Decimal:  # the common case, inlined: fixed-point, not negative
        text = str(value)
        if text[0].isdigit() and "E" not in text:
            return orjson.Fragment(text)
        return orjson.Fragment(decimal_text(value))
    if isinstance(value, Decimal):
        return orjson.Fragment(decimal_text(value))
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(obj: Any, *, sort_keys: bool = False) -> bytes:
    """Serialise *obj* to UTF-8 JSON bytes (compact). Decimals as numbers, as they read.

    Raises :class:`~mock_insurer.wire.errors.WireEncodeError` for a value that cannot be
    written (a NaN Decimal, an unknown type, a string with a lone surrogate): a bug in the
    caller, never an outcome of bad input."""
    option = _OPTIONS | orjson.OPT_SORT_KEYS if sort_keys else _OPTIONS
    try:
        return orjson.dumps(obj, default=_default, option=option)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise WireEncodeError(str(exc)) from exc
    # An integer beyond 64 bits (a client may send one): write it as the number it is.
    try:
        return orjson.dumps(_big_ints_as_decimals(obj), default=_default, option=option)
    except orjson.JSONEncodeError as exc:
        raise WireEncodeError(str(exc)) from exc


def _big_ints_as_decimals(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and \
            not -(2**63) <= value < 2**64:
        return Decimal(value)
    if isinstance(value, dict):
        return {key: _big_ints_as_decimals(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_big_ints_as_decimals(item) for item in value]
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse_constant)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _check_surrogates(text: str, value: Any) -> None:
    # A lone surrogate can only enter through a \uD8xx..\uDFxx escape; a valid pair is fine,
    # so decide on the decoded value, and only when such an escape occurs at all.
    if _SURROGATE_ESCAPE.search(text):
        _walk_for_surrogates(value)


def _walk_for_surrogates(value: Any) -> None:
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise json.JSONDecodeError("lone surrogate in a string", "", 0) from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk_for_surrogates(key)
            _walk_for_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _walk_for_surrogates(item)


def loads_text(text: str) -> Any:
    """Parse JSON text; numbers with a fraction or exponent become exact Decimals.

    Raises :class:`json.JSONDecodeError` (or :class:`ValueError` for NaN/Infinity, for an
    integer too long to convert, or :class:`RecursionError` for absurd nesting)."""
    value = _DECODER.decode(text)
    _check_surrogates(text, value)
    return value


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse UTF-8 JSON bytes (or text) as :func:`loads_text` does. Invalid UTF-8 raises
    :class:`UnicodeDecodeError` (a :class:`ValueError`)."""
    if isinstance(data, str):
        return loads_text(data)
    return loads_text(bytes(data).decode("utf-8"))

