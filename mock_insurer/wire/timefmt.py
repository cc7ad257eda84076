"""Times on the wire: the interface's formats, written one way and read leniently.

Every time on the wire is China wall-clock time without a zone (UTC+8, no daylight saving).
A timezone-aware ``datetime`` given to a formatter is first converted to UTC+8; a naive one is
taken to be China wall-clock time already. Parsers return *naive* wall-clock datetimes.

Formats (fact sheet §2.1 "Date conventions", §2.2, §2.3):

- 日期时间型 ``yyyy-MM-dd HH:mm:ss`` (``inf_time``, ``begntime``, ``setl_time`` …);
- 日期型 ``yyyy-MM-dd`` (``brdy``, ``stmt_begndate`` …);
- ``yyyyMMddHHmmssSSS`` (answers' ``refmsg_time`` / ``respond_time``);
- ``yyyyMMddHHmmss`` (inside ``msgid`` and ``inf_refmsgid``).

Lenient reading (shared/reference/README.md, "times"): a datetime field also accepts
``yyyy-MM-dd`` (midnight) and ISO 8601 with ``T`` (optional fraction and zone; a zone is
converted to UTC+8 and dropped). A date field also accepts a datetime form (its date part).
:func:`is_canonical_datetime` / :func:`is_canonical_date` tell whether the text was in the
interface's own format, so callers can record a deviation.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

__all__ = [
    "CHINA_TZ",
    "china_now",
    "format_date",
    "format_datetime",
    "format_stamp14",
    "format_stamp17",
    "is_canonical_date",
    "is_canonical_datetime",
    "parse_date",
    "parse_datetime",
    "parse_stamp14",
    "to_wall",
    "unix_seconds",
]

CHINA_TZ = timezone(timedelta(hours=8), "UTC+08:00")
"""China Standard Time; the zone of every time on the wire."""

_CANONICAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_CANONICAL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LENIENT_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?)?"
)
_STAMP14 = re.compile(r"\d{14}")


def china_now() -> datetime:
    """The system clock as China wall-clock time (naive), whatever the machine's time zone: the
    wall clock that process entry points (the CLI, worker processes, locust users) pass in."""
    return datetime.now(CHINA_TZ).replace(tzinfo=None)


def to_wall(moment: datetime) -> datetime:
    """China wall-clock time of *moment*, naive (aware → converted to UTC+8; naive → as is)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(CHINA_TZ).replace(tzinfo=None)


def format_datetime(moment: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` (日期时间型)."""
    m = to_wall(moment)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d} "
            f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}")


def format_date(day: date) -> str:
    """``yyyy-MM-dd`` (日期型). A datetime gives its wall-clock date."""
    d = to_wall(day) if isinstance(day, datetime) else day
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def format_stamp14(moment: datetime) -> str:
    """``yyyyMMddHHmmss`` (the time inside msgid / inf_refmsgid)."""
    t = to_wall(moment).isoformat(" ", "seconds")  # yyyy-MM-dd HH:mm:ss, the fastest way
    return t[0:4] + t[5:7] + t[8:10] + t[11:13] + t[14:16] + t[17:19]


def format_stamp17(moment: datetime) -> str:
    """``yyyyMMddHHmmssSSS`` (``refmsg_time``, ``respond_time``), milliseconds truncated."""
    t = to_wall(moment).isoformat(" ", "milliseconds")  # yyyy-MM-dd HH:mm:ss.SSS (truncated)
    return t[0:4] + t[5:7] + t[8:10] + t[11:13] + t[14:16] + t[17:19] + t[20:23]


def _build(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_datetime(text: str) -> datetime | None:
    """Read a datetime leniently (see module docstring); ``None`` when it is not one."""
    match = _LENIENT_DATETIME.fullmatch(text.strip())
    if match is None:
        return None
    clock = match.group("time") or "00:00:00"
    if len(clock) == 5:
        clock += ":00"
    moment = _build(f"{match.group('date')}T{clock}")
    if moment is None:
        return None
    zone = match.group("zone")
    if zone:
        if zone == "Z":
            offset = timedelta(0)
        else:
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            if zone[0] == "-":
                offset = -offset
        if offset >= timedelta(hours=24):
            return None
        moment = to_wall(moment.replace(tzinfo=timezone(offset)))
    return moment


def parse_date(text: str) -> date | None:
    """Read a date leniently: ``yyyy-MM-dd``, or any form :func:`parse_datetime` reads."""
    moment = parse_datetime(text)
    return None if moment is None else moment.date()


def is_canonical_datetime(text: str) -> bool:
    """Whether *text* is exactly ``yyyy-MM-dd HH:mm:ss`` and a real moment."""
    return _CANONICAL_DATETIME.fullmatch(text) is not None and parse_datetime(text) is not None


def is_canonical_date(text: str) -> bool:
    """Whether *text* is exactly ``yyyy-MM-dd`` and a real date."""
    return _CANONICAL_DATE.fullmatch(text) is not None and parse_datetime(text) is not None


def parse_stamp14(text: str) -> datetime | None:
    """Read ``yyyyMMddHHmmss`` strictly (14 digits, a real moment); ``None`` otherwise."""
    if _STAMP14.fullmatch(text) is None:
        return None
    return _build(f"{text[0:4]}-{text[4:6]}-{text[6:8]}T{text[8:10]}:{text[10:12]}:{text[12:14]}")


def unix_seconds(moment: datetime) -> int:
    """Whole Unix seconds of *moment* (a naive moment is China wall-clock time)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_TZ)
    return int(aware.timestamp())
