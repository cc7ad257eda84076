"""Who is at the window: resolving a medical-treatment certificate (就诊凭证) to a person.

``mdtrt_cert_type`` 01 = e-certificate token, 02 = resident ID number, 03 = social-security card
number + ``card_sn`` (fact sheet §3, 1101). The insurer matches exactly what it holds: a HIS that
sends ``x`` for ``X``, full-width digits or padded spaces is refused in strict mode (that is the
data-consistency failure the harness exists to find); tolerant mode normalises and records a
deviation.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from mock_insurer.ledger import LedgerTx, Person
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions.context import Call
from mock_insurer.wire.envelope import Deviation

__all__ = [
    "INSUPLC_CHECKED",
    "Certificate",
    "insuplc_refusal",
    "insurance_refusal",
    "insured_place",
    "normalise_typed",
    "person_refusal",
    "resolve",
    "typed_key",
]

#: Transactions whose envelope ``insuplc_admdvs`` must be the person's insured place: the
#: registration and the (pre-)settlement of a visit, where it routes the split to the home
#: scheme. 2202-2205 only touch a visit already registered under the checked place, so they
#: are not checked again (no person look-up on the hot path of the fee upload).
INSUPLC_CHECKED = frozenset({"2201", "2206", "2207"})


@dataclass(frozen=True, slots=True)
class Certificate:
    cert_type: str  # 01 | 02 | 03
    cert_no: str
    card_sn: str | None = None


def normalise_typed(value: str) -> str:
    """What a tolerant center does with typed text: NFKC (full-width digits -> ASCII), strip
    spaces, upper-case a trailing x of an ID number."""
    text = unicodedata.normalize("NFKC", value).strip()
    if len(text) == 18 and text[-1] == "x":
        text = text[:-1] + "X"
    return text


def typed_key(call: Call, value: str, field: str) -> str:
    """A typed identifier as the insurer matches it: as sent in strict mode; normalised in
    tolerant mode, with a ``typed_value_normalised`` deviation when that changed it."""
    if call.strict:
        return value
    normal = normalise_typed(value)
    if normal != value:
        call.deviations.append(Deviation("typed_value_normalised", field,
                                         f"{value!r} read as {normal!r}"))
    return normal


def resolve(call: Call, tx: LedgerTx, cert: Certificate, *, where: str,
            check_card_sn: bool = True) -> Person | Refusal:
    """The person a certificate names, or why it names nobody usable."""
    if cert.cert_type == "01":
        owner = tx.ec_token_owner(cert.cert_no)
        if owner is None:
            return refuse("ec_token_invalid", f"{where}.mdtrt_cert_no")
        person = tx.person(owner)
    elif cert.cert_type == "02":
        certno = typed_key(call, cert.cert_no, f"{where}.mdtrt_cert_no")
        found = tx.persons_by_certno(certno)
        if not found:
            return refuse("person_not_found", f"{where}.mdtrt_cert_no",
                          what="身份证号码(须与医保登记完全一致，末位X大写)")
        person = found[0]
    elif cert.cert_type == "03":
        card_no = typed_key(call, cert.cert_no, f"{where}.mdtrt_cert_no")
        card = tx.card(card_no)
        if card is None:
            return refuse("card_not_found", f"{where}.mdtrt_cert_no", card_no=card_no)
        if check_card_sn:
            if not cert.card_sn:
                return refuse("card_sn_missing", f"{where}.card_sn")
            if cert.card_sn != card["card_sn"]:
                return refuse("card_sn_mismatch", f"{where}.card_sn")
        if card["status"] == "lost":
            return refuse("card_lost", f"{where}.mdtrt_cert_no", card_no=card_no)
        if card["status"] != "active":
            return refuse("card_replaced", f"{where}.mdtrt_cert_no", card_no=card_no)
        person = tx.person(card["psn_no"])
    else:
        return refuse("cert_type_unsupported", f"{where}.mdtrt_cert_type", value=cert.cert_type)
    if person is None:  # a card or token pointing at a removed person
        return refuse("person_not_found", f"{where}.mdtrt_cert_no", what="就诊凭证")
    if call.envelope.infno in INSUPLC_CHECKED:
        return insuplc_refusal(call, person) or person
    return person


def insured_place(person: Person, insutype: str | None = None) -> str:
    """The person's insured place (参保地医保区划, admdvs) for ``insutype`` as 1101 answers it
    (``insuinfo.insuplc_admdvs``), or the person's own when the scheme names none."""
    scheme = person.scheme(insutype) if insutype else None
    return str((scheme or {}).get("insuplc_admdvs") or person.insuplc_admdvs)


def insuplc_refusal(call: Call, person: Person) -> Refusal | None:
    """Refuse a non-empty envelope ``insuplc_admdvs`` that is none of the person's insured
    places (fact sheet §2.1: "obtained from 1101 insuinfo.insuplc_admdvs"). An empty one is the
    wire layer's concern (``missing_field``, or a deviation in tolerant mode)."""
    sent = call.envelope.insuplc_admdvs
    if not sent:
        return None
    held = [person.insuplc_admdvs, *(insured_place(person, str(s.get("insutype")))
                                     for s in person.insuinfo)]
    if sent in held:
        return None
    return refuse("insuplc_mismatch", "insuplc_admdvs", sent=sent, held=held[0])


def person_refusal(person: Person, *, where: str, settle: bool) -> Refusal | None:
    """Refusals that follow the person, whatever the certificate: deceased always; blacklisted
    when the message would lead to a settlement (registration onwards)."""
    if person.deceased:
        return refuse("person_deceased", f"{where}.psn_no")
    if settle and person.blacklisted:
        return refuse("person_blacklisted", f"{where}.psn_no")
    return None


def insurance_refusal(person: Person, insutype: str, *, where: str) -> Refusal | None:
    """Refuse unless the person holds ``insutype`` with status 1 (正常参保)."""
    scheme = person.scheme(insutype)
    if scheme is None:
        return refuse("not_insured", f"{where}.insutype", insutype=insutype)
    status = str(scheme.get("psn_insu_stas"))
    if status == "1":
        return None
    if status == "2":
        return refuse("insurance_suspended", f"{where}.insutype", insutype=insutype)
    if status == "4":
        return refuse("insurance_terminated", f"{where}.insutype", insutype=insutype)
    return refuse("insurance_invalid", f"{where}.insutype", insutype=insutype, stas=status)
