"""Mutants that break day-end reconciliation (fact sheet §3 3201: the day's totals by insutype,
clearing type and clearing institution — every settlement and every cancellation row — must
equal the center's).

- ``dayend-skips-refunds``: 3201's totals are summed from the settlement rows only; the day's
  refund (cancellation) rows are left out. On a day with a refund the totals and the count
  differ, and the detail comparison (3202, whose file is right) finds nothing to correct:
  day-end stays unbalanced.
- ``dayend-wrong-field``: 3201's ``acct_pay`` is the day's cash total (``psn_cash_pay``), not
  the account total: unbalanced on a day where account and cash payments differ.
"""

from __future__ import annotations

from simulator.his.dayend import DayEnd, Key, _Totals
from simulator.his.variants import VariantHis

__all__ = ["DayEndSkipsRefundsHis", "DayEndWrongFieldHis"]


class SettlementsOnlyDayEnd(DayEnd):
    """Defect: the 3201 totals leave out the ledger's refund rows."""

    def _groups(self, day: str) -> dict[Key, _Totals]:
        totals: dict[Key, _Totals] = {}
        for entry in self.store.entries(setl_date=day, statuses=("settled", "cancelled")):
            key = (entry["insutype"] or "", entry["clr_type"] or "11", entry["clr_optins"] or "")
            totals.setdefault(key, _Totals()).add(entry)
        for visit in self.store.visits(reg_date=day):
            if visit["mdtrt_id"]:
                totals.setdefault((visit["insutype"], "11", visit["insuplc_admdvs"] or ""),
                                  _Totals())
        return totals


class DayEndSkipsRefundsHis(VariantHis):
    variant_name = "dayend-skips-refunds"
    dayend_class = SettlementsOnlyDayEnd


class CashAsAccountDayEnd(DayEnd):
    """Defect: the account total sent is the cash total."""

    def _groups(self, day: str) -> dict[Key, _Totals]:
        totals = super()._groups(day)
        for group in totals.values():
            group.acct = group.cash
        return totals


class DayEndWrongFieldHis(VariantHis):
    variant_name = "dayend-wrong-field"
    dayend_class = CashAsAccountDayEnd
