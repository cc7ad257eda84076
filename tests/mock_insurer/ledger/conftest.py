"""Fixtures for the ledger's own tests: an empty ledger (tables created) on SQLite and on
PostgreSQL, and a person with an account to move money on."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from mock_insurer.ledger import Ledger

PSN_NO = "11000000000000000001"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every ledger test runs on both databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    server = request.getfixturevalue("postgres")
    return str(server.new_database())


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    opened = Ledger(ledger_url)
    opened.create()
    add_person(opened, PSN_NO, Decimal("100.00"))
    yield opened
    opened.dispose()


def add_person(ledger: Ledger, psn_no: str, balc: Decimal) -> None:
    with ledger.write() as tx:
        tx.insert_many("persons", [{
            "psn_no": psn_no, "psn_cert_type": "01", "certno": f"C{psn_no}", "psn_name": "张伟",
            "gend": "1", "brdy": "1980-01-01", "naty": "01", "insuplc_admdvs": "110000",
            "insuinfo": '[{"insutype": "310", "psn_type": "1101", "psn_insu_stas": "1"}]',
            "maf_eligible": False, "deceased": False, "blacklisted": True}])
        tx.insert_many("accounts", [{"psn_no": psn_no, "balc": balc}])


def message(msgid: str, *, keyed: bool = True, err_msg: str | None = None) -> dict[str, object]:
    """A message record as the gateway writes one."""
    return {"fixmedins_code": "H11010500003", "msgid": msgid, "infno": "1101", "keyed": keyed,
            "input_hash": "h", "psn_no": PSN_NO, "request": b"{}", "answer": b"{}",
            "http_status": 200, "infcode": 0, "rejection_code": None, "err_msg": err_msg,
            "deviations": "[]", "fault_id": None, "fault_effect": None, "status": "answered",
            "replay_of": None, "biz_time": "2026-03-02 08:00:00", "received_ms": 0,
            "duration_ms": 1.0, "effect_ref": None}
