"""Mutants that break the settlement of patients insured elsewhere (异地就医直接结算; fact sheet
§2.1 ``insuplc_admdvs`` from 1101 ``insuinfo``; §3 3201 grouped by the settlement's
``clr_optins``).

- ``local-insuplc``: every message carries the hospital's own pool (its area's province code,
  ``mdtrtarea_admvs[:2] + "0000"``, as a HIS configured once at installation) as
  ``insuplc_admdvs``, for every patient — a HIS written for local patients only. Local patients
  settle; an out-of-area patient is refused at registration (``insuplc_mismatch``).
- ``dayend-one-group``: day-end lumps the day's settlements of every clearing institution into
  one 3201 per (insutype, clr_type), named with the hospital's own clearing institution; the
  out-of-area settlements are then "extra" to the center, and the detail comparison voids them
  in the HIS's ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mock_insurer.client import Answer
from simulator.his.dayend import DayEnd, Key, _Totals
from simulator.his.insurer import InsurerLink
from simulator.his.store import COUNTED
from simulator.his.variants import VariantHis

__all__ = ["DayEndOneGroupHis", "LocalInsuplcHis", "local_pool"]


def local_pool(area: str) -> str:
    """The hospital's own pool as a HIS configured for local patients only sends it."""
    return area[:2] + "0000"


class HospitalAreaLink(InsurerLink):
    """Defect: ``insuplc_admdvs`` is always the hospital's own pool."""

    def call(self, operator: str, infno: str, input: Mapping[str, Any], *,
             insuplc_admdvs: str | None = None, visit_id: str | None = None,
             before_send: Callable[[str], None] | None = None,
             resend: bool = False, sent: list[Mapping[str, Any]] | None = None) -> Answer:
        area = local_pool(self.config.mdtrtarea_admvs) if insuplc_admdvs else insuplc_admdvs
        return super().call(operator, infno, input, insuplc_admdvs=area, visit_id=visit_id,
                            before_send=before_send, resend=resend, sent=sent)


class LocalInsuplcHis(VariantHis):
    variant_name = "local-insuplc"
    link_class = HospitalAreaLink


class OneGroupDayEnd(DayEnd):
    """Defect: one 3201 group per (insutype, clr_type), whatever the clearing institution."""

    def _groups(self, day: str) -> dict[Key, _Totals]:
        lumped: dict[Key, _Totals] = {}
        local = local_pool(self.desk.config.mdtrtarea_admvs)
        for entry in self.store.entries(setl_date=day, statuses=COUNTED):
            key = (entry["insutype"] or "", entry["clr_type"] or "11", local)
            lumped.setdefault(key, _Totals()).add(entry)
        return lumped


class DayEndOneGroupHis(VariantHis):
    variant_name = "dayend-one-group"
    dayend_class = OneGroupDayEnd
