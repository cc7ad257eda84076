"""An insurer over a temporary ledger (SQLite, and PostgreSQL for the tests marked so) with the
small hand-made dataset, some messages sent through the gateway and one settled visit written
straight into the ledger (so that the admin API's tests do not depend on the settlement
engine), and a TestClient around it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.wire.envelope import build_request
from tests.mock_insurer.gateway import dataset

TOKEN = "secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GATEWAY = "/fsi/api/rsfComIfsService/callService"
START = datetime(2026, 3, 2, 8, 0)
PERSON = dataset.PERSONS[0]  # 张伟, balance 1378.15
PSN_NO = PERSON["psn_no"]
MDTRT_ID = "300000009001"
SETL_ID = "400000009001"
SETTLED_ACCT_PAY = Decimal("12.50")
SETTLED_DEDC = Decimal("30.00")


def make_insurer(tmp_path: Path, *, token: str | None = TOKEN,
                 db_url: str | None = None) -> Insurer:
    """An insurer over ``db_url`` (default: a SQLite file in ``tmp_path``)."""
    paths = dataset.write(tmp_path)
    return Insurer.open(InsurerConfig(
        db_url=db_url or f"sqlite:///{tmp_path}/l.db", population=paths["population"],
        catalogue=paths["catalogue"], institutions=paths["institutions"], admin_token=token,
        wall=FixedClock(START)))


class Hospital:
    """Sends national-interface messages as the tier-3 test hospital."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.sequence = 0
        self.sign_no = ""

    def send(self, infno: str, input: dict[str, Any]) -> dict[str, Any]:
        self.sequence += 1
        body = build_request(
            infno=infno, msgid=f"{dataset.HOSPITAL}20260302080000{self.sequence:04d}",
            input=input, fixmedins_code=dataset.HOSPITAL, fixmedins_name="北京测试第三医院",
            mdtrtarea_admvs="110000", insuplc_admdvs="110000", recer_sys_code="FSI",
            infver="V1.0", opter_type="1", opter="001", opter_name="收费员", inf_time=START,
            sign_no=self.sign_no)
        answer: dict[str, Any] = self.client.post(GATEWAY, json=body).json()
        return answer

    def sign_in(self) -> None:
        answer = self.send("9001", {"signIn": {"opter_no": "001", "mac": "", "ip": "127.0.0.1"}})
        self.sign_no = answer["output"]["signinoutb"]["sign_no"]

    def register(self, person: dict[str, Any]) -> str:
        answer = self.send("2201", {"data": {
            "psn_no": person["psn_no"], "insutype": "310", "begntime": "2026-03-02 08:00:00",
            "mdtrt_cert_type": "02", "mdtrt_cert_no": person["certno"], "ipt_otp_no": "OP1",
            "atddr_no": "D001", "dr_name": "李医生", "dept_code": "01", "dept_name": "内科",
            "caty": "A03"}})
        assert answer["infcode"] == 0, answer
        return str(answer["output"]["data"]["mdtrt_id"])


def write_settled_visit(insurer: Insurer) -> None:
    """A visit of PERSON with one settled fee row, its settlement, an account debit and a
    deductible counter movement — written with the ledger's own operations."""
    when = "2026-03-02 08:05:00"
    with insurer.ledger.write() as tx:
        tx.add_visit({
            "mdtrt_id": MDTRT_ID, "psn_no": PSN_NO, "fixmedins_code": dataset.HOSPITAL,
            "insutype": "310", "ipt_otp_no": "OP9", "mdtrt_cert_type": "02",
            "mdtrt_cert_no": PERSON["certno"], "begntime": when, "dept_code": "01",
            "dept_name": "内科", "atddr_no": "D001", "dr_name": "李医生", "caty": "A03",
            "med_type": "11", "dise_codg": "J06.900", "diagnoses": ["J06.900"],
            "status": "open", "created_msgid": "M1", "biz_time": when})
        tx.add_fee_rows([{
            "mdtrt_id": MDTRT_ID, "feedetl_sn": "1", "chrg_bchno": "B1", "psn_no": PSN_NO,
            "dise_codg": "J06.900", "med_list_codg": "001102000010000",
            "medins_list_codg": "HOSP0000", "cnt": Decimal("1"), "pric": Decimal("30.00"),
            "prd_days": None, "fee_ocur_time": when, "bilg_dept_codg": "01",
            "bilg_dept_name": "内科", "bilg_dr_codg": "D001", "bilg_dr_name": "李医生",
            "det_item_fee_sumamt": Decimal("30.00"), "fulamt_ownpay_amt": Decimal("0.00"),
            "overlmt_amt": Decimal("0.00"), "preselfpay_amt": Decimal("0.00"),
            "inscp_scp_amt": Decimal("30.00"), "result": {"feedetl_sn": "1"},
            "status": "settled", "setl_id": SETL_ID, "upload_msgid": "M2", "biz_time": when}])
        tx.lock_person(PSN_NO)
        tx.move_account(PSN_NO, -SETTLED_ACCT_PAY, SETL_ID, when)
        tx.move_cum(PSN_NO, 2026, "310", {"dedc_used": SETTLED_DEDC}, SETL_ID)
        tx.add_settlement({
            "setl_id": SETL_ID, "mdtrt_id": MDTRT_ID, "psn_no": PSN_NO,
            "fixmedins_code": dataset.HOSPITAL, "insutype": "310", "med_type": "11",
            "chrg_bchno": "B1", "clr_type": "11", "clr_way": "01", "clr_optins": "110000",
            "setl_time": when, "biz_date": "2026-03-02", "year": 2026, "refd_setl_flag": "0",
            "orig_setl_id": None, "cancelled_by": None, "medins_setl_id": "M3",
            "made_by_infno": "2207", "medfee_sumamt": Decimal("30.00"),
            "fund_pay_sumamt": Decimal("0.00"), "acct_pay": SETTLED_ACCT_PAY,
            "psn_cash_pay": Decimal("17.50"), "hosp_part_amt": Decimal("0.00"),
            "setlinfo": {"setl_id": SETL_ID, "medfee_sumamt": Decimal("30.00"),
                         "acct_pay": SETTLED_ACCT_PAY},
            "setldetail": [{"fund_pay_type": "310200", "fund_payamt": SETTLED_ACCT_PAY}],
            "counter_deltas": {"dedc_used": SETTLED_DEDC}})


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every admin test runs on both ledgers."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/l.db"
    return str(request.getfixturevalue("postgres").new_database())


@pytest.fixture
def insurer(tmp_path: Path, db_url: str) -> Iterator[Insurer]:
    made = make_insurer(tmp_path, db_url=db_url)
    yield made
    made.close()


@pytest.fixture
def client(insurer: Insurer) -> TestClient:
    return TestClient(insurer, headers=AUTH)


@pytest.fixture
def seeded(insurer: Insurer, client: TestClient) -> Hospital:
    """Sign-in and one registration through the gateway, a refused message, and the settled
    visit written into the ledger."""
    hospital = Hospital(client)
    hospital.sign_in()
    hospital.register(dataset.PERSONS[1])
    refused = hospital.send("2201", {"data": {"psn_no": "nobody"}})
    assert refused["infcode"] == -1
    write_settled_visit(insurer)
    return hospital
