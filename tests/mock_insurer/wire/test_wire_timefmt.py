"""Times: the interface's formats out, lenient reading in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mock_insurer.wire import timefmt

MOMENT = datetime(2024, 3, 1, 9, 5, 7, 123456)


def test_formats() -> None:
    assert timefmt.format_datetime(MOMENT) == "2024-03-01 09:05:07"
    assert timefmt.format_date(MOMENT) == "2024-03-01"
    assert timefmt.format_stamp14(MOMENT) == "20240301090507"
    assert timefmt.format_stamp17(MOMENT) == "20240301090507123"


def test_aware_times_are_written_in_china_time() -> None:
    utc = datetime(2024, 3, 1, 1, 5, 7, tzinfo=UTC)
    assert timefmt.format_datetime(utc) == "2024-03-01 09:05:07"
    assert timefmt.unix_seconds(datetime(2024, 3, 1, 9, 5, 7)) == int(utc.timestamp())


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-01 09:05:07", datetime(2024, 3, 1, 9, 5, 7)),
    ("2024-03-01", datetime(2024, 3, 1)),
    ("2024-03-01T09:05:07", datetime(2024, 3, 1, 9, 5, 7)),
    ("2024-03-01T09:05", datetime(2024, 3, 1, 9, 5)),
    ("2024-03-01T09:05:07.250", datetime(2024, 3, 1, 9, 5, 7, 250000)),
    ("2024-03-01T01:05:07Z", datetime(2024, 3, 1, 9, 5, 7)),
    ("2024-03-01T09:05:07+08:00", datetime(2024, 3, 1, 9, 5, 7)),
    ("2024-03-01T10:05:07+0900", datetime(2024, 3, 1, 9, 5, 7)),
    (" 2024-03-01 09:05:07 ", datetime(2024, 3, 1, 9, 5, 7)),
])
def test_lenient_reading(text: str, expected: datetime) -> None:
    assert timefmt.parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "2024-13-01 00:00:00", "20240301", "yesterday",
                                  "2024-03-01 25:00:00", "2024/03/01", ""])
def test_not_times(text: str) -> None:
    assert timefmt.parse_datetime(text) is None


def test_canonical_checks() -> None:
    assert timefmt.is_canonical_datetime("2024-03-01 09:05:07")
    assert not timefmt.is_canonical_datetime("2024-03-01T09:05:07")
    assert not timefmt.is_canonical_datetime("2024-02-30 09:05:07")
    assert timefmt.is_canonical_date("2024-03-01")
    assert not timefmt.is_canonical_date("2024-03-01 00:00:00")
    assert timefmt.parse_date("2024-03-01 23:59:59") == date(2024, 3, 1)


def test_stamp14() -> None:
    assert timefmt.parse_stamp14("20240301090507") == datetime(2024, 3, 1, 9, 5, 7)
    assert timefmt.parse_stamp14("20240230090507") is None
    assert timefmt.parse_stamp14("2024030109050") is None
    assert timefmt.to_wall(datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-5)))) == \
        datetime(2024, 1, 1, 13)


def test_china_now_is_china_time_whatever_the_machine_zone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The wall clock the CLI passes: China wall-clock time on a machine set to any zone, so
    the epoch seconds of a gateway signature are the real ones."""
    import time

    for zone in ("UTC", "America/New_York", "Asia/Shanghai"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        now = timefmt.china_now()
        assert now.tzinfo is None
        assert abs(timefmt.unix_seconds(now) - time.time()) < 5, zone
    monkeypatch.delenv("TZ")
    time.tzset()
