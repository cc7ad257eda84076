"""Locustfile: cashier windows speaking the national interface straight to the insurer.

Each locust user is one cashier window of an institution of the insurer's data (round robin),
with its own :class:`~mock_insurer.client.InsurerClient` sending through locust's session, so
locust times every request; requests are named by transaction (``2207 settle``). The window
signs in once (9001) and then serves one patient per task run, the mix (weights in
:data:`MIX`):

- ``visit``    1101 → 2201 → 2203 → 2204 → 2206 → 2207 (a paid visit);
- ``refused``  1101 with a lost card: the refusal (``infcode`` -1) is expected;
- ``leaves``   the patient sees the pre-settlement and leaves: … 2206 → 2205 → 2202;
- ``refund``   a paid visit refunded at once: … 2207 → 2208 → 2205.

An HTTP 200 with ``infcode`` -1 is a failure unless expected. Each whole visit is its own
entry ``visit`` (wall-clock ms). Data: :mod:`loadtests.data` (``CARDSETTLE_LOAD_DATA``); load
shape: :mod:`loadtests.shapes` (``--load-shape`` / ``CARDSETTLE_LOAD_SHAPE``). Run with
``cardsettle load --target insurer`` or ``locust -f loadtests/insurer_direct.py`` (docs/loadtests.md).
"""

from __future__ import annotations

import itertools
import random
import threading
from decimal import Decimal
from typing import Any

from locust import HttpUser, events, task
from locust.env import Environment

from loadtests.data import shared_data
from loadtests.glue import LoadShape, add_arguments, final_stats, pacing
from loadtests.msgids import StridedMsgids, stride_from_env
from loadtests.outpatient_numbers import outpatient_number, run_stamp
from loadtests.samples import record_samples
from loadtests.sessions import JudgedSession, VisitTimer, insurer_verdict
from loadtests.totals import Totals, record_totals
from mock_insurer.client import ClientError, InsurerClient
from mock_insurer.wire.timefmt import china_now

__all__ = ["MIX", "InsurerWindow", "LoadShape"]

MIX = {"visit": 80, "refused": 5, "leaves": 7, "refund": 8}
"""Relative weights of what a patient at the window does (a working assumption for the
morning peak; change it here or subclass :class:`InsurerWindow`)."""

STEP_NAMES = {"1101": "1101 person", "2201": "2201 register", "2203": "2203 diagnosis",
              "2204": "2204 upload", "2205": "2205 cancel details", "2202": "2202 cancel visit",
              "2206": "2206 pre-settle", "2207": "2207 settle", "2208": "2208 refund",
              "9001": "9001 sign-in"}

_lock = threading.Lock()
_state: dict[str, Any] = {}
_windows = itertools.count()


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    add_arguments(parser)


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    record_samples(environment, names=("2207 settle", "visit"))
    final_stats(environment)
    _state["totals"] = record_totals(environment)




def _totals() -> Totals:
    with _lock:
        found = _state.get("totals")
        if found is None:
            found = _state["totals"] = Totals()
        return found


def _run() -> str:
    """This process's run stamp (:func:`~loadtests.outpatient_numbers.run_stamp`): the wall
    clock when its first window started, read once."""
    with _lock:
        found = _state.get("run")
        if found is None:
            found = _state["run"] = run_stamp(china_now())
        return str(found)


def _factory(code: str, offset: int) -> StridedMsgids:
    with _lock:
        key = f"msgids:{code}"
        if key not in _state:
            _state[key] = StridedMsgids(code, china_now, offset=offset,
                                        stride=stride_from_env())
        return _state[key]


