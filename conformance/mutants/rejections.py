"""Mutants that break rejection handling (DESIGN.md "Rejections", problem 2: a refused visit
ends without a settlement and without a bill, and the cashier sees the insurer's reason).

- ``bill-despite-refusal``: when 2207 is refused the HIS prints a bill from the 2206 estimate
  anyway and answers ok; the visit shows as settled. (It still cancels the visit's details and
  registration at the insurer, as the reference does.)
- ``hides-refusal-reason``: every insurer refusal reaches the cashier as one generic text
  ("the insurance transaction failed") instead of the insurer's ``err_msg``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from mock_insurer.client import Answer
from simulator.his.config import HisConfig
from simulator.his.insurer import InsurerLink
from simulator.his.operations import (
    ChargeInput,
    DayEndInput,
    IdentifyInput,
    Outcome,
    RefundInput,
    RegisterInput,
    SettleInput,
    VisitInput,
)
from simulator.his.settlement import Settlements
from simulator.his.store import HisStore
from simulator.his.variants import VariantHis
from simulator.his.views import amounts_of

__all__ = ["GENERIC_REFUSAL", "BillDespiteRefusalHis", "HidesRefusalReasonHis"]

GENERIC_REFUSAL = "医保交易失败，请联系信息科 / the insurance transaction failed; call the IT desk"
"""What ``hides-refusal-reason`` shows for every insurer refusal."""


class EstimateKeepingLink(InsurerLink):
    """Keeps each visit's last 2206 answer (``setlinfo``) for the bill of a refused 2207."""

    def __init__(self, config: HisConfig, store: HisStore) -> None:
        super().__init__(config, store)
        self.estimates: dict[str, dict[str, Any]] = {}

    def call(self, operator: str, infno: str, input: Mapping[str, Any], *,
             insuplc_admdvs: str | None = None, visit_id: str | None = None,
             before_send: Callable[[str], None] | None = None,
             resend: bool = False, sent: list[Mapping[str, Any]] | None = None) -> Answer:
        answer = super().call(operator, infno, input, insuplc_admdvs=insuplc_admdvs,
                              visit_id=visit_id, before_send=before_send, resend=resend,
                              sent=sent)
        if infno == "2206" and visit_id:
            self.estimates[visit_id] = dict(answer.output.get("setlinfo") or {})
        return answer


class BillFromEstimateSettlements(Settlements):
    """Defect: a refused 2207 is answered with a bill printed from the 2206 estimate."""

    def _settle_batch(self, visit: dict[str, Any], acct_used: bool, operator: str) -> Outcome:
        outcome = super()._settle_batch(visit, acct_used, operator)
        refusal = outcome.refusal
        link = self.desk.link
        if (outcome.ok or refusal is None or refusal.source != "insurer"
                or refusal.infno != "2207" or not isinstance(link, EstimateKeepingLink)):
            return outcome
        visit_id = visit["visit_id"]
        estimate = link.estimates.pop(visit_id, None)
        if estimate is None:
            return outcome
        lines = self.store.lines(visit_id, batch=visit["batch_no"])
        self.store.set_lines([line["id"] for line in lines], status="settled")
        setl_id = str(estimate.get("setl_id") or "")
        self.store.update_visit(visit_id, status="settled", setl_id=setl_id,
                                batch_no=visit["batch_no"])
        bill = self._print(visit, "settlement", estimate, amounts_of(estimate),
                           self.store.lines(visit_id, statuses=("settled",)),
                           self.desk.stamp(), False)
        return Outcome.success(bill=bill, visit=self.cashier.visit_view(visit_id))


class BillDespiteRefusalHis(VariantHis):
    variant_name = "bill-despite-refusal"
    link_class = EstimateKeepingLink
    settlements_class = BillFromEstimateSettlements


def _screen(outcome: Outcome) -> Outcome:
    refusal = outcome.refusal
    if refusal is None or refusal.source != "insurer":
        return outcome
    hidden = dataclasses.replace(refusal, message=GENERIC_REFUSAL)
    return Outcome(False, {**outcome.body, "refusal": hidden.to_json()})


class HidesRefusalReasonHis(VariantHis):
    """Defect: the window's screen replaces the insurer's ``err_msg`` with one generic text
    (every operation; the refusal's code, infno and msgid are kept)."""

    variant_name = "hides-refusal-reason"

    def identify(self, request: IdentifyInput) -> Outcome:
        return _screen(super().identify(request))

    def register(self, request: RegisterInput) -> Outcome:
        return _screen(super().register(request))

    def charge(self, visit_id: str, request: ChargeInput) -> Outcome:
        return _screen(super().charge(visit_id, request))

    def pre_settle(self, visit_id: str, request: SettleInput) -> Outcome:
        return _screen(super().pre_settle(visit_id, request))

    def settle(self, visit_id: str, request: SettleInput) -> Outcome:
        return _screen(super().settle(visit_id, request))

    def refund(self, visit_id: str, request: RefundInput) -> Outcome:
        return _screen(super().refund(visit_id, request))

    def cancel(self, visit_id: str, request: VisitInput) -> Outcome:
        return _screen(super().cancel(visit_id, request))

    def day_end(self, request: DayEndInput) -> Outcome:
        return _screen(super().day_end(request))
