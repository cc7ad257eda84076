"""The full outpatient visit the insurer benchmarks send, whatever carries it.

``visit_messages`` is a generator: it yields ``(infno, input, insuplc)`` for each message of a
visit (1101 -> 2201 -> 2203 -> 2204 -> 2206 -> 2207) and is sent back each message's
``output``; the caller owns the transport (HTTP in insurer_throughput.py, the ASGI app called
in-process in insurer_floor.py). ``Catalogue`` picks the persons and items a visit settles
without a refusal, from the files `cardsettle insurer serve` generates.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Generator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from mock_insurer.money import round_money

PATH = "/fsi/api/rsfComIfsService/callService"
NOW = "2026-03-02 08:30:00"

# what a visit yields: (infno, input, the patient's insured place as 1101 answered it)
Message = tuple[str, dict[str, Any], str]


class Catalogue:
    """Persons insured and in good standing, each institution's mapped items without limits,
    and the institutions that are not blacklisted; and the outpatient numbers of the run's
    visits (:meth:`outpatient_number`)."""

    def __init__(self, data_dir: Path) -> None:
        self._numbers = itertools.count(1)
        items: dict[str, dict[str, Any]] = {}
        self.mappings: dict[str, list[dict[str, Any]]] = defaultdict(list)
        catalogue = next(data_dir.glob("catalogue-*.jsonl"))
        records = [orjson.loads(line) for line in catalogue.read_bytes().splitlines()]
        for rec in records:
            if rec["kind"] == "item":
                items[rec["med_list_codg"]] = rec
        for rec in records:
            if rec["kind"] != "mapping" or rec["mapping"] != "ok":
                continue
            item = items[rec["med_list_codg"]]
            if (item["indications"] or item["gend_limit"] or item["age_min"] is not None
                    or item["age_max"] is not None or item["max_cnt_per_rx"] is not None
                    or item["chrgitm_lv"] == "03"):
                continue
            self.mappings[rec["fixmedins_code"]].append(rec)
        persons = [orjson.loads(line) for line in
                   next(data_dir.glob("persons-*.jsonl")).read_bytes().splitlines()]
        self.persons = [p for p in persons
                        if p["insuinfo"][0]["psn_insu_stas"] == "1" and not p["deceased"]
                        and not p["blacklisted"]
                        and p["insuinfo"][0]["insutype"] in ("310", "390")]
        institutions = next(data_dir.glob("institutions-*.jsonl"))
        rows = [orjson.loads(line) for line in institutions.read_bytes().splitlines()]
        self.codes = [row["fixmedins_code"] for row in rows if not row.get("blacklisted")]

    def outpatient_number(self) -> str:
        """A 2201 ``ipt_otp_no`` this catalogue has not given before. The insurer refuses a
        number one of the institution's open visits holds (院内唯一流水), and the benchmarks
        reuse visit serials within one insurer (the warm-up's and the measurement's, the two
        slices of a fault-comparison pair); each insurer phase starts a fresh ledger and makes
        its own Catalogue."""
        return f"B{next(self._numbers)}"


def visit_messages(cat: Catalogue, code: str, rng: random.Random,
                   serial: int) -> Generator[Message, Any, None]:
    """One visit at institution ``code``: a random insured person, three fee rows."""
    person = cat.persons[rng.randrange(len(cat.persons))]
    insutype = person["insuinfo"][0]["insutype"]
    psn_no, certno = person["psn_no"], person["certno"]
    found = yield "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}}, ""
    area = next(row["insuplc_admdvs"] for row in found["insuinfo"]
                if row["insutype"] == insutype)
    reg = yield "2201", {"data": {
        "psn_no": psn_no, "insutype": insutype, "begntime": NOW, "mdtrt_cert_type": "02",
        "mdtrt_cert_no": certno, "ipt_otp_no": cat.outpatient_number(), "atddr_no": "D1",
        "dr_name": "李", "dept_code": "A01", "dept_name": "内科", "caty": "A03"}}, area
    mdtrt_id = reg["data"]["mdtrt_id"]
    yield "2203", {
        "mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": "11",
                      "begntime": NOW},
        "diseinfo": [{"diag_type": "1", "diag_srt_no": 1, "diag_code": "J06.900",
                      "diag_name": "急性上呼吸道感染", "diag_dept": "内科", "dise_dor_no": "D1",
                      "dise_dor_name": "李", "diag_time": NOW, "vali_flag": "1"}]}, area
    rows, total = [], Decimal("0.00")
    for n, mapping in enumerate(rng.sample(cat.mappings[code], 3)):
        amount = round_money(Decimal(mapping["hosp_pric"]))
        total += amount
        rows.append({"feedetl_sn": f"{serial}-{n}", "mdtrt_id": mdtrt_id, "psn_no": psn_no,
                     "chrg_bchno": "B1", "rx_circ_flag": "0", "fee_ocur_time": NOW,
                     "med_list_codg": mapping["med_list_codg"],
                     "medins_list_codg": mapping["medins_list_codg"],
                     "det_item_fee_sumamt": amount, "cnt": "1", "pric": mapping["hosp_pric"],
                     "bilg_dept_codg": "A01", "bilg_dept_name": "内科", "bilg_dr_codg": "D1",
                     "bilg_dr_name": "李", "hosp_appr_flag": "1"})
    yield "2204", {"feedetail": rows}, area
    settle = {"data": {"psn_no": psn_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": certno,
                       "med_type": "11", "medfee_sumamt": total, "psn_setlway": "01",
                       "mdtrt_id": mdtrt_id, "chrg_bchno": "B1", "acct_used_flag": "1",
                       "insutype": insutype}}
    yield "2206", settle, area
    yield "2207", settle, area
