"""A variant that breaks day-end reconciliation (fact sheet §3 3201/3202; reference README rule
8: on a mismatch, 3202 via 9101/9102, correct the HIS's ledger, 3201 again).

- ``dayend-no-correction``: 3201 finds the mismatch and the answer reports it, but no detail
  file is uploaded (no 9101/3202/9102) and nothing is corrected: ``balanced`` stays false where
  the reference HIS would have balanced.
"""

from __future__ import annotations

from typing import Any

from simulator.his.dayend import DayEnd
from simulator.his.variants.base import VariantHis

__all__ = ["DayEndNoCorrectionHis"]


class ReportOnlyDayEnd(DayEnd):
    """Defect: the detail comparison and the corrections are skipped."""

    def _detail(self, day: str, clr_type: str, optins: str,
                operator: str) -> list[dict[str, Any]]:
        return []


class DayEndNoCorrectionHis(VariantHis):
    variant_name = "dayend-no-correction"
    dayend_class = ReportOnlyDayEnd
