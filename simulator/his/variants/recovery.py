"""Variants that break outage recovery: what a HIS does when the answer to 2207 is lost
(timeout, connection dropped, 5xx, garbage — the SDK's ``effect`` ``unknown``). The reference
asks 5203, else reverses with 2601, and only then settles once more (reference README rule 7;
docs/faults.md "What a HIS should do about each").

- ``blind-resend``: assumes the settlement failed and does what a cashier's retry does — the
  details again (2205 ``0000``, then 2204 as a new batch) and 2207 under a new msgid — without
  5203 or 2601. When the lost one had been committed, the visit is settled twice. (A center
  refuses a second 2207 on a batch already settled, so a resend of the bare 2207 would only be
  refused; the re-upload is how a double settlement happens in the field.)
- ``forget-lost``: deletes the pending row and tells the cashier the settlement failed,
  cancelling nothing and asking nothing; its day-end does not learn a settlement only the
  center has. The center's settlement is missing from the HIS's ledger; day-end stays
  unbalanced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_insurer.client import ClientError
from simulator.his.dayend import DayEnd
from simulator.his.desk import his_refusal
from simulator.his.operations import Outcome, SettleInput
from simulator.his.settlement import Resolution, Settlements, _Sent
from simulator.his.variants.base import VariantHis

__all__ = ["BlindResendHis", "ForgetLostHis"]


class BlindResendSettlements(Settlements):
    """Defect: a lost 2207 answer is taken for a failure and the settlement is sent again."""

    def recover(self, entry: Mapping[str, Any], operator: str) -> Resolution:
        if entry["infno"] != "2207":
            return super().recover(entry, operator)
        # nothing asked (no 5203), nothing reversed (no 2601): assumed never to have counted
        self.store.update_entry(entry["id"], status="void",
                                note="no answer to 2207: assumed failed, sent again")
        return Resolution("reversed")

    def _send(self, visit: Mapping[str, Any], infno: str, message: Mapping[str, Any],
              operator: str, *, refd: str, orig: str | None) -> _Sent:
        sent = super()._send(visit, infno, message, operator, refd=refd, orig=orig)
        if infno != "2207" or sent.kind != "reversed":
            return sent
        again = self._upload_again(visit, operator)
        if again is None:
            return sent
        data = {**message["data"], "chrg_bchno": again["batch_no"]}
        return super()._send(again, infno, {"data": data}, operator, refd=refd, orig=orig)

    def _upload_again(self, visit: Mapping[str, Any], operator: str) -> dict[str, Any] | None:
        """The cashier's retry: cancel what is unsettled (2205 ``0000``), upload the visit's
        lines again as a new batch (2204). The visit as it is then, or None when it failed."""
        desk = self.desk
        visit_id = visit["visit_id"]
        try:
            desk.link.call(operator, "2205", {"data": {
                "mdtrt_id": visit["mdtrt_id"], "chrg_bchno": "0000", "psn_no": visit["psn_no"],
                "exp_content": ""}}, insuplc_admdvs=visit["insuplc_admdvs"], visit_id=visit_id,
                resend=True)
        except ClientError:
            return None
        old = self.store.lines(visit_id, statuses=("uploaded",), batch=visit["batch_no"])
        cycle = int(visit["cycle"]) + 1
        batch = f"{visit_id}B{cycle}"
        first = 1 + max((line["line_no"] for line in self.store.lines(visit_id)), default=0)
        self.store.set_lines([line["id"] for line in old], status="superseded")
        self.store.add_lines([{
            "visit_id": visit_id, "line_no": first + n, "feedetl_sn": f"{visit_id}{first + n:04d}",
            "chrg_bchno": batch, "code": line["code"], "name": line["name"],
            "national_code": line["national_code"], "qty": line["qty"], "price": line["price"],
            "amount": line["amount"], "days": line["days"], "status": "sending",
            "result": None} for n, line in enumerate(old)])
        self.store.update_visit(visit_id, cycle=cycle, batch_no=batch)
        if not self.cashier.upload(desk.visit(visit_id), operator).ok:
            return None
        self.store.update_visit(visit_id, status="settling")
        return desk.visit(visit_id)


class BlindResendHis(VariantHis):
    variant_name = "blind-resend"
    settlements_class = BlindResendSettlements


class ForgetLostSettlements(Settlements):
    """Defect: a lost 2207 answer deletes the pending row; the cashier is told it failed."""

    def recover(self, entry: Mapping[str, Any], operator: str) -> Resolution:
        if entry["infno"] != "2207":
            return super().recover(entry, operator)
        self.store.delete_entry(entry["id"])  # forgotten: nothing asked, nothing cancelled
        return Resolution("unresolved")

    def settle(self, visit_id: str, request: SettleInput) -> Outcome:
        with self.desk.visit_lock(visit_id):
            outcome = super().settle(visit_id, request)
            refusal = outcome.refusal
            if (refusal is None or refusal.code != "settlement_unknown"
                    or self.store.entries(visit_id=visit_id, statuses=("pending",))):
                return outcome
            self.store.update_visit(visit_id, status="charged")
            return Outcome.refused(his_refusal(
                "settlement_failed", "结算失败，请重新结算或按自费结算 / the settlement failed; "
                "settle again or charge the patient in full"),
                visit=self.cashier.visit_view(visit_id))


class IgnoreCenterOnlyDayEnd(DayEnd):
    """Defect: a settlement the center has and the HIS does not (3202 result ``1``) is listed
    as ``ignored`` — neither learned nor reversed."""

    def _correct(self, row: dict[str, str], operator: str, optins: str) -> dict[str, Any]:
        if row["stmt_rslt"] != "1":
            return super()._correct(row, operator, optins)
        seen = {key: row[key] for key in ("setl_id", "mdtrt_id", "psn_no", "msgid",
                                          "stmt_rslt", "memo")}
        return {**seen, "action": "ignored"}


class ForgetLostHis(VariantHis):
    variant_name = "forget-lost"
    settlements_class = ForgetLostSettlements
    dayend_class = IgnoreCenterOnlyDayEnd
