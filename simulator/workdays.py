"""Working days in China: weekends, the public holidays and the make-up working days (调休上班)
the State Council announces each year, as data (``simulator/data/holidays.yaml``, or a file
of the same form).

A year the data does not list falls back to weekends and the statutory days that fall on fixed
dates (元旦 1 January; 劳动节 1 May, and 2 May from 2025; 国庆节 1-3 October): the lunar holidays
and the make-up days are then missing, and :meth:`WorkCalendar.covers` says so.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import DataFileError

__all__ = ["WorkCalendar", "load_calendar", "national_calendar", "parse_calendar"]


def _fixed_date_holidays(year: int) -> dict[dt.date, str]:
    days = {dt.date(year, 1, 1): "元旦 New Year's Day",
            dt.date(year, 5, 1): "劳动节 Labour Day"}
    if year >= 2025:
        days[dt.date(year, 5, 2)] = "劳动节 Labour Day"
    for day in (1, 2, 3):
        days[dt.date(year, 10, day)] = "国庆节 National Day"
    return days


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days. ``holidays`` (date → name) and ``working`` (weekend days
    worked) hold the years in ``years``; ``sources`` names where each year comes from."""

    holidays: Mapping[dt.date, str] = field(default_factory=dict)
    working: frozenset[dt.date] = frozenset()
    sources: Mapping[int, str] = field(default_factory=dict)

    @property
    def years(self) -> frozenset[int]:
        return frozenset(self.sources)

    def covers(self, year: int) -> bool:
        """Whether ``year``'s announced holidays are known (else only the fixed-date ones)."""
        return year in self.sources

    def holiday(self, day: dt.date) -> str | None:
        """The name of the holiday ``day`` falls in, or None."""
        if day.year in self.sources or (day.year + 1 in self.sources and day in self.holidays):
            return self.holidays.get(day)
        return _fixed_date_holidays(day.year).get(day)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.working:
            return True
        return day.weekday() < 5 and self.holiday(day) is None

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day after ``day``."""
        day += dt.timedelta(1)
        while not self.is_working_day(day):
            day += dt.timedelta(1)
        return day

    def working_days(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The working days from ``first`` to ``last``, both included."""
        return [day for day in _days(first, last) if self.is_working_day(day)]

    def weekday_holidays(self, first: dt.date, last: dt.date) -> list[tuple[dt.date, str]]:
        """Monday-to-Friday days from ``first`` to ``last`` that are holidays, with their names."""
        out = []
        for day in _days(first, last):
            name = self.holiday(day)
            if day.weekday() < 5 and name is not None:
                out.append((day, name))
        return out


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for n in range((last - first).days + 1):
        yield first + dt.timedelta(n)


def _date(value: Any, where: str, source: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise DataFileError(f"{source}: {where}: expected a date YYYY-MM-DD, got {value!r}")


def _what(value: Any) -> str:
    """What a YAML value is, in words (``nothing`` for an empty value, not ``NoneType``)."""
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{value!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return f"{str(value)!r}"


def _mapping(value: Any, where: str, source: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise DataFileError(f"{source}: {where}: expected a mapping, got {_what(value)}")
    return value


def _list(value: Any, where: str, source: str) -> list[Any]:
    if not isinstance(value, list):
        raise DataFileError(f"{source}: {where}: expected a list, got {_what(value)}")
    return value


class _TextDates(yaml.SafeLoader):
    """YAML's safe loader with dates left as text (read by :func:`_date`, which names a date
    such as 2027-02-30 instead of failing inside the parser)."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def parse_calendar(text: str, source: str) -> WorkCalendar:
    """A :class:`WorkCalendar` from the YAML ``text`` (``source`` names it in errors)."""
    try:
        data = yaml.load(text, Loader=_TextDates)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise DataFileError(f"{source}: not valid YAML{where}") from exc
    if data is None:
        raise DataFileError(f"{source}: the file is empty (expected years: {{YEAR: {{holidays: "
                            "[...], working: [...]}}, as simulator/data/holidays.yaml)")
    years = _mapping(_mapping(data, "the file", source).get("years"), "years", source)
    holidays: dict[dt.date, str] = {}
    working: set[dt.date] = set()
    sources: dict[int, str] = {}
    for year, entry in years.items():
        if not isinstance(year, int) or not 1900 <= year <= 2999:
            raise DataFileError(f"{source}: years: expected a year such as 2026, got {year!r}")
        where = f"years.{year}"
        entry = _mapping(entry, where, source)
        unknown = set(entry) - {"source", "holidays", "working"}
        if unknown:
            raise DataFileError(f"{source}: {where}: unknown key {sorted(map(str, unknown))[0]!r} "
                                "(expected source, holidays, working)")
        sources[year] = str(entry.get("source") or "")
        for n, item in enumerate(_list(entry.get("holidays", []), f"{where}.holidays", source)):
            at = f"{where}.holidays[{n}]"
            item = _mapping(item, at, source)
            first = _date(item.get("from"), f"{at}.from", source)
            last = _date(item.get("to", item.get("from")), f"{at}.to", source)
            if last < first or (last - first).days > 31:
                raise DataFileError(f"{source}: {at}: 'to' ({last}) must be from 'from' ({first}) "
                                    "up to a month after it")
            if year not in (first.year, last.year):
                raise DataFileError(f"{source}: {at}: {first}..{last} is not in {year}")
            name = str(item.get("name") or "holiday")
            for day in _days(first, last):
                holidays[day] = name
        for n, value in enumerate(_list(entry.get("working", []), f"{where}.working", source)):
            day = _date(value, f"{where}.working[{n}]", source)
            if day.weekday() < 5:
                raise DataFileError(f"{source}: {where}.working[{n}]: {day} is a {day:%A}; list "
                                    "only weekend days that are worked (调休上班)")
            working.add(day)
    clash = sorted(working & set(holidays))
    if clash:
        raise DataFileError(f"{source}: {clash[0]} is both a holiday and a working day")
    return WorkCalendar(holidays, frozenset(working), sources)


def load_calendar(path: Path | None = None) -> WorkCalendar:
    """The calendar in ``path``, or the packaged national one."""
    if path is None:
        return national_calendar()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8 text (save it as UTF-8)") from exc
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    return parse_calendar(text, str(path))


@functools.cache
def national_calendar() -> WorkCalendar:
    """The packaged national calendar (read once)."""
    text = (resources.files("simulator") / "data" / "holidays.yaml").read_text("utf-8")
    return parse_calendar(text, "simulator/data/holidays.yaml")
