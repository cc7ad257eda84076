"""The test rig of the reference HIS: a real mock insurer on 127.0.0.1 (temp SQLite, the
hand-made dataset of the insurer's own tests), the reference HIS in front of it with its own
temp database, its driver API served on 127.0.0.1, and an :class:`HttpHisDriver` on that.

The HIS's item table is the dataset's mapping records for the tier-3 hospital, priced at the
list price (the material item with a price cap is priced above its cap: over-limit self-pay)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from mock_insurer.gateway import Insurer
from mock_insurer.ledger import Settlement
from mock_insurer.ledger import queries as ledger_queries
from mock_insurer.server import RunningServer
from mock_insurer.transactions.reconcile import in_effect
from simulator.his.app import ReferenceHis
from simulator.his.driver import HttpHisDriver
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    IdentifyInput,
    Outcome,
    RegisterInput,
    SettleInput,
)
from tests.mock_insurer.gateway import dataset

START = datetime(2026, 3, 2, 8, 0, 0)
HOSPITAL = dataset.HOSPITAL
CONSULT = "HOSP0000"  # 门诊诊查费 30.00, 甲类
AMOXI = "HOSP0001"  # 阿莫西林胶囊 4.52, 乙类 5 %, at most 20 per prescription, 7 days
TONIC = "HOSP0002"  # 某保健口服液 58.00, 丙类
TUBING = "HOSP0003"  # 一次性输液器, cap 10.00, priced 12.50 here
WOMEN = "HOSP0005"  # 某妇科用药, women only
MRI = "HOSP0006"  # 磁共振平扫 3000.00
OVER_CAP_PRICE = "12.50"


def catalogue_records() -> list[dict[str, Any]]:
    """The dataset's catalogue with the hospital's own names and prices on its mappings."""
    items = {item["med_list_codg"]: item for item in dataset.ITEMS}
    records = []
    for record in dataset.catalogue_records():
        if record["kind"] == "mapping":
            item = items[record["med_list_codg"]]
            price = OVER_CAP_PRICE if item["pric_uplmt_amt"] == item["pric"] else item["pric"]
            if item["list_type"] != "material":
                price = item["pric"]
            record = {**record, "medins_list_name": item["med_list_name"], "hosp_pric": price}
        records.append(record)
    return records


def write_dataset(directory: Path) -> dict[str, Path]:
    paths = dataset.write(directory)
    paths["catalogue"].write_bytes(b"".join(orjson.dumps(r) + b"\n"
                                            for r in catalogue_records()))
    return paths


@dataclass
class Rig:
    """Everything of one test: the insurer, the HIS, and the driver that talks to the HIS."""

    insurer: Insurer
    insurer_server: RunningServer
    his: ReferenceHis
    his_server: RunningServer
    driver: HttpHisDriver

    # -- the insurer's side ----------------------------------------------------------------
    def settlements(self) -> list[Settlement]:
        """The settlement rows in effect at the insurer (what day-end counts)."""
        with self.insurer.ledger.read() as tx:
            return in_effect(tx, tx.settlements_between(HOSPITAL, "2026-01-01", "2026-12-31"))

    def orphans(self) -> list[str]:
        """Open visits at the insurer with no settlement in effect: an orphan registration,
        with or without unsettled details."""
        found = []
        with self.insurer.ledger.read() as tx:
            page = ledger_queries.visits(tx, fixmedins_code=HOSPITAL, status="open", limit=1000)
            for visit in page.rows:
                live = [s for s in in_effect(tx, tx.settlements_of_visit(visit["mdtrt_id"]))
                        if s.refd_setl_flag == "0" and s.cancelled_by is None]
                unsettled = tx.fee_rows(visit["mdtrt_id"], statuses=("uploaded",))
                if not live or unsettled:
                    found.append(visit["mdtrt_id"])
        return found

    def faults(self, *faults: dict[str, Any]) -> None:
        from mock_insurer.faults import FaultPlan

        self.insurer.service.faults.set_plan(FaultPlan.from_dict({"seed": 1,
                                                                  "faults": list(faults)}))

    # -- the HIS's side ----------------------------------------------------------------------
    def counted(self) -> list[dict[str, Any]]:
        """The HIS's ledger rows that count at day-end."""
        rows = self.driver.ledger().body["settlements"]
        return [r for r in rows if r["status"] in ("settled", "cancelled", "refund")]

    def patient(self, n: int, *, cert_type: str = "03", **typed: str) -> str:
        person = dataset.PERSONS[n - 1]
        number = {"01": person["ec_token"], "02": person["certno"],
                  "03": person["cards"][-1]["card_no"]}[cert_type]
        outcome = self.driver.identify(IdentifyInput(
            cert_type, typed.get("cert_no", number),
            card_sn=person["cards"][-1]["card_sn"] if cert_type == "03" else "",
            psn_name=typed.get("psn_name", "")))
        assert outcome.ok, outcome.body
        return str(outcome["patient"]["patient_id"])

    def visit(self, n: int, items: list[tuple[str, str]], *,
              diagnoses: tuple[str, ...] = ("J06.900",)) -> str:
        """Identify person ``n`` by card, register, charge ``(code, qty)`` items."""
        registered = self.driver.register(RegisterInput(self.patient(n), "A03", "D0007",
                                                        dept_name="内科", doctor_name="李医生"))
        assert registered.ok, registered.body
        visit_id = str(registered["visit"]["visit_id"])
        charged = self.charge(visit_id, items, diagnoses=diagnoses)
        assert charged.ok, charged.body
        return visit_id

    def charge(self, visit_id: str, items: list[tuple[str, str]], *,
               diagnoses: tuple[str, ...] = ("J06.900",)) -> Outcome:
        from decimal import Decimal

        return self.driver.charge(visit_id, ChargeInput(
            tuple(ChargeItem(code, Decimal(qty)) for code, qty in items), diagnoses))

    def settle(self, visit_id: str, acct_used: bool = True) -> Outcome:
        return self.driver.settle(visit_id, SettleInput(acct_used))


