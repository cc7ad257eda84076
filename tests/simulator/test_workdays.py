"""The working-day calendar: the State Council's holidays and make-up days as data, a fallback
for years not on file, and a bad calendar file named with its key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from simulator.errors import DataFileError
from simulator.workdays import load_calendar, national_calendar, parse_calendar


def test_the_national_calendar_skips_holidays_and_works_the_make_up_days() -> None:
    calendar = national_calendar()
    april = calendar.working_days(date(2026, 4, 1), date(2026, 4, 10))
    assert date(2026, 4, 6) not in april and date(2026, 4, 7) in april  # 清明节 on a Monday
    assert calendar.holiday(date(2026, 4, 6)) == "清明节 Qingming"
    assert calendar.is_working_day(date(2026, 5, 9))  # a Saturday worked for Labour Day
    assert calendar.next_working_day(date(2026, 4, 30)) == date(2026, 5, 6)
    assert calendar.next_working_day(date(2026, 2, 13)) == date(2026, 2, 14)  # Saturday worked
    february = calendar.working_days(date(2026, 2, 1), date(2026, 2, 28))
    assert len(february) == 16  # 20 weekdays, 6 of them Spring Festival, 2 Saturdays worked
    assert calendar.holiday(date(2022, 12, 31)) == "元旦 New Year's Day"  # 2023's, from 2022
    assert all(calendar.covers(year) for year in (2023, 2024, 2025, 2026))


def test_a_year_not_on_file_keeps_the_fixed_date_holidays_and_says_so() -> None:
    calendar = national_calendar()
    assert not calendar.covers(2030)
    assert calendar.next_working_day(date(2029, 12, 31)) == date(2030, 1, 2)
    assert not calendar.is_working_day(date(2030, 10, 3))
    assert calendar.is_working_day(date(2030, 10, 4))
    assert calendar.is_working_day(date(2024, 5, 2)) is False  # announced: 1-5 May off
    assert calendar.is_working_day(date(2022, 5, 2))  # before 2025 only 1 May is statutory


@pytest.mark.parametrize(("text", "where"), [
    ("years: [1]", "years: expected a mapping"),
    ("years: {2027: {holidays: [{from: 2027-02-30}]}}", "years.2027.holidays[0].from"),
    ("years: {2027: {holidays: [{from: 2027-01-03, to: 2027-01-01}]}}", "years.2027.holidays[0]"),
    ("years: {2027: {working: [2027-01-04]}}", "years.2027.working[0]: 2027-01-04 is a Monday"),
    ("years: {2027: {holiday: []}}", "years.2027: unknown key 'holiday'"),
    ("years: {2027: {holidays: [{from: 2026-01-01}]}}", "2026-01-01..2026-01-01 is not in 2027"),
    ("years: {2027: {holidays: [{from: 2027-01-02}], working: [2027-01-02]}}",
     "2027-01-02 is both a holiday and a working day"),
    ("years: {2027: [", "not valid YAML (line 1)"),
])
def test_a_bad_calendar_names_the_key(text: str, where: str) -> None:
    with pytest.raises(DataFileError, match=r"^my\.yaml: ") as raised:
        parse_calendar(text, "my.yaml")
    assert where in str(raised.value)


def test_a_calendar_file_of_ones_own(tmp_path: Path) -> None:
    path = tmp_path / "h.yaml"
    path.write_text("years:\n  2027:\n    source: 通知\n    holidays:\n"
                    "      - {name: 春节, from: 2027-02-05, to: 2027-02-12}\n"
                    "    working: [2027-02-14]\n", encoding="utf-8")
    calendar = load_calendar(path)
    assert calendar.covers(2027) and calendar.sources[2027] == "通知"
    assert calendar.next_working_day(date(2027, 2, 4)) == date(2027, 2, 14)
    with pytest.raises(DataFileError, match="cannot read it"):
        load_calendar(tmp_path / "missing.yaml")
