"""Typed views of ledger rows handed to the transaction handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["FeeRow", "Institution", "Person", "Settlement", "SignIn", "Visit"]


@dataclass(frozen=True, slots=True)
class Institution:
    fixmedins_code: str
    fixmedins_name: str
    tier: str  # community | 1 | 2 | 3
    admdvs: str
    credentials: dict[str, str]
    blacklisted: bool


@dataclass(frozen=True, slots=True)
class Person:
    psn_no: str
    psn_cert_type: str
    certno: str
    psn_name: str
    gend: str
    brdy: str  # YYYY-MM-DD
    naty: str
    insuplc_admdvs: str
    insuinfo: list[dict[str, Any]]
    maf_eligible: bool
    deceased: bool
    blacklisted: bool

    def scheme(self, insutype: str) -> dict[str, Any] | None:
        """The person's ``insuinfo`` row for one insurance type, if any."""
        return next((row for row in self.insuinfo if row.get("insutype") == insutype), None)


@dataclass(frozen=True, slots=True)
class SignIn:
    sign_no: str
    fixmedins_code: str
    opter_no: str
    biz_date: str
    valid: bool


@dataclass(frozen=True, slots=True)
class Visit:
    mdtrt_id: str
    psn_no: str
    fixmedins_code: str
    insutype: str
    ipt_otp_no: str
    mdtrt_cert_type: str
    mdtrt_cert_no: str
    begntime: str
    med_type: str | None
    dise_codg: str | None
    diagnoses: list[str]
    status: str  # open | cancelled


@dataclass(frozen=True, slots=True)
class FeeRow:
    id: int
    mdtrt_id: str
    feedetl_sn: str
    chrg_bchno: str
    psn_no: str
    dise_codg: str | None
    med_list_codg: str
    medins_list_codg: str
    cnt: Decimal
    pric: Decimal
    prd_days: Decimal | None
    det_item_fee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_amt: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    result: dict[str, Any]
    status: str  # uploaded | cancelled | settled
    setl_id: str | None


@dataclass(frozen=True, slots=True)
class Settlement:
    setl_id: str
    mdtrt_id: str
    psn_no: str
    fixmedins_code: str
    insutype: str
    med_type: str
    chrg_bchno: str
    clr_type: str
    clr_way: str
    clr_optins: str
    setl_time: str
    biz_date: str
    year: int
    refd_setl_flag: str
    orig_setl_id: str | None
    cancelled_by: str | None
    medins_setl_id: str
    made_by_infno: str
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal
    hosp_part_amt: Decimal
    setlinfo: dict[str, Any]
    setldetail: list[dict[str, Any]]
    counter_deltas: dict[str, Decimal] = field(default_factory=dict)
