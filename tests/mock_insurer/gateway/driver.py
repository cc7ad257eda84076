"""A test driver: one cashier window speaking to the insurer through the client SDK, with the
fewest words per step. (The reference HIS is a separate, complete thing; this is only for the
insurer's own tests.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mock_insurer.client import Answer, InsurerClient
from mock_insurer.money import round_money
from tests.mock_insurer.gateway import dataset

NOW = "2026-03-02 08:30:00"


class Window:
    def __init__(self, client: InsurerClient) -> None:
        self.client = client
        self.counter = 0
        self.outpatient_no: dict[str, str] = {}  # mdtrt_id -> the ipt_otp_no its 2201 sent

    def person(self, n: int) -> dict[str, Any]:
        return dataset.PERSONS[n - 1]

    def info(self, n: int, *, cert_type: str = "02", **extra: Any) -> Answer:
        person = self.person(n)
        cert_no = {"01": person["ec_token"], "02": person["certno"],
                   "03": person["cards"][-1]["card_no"]}[cert_type]
        data = {"mdtrt_cert_type": cert_type, "mdtrt_cert_no": cert_no,
                "card_sn": person["cards"][-1]["card_sn"] if cert_type == "03" else "",
                "begntime": NOW, "psn_cert_type": "01", "certno": "", "psn_name": ""}
        data.update(extra)
        return self.client.call("1101", {"data": data})

    def register(self, n: int, insutype: str | None = None) -> str:
        """2201; the outpatient number is ``OP`` + the time and sequence of the 2201's msgid:
        unique at the institution across windows, as msgids must be (an institution's open
        visits may not share a number)."""
        person = self.person(n)
        msgid = self.client.new_msgid()
        number = f"OP{msgid[len(self.client.fixmedins_code):]}"
        answer = self.client.call("2201", {"data": {
            "psn_no": person["psn_no"], "insutype": insutype or person["insuinfo"][0]["insutype"],
            "begntime": NOW, "mdtrt_cert_type": "02", "mdtrt_cert_no": person["certno"],
            "ipt_otp_no": number, "atddr_no": "D001", "dr_name": "李医生",
            "dept_code": "A01", "dept_name": "内科", "caty": "A03"}}, msgid=msgid)
        mdtrt_id = str(answer.output["data"]["mdtrt_id"])
        self.outpatient_no[mdtrt_id] = number
        return mdtrt_id

    def diagnose(self, n: int, mdtrt_id: str, codes: tuple[str, ...] = ("J06.900",)) -> Answer:
        person = self.person(n)
        return self.client.call("2203", {
            "mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": person["psn_no"], "med_type": "11",
                          "begntime": NOW, "main_cond_dscr": "", "dise_codg": "",
                          "dise_name": ""},
            "diseinfo": [{"diag_type": "1", "diag_srt_no": i + 1, "diag_code": code,
                          "diag_name": code, "diag_dept": "内科", "dise_dor_no": "D001",
                          "dise_dor_name": "李医生", "diag_time": NOW, "vali_flag": "1"}
                         for i, code in enumerate(codes)]})

    def row(self, n: int, mdtrt_id: str, code: str, cnt: str, pric: str | None = None,
            bchno: str = "B1", **extra: Any) -> dict[str, Any]:
        item = next(i for i in dataset.ITEMS if i["med_list_codg"] == code)
        price = Decimal(pric or item["pric"])
        self.counter += 1
        row = {"feedetl_sn": f"F{self.counter:06d}", "mdtrt_id": mdtrt_id,
               "psn_no": self.person(n)["psn_no"], "chrg_bchno": bchno, "dise_codg": "",
               "rxno": "", "rx_circ_flag": "0", "fee_ocur_time": NOW, "med_list_codg": code,
               "medins_list_codg": dataset.HOSP_CODES[code],
               "det_item_fee_sumamt": round_money(Decimal(cnt) * price), "cnt": cnt,
               "pric": str(price), "bilg_dept_codg": "A01", "bilg_dept_name": "内科",
               "bilg_dr_codg": "D001", "bilg_dr_name": "李医生", "hosp_appr_flag": "1"}
        row.update(extra)
        return row

    def upload(self, rows: list[dict[str, Any]]) -> Answer:
        return self.client.call("2204", {"feedetail": rows})

    def settle_input(self, n: int, mdtrt_id: str, medfee: Decimal, *, bchno: str = "B1",
                     acct: str = "1", **extra: Any) -> dict[str, Any]:
        person = self.person(n)
        data = {"psn_no": person["psn_no"], "mdtrt_cert_type": "02",
                "mdtrt_cert_no": person["certno"], "med_type": "11", "medfee_sumamt": medfee,
                "psn_setlway": "01", "mdtrt_id": mdtrt_id, "chrg_bchno": bchno,
                "acct_used_flag": acct, "insutype": person["insuinfo"][0]["insutype"]}
        data.update(extra)
        return {"data": data}

    def pre_settle(self, n: int, mdtrt_id: str, medfee: Decimal, **extra: Any) -> Answer:
        return self.client.call("2206", self.settle_input(n, mdtrt_id, medfee, **extra))

    def settle(self, n: int, mdtrt_id: str, medfee: Decimal, **extra: Any) -> Answer:
        return self.client.call("2207", self.settle_input(n, mdtrt_id, medfee, **extra))

    def cancel(self, n: int, mdtrt_id: str, setl_id: str) -> Answer:
        return self.client.call("2208", {"data": {
            "setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": self.person(n)["psn_no"]}})

    def visit(self, n: int, items: list[tuple[str, str]], **settle: Any) -> Answer:
        """A whole visit: register, diagnose, upload ``(code, cnt)`` rows, settle."""
        mdtrt_id = self.register(n)
        self.diagnose(n, mdtrt_id)
        rows = [self.row(n, mdtrt_id, code, cnt) for code, cnt in items]
        self.upload(rows)
        total = sum((Decimal(str(r["det_item_fee_sumamt"])) for r in rows), Decimal("0.00"))
        return self.settle(n, mdtrt_id, total, **settle)
