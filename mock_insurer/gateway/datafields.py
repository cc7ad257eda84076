"""The field checks of the insurer's data files (persons, institutions, catalogue).

Each check reads one field of a JSON record and returns its value, or raises
:class:`DataFileError` naming the file and line (``where``), the field and what is wrong with
the value given — a value given as JSON ``null`` is said to be null, not missing.
:class:`UniqueKeys` refuses a key (a ``psn_no``, a ``fixmedins_code``, …) given twice in one file,
naming both lines. Used by the file readers of :mod:`mock_insurer.gateway.loading`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from mock_insurer.errors import InsurerError
from mock_insurer.money import MAX_MONEY, MoneyParseError, parse_amount

__all__ = ["MAX_MONEY", "DataFileError", "Shape", "UniqueKeys", "choice", "code", "day", "flag",
           "money", "need", "shown", "text", "whole"]

Shape = tuple[re.Pattern[str], str]
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class DataFileError(InsurerError):
    """A data file given to the insurer cannot be loaded (file, line and field named)."""


class UniqueKeys:
    """The first line of every key of one file: a key met again is refused as
    ``FILE:LINE: duplicate FIELD VALUE (first on line N)``, as ``cardsettle generate`` says it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._first: dict[tuple[str, object], int] = {}
        self._number = 0  # the line being read, and the keys it claimed
        self._line: set[tuple[str, object]] = set()

    def claim(self, number: int, field: str, value: object, shown_as: str | None = None) -> None:
        """Line ``number`` holds ``field`` = ``value`` (``shown_as``: how a message names it);
        lines are claimed in order."""
        key = (field, value)
        if number != self._number:
            self._number, self._line = number, set()
        first = self._first.setdefault(key, number)
        if first != number or key in self._line:
            where = "this line" if first == number else f"line {first}"
            raise DataFileError(f"{self.path}:{number}: duplicate {field} "
                                f"{shown_as or value} (first on {where})")
        self._line.add(key)


def shown(value: Any) -> str:
    """A value as a message quotes it: JSON's ``null``, ``true``, ``false``; text quoted; long
    ones cut."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    text_ = str(value) if isinstance(value, Decimal) else repr(value)  # a JSON number
    return text_ if len(text_) <= 60 else text_[:57] + "..."


def need(rec: dict[str, Any], key: str, where: str, name: str | None = None) -> Any:
    """``rec[key]``, which must be there (it may be null: the caller's check says what it
    must be)."""
    if key not in rec:
        raise DataFileError(f"{where}: missing field {name or key!r}")
    return rec[key]


def text(rec: dict[str, Any], key: str, where: str, *, longest: int = 200,
         name: str | None = None) -> str:
    """``rec[key]``: a non-empty text of at most ``longest`` characters."""
    value = need(rec, key, where, name)
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise DataFileError(f"{where}: {name or key}: must be a non-empty text of at most "
                            f"{longest} characters (got {shown(value)})")
    return value


def code(rec: dict[str, Any], key: str, shape: Shape, where: str, *,
         default: str | None = None, name: str | None = None) -> str:
    """``rec[key]`` (or ``default`` when absent or null): a text of ``shape``."""
    value = rec.get(key)
    if value is None and default is not None:
        return default
    value = need(rec, key, where, name)
    if value is None:
        raise DataFileError(f"{where}: {name or key}: must be text ({shape[1]}), got null")
    if not isinstance(value, str) or not shape[0].fullmatch(value):
        raise DataFileError(f"{where}: {name or key}: must be {shape[1]} (got {shown(value)})")
    return value


def choice(rec: dict[str, Any], key: str, choices: tuple[str, ...], where: str, *,
           default: str | None = None, name: str | None = None) -> str:
    """``rec[key]`` (or ``default`` when absent or null): one of ``choices``."""
    value = rec.get(key)
    if value is None and default is not None:
        return default
    value = need(rec, key, where, name)
    if value not in choices:
        raise DataFileError(f"{where}: {name or key}: must be one of {', '.join(choices)} "
                            f"(got {shown(value)})")
    return str(value)


def flag(rec: dict[str, Any], key: str, where: str) -> bool:
    """``rec[key]``: true or false (absent or null: false)."""
    value = rec.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise DataFileError(f"{where}: {key}: must be true or false (got {shown(value)})")
    return value


def day(rec: dict[str, Any], key: str, where: str, *, name: str | None = None,
        optional: bool = False) -> str | None:
    """``rec[key]``: a real day written ``YYYY-MM-DD`` (``None`` if ``optional`` and absent or
    null)."""
    value = rec.get(key)
    if value is None and optional:
        return None
    value = need(rec, key, where, name)
    try:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise DataFileError(f"{where}: {name or key}: must be a real date YYYY-MM-DD "
                            f"(got {shown(value)})") from None
    return value


def money(value: Any, where: str, name: str) -> Decimal:
    """An amount of money: yuan of at most two places from 0 to :data:`MAX_MONEY`
    (:func:`mock_insurer.money.parse_amount`)."""
    try:
        return parse_amount(value)
    except MoneyParseError as exc:
        raise DataFileError(f"{where}: {name}: {exc}") from exc


def whole(value: Any, where: str, name: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``, given as a number or as digits."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DataFileError(f"{where}: {name}: must be a whole number from {low} to {high} "
                            f"(got {shown(value)})")
    return value
