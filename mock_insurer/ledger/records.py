"""Typed views of ledger rows handed to the transaction handlers, how rows become them, and
the JSON of the ledger's text columns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy.engine import RowMapping

from mock_insurer.money import parse_decimal

__all__ = [
    "FeeRow",
    "Institution",
    "Person",
    "Settlement",
    "SignIn",
    "Visit",
    "dump_json",
    "fee_row",
    "institution_of",
    "load_json",
    "person_of",
    "settlement_of",
]

_DECODER = json.JSONDecoder(parse_float=Decimal)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dump_json(value: Any) -> str:
    """JSON text for a ledger column; Decimal as a JSON number written exactly as it is."""
    return orjson.dumps(value, default=_default).decode()


def load_json(text: str | bytes) -> Any:
    """Parse a ledger column's JSON; non-integer numbers come back as Decimal."""
    return _DECODER.decode(text if isinstance(text, str) else text.decode("utf-8"))


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


def institution_of(row: RowMapping) -> Institution:
    """An institution from its row (credentials: JSON text)."""
    return Institution(row["fixmedins_code"], row["fixmedins_name"], row["tier"], row["admdvs"],
                       dict(load_json(row["credentials"])), bool(row["blacklisted"]))


def person_of(row: Sequence[Any]) -> Person:
    """A person from the columns of ``statements.PERSON_COLUMNS``."""
    return Person(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                  list(load_json(row[8])), row[9], row[10], row[11])


def fee_row(row: Sequence[Any]) -> FeeRow:
    """A fee-detail row from the columns of ``statements.FEE_COLUMNS``."""
    return FeeRow(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
        parse_decimal(row[8]), parse_decimal(row[9]),
        parse_decimal(row[10]) if row[10] else None,
        row[11], row[12], row[13], row[14], row[15], dict(load_json(row[16])),
        row[17], row[18])


def settlement_of(row: Sequence[Any]) -> Settlement:
    """A settlement from the columns of ``statements.SETTLEMENT_COLUMNS``."""
    deltas = {k: parse_decimal(v) for k, v in load_json(row[25]).items()}
    return Settlement(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
        row[10], row[11], row[12], row[13], row[14], row[15], row[16], row[17], row[18],
        row[19], row[20], row[21], row[22], dict(load_json(row[23])),
        list(load_json(row[24])), deltas)
