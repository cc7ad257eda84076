"""Mutants that break split correctness: what the patient is charged, and the total the HIS
declares against the details it uploaded (DESIGN.md "The settlement split"; fact sheet §4:
2206/2207 ``medfee_sumamt`` must equal the uploaded details, each ``det_item_fee_sumamt`` =
``cnt`` × ``pric``; a center refuses ``medfee_mismatch`` otherwise).

- ``charges-total``: the bill's amounts are the insurer's, but the till charges the patient the
  whole ``medfee_sumamt`` in cash (``charged.cash``), nothing from the account — as for a
  self-paying patient: the fund's share is paid twice.
- ``rounds-per-item``: each line goes out rounded to the cent, but ``medfee_sumamt`` is the
  rounded sum of the unrounded line amounts (``cnt`` × ``pric`` to 4 places): with two or more
  lines whose amounts end in half a cent the totals differ and the insurer refuses.
- ``medfee-mismatch``: ``medfee_sumamt`` is the total of the lines on the visit's screen —
  including lines already refunded or cancelled — not of the batch uploaded: after a partial
  refund the re-settlement of the kept items is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mock_insurer.money import ZERO, round_money
from simulator.his.settlement import Settlements
from simulator.his.variants import VariantHis

__all__ = ["ChargesTotalHis", "MedfeeMismatchHis", "RoundsPerItemHis"]

_FOUR_PLACES = Decimal("0.0001")


class ChargesTotalSettlements(Settlements):
    """Defect: the patient is charged the visit's total in cash."""

    def charged(self, kind: str, amounts: Mapping[str, Decimal]) -> dict[str, Decimal]:
        if kind != "settlement":
            return super().charged(kind, amounts)
        return {"cash": amounts["medfee_sumamt"], "account": ZERO}


class ChargesTotalHis(VariantHis):
    variant_name = "charges-total"
    settlements_class = ChargesTotalSettlements


class RoundsTheSumSettlements(Settlements):
    """Defect: ``medfee_sumamt`` = round(Σ cnt × pric to 4 places), not Σ of the lines sent."""

    def _settle_input(self, visit: Mapping[str, Any], acct_used: bool) -> dict[str, Any]:
        message = super()._settle_input(visit, acct_used)
        lines = self.store.lines(visit["visit_id"], statuses=("uploaded",),
                                 batch=visit["batch_no"])
        exact = sum(((line["qty"] * line["price"]).quantize(_FOUR_PLACES) for line in lines),
                    ZERO)
        message["data"]["medfee_sumamt"] = round_money(exact)
        return message


class RoundsPerItemHis(VariantHis):
    variant_name = "rounds-per-item"
    settlements_class = RoundsTheSumSettlements


class ScreenTotalSettlements(Settlements):
    """Defect: ``medfee_sumamt`` sums every line the visit shows (refunded and cancelled
    ones too), not the lines of the batch being settled."""

    def _settle_input(self, visit: Mapping[str, Any], acct_used: bool) -> dict[str, Any]:
        message = super()._settle_input(visit, acct_used)
        shown = [line for line in self.store.lines(visit["visit_id"])
                 if line["status"] != "superseded"]
        message["data"]["medfee_sumamt"] = sum((line["amount"] for line in shown), ZERO)
        return message


class MedfeeMismatchHis(VariantHis):
    variant_name = "medfee-mismatch"
    settlements_class = ScreenTotalSettlements
