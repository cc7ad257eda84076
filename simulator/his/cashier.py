"""The reference HIS at the window: identify a patient, register a visit, charge items, cancel
an unsettled visit, and show visits, bills and the ledger.

Rules it keeps (docs/reference-his.md):

- Typed input is normalised before it is sent (full-width digits and letters to ASCII, spaces
  removed, a trailing ``x`` of an ID number upper-cased); the identity the insurer answers is
  kept and sent on exactly as it came (the ID number of 2201 is the insurer's ``certno``).
- Every refusal is shown to the cashier as the insurer worded it, and leaves nothing behind at
  the insurer: a visit whose registration, diagnosis, upload or settlement is refused is closed
  there (2205 for its details, 2202 for its registration) and must be registered again.
- Registration and uploads that get no answer are resent byte for byte (same msgid): an
  idempotent center answers the original and applies nothing twice.
- Orders are checked against the insurer's rule library (3101 事前) when they are saved, before
  they are uploaded: every warning is shown; lines a severe warning (``sev_deg`` 1) names are
  saved ``blocked`` and not uploaded unless the cashier overrides (recorded). A later charge of
  the same item code replaces a blocked line (the doctor corrected the order). A rule check
  that fails (insurer down, no answer, refused) blocks nothing: the warning "rule check
  unavailable" is shown and the visit goes on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from mock_insurer.client import ClientError
from mock_insurer.money import MAX_MONEY, ZERO, render, round_money
from simulator.his import answers
from simulator.his.catalogue import HospitalItem
from simulator.his.desk import OPEN_STATUSES, Desk, his_refusal, refusal_of, unreachable
from simulator.his.errors import DriverInputError
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    IdentifyInput,
    Outcome,
    Override,
    RegisterInput,
    VisitInput,
)
from simulator.his.views import bill_json, entry_json, line_json, money, visit_json, warning_of

__all__ = ["SEVERE", "UNAVAILABLE", "Cashier", "line_amount", "normalise_certificate",
           "normalise_name"]

SEVERE = 1
"""``sev_deg`` of a severe violation (docs/policy.md "Rule check"): it blocks without override."""

UNAVAILABLE = "rule_check_unavailable"
"""The ``rule_id`` of the warning shown when 3101/3102 could not be asked or was refused."""

HIDDEN_LINES = ("superseded", "withdrawn")
"""Line statuses the visit no longer shows (re-uploaded after a refund; replaced blocked)."""


def line_amount(qty: Decimal, price: Decimal) -> Decimal | None:
    """A charged line's amount in yuan, ``qty × price`` rounded to the cent (half up); ``None``
    when that is no amount a line can have (negative, above :data:`MAX_MONEY`, or beyond what
    Decimal can round)."""
    try:
        amount = round_money(qty * price)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and ZERO <= amount <= MAX_MONEY else None


def normalise_certificate(cert_type: str, typed: str) -> str:
    """A certificate number as typed at the window, made what the insurer holds: NFKC
    (full-width ``１１０…`` → ``110…``), every space removed, ID and card numbers upper-cased
    (a trailing ``x`` → ``X``). E-certificate tokens keep their case."""
    text = "".join(unicodedata.normalize("NFKC", typed).split())
    return text.upper() if cert_type in ("02", "03") else text


def normalise_name(typed: str) -> str:
    """A typed name without leading or trailing spaces (full-width ones too). Nothing else is
    touched: 𠮷, the middle dot of 阿卜杜·热合曼 and long names go as they are."""
    return typed.strip()


class Cashier:
    """Identify, register, charge, cancel; and the read-only views."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.store = desk.store

    # -- identify (1101) ---------------------------------------------------------------
    def certificate_as_sent(self, cert_type: str, typed: str) -> str:
        """The certificate number 1101 carries for one typed at the window (normalised)."""
        return normalise_certificate(cert_type, typed)

    def name_as_sent(self, typed: str) -> str:
        """The name 1101 carries for one typed at the window (stripped)."""
        return normalise_name(typed)

    def identify(self, request: IdentifyInput) -> Outcome:
        desk = self.desk
        cert_no = self.certificate_as_sent(request.cert_type, request.cert_no)
        card_sn = self.certificate_as_sent("03", request.card_sn) if request.card_sn else ""
        name = self.name_as_sent(request.psn_name)
        data = {"mdtrt_cert_type": request.cert_type, "mdtrt_cert_no": cert_no,
                "card_sn": card_sn, "begntime": desk.stamp(),
                "psn_cert_type": "01" if request.cert_type == "02" else "",
                "certno": cert_no if request.cert_type == "02" else "", "psn_name": name}
        try:
            answer = desk.link.call(desk.operator(request.operator), "1101", {"data": data},
                                    resend=True)
            base, insuinfo = answers.person(answer)  # checked before anything is kept
        except ClientError as error:
            return Outcome.refused(refusal_of(error))
        main = insuinfo[0] if insuinfo else {}
        balc = money(main.get("balc"))
        patient_id = self.store.save_patient({
            "psn_no": base["psn_no"], "psn_name": base.get("psn_name"),
            "certno": base.get("certno"), "psn_cert_type": base.get("psn_cert_type"),
            "gend": base.get("gend"), "brdy": base.get("brdy"), "naty": base.get("naty"),
            "insuplc_admdvs": main.get("insuplc_admdvs") or "", "cert_type": request.cert_type,
            "cert_no": cert_no, "card_sn": card_sn, "baseinfo": base, "insuinfo": insuinfo,
            "balc": balc, "identified_at": desk.stamp()})
        patient: dict[str, str | None] = {"patient_id": str(patient_id)}
        for key in ("psn_no", "psn_name", "certno", "psn_cert_type", "gend", "brdy", "naty",
                    "age"):
            value = base.get(key)
            patient[key] = None if value is None else str(value)
        patient["insuplc_admdvs"] = main.get("insuplc_admdvs") or ""
        insurance = [{**row, "balc": render(money(row.get("balc")))} for row in insuinfo]
        return Outcome.success(patient=patient, insurance=insurance, balc=render(balc))

    # -- register (2201) ---------------------------------------------------------------
    def register(self, request: RegisterInput) -> Outcome:
        desk = self.desk
        patient = desk.patient(request.patient_id)
        insuinfo = patient["insuinfo"] or []
        insutype = request.insutype or (str(insuinfo[0].get("insutype")) if insuinfo else "")
        if not insutype:
            raise DriverInputError("insutype", "the patient has no insurance row to default "
                                               "to; name the insutype")
        scheme: dict[str, Any] = next((row for row in insuinfo if row.get("insutype") == insutype), {})
        area = scheme.get("insuplc_admdvs") or patient["insuplc_admdvs"]
        now = desk.now()
        visit_id = f"MZ{now:%Y%m%d}{self.store.next_number('visit'):06d}"
        operator = desk.operator(request.operator)
        cert_no = patient["certno"] if patient["cert_type"] == "02" else patient["cert_no"]
        visit = {
            "visit_id": visit_id, "patient_id": patient["patient_id"],
            "psn_no": patient["psn_no"], "mdtrt_id": None, "insutype": insutype,
            "med_type": request.med_type, "insuplc_admdvs": area,
            "cert_type": patient["cert_type"], "cert_no": cert_no,
            "dept_code": request.dept_code, "dept_name": request.dept_name or request.dept_code,
            "doctor_code": request.doctor_code,
            "doctor_name": request.doctor_name or request.doctor_code,
            "caty": request.caty or request.dept_code[:6], "operator": operator,
            "diagnoses": [], "status": "registering", "batch_no": None, "cycle": 1,
            "registered_at": desk.stamp(), "reg_date": now.date().isoformat()}
        self.store.add_visit(visit)
        data = {"psn_no": patient["psn_no"], "insutype": insutype, "begntime": desk.stamp(),
                "mdtrt_cert_type": patient["cert_type"], "mdtrt_cert_no": cert_no,
                "ipt_otp_no": visit_id, "atddr_no": request.doctor_code,
                "dr_name": visit["doctor_name"], "dept_code": request.dept_code,
                "dept_name": visit["dept_name"], "caty": visit["caty"]}
        sent: list[Mapping[str, Any]] = []
        try:
            answer = desk.link.call(operator, "2201", {"data": data}, insuplc_admdvs=area,
                                    visit_id=visit_id, resend=True, sent=sent)
            mdtrt_id = answers.registration(answer)
        except ClientError as error:
            # perhaps registered there (no answer, or one that cannot be used): keep the 2201
            # to resolve — cancel, or day-end, sends it again and closes what it finds
            if error.effect_unknown and sent:
                self.store.update_visit(visit_id, status="register_unknown",
                                        register_envelope=dict(sent[-1]))
            else:
                self.store.update_visit(visit_id, status="refused")
            return Outcome.refused(refusal_of(error), visit=self.visit_view(visit_id))
        self.store.update_visit(visit_id, mdtrt_id=mdtrt_id, status="registered")
        return Outcome.success(visit=self.visit_view(visit_id))

    # -- charge (2203, 2204) -----------------------------------------------------------
    def charge(self, visit_id: str, request: ChargeInput) -> Outcome:
        desk = self.desk
        with desk.visit_lock(visit_id):
            visit = desk.visit(visit_id)
            items = self._check_items(request)
            diagnoses = self._check_diagnoses(request, visit)
            if visit["status"] not in OPEN_STATUSES:
                return self.wrong_state(visit, "收费", "be charged")
            operator = desk.operator(request.operator)
            if diagnoses != list(visit["diagnoses"] or []):
                refused = self._send_diagnoses(visit, diagnoses, operator)
                if refused is not None:
                    return refused
            batch = visit["batch_no"] or f"{visit_id}B{visit['cycle']}"
            first = 1 + max((line["line_no"] for line in self.store.lines(visit_id)), default=0)
            rows = [{"visit_id": visit_id, "line_no": first + n,
                     "feedetl_sn": f"{visit_id}{first + n:04d}", "chrg_bchno": batch,
                     "code": item.code, "name": hosp.name, "national_code": hosp.national_code,
                     "qty": item.qty, "price": hosp.price, "amount": amount, "days": item.days,
                     "status": "sending", "result": None}
                    for n, (item, hosp, amount) in enumerate(items)]
            codes = {item.code for item, _hosp, _amount in items}
            self.store.set_lines([line["id"] for line in self.store.lines(
                visit_id, statuses=("blocked",)) if line["code"] in codes], status="withdrawn")
            self.store.update_visit(visit_id, batch_no=batch)
            self.store.add_lines(rows)
            visit = self.desk.visit(visit_id)
            warnings = self.check_orders(visit, operator, request.override)
            new = {row["feedetl_sn"] for row in rows}
            if self.store.lines(visit_id, statuses=("sending",)):
                outcome = self.upload(visit, operator)
            else:  # every new line is blocked: saved, nothing to upload
                self.store.update_visit(visit_id, status="charged")
                outcome = Outcome.success(visit=self.visit_view(visit_id))
            shown = [line_json(line) for line in self.store.lines(visit_id)
                     if line["feedetl_sn"] in new]
            return Outcome(outcome.ok, {**outcome.body, "lines": shown, "warnings": warnings}
                           if outcome.ok else {**outcome.body, "warnings": warnings})

    # -- rule check (3101, 3102) -------------------------------------------------------
    def check_orders(self, visit: dict[str, Any], operator: str,
                     override: Override | None) -> list[dict[str, Any]]:
        """3101 for the visit's orders as saved (before they are uploaded); the lines still
        ``sending`` that a severe warning names become ``blocked`` — unless ``override``, which
        is recorded. Answers the warnings."""
        visit_id = visit["visit_id"]
        orders = self.store.lines(visit_id, statuses=("sending", "uploaded", "blocked"))
        warnings = self.rule_check(visit, "3101", operator, orders)
        severe = [w for w in warnings if w["sev_deg"] == SEVERE]
        named = {sn for w in severe for sn in w["lines"]}
        hit = [line for line in self.store.lines(visit_id, statuses=("sending",))
               if line["feedetl_sn"] in named]
        if not hit:
            return warnings
        if override is not None:
            self.record_override(visit_id, "charge", override,
                                 sorted({w["rule_id"] for w in severe}))
        else:
            self.store.set_lines([line["id"] for line in hit], status="blocked")
        return warnings

    def rule_check(self, visit: Mapping[str, Any], infno: str, operator: str,
                   orders: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Ask the insurer's rule library (``infno`` 3101 or 3102) about ``orders`` (the
        visit's lines); the warnings, kept in the HIS's store. A check that fails gives one
        warning, :data:`UNAVAILABLE` (``sev_deg`` 2, it never blocks)."""
        desk = self.desk
        visit_id = visit["visit_id"]
        if not orders:
            return []
        try:
            answer = desk.link.call(operator, infno, {"data": self.rule_check_data(visit, orders)},
                                    insuplc_admdvs=visit["insuplc_admdvs"], visit_id=visit_id)
            rows = answers.rule_results(answer)
        except ClientError as error:  # advice only: never resent, never blocks
            warnings = [{"rule_id": UNAVAILABLE, "rule_name": "规则审核不可用 / rule check "
                         "unavailable", "sev_deg": 2, "message": refusal_of(error).message,
                         "lines": [], "infno": infno}]
        else:
            warnings = [warning_of(row, infno) for row in rows]
        self.store.add_rule_check({"visit_id": visit_id, "infno": infno,
                                   "checked_at": desk.stamp(), "warnings": warnings})
        return warnings

    def rule_check_data(self, visit: Mapping[str, Any],
                        orders: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The ``data`` of 3101/3102 (fact sheet §3 "3101 / 3102"): the patient, the visit as
        an encounter with its diagnoses, and one order per line (``rx_id`` = the line's
        ``feedetl_sn``; amounts in yuan). No ``rule_ids``: the whole library is asked."""
        cfg = self.desk.config
        patient = self.store.patient(int(visit["patient_id"])) or {}
        names = cfg.items.diagnoses
        diagnoses = list(visit["diagnoses"] or [])
        day = str(visit["registered_at"] or self.desk.stamp())  # yyyy-MM-dd HH:mm:ss
        encounter = {
            "mdtrt_id": visit["mdtrt_id"], "medins_id": cfg.fixmedins_code,
            "medins_name": cfg.fixmedins_name, "medins_admdvs": cfg.mdtrtarea_admvs,
            "dscg_main_dise_codg": diagnoses[0] if diagnoses else "",
            "dscg_main_dise_name": names.get(diagnoses[0], "") if diagnoses else "",
            "fsi_diagnose_dtos": [{
                "dise_id": str(n), "inout_dise_type": "1", "maindise_flag": "1" if n == 1
                else "0", "dias_srt_no": str(n), "dise_codg": code,
                "dise_name": names.get(code, code), "dise_date": day}
                for n, code in enumerate(diagnoses, start=1)],
            "dr_codg": visit["doctor_code"], "med_type": visit["med_type"],
            "fsi_order_dtos": [{
                "rx_id": line["feedetl_sn"], "rxno": "", "hilist_code": line["national_code"],
                "hilist_name": line["name"], "cnt": line["qty"],
                "pric": line["price"], "sumamt": line["amount"],
                "prd_days": line["days"],
                "drord_dr_codg": visit["doctor_code"]} for line in orders],
            "medfee_sumamt": sum((line["amount"] for line in orders), ZERO),
            "insutype": visit["insutype"]}
        return {"syscode": "HIS", "patient_dtos": [{
            "patn_id": visit["psn_no"], "patn_name": patient.get("psn_name") or "",
            "gend": patient.get("gend") or None, "brdy": patient.get("brdy") or None,
            "poolarea": visit["insuplc_admdvs"], "curr_mdtrt_id": visit["mdtrt_id"],
            "fsi_encounter_dtos": [encounter]}]}

    def record_override(self, visit_id: str, operation: str, override: Override,
                        rule_ids: Sequence[str]) -> None:
        """Keep who went on past which severe rules, why, and when (the HIS's clock)."""
        self.store.add_override({"visit_id": visit_id, "operation": operation,
                                 "by": override.by, "reason": override.reason,
                                 "at": self.desk.stamp(), "rule_ids": list(rule_ids)})

    def upload(self, visit: dict[str, Any], operator: str) -> Outcome:
        """2204 for the visit's lines still ``sending``; on any failure the visit is closed at
        the insurer. Answers the uploaded lines and the visit."""
        desk = self.desk
        visit_id = visit["visit_id"]
        sending = self.store.lines(visit_id, statuses=("sending",))
        feedetail = [{
            "feedetl_sn": line["feedetl_sn"], "mdtrt_id": visit["mdtrt_id"],
            "psn_no": visit["psn_no"], "chrg_bchno": line["chrg_bchno"], "dise_codg": "",
            "rxno": "", "rx_circ_flag": "0", "fee_ocur_time": desk.stamp(),
            "med_list_codg": line["national_code"], "medins_list_codg": line["code"],
            "det_item_fee_sumamt": line["amount"], "cnt": line["qty"],
            "pric": line["price"], "prd_days": line["days"],
            "bilg_dept_codg": visit["dept_code"], "bilg_dept_name": visit["dept_name"],
            "bilg_dr_codg": visit["doctor_code"], "bilg_dr_name": visit["doctor_name"],
            "hosp_appr_flag": "0"} for line in sending]
        try:
            answer = desk.link.call(operator, "2204", {"feedetail": feedetail},
                                    insuplc_admdvs=visit["insuplc_admdvs"], visit_id=visit_id,
                                    resend=True)
            results = answers.fee_results(answer)  # an unusable one: as if no answer came
        except ClientError as error:
            status = ("unknown" if error.effect_unknown
                      else "cancelled" if unreachable(error) else "rejected")
            self.store.set_lines([line["id"] for line in sending], status=status)
            desk.after_failure(visit, operator, error)
            return Outcome.refused(refusal_of(error), visit=self.visit_view(visit_id))
        for line in sending:
            self.store.set_lines([line["id"]], status="uploaded",
                                 result=results.get(line["feedetl_sn"], {}))
        self.store.update_visit(visit_id, status="charged")
        ids = {line["id"] for line in sending}
        uploaded = [line_json(line) for line in self.store.lines(visit_id) if line["id"] in ids]
        return Outcome.success(lines=uploaded, visit=self.visit_view(visit_id))

    def _check_items(self, request: ChargeInput) -> list[tuple[ChargeItem, HospitalItem, Decimal]]:
        """Each item with the HIS's own item and the line's amount, before anything is sent or
        written: an item the HIS does not know, or an amount it cannot have, refuses the whole
        charge (the diagnoses are not sent either)."""
        table = self.desk.config.items
        found = []
        for index, item in enumerate(request.items):
            hosp = table.get(item.code)
            if hosp is None:
                raise DriverInputError(f"items[{index}].code",
                                       f"unknown hospital item code {item.code!r}")
            amount = line_amount(item.qty, hosp.price)
            if amount is None:
                raise DriverInputError(f"items[{index}].qty", (
                    f"{item.qty} × the price {hosp.price} of {item.code} is not an amount a "
                    f"line can have (0 to {MAX_MONEY} yuan)"))
            found.append((item, hosp, amount))
        return found

    def _check_diagnoses(self, request: ChargeInput, visit: dict[str, Any]) -> list[str]:
        known = self.desk.config.items.diagnoses
        for index, code in enumerate(request.diagnoses):
            if code not in known:
                raise DriverInputError(f"diagnoses[{index}]", f"unknown diagnosis code {code!r}")
        if request.diagnoses:
            return list(dict.fromkeys(request.diagnoses))
        current = list(visit["diagnoses"] or [])
        if not current:
            raise DriverInputError("diagnoses", "the first charge of a visit needs at least "
                                                "one diagnosis code")
        return current

    def _send_diagnoses(self, visit: dict[str, Any], diagnoses: list[str],
                        operator: str) -> Outcome | None:
        desk = self.desk
        names = desk.config.items.diagnoses
        stamp = desk.stamp()
        message = {
            "mdtrtinfo": {"mdtrt_id": visit["mdtrt_id"], "psn_no": visit["psn_no"],
                          "med_type": visit["med_type"], "begntime": visit["registered_at"],
                          "main_cond_dscr": "", "dise_codg": "", "dise_name": ""},
            "diseinfo": [{"diag_type": "1", "diag_srt_no": n, "diag_code": code,
                          "diag_name": names.get(code, code), "diag_dept": visit["dept_name"],
                          "dise_dor_no": visit["doctor_code"],
                          "dise_dor_name": visit["doctor_name"], "diag_time": stamp,
                          "vali_flag": "1"} for n, code in enumerate(diagnoses, start=1)]}
        try:
            desk.link.call(operator, "2203", message, insuplc_admdvs=visit["insuplc_admdvs"],
                           visit_id=visit["visit_id"], resend=True)
        except ClientError as error:
            desk.after_failure(visit, operator, error)
            return Outcome.refused(refusal_of(error), visit=self.visit_view(visit["visit_id"]))
        self.store.update_visit(visit["visit_id"], diagnoses=diagnoses)
        return None

    # -- cancel (2205, 2202) -----------------------------------------------------------
    def cancel(self, visit_id: str, request: VisitInput) -> Outcome:
        with self.desk.visit_lock(visit_id):
            visit = self.desk.visit(visit_id)
            if visit["status"] not in (*OPEN_STATUSES, "cancel_pending", "register_unknown"):
                return self.wrong_state(visit, "撤销", "be cancelled")
            status = self.desk.close_at_insurer(visit, self.desk.operator(request.operator))
            if status not in ("cancelled", "refused"):
                return Outcome.refused(his_refusal(
                    "insurer_unavailable", "医保中心无应答，挂号撤销将在日终重试 / the insurer "
                    "did not answer; day-end will cancel the registration"),
                    visit=self.visit_view(visit_id))
            self.store.set_lines([line["id"] for line in self.store.lines(
                visit_id, statuses=("blocked",))], status="cancelled")
            return Outcome.success(visit=self.visit_view(visit_id))

    # -- views ---------------------------------------------------------------------------
    def visit_view(self, visit_id: str) -> dict[str, Any]:
        visit = self.desk.visit(visit_id)
        shown = [line for line in self.store.lines(visit_id)
                 if line["status"] not in HIDDEN_LINES]
        checks = self.store.rule_checks(visit_id)
        return visit_json(visit, shown, checks[-1]["warnings"] if checks else (),
                          self.store.overrides(visit_id))

    def wrong_state(self, visit: dict[str, Any], zh: str, en: str) -> Outcome:
        """The refusal for an operation a visit's status does not allow."""
        visit_id, status = visit["visit_id"], visit["status"]
        return Outcome.refused(his_refusal(
            "visit_state", f"就诊{visit_id}状态为{status}，不能{zh} / visit {visit_id} is "
            f"{status}: it cannot {en}"), visit=self.visit_view(visit_id))

    def visit(self, visit_id: str) -> Outcome:
        return Outcome.success(visit=self.visit_view(visit_id))

    def bill(self, visit_id: str) -> Outcome:
        visit = self.desk.visit(visit_id)
        printed = [bill_json(bill) for bill in self.store.bills(visit_id)]
        current = next((b for b in reversed(printed)
                        if b["kind"] == "settlement" and b["setl_id"] == visit["setl_id"]
                        and visit["status"] == "settled"), None)
        return Outcome.success(bill=current, bills=printed, visit=self.visit_view(visit_id))

    def ledger(self, day: date | None = None) -> Outcome:
        rows = self.store.entries(setl_date=None if day is None else day.isoformat())
        shown = [entry_json(row) for row in rows]
        counted = [row for row in rows if row["status"] in ("settled", "cancelled", "refund")]
        totals = {"medfee_sumamt": render(sum((r["medfee_sumamt"] for r in counted), ZERO)),
                  "count": len(counted)}
        return Outcome.success(settlements=shown, totals=totals)
