"""A mutant that declares the month without checking it (DECL-001): the declaration's totals
are taken from the HIS's ledger as they are, with no 3201 over the month first — so a month
in which the HIS lost a settlement the center has (or holds one the center does not) is
declared with totals that differ from the uploaded ones, and the insurer refuses the excess
(a ``declaration`` deduction) or the hospital under-claims.
"""

from __future__ import annotations

from typing import Any

from simulator.his.receivables import Receivables
from simulator.his.variants import VariantHis

__all__ = ["DeclaresWithoutCheckHis"]


class UncheckedReceivables(Receivables):
    """Defect: no 3201 before declaring (every group is taken as balanced)."""

    def check(self, period: str, operator: str) -> list[dict[str, Any]]:
        return []


class DeclaresWithoutCheckHis(VariantHis):
    variant_name = "declares-without-check"
    receivables_class = UncheckedReceivables
