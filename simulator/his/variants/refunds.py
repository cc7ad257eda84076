"""A variant that breaks refunds (reference README "Refund": 2208 → 2205 → the remaining items
uploaded again → 2206/2207; DESIGN.md outpatient flow).

- ``refund-drops-rest``: a partial refund cancels the settlement (2208) and the details (2205)
  but never uploads and settles the items the patient keeps. The insurer holds no settlement
  for them and the registration stays open; the HIS prints no new bill.
"""

from __future__ import annotations

from typing import Any

from mock_insurer.client import ClientError
from simulator.his.desk import refusal_of
from simulator.his.operations import Outcome
from simulator.his.settlement import Settlements
from simulator.his.variants.base import VariantHis

__all__ = ["RefundDropsRestHis"]


class DropRestSettlements(Settlements):
    """Defect: after 2208 and 2205 the refund is considered done."""

    def _settle_rest(self, visit: dict[str, Any], remaining: list[dict[str, Any]],
                     slip: dict[str, Any], acct_used: bool, operator: str) -> Outcome:
        desk = self.desk
        visit_id = visit["visit_id"]
        try:
            desk.link.call(operator, "2205", {"data": {
                "mdtrt_id": visit["mdtrt_id"], "chrg_bchno": "0000", "psn_no": visit["psn_no"],
                "exp_content": ""}}, insuplc_admdvs=visit["insuplc_admdvs"], visit_id=visit_id,
                resend=True)
        except ClientError as error:
            return Outcome.refused(refusal_of(error), refund=slip,
                                   visit=self.cashier.visit_view(visit_id))
        self.store.update_visit(visit_id, status="refunded")
        return Outcome.success(refund=slip, bill=None, visit=self.cashier.visit_view(visit_id))


class RefundDropsRestHis(VariantHis):
    variant_name = "refund-drops-rest"
    settlements_class = DropRestSettlements
