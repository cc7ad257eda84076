"""Mutants that break refunds (fact sheet §4: a refund is 2208, which cancels the whole
settlement, then 2205 for its details; reference README "Refund": the items the patient keeps
are uploaded again and settled anew, 2206 → 2207, with the new pre-settlement's amounts).

- ``refund-without-2208``: a refund never sends 2208. The HIS sends 2205 for the settled batch
  (the insurer refuses: ``details_settled``), ignores the refusal and books the cancellation in
  its own ledger (the settlement ``cancelled``, a refund row with the negated amounts under a
  ``setl_id`` of its own, ``R`` + the settlement's), prints a slip from that and settles the
  kept items again. The insurer's settlement stays in effect (for a partial refund the kept
  items are then settled twice there); day-end voids the HIS's refund row.
- ``stale-resettle``: after a partial refund the kept items are pre-settled again (2206), but
  the 2207 carries the four amounts of the visit's first settlement (``fulamt_ownpay_amt``,
  ``overlmt_selfpay``, ``preselfpay_amt``, ``inscp_scp_amt``): stale, so the insurer refuses
  it (``amounts_mismatch``) and the kept items stay unsettled.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from mock_insurer.client import ClientError
from mock_insurer.money import ZERO
from simulator.his.operations import Outcome
from simulator.his.settlement import Settlements, _Sent
from simulator.his.store import LEDGER_MONEY
from simulator.his.variants import VariantHis
from simulator.his.views import amounts_of

__all__ = ["STALE_KEYS", "RefundWithout2208His", "StaleResettleHis"]

STALE_KEYS = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
"""The amounts a 2207 carries from its pre-settlement (the insurer checks them)."""


class BooksOnlyRefundSettlements(Settlements):
    """Defect: no 2208 — a refused 2205, and the refund booked in the HIS only."""

    def _refund(self, visit: dict[str, Any], entry: Mapping[str, Any],
                settled: list[dict[str, Any]], remaining: list[dict[str, Any]],
                acct_used: bool, operator: str) -> Outcome:
        desk = self.desk
        visit_id = visit["visit_id"]
        sent: list[Mapping[str, Any]] = []
        # refused (the details are settled): booked as refunded all the same
        with contextlib.suppress(ClientError):
            desk.link.call(operator, "2205", {"data": {
                "mdtrt_id": visit["mdtrt_id"], "chrg_bchno": visit["batch_no"],
                "psn_no": visit["psn_no"], "exp_content": ""}},
                insuplc_admdvs=visit["insuplc_admdvs"], visit_id=visit_id, resend=True,
                sent=sent)
        msgid = str(sent[-1]["msgid"]) if sent else f"{entry['msgid']}R"
        slip = self._book(visit, entry, settled, msgid)
        kept = {line["id"] for line in remaining}
        for line in settled:
            self.store.set_lines([line["id"]], status="superseded" if line["id"] in kept
                                 else "refunded")
        self.store.update_visit(visit_id, status="charged", setl_id=None, batch_no=None)
        if not remaining:
            self.store.update_visit(visit_id, status="refunded")
            return Outcome.success(refund=slip, bill=None,
                                   visit=self.cashier.visit_view(visit_id))
        return self._settle_rest(desk.visit(visit_id), remaining, slip, acct_used, operator)

    def _book(self, visit: Mapping[str, Any], entry: Mapping[str, Any],
              settled: list[dict[str, Any]], msgid: str) -> dict[str, Any]:
        """The HIS's own refund row (the settlement negated) and its slip."""
        stamp = self.desk.stamp()
        own_id = f"R{entry['setl_id']}"
        self.store.update_entry(entry["id"], status="cancelled")
        self.store.add_entry({
            "msgid": msgid, "infno": "2205", "visit_id": visit["visit_id"],
            "mdtrt_id": visit["mdtrt_id"], "psn_no": visit["psn_no"], "setl_id": own_id,
            "orig_setl_id": entry["setl_id"], "refd_setl_flag": "1",
            "insutype": entry["insutype"], "clr_type": entry["clr_type"],
            "clr_optins": entry["clr_optins"], "setl_time": stamp, "setl_date": stamp[:10],
            "status": "refund", "setlinfo": {}, "created_at": stamp,
            "note": "refund booked by the HIS (no 2208 sent)",
            **{key: -(entry[key] or ZERO) for key in LEDGER_MONEY}})
        amounts = {key: -value for key, value in amounts_of(entry["setlinfo"] or {}).items()}
        return self._print(visit, "refund", {"setl_id": own_id}, amounts, settled, stamp, False)


class RefundWithout2208His(VariantHis):
    variant_name = "refund-without-2208"
    settlements_class = BooksOnlyRefundSettlements


class StaleResettleSettlements(Settlements):
    """Defect: a re-settlement's 2207 carries the first settlement's pre-settled amounts."""

    def _send(self, visit: Mapping[str, Any], infno: str, message: Mapping[str, Any],
              operator: str, *, refd: str, orig: str | None) -> _Sent:
        if infno == "2207":
            first = [e for e in self.store.entries(visit_id=visit["visit_id"],
                                                   statuses=("cancelled",))
                     if e["infno"] == "2207"]
            if first:
                stale = amounts_of(first[0]["setlinfo"] or {})
                message = {"data": {**message["data"],
                                    **{key: stale[key] for key in STALE_KEYS}}}
        return super()._send(visit, infno, message, operator, refd=refd, orig=orig)


class StaleResettleHis(VariantHis):
    variant_name = "stale-resettle"
    settlements_class = StaleResettleSettlements
