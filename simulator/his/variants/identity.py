"""Variants that break data consistency: the identity the insurer receives is not exactly the
one it holds (DESIGN.md, field problem 1; fact sheet §3 1101: a ``psn_name``/``certno`` sent
alongside must equal the record exactly; the insurer's strict mode refuses ``x`` for ``X``,
full-width digits and padded spaces).

- ``typed-certno``: 1101 carries the certificate number exactly as typed.
- ``register-typed-identity``: 1101 is right, but the HIS keeps the typed number on the patient
  and 2201 carries it instead of the insurer's ``certno``.
- ``name-gbk``: names live in a GBK field of five characters; the cut name goes out on 1101.
"""

from __future__ import annotations

from simulator.his.cashier import Cashier, normalise_name
from simulator.his.operations import IdentifyInput, Outcome
from simulator.his.variants.base import VariantHis

__all__ = [
    "GBK_NAME_LENGTH",
    "GbkNameHis",
    "RegisterTypedIdentityHis",
    "TypedCertnoHis",
    "gbk_field",
]

GBK_NAME_LENGTH = 5
"""Characters in the name field of the (imagined) legacy patient table: ``VARCHAR2(10)`` in GBK
holds five Chinese characters of two bytes each."""


def gbk_field(name: str, length: int = GBK_NAME_LENGTH) -> str:
    """``name`` as a legacy GBK column keeps it: each character GBK cannot encode (CJK
    Extension B, e.g. 𪟝) becomes ``?``, and the text is cut to ``length`` characters."""
    kept = "".join(ch if _in_gbk(ch) else "?" for ch in name)
    return kept[:length]


def _in_gbk(ch: str) -> bool:
    try:
        ch.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


class TypedCertnoCashier(Cashier):
    """Defect: no NFKC, no trimming, no upper-casing — the number goes out as typed."""

    def certificate_as_sent(self, cert_type: str, typed: str) -> str:
        return typed


class TypedCertnoHis(VariantHis):
    variant_name = "typed-certno"
    cashier_class = TypedCertnoCashier


class RegisterTypedIdentityCashier(Cashier):
    """Defect: after a correct 1101 the patient's record keeps the number as it was typed
    (``cert_no``, and for an ID number also ``certno``), so 2201 carries the typed form."""

    def identify(self, request: IdentifyInput) -> Outcome:
        outcome = super().identify(request)
        if outcome.ok:
            typed: dict[str, str] = {"psn_no": str(outcome["patient"]["psn_no"]),
                                     "cert_no": request.cert_no}
            if request.cert_type == "02":
                typed["certno"] = request.cert_no
            self.store.save_patient(typed)
        return outcome


class RegisterTypedIdentityHis(VariantHis):
    variant_name = "register-typed-identity"
    cashier_class = RegisterTypedIdentityCashier


class GbkNameCashier(Cashier):
    """Defect: the name goes through a five-character GBK field — the typed name sent on 1101
    and the insurer's name kept on the patient (shown on the bill) are both cut."""

    def name_as_sent(self, typed: str) -> str:
        return gbk_field(normalise_name(typed))

    def identify(self, request: IdentifyInput) -> Outcome:
        outcome = super().identify(request)
        if not outcome.ok:
            return outcome
        patient = dict(outcome["patient"])
        kept = gbk_field(str(patient.get("psn_name") or ""))
        if kept == patient.get("psn_name"):
            return outcome
        self.store.save_patient({"psn_no": str(patient["psn_no"]), "psn_name": kept})
        patient["psn_name"] = kept
        body = {key: value for key, value in outcome.body.items() if key != "ok"}
        return Outcome.success(**{**body, "patient": patient})


class GbkNameHis(VariantHis):
    variant_name = "name-gbk"
    cashier_class = GbkNameCashier
