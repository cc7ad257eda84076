"""1101 person information (人员信息获取), fact sheet §3.

Answers ``baseinfo``, ``insuinfo`` (one row per scheme, the personal-account balance ``balc`` on
the person's main scheme), ``idetinfo``. A ``psn_name`` / ``certno`` sent alongside the
certificate must equal the insurer's record exactly (reference README, business rule 1).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mock_insurer.ledger import LedgerTx, Person
from mock_insurer.money import ZERO
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions.context import Answered, Call, Outcome
from mock_insurer.transactions.identity import Certificate, person_refusal, resolve, typed_key

__all__ = ["age_on", "handle_1101", "insuinfo_rows"]

CERT_TYPES = ("01", "02", "03")


def age_on(brdy: str, day: date) -> int:
    """Full years of age on ``day`` (birthday counted on the day itself)."""
    born = date.fromisoformat(brdy)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def insuinfo_rows(person: Person, balc: Any) -> list[dict[str, Any]]:
    rows = []
    for index, scheme in enumerate(person.insuinfo):
        rows.append({
            "balc": balc if index == 0 else ZERO,
            "insutype": scheme.get("insutype"),
            "psn_type": scheme.get("psn_type"),
            "psn_insu_stas": scheme.get("psn_insu_stas"),
            "psn_insu_date": scheme.get("psn_insu_date"),
            "paus_insu_date": scheme.get("paus_insu_date"),
            "cvlserv_flag": scheme.get("cvlserv_flag") or "0",
            "insuplc_admdvs": scheme.get("insuplc_admdvs") or person.insuplc_admdvs,
            "emp_name": scheme.get("emp_name") or "",
        })
    return rows


def _identity_mismatch(person: Person, name: str | None, certno: str | None) -> Refusal | None:
    if name is not None and name != person.psn_name:
        return refuse("identity_mismatch", "data.psn_name", field="姓名", held=person.psn_name)
    if certno is not None and certno != person.certno:
        return refuse("identity_mismatch", "data.certno", field="证件号码", held=person.certno)
    return None


def handle_1101(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("data")
    cert_type = r.code("mdtrt_cert_type", CERT_TYPES)
    cert_no = r.text("mdtrt_cert_no", max_len=50)
    card_sn = r.text("card_sn", max_len=50, required=False)
    r.datetime("begntime", required=False)
    r.text("psn_cert_type", max_len=6, required=False)
    certno = r.text("certno", max_len=50, required=False)
    psn_name = r.text("psn_name", max_len=50, required=False)
    if r.problem:
        return r.problem
    found = resolve(call, tx, Certificate(cert_type, cert_no, card_sn), where="data")
    if isinstance(found, Refusal):
        return found
    person = found
    if certno is not None:  # the same normalisation as the certificate's (tolerant mode)
        certno = typed_key(call, certno, "data.certno")
    problem = _identity_mismatch(person, psn_name, certno) or person_refusal(
        person, where="data", settle=False)
    if problem:
        return problem
    balc = tx.balance(person.psn_no)
    output = {
        "baseinfo": {
            "psn_no": person.psn_no,
            "psn_cert_type": person.psn_cert_type,
            "certno": person.certno,
            "psn_name": person.psn_name,
            "gend": person.gend,
            "naty": person.naty,
            "brdy": person.brdy,
            "age": age_on(person.brdy, call.now.date()),
            "exp_content": "",
        },
        "insuinfo": insuinfo_rows(person, balc),
        "idetinfo": [],
    }
    return Answered(output, psn_no=person.psn_no)
