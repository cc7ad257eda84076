"""Outpatient numbers (2201's ``ipt_otp_no``) that a load test never repeats at an institution,
not even in a later run against the same insurer.

``ipt_otp_no`` is 院内唯一流水, unique within the hospital (fact sheet §3 2201): the insurer
refuses a number one of the institution's open visits holds (``ipt_otp_no_in_use``), a settled
visit stays open, and an insurer's ledger continues across runs (docs/insurer.md). A number is
``MZ`` + the run + the locust process's worker index (2 digits) + the window's index in its
process (4) + the window's serial (6): 26 characters of the 30 the field holds.

The run is the wall-clock second its locust process started (``yyMMddHHmmss``, read by the
locustfile and passed in): two runs against one insurer cannot start in the same second.
"""

from __future__ import annotations

from datetime import datetime

__all__ = ["outpatient_number", "run_stamp"]


def run_stamp(started: datetime) -> str:
    """The run's part of its numbers: ``started`` (wall clock, to the second) as
    ``yyMMddHHmmss``."""
    return f"{started:%y%m%d%H%M%S}"


def outpatient_number(run: str, worker: int, window: int, serial: int) -> str:
    """The ``ipt_otp_no`` of a window's ``serial``-th visit (1, 2, ...) in run ``run``
    (:func:`run_stamp`), ``worker`` the locust worker's index (0 standalone), ``window`` the
    window's index in its process."""
    return f"MZ{run}{worker:02d}{window:04d}{serial:06d}"
