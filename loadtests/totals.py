"""What the windows of a load test were told they settled, so that the run can end with
day-end reconciliation (3201) as a hospital's does: per institution, day and group (insutype,
clearing type, clearing institution), the sums of every 2207 and 2208 answered (a 2208's
amounts are negative), kept by every locust process and written when it quits.

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
        self._lock = threading.Lock()

    def add(self, fixmedins_code: str, setlinfo: Mapping[str, Any]) -> None:
        """Count a 2207 or 2208 answer's ``setlinfo``."""
        key = (fixmedins_code, str(setlinfo.get("setl_time") or "")[:10],
               str(setlinfo.get("insutype") or ""), str(setlinfo.get("clr_type") or "11"),
               str(setlinfo.get("clr_optins") or ""))
        with self._lock:
            group = self.groups.setdefault(key, {**dict.fromkeys(FIELDS, ZERO), "count": 0})
            for name in FIELDS:
                group[name] = Decimal(group[name]) + parse_decimal(setlinfo.get(name) or "0")
            group["count"] = int(group["count"]) + 1

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
        if rows:
            atomic_write(target, json.dumps(rows))

    environment.events.test_stop.add_listener(write)
    environment.events.quitting.add_listener(write)
    return totals


def read_totals(directory: Path) -> list[dict[str, Any]]:
    """Every process's totals in *directory*, summed per group."""
    summed: dict[tuple[str, ...], dict[str, Any]] = {}
    for path in sorted(directory.glob("totals-*.json")):
        for row in json.loads(path.read_text("utf-8")):
            key = tuple(str(row[k]) for k in ("fixmedins_code", "day", "insutype", "clr_type",
                                               "setl_optins"))
            group = summed.setdefault(key, {**{k: row[k] for k in (
                "fixmedins_code", "day", "insutype", "clr_type", "setl_optins")},
                **dict.fromkeys(FIELDS, ZERO), "count": 0})
            for name in FIELDS:
                group[name] += parse_decimal(row[name])
            group["count"] += int(row["count"])
    return list(summed.values())