class InsurerWindow(HttpUser):
    """One cashier window (see the module docstring)."""

    wait_time = pacing()

    def on_start(self) -> None:
        index = next(_windows)
        runner = self.environment.runner
        offset = int(getattr(runner, "worker_index", 0) or 0)
        self.clock = china_now  # the window's wall clock (China time, like a HIS)
        self.data = shared_data()
        self.rng = random.Random(f"{offset}:{index}")
        institution = self.data.institution(index)
        self.code = str(institution["fixmedins_code"])
        self.session = JudgedSession(self.host or "", self.environment, self, insurer_verdict)
        self.client = self.session
        self.insurer = InsurerClient(
            self.host or "", fixmedins_code=self.code,
            fixmedins_name=str(institution.get("fixmedins_name") or self.code),
            mdtrtarea_admvs=str(institution.get("admdvs") or "110000"),
            opter=f"L{index:04d}", opter_name="load test", clock=self.clock,
            session=self.session, msgid_factory=_factory(self.code, offset), timeout=30.0)
        self.visits = VisitTimer(self.environment)
        self.serial = itertools.count(1)
        self.numbering = (_run(), offset, index)  # the outpatient numbers: unique across runs
        with self.session.step(STEP_NAMES["9001"]):
            self.insurer.sign_in(opter_no=f"L{index:04d}", mac="00-00-00-00-00-00",
                                 ip="127.0.0.1")

    def call(self, infno: str, body: dict[str, Any], area: str | None = None, *,
             expect_refusal: bool = False) -> Any:
        with self.session.step(STEP_NAMES[infno], expect_refusal=expect_refusal):
            return self.insurer.call(infno, body, insuplc_admdvs=area).output

    def counted(self, infno: str, body: dict[str, Any], area: str) -> Any:
        """A 2207 or 2208, counted for the day-end: its answer's ``setlinfo``, or unknown while
        it is on its way (a window stopped mid-request leaves it so) and after an error whose
        effect is unknown."""
        totals = _totals()
        totals.sent()
        try:
            setlinfo = self.call(infno, body, area)["setlinfo"]
        except ClientError as error:
            if not error.effect_unknown:
                totals.refused()
            raise
        totals.add(self.code, setlinfo)
        return setlinfo

    @task
    def patient(self) -> None:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        try:
            with self.visits.timing():
                if kind == "refused":
                    self.refused_card()
                else:
                    self.visit(kind)
        except ClientError:
            pass  # already counted as a failed request and a failed visit

    def refused_card(self) -> None:
        card_no, card_sn = self.data.refused_card(self.rng)
        try:
            self.call("1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": card_no,
                                        "card_sn": card_sn, "begntime": "", "psn_cert_type": "",
                                        "certno": "", "psn_name": ""}}, expect_refusal=True)
        except ClientError:
            if not self.session.refused:
                raise

    def visit(self, kind: str) -> None:
        person = self.data.person(self.rng)
        card = person["cards"][-1]
        visit_no = outpatient_number(*self.numbering, next(self.serial))
        now = f"{self.clock():%Y-%m-%d %H:%M:%S}"
        cert = {"mdtrt_cert_type": "03", "mdtrt_cert_no": card["card_no"]}
        info = self.call("1101", {"data": {**cert, "card_sn": card["card_sn"], "begntime": "",
                                           "psn_cert_type": "", "certno": "", "psn_name": ""}})
        psn_no = info["baseinfo"]["psn_no"]
        scheme = next(row for row in info["insuinfo"] if row["psn_insu_stas"] == "1")
        insutype, area = scheme["insutype"], scheme["insuplc_admdvs"]
        mdtrt_id = self.call("2201", {"data": {
            "psn_no": psn_no, "insutype": insutype, "begntime": now, **cert,
            "ipt_otp_no": visit_no, "atddr_no": "D0001", "dr_name": "李医生", "dept_code": "A03",
            "dept_name": "内科", "caty": "A03"}}, area)["data"]["mdtrt_id"]
        self.call("2203", {
            "mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": "11",
                          "begntime": now},
            "diseinfo": [{"diag_type": "1", "diag_srt_no": 1, "diag_code": "J06.900",
                          "diag_name": "急性上呼吸道感染", "diag_dept": "内科",
                          "dise_dor_no": "D0001", "dise_dor_name": "李医生", "diag_time": now,
                          "vali_flag": "1"}]}, area)
        batch = f"B{visit_no[2:]}"
        lines = self.data.prescription(self.code, self.rng)
        rows = [{"feedetl_sn": f"{batch}-{n}", "mdtrt_id": mdtrt_id, "psn_no": psn_no,
                 "chrg_bchno": batch, "rx_circ_flag": "0", "fee_ocur_time": now,
                 "med_list_codg": item.national_code, "medins_list_codg": item.hospital_code,
                 "det_item_fee_sumamt": item.amount, "cnt": item.cnt, "pric": item.price,
                 "bilg_dept_codg": "A03", "bilg_dept_name": "内科", "bilg_dr_codg": "D0001",
                 "bilg_dr_name": "李医生", "hosp_appr_flag": "0"}
                for n, item in enumerate(lines, start=1)]
        self.call("2204", {"feedetail": rows}, area)
        medfee = sum((item.amount for item in lines), Decimal("0.00"))
        settle = {"psn_no": psn_no, **cert, "med_type": "11", "medfee_sumamt": medfee,
                  "psn_setlway": "01", "mdtrt_id": mdtrt_id, "chrg_bchno": batch,
                  "acct_used_flag": "1", "insutype": insutype}
        pre = self.call("2206", {"data": settle}, area)["setlinfo"]
        if kind == "leaves":
            self.call("2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "0000",
                                        "psn_no": psn_no}}, area)
            self.call("2202", {"data": {"psn_no": psn_no, "mdtrt_id": mdtrt_id,
                                        "ipt_otp_no": visit_no}}, area)
            return
        final = {**settle, **{key: pre[key] for key in (
            "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")}}
        settled = self.counted("2207", {"data": final}, area)
        setl_id = settled["setl_id"]
        if kind == "refund":
            self.counted("2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id,
                                           "psn_no": psn_no}}, area)
            self.call("2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "0000",
                                        "psn_no": psn_no}}, area)
