"""Variants that break rejection handling (DESIGN.md "Rejections"; reference README rules 2-4):

- ``orphan-on-refusal``: a refusal inside a visit closes the visit in the HIS only; its
  registration and uploaded details stay open at the insurer (no 2205, no 2202).
- ``no-signin-renewal``: a refusal for a stale sign-in is shown to the cashier as it is; the
  operator is never signed in again that day, so every later message is refused too
  (fact sheet §5: the refusal text names 签到/9001; the national specification gives no code).
"""

from __future__ import annotations

from typing import Any

from mock_insurer.client import Answer, ClientError, InsurerClient, InsurerRefusal
from simulator.his.desk import Desk
from simulator.his.insurer import InsurerLink, signin_refused
from simulator.his.variants.base import VariantHis

__all__ = ["NoSigninRenewalHis", "OrphanOnRefusalHis"]


class OrphanDesk(Desk):
    """Defect: after an insurer refusal the visit is marked cancelled locally and nothing is
    cancelled at the insurer. A step whose effect is unknown is still closed as the reference
    closes it (the variant breaks refusals only)."""

    def after_failure(self, visit: dict[str, Any], operator: str, error: ClientError) -> None:
        if not (isinstance(error, InsurerRefusal) and error.effect == "none"):
            super().after_failure(visit, operator, error)
            return
        visit_id = visit["visit_id"]
        unsettled = self.store.lines(visit_id, statuses=("sending", "uploaded", "unknown"))
        self.store.set_lines([line["id"] for line in unsettled], status="cancelled")
        self.store.update_visit(visit_id, status="cancelled", batch_no=None)


class OrphanOnRefusalHis(VariantHis):
    variant_name = "orphan-on-refusal"
    desk_class = OrphanDesk


class NoRenewalLink(InsurerLink):
    """Defect: when the insurer refuses a message for a stale sign-in, the renewal is skipped
    and the refusal goes to the caller as it came; the stale ``sign_no`` is kept for the day.
    (The first sign-in of an operator's day is made as the reference makes it.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_error: dict[str, ClientError] = {}

    def _send(self, operator: str, *args: Any, **kwargs: Any) -> Answer:
        try:
            return super()._send(operator, *args, **kwargs)
        except ClientError as error:
            self._last_error[operator] = error  # one call at a time per operator (its lock)
            raise

    def _sign_in(self, operator: str, client: InsurerClient, day: str) -> None:
        refused = self._last_error.pop(operator, None)
        if refused is not None and signin_refused(refused):
            raise refused  # a renewal: not made
        super()._sign_in(operator, client, day)


class NoSigninRenewalHis(VariantHis):
    variant_name = "no-signin-renewal"
    link_class = NoRenewalLink
