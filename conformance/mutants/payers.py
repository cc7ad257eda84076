"""A mutant that breaks the bill of a settlement several payers share (one-stop settlement;
DESIGN.md problem 5, docs/policy.md "Several payers").

- ``bill-drops-payers``: the bill and the refund slip print only the basic funds the HIS was
  built for (the pooled funds 310100/390100 and the personal account 310200): the lines of the
  supplementary payers of the 2207/2208 setldetail — serious illness, civil-servant subsidy,
  medical assistance, veterans' compensation, a commercial insurer — are left off, so the
  patient cannot see who paid what and the finance office cannot reconcile them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from simulator.his.settlement import Settlements
from simulator.his.variants import VariantHis

__all__ = ["BASIC_FUNDS", "BillDropsPayersHis"]

BASIC_FUNDS = frozenset({"310100", "390100", "310200"})
"""The fund_pay_types the broken HIS knows (fact sheet §4.1 fund_pay_type)."""


class DropsPayersSettlements(Settlements):
    """Defect: the bill keeps only the setldetail rows of the basic funds."""

    def _print(self, visit: Mapping[str, Any], kind: str, info: Mapping[str, Any],
               amounts: Mapping[str, Decimal], shown: list[dict[str, Any]], setl_time: str,
               recovered: bool) -> dict[str, Any]:
        rows = info.get("setldetail")
        if isinstance(rows, list):
            info = {**info, "setldetail": [r for r in rows
                                           if str(r.get("fund_pay_type")) in BASIC_FUNDS]}
        return super()._print(visit, kind, info, amounts, shown, setl_time, recovered)


class BillDropsPayersHis(VariantHis):
    variant_name = "bill-drops-payers"
    settlements_class = DropsPayersSettlements
