"""A small month of settlements made through the national interface, for the review's tests.

An insurer over a temporary ledger served on 127.0.0.1 (the real server runner), a cashier
window speaking to it with the client SDK, and the admin API in process (same insurer, same
business clock). :func:`settle_month` makes, for the tier-3 hospital in March 2026:

- 2026-03-02: person 1, a visit with an MRI and a consultation (诊查费); person 1 again, a
  second consultation the same day (the review's same-day duplicate rule R-DUP-001); person 2,
  an MRI, cancelled (2208) the same day;
- 2026-03-03: person 2, an MRI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_insurer.client import InsurerClient
from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.server import start_in_thread
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window

TOKEN = "secret"
START = datetime(2026, 3, 2, 8, 0, 0)
HOSPITAL = dataset.HOSPITAL
MRI = "002203000010000"
CONSULT = "001102000010000"


def open_insurer(tmp_path: Path, db_url: str) -> Insurer:
    paths = dataset.write(tmp_path)
    return Insurer.open(InsurerConfig(
        db_url=db_url, population=paths["population"], catalogue=paths["catalogue"],
        institutions=paths["institutions"], admin_token=TOKEN,
        wall=FixedClock(START, timedelta(milliseconds=10)), fresh=True))


@dataclass
class Month:
    """The insurer, its admin client and what :func:`settle_month` made."""

    insurer: Insurer
    admin: TestClient
    settled: dict[str, Any]

    def set_date(self, day: str) -> None:
        answer = self.admin.put("/admin/clock", json={"business_date": day})
        assert answer.status_code == 200, answer.text

    @contextlib.contextmanager
    def window_on(self, day: str, days_after_start: int) -> Iterator[Window]:
        """A cashier window signed in on the business date ``day`` (the SDK's clock
        ``days_after_start`` days after the month's start), the insurer served meanwhile."""
        self.set_date(day)
        with start_in_thread(self.insurer) as running:
            sdk = InsurerClient(running.url, fixmedins_code=HOSPITAL, fixmedins_name="测试医院",
                                mdtrtarea_admvs="110105", insuplc_admdvs="110000", opter="C01",
                                opter_name="王收费",
                                clock=FixedClock(START + timedelta(days=days_after_start),
                                                 timedelta(seconds=1)),
                                timeout=10.0)
            try:
                sdk.sign_in(opter_no="C01", mac="00-1A-2B-3C-4D-5E", ip="127.0.0.1")
                yield Window(sdk)
            finally:
                sdk.close()


def settle_month(insurer: Insurer, url: str, admin: TestClient) -> dict[str, Any]:
    """Settle the month described in the module; answers the settlements' answers by name."""
    sdk = InsurerClient(url, fixmedins_code=HOSPITAL, fixmedins_name="测试医院",
                        mdtrtarea_admvs="110105", insuplc_admdvs="110000", opter="C01",
                        opter_name="王收费", clock=FixedClock(START, timedelta(seconds=1)),
                        timeout=10.0)
    try:
        sdk.sign_in(opter_no="C01", mac="00-1A-2B-3C-4D-5E", ip="127.0.0.1")
        window = Window(sdk)
        made: dict[str, Any] = {}
        made["a"] = window.visit(1, [(MRI, "1"), (CONSULT, "1")]).output["setlinfo"]
        made["b"] = window.visit(1, [(CONSULT, "1")]).output["setlinfo"]
        c = window.visit(2, [(MRI, "1")]).output["setlinfo"]
        window.cancel(2, c["mdtrt_id"], c["setl_id"])
        made["c"] = c
        answer = admin.put("/admin/clock", json={"business_date": "2026-03-03"})
        assert answer.status_code == 200
        sdk.sign_in(opter_no="C01", mac="00-1A-2B-3C-4D-5E", ip="127.0.0.1")  # a new day
        made["d"] = window.visit(2, [(MRI, "1")]).output["setlinfo"]
        return made
    finally:
        sdk.close()


def make_month(tmp_path: Path, db_url: str) -> Iterator[Month]:
    insurer = open_insurer(tmp_path, db_url)
    try:
        admin = TestClient(insurer, headers={"Authorization": f"Bearer {TOKEN}"})
        with start_in_thread(insurer) as running:
            settled = settle_month(insurer, running.url, admin)
        yield Month(insurer, admin, settled)
    finally:
        insurer.close()


@pytest.fixture
def month(tmp_path: Path) -> Iterator[Month]:
    """March 2026 settled on a SQLite ledger; the business date is still 2026-03-03."""
    yield from make_month(tmp_path, f"sqlite:///{tmp_path}/ledger.db")
