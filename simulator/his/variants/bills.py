"""A variant that breaks split correctness on paper (DESIGN.md "The settlement split": person's
part = account + cash; reference README, settlement arithmetic).

- ``bill-ignores-account``: the printed bill's ``psn_cash_pay`` — and so what the patient is
  charged in cash — is ``medfee_sumamt − fund_pay_sumamt``, as if the personal account had paid
  nothing. When the account paid, the bill disagrees with the insurer's settlement and the
  patient pays the account's share twice. The HIS's ledger keeps the insurer's amounts.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from simulator.his.settlement import Settlements
from simulator.his.variants.base import VariantHis

__all__ = ["BillIgnoresAccountHis"]


class CashIsTotalLessFundSettlements(Settlements):
    """Defect: the bill's cash is the total less the fund, the account payment ignored."""

    def _print(self, visit: Mapping[str, Any], kind: str, info: Mapping[str, Any],
               amounts: Mapping[str, Decimal], shown: list[dict[str, Any]], setl_time: str,
               recovered: bool) -> dict[str, Any]:
        printed = dict(amounts)
        printed["psn_cash_pay"] = amounts["medfee_sumamt"] - amounts["fund_pay_sumamt"]
        return super()._print(visit, kind, info, printed, shown, setl_time, recovered)


class BillIgnoresAccountHis(VariantHis):
    variant_name = "bill-ignores-account"
    settlements_class = CashIsTotalLessFundSettlements
