"""The load test's outpatient numbers: never the same twice at an institution, in one run or the
next against the same insurer (whose ledger continues), and within the field's 30 characters."""

from __future__ import annotations

from datetime import datetime, timedelta

from loadtests.outpatient_numbers import outpatient_number, run_stamp

STARTED = datetime(2026, 3, 2, 8, 0, 0)


def test_numbers_differ_between_windows_workers_visits_and_runs() -> None:
    first, second = run_stamp(STARTED), run_stamp(STARTED + timedelta(seconds=1))
    assert first == "260302080000" and first != second
    numbers = {outpatient_number(run, worker, window, serial)
               for run in (first, second) for worker in (0, 1, 99) for window in (0, 1, 9999)
               for serial in (1, 2, 999_999)}
    assert len(numbers) == 2 * 3 * 3 * 3


def test_a_number_fits_the_field() -> None:
    number = outpatient_number(run_stamp(STARTED), 99, 9999, 999_999)
    assert number == "MZ26030208000099" + "9999" + "999999"
    assert len(number) <= 30  # ipt_otp_no: char 30 (fact sheet §3 2201)
