"""What the windows of a load test were told they settled, so that the run can end with
day-end reconciliation (3201) as a hospital's does: per institution, day and group (insutype,
clearing type, clearing institution), the sums of every 2207 and 2208 answered (a 2208's
amounts are negative), kept by every locust process and written when it quits. Beside them,
how many were sent and never answered (:meth:`Totals.sent`): a window stopped mid-request, or an
error after which the effect is unknown — the insurer may hold these and the windows cannot
know, so a day-end that does not balance is then no proof of a loss.

Enabled by ``CARDSETTLE_LOAD_TOTALS`` = a directory (``cardsettle load`` sets it); each process
writes ``totals-<pid>.json``. Money is Decimal, written as text.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_insurer.money import ZERO, parse_decimal, render
from simulator.output import atomic_write

if TYPE_CHECKING:
    from locust.env import Environment

__all__ = ["TOTALS_ENV", "Totals", "read_totals", "record_totals"]

TOTALS_ENV = "CARDSETTLE_LOAD_TOTALS"
FIELDS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")

Key = tuple[str, str, str, str, str]  # fixmedins_code, day, insutype, clr_type, setl_optins


class Totals:
    """Sums per (institution, day, insutype, clr_type, setl_optins); thread-safe."""

    def __init__(self) -> None:
        self.groups: dict[Key, dict[str, Decimal | int]] = {}
        self.unknown = 0
        self._lock = threading.Lock()

    def sent(self) -> None:
        """A 2207 or 2208 is being sent: unknown until :meth:`add` counts its answer or
        :meth:`refused` says it took no effect."""
        with self._lock:
            self.unknown += 1

    def refused(self) -> None:
        """The message :meth:`sent` was refused, certainly without effect."""
        with self._lock:
            self.unknown -= 1

    def add(self, fixmedins_code: str, setlinfo: Mapping[str, Any]) -> None:
        """Count the answer's ``setlinfo`` of a 2207 or 2208 :meth:`sent`."""
        key = (fixmedins_code, str(setlinfo.get("setl_time") or "")[:10],
               str(setlinfo.get("insutype") or ""), str(setlinfo.get("clr_type") or "11"),
               str(setlinfo.get("clr_optins") or ""))
        with self._lock:
            group = self.groups.setdefault(key, {**dict.fromkeys(FIELDS, ZERO), "count": 0})
            for name in FIELDS:
                group[name] = Decimal(group[name]) + parse_decimal(setlinfo.get(name) or "0")
            group["count"] = int(group["count"]) + 1
            self.unknown -= 1

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"fixmedins_code": k[0], "day": k[1], "insutype": k[2], "clr_type": k[3],
                     "setl_optins": k[4], "count": int(v["count"]),
                     **{name: render(Decimal(v[name])) for name in FIELDS}}
                    for k, v in sorted(self.groups.items())]


def record_totals(environment: Environment) -> Totals:
    """The process's totals, written at test stop and quit when the environment asks."""
    totals = Totals()
    directory = os.environ.get(TOTALS_ENV)
    if not directory:
        return totals
    target = Path(directory) / f"totals-{os.getpid()}.json"

    def write(**_: Any) -> None:
        rows = totals.to_json()
        if rows or totals.unknown:
            atomic_write(target, json.dumps({"groups": rows, "unknown": totals.unknown}))

    environment.events.test_stop.add_listener(write)
    environment.events.quitting.add_listener(write)
    return totals


def read_totals(directory: Path) -> tuple[list[dict[str, Any]], int]:
    """Every process's totals in *directory*, summed per group, and how many 2207/2208 were
    sent and never answered."""
    summed: dict[tuple[str, ...], dict[str, Any]] = {}
    unknown = 0
    for path in sorted(directory.glob("totals-*.json")):
        written = json.loads(path.read_text("utf-8"))
        unknown += int(written["unknown"])
        for row in written["groups"]:
            key = tuple(str(row[k]) for k in ("fixmedins_code", "day", "insutype", "clr_type",
                                               "setl_optins"))
            group = summed.setdefault(key, {**{k: row[k] for k in (
                "fixmedins_code", "day", "insutype", "clr_type", "setl_optins")},
                **dict.fromkeys(FIELDS, ZERO), "count": 0})
            for name in FIELDS:
                group[name] += parse_decimal(row[name])
            group["count"] += int(row["count"])
    return list(summed.values()), unknown
