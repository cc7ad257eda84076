"""The per-row split (明细分割) of one uploaded fee line: the amounts of a 2204 ``result`` row.

Arithmetic (shared/reference/README.md, "Settlement arithmetic"; fact sheet §4.2), money in
yuan, rounded half-up to the cent at exactly three points marked ``R1``-``R3`` below::

    det       = round(cnt × pric)                                   R1
    overlmt   = round(max(0, pric − pric_uplmt_amt) × cnt)          R2   (0 when no cap)
    fulamt    = det − overlmt  if 丙类 or out of scope,  else 0
    preselfpay= round((det − fulamt − overlmt) × selfpay_prop)      R3
    inscp     = det − fulamt − overlmt − preselfpay

So ``fulamt + overlmt + preselfpay + inscp = det`` exactly, and every part is >= 0 when
``cnt`` and ``pric`` are. 丙类 and out-of-scope rows report ``selfpay_prop`` 1 (as the
national samples do for 丙类).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mock_insurer.money import ZERO, render, round_money
from mock_insurer.policy.catalogue import CatalogueEntry

__all__ = ["FULL_SELFPAY_PROP", "FeeLine", "RowSplit", "split_row"]

#: ``selfpay_prop`` reported on a row that is entirely self-paid.
FULL_SELFPAY_PROP = Decimal("1.0000")


@dataclass(frozen=True, slots=True)
class FeeLine:
    """One uploaded 2204 row, already type-checked by the gateway.

    ``cnt`` (数量) and ``pric`` (单价, yuan) are >= 0; ``prd_days`` (周期天数) is the number of
    days the line supplies, or None when the HIS did not say."""

    feedetl_sn: str
    med_list_codg: str
    cnt: Decimal
    pric: Decimal
    prd_days: Decimal | None
    hosp_appr_flag: str


@dataclass(frozen=True, slots=True)
class RowSplit:
    """The amounts of a 2204 ``result`` row (yuan); ``memo`` says why a row is self-paid."""

    feedetl_sn: str
    det_item_fee_sumamt: Decimal
    cnt: Decimal
    pric: Decimal
    pric_uplmt_amt: Decimal
    selfpay_prop: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_amt: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    chrgitm_lv: str
    med_chrgitm_type: str
    lmt_used_flag: str
    memo: str


def split_row(
    line: FeeLine, item: CatalogueEntry, *, in_scope: bool = True, memo: str = ""
) -> RowSplit:
    """Split one fee line into full self-pay, over-limit, first self-pay and in-scope amounts.

    ``in_scope=False`` (an indication limit not met, see :func:`check_line`) makes the row full
    self-pay like a 丙类 item; ``memo`` is carried into the row's ``memo``.
    """
    det = round_money(line.cnt * line.pric)  # R1
    overlmt = ZERO
    if item.has_price_cap and line.pric > item.pric_uplmt_amt:
        overlmt = round_money((line.pric - item.pric_uplmt_amt) * line.cnt)  # R2
    notes = [memo] if memo else []
    all_self_pay = item.chrgitm_lv == "03" or not in_scope
    if all_self_pay:
        # all full self-pay (fact sheet §4.2: fulamt = det); a price cap changes nothing the
        # patient pays, so it is noted in memo, not split out as over-limit
        fulamt, overlmt_noted, overlmt = det, overlmt, ZERO
        selfpay_prop = FULL_SELFPAY_PROP
        if item.chrgitm_lv == "03":
            notes.insert(0, "丙类项目，全自费")
    else:
        fulamt, overlmt_noted = ZERO, overlmt
        selfpay_prop = item.selfpay_prop
    if overlmt_noted > 0:
        over = f"单价{_price_text(line.pric)}超过限价{_price_text(item.pric_uplmt_amt)}"
        notes.append(over if all_self_pay else f"{over}，超限价{render(overlmt_noted)}自费")
    preselfpay = round_money((det - fulamt - overlmt) * selfpay_prop)  # R3
    inscp = det - fulamt - overlmt - preselfpay
    return RowSplit(
        feedetl_sn=line.feedetl_sn,
        det_item_fee_sumamt=det,
        cnt=line.cnt,
        pric=line.pric,
        pric_uplmt_amt=item.pric_uplmt_amt,
        selfpay_prop=selfpay_prop,
        fulamt_ownpay_amt=fulamt,
        overlmt_amt=overlmt,
        preselfpay_amt=preselfpay,
        inscp_scp_amt=inscp,
        chrgitm_lv=item.chrgitm_lv,
        med_chrgitm_type=item.med_chrgitm_type,
        lmt_used_flag=item.lmt_used_flag,
        memo="；".join(notes),
    )


def _price_text(price: Decimal) -> str:
    """A unit price as sent (up to six places, fact sheet §2.1), at least two: ``10.005``,
    ``10.00`` — never rounded to the cent, or 10.005 over a cap of 10.00 would read 10.01."""
    text = format(price.normalize(), "f")
    whole, _, places = text.partition(".")
    return f"{whole}.{places.ljust(2, '0')}"
