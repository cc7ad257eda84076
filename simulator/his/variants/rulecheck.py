"""A variant that skips the insurer's rule check (issue 10; fact sheet §3 "3101 / 3102";
docs/policy.md "Rule check (3101/3102)").

- ``ignores-rule-check``: never asks 3101 when orders are saved nor 3102 before settling, so
  it shows no warning, blocks nothing and needs no override: an over-prescribed line goes
  straight to 2204 and the insurer refuses it in real time — what the doctor could have
  corrected at the desk is refused at the window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulator.his.cashier import Cashier
from simulator.his.variants.base import VariantHis

__all__ = ["IgnoresRuleCheckHis"]


class NoRuleCheckCashier(Cashier):
    """Defect: the rule check is never asked (no warnings, nothing blocked)."""

    def rule_check(self, visit: Mapping[str, Any], infno: str, operator: str,
                   orders: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return []


class IgnoresRuleCheckHis(VariantHis):
    variant_name = "ignores-rule-check"
    cashier_class = NoRuleCheckCashier
