"""A mutant that breaks message identity (national interface, msgid rule: institution code (12)
+ ``yyyyMMddHHmmss`` (14) + a 4-digit sequence, one message per msgid; fact sheet §2, §7).

- ``reuses-msgid``: the msgids of a visit's messages are the institution code, the visit's
  registration time and the visit's own message counter; the counter lives on the visit's
  settlement record, which a refund (2208) starts afresh. The messages after a refund reuse the
  msgids of the visit's first messages with other bodies, and the insurer refuses them
  (``duplicate_msgid``). Two visits registered in the same second collide the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from mock_insurer.client import Answer, InsurerClient
from mock_insurer.wire.msgid import MsgidFactory
from simulator.his.config import HisConfig
from simulator.his.insurer import InsurerLink
from simulator.his.store import HisStore
from simulator.his.variants import VariantHis

__all__ = ["ReusesMsgidHis", "VisitMsgids"]


class VisitMsgids(MsgidFactory):
    """Defect: inside a visit's call the msgid is ``code + registration time + counter``; the
    counter restarts at 0001 when :meth:`restart` is called. Messages outside a visit (1101,
    9001, day-end) get the reference's msgids."""

    def __init__(self, fixmedins_code: str, clock: Callable[[], datetime], start: int,
                 store: HisStore) -> None:
        super().__init__(fixmedins_code, clock, start=start)
        self._store = store
        self._counters: dict[str, int] = {}
        self._guard = threading.Lock()
        self.context = threading.local()

    def new(self) -> str:
        visit_id = getattr(self.context, "visit_id", None)
        visit = self._store.visit(visit_id) if visit_id else None
        if visit is None or not visit["registered_at"]:
            return super().new()
        with self._guard:
            number = self._counters.get(visit_id or "", 0) + 1
            self._counters[visit_id or ""] = number
        stamp = "".join(ch for ch in str(visit["registered_at"]) if ch.isdigit())
        return f"{self.fixmedins_code}{stamp}{number % 10_000:04d}"

    __call__ = new

    def restart(self, visit_id: str) -> None:
        with self._guard:
            self._counters.pop(visit_id, None)


class PerVisitMsgidLink(InsurerLink):
    """Draws a visit's msgids from :class:`VisitMsgids`; a 2208 that is answered restarts the
    visit's counter."""

    def __init__(self, config: HisConfig, store: HisStore) -> None:
        super().__init__(config, store)
        self._visit_msgids = VisitMsgids(config.fixmedins_code, config.clock,
                                         store.next_number("msgid_block") * 500 % 10_000, store)
        self._msgids = self._visit_msgids  # before any client is made: they all share it

    def call(self, operator: str, infno: str, input: Mapping[str, Any], *,
             insuplc_admdvs: str | None = None, visit_id: str | None = None,
             before_send: Callable[[str], None] | None = None,
             resend: bool = False, sent: list[Mapping[str, Any]] | None = None) -> Answer:
        context = self._visit_msgids.context
        outer = getattr(context, "visit_id", None)
        context.visit_id = visit_id
        try:
            answer = super().call(operator, infno, input, insuplc_admdvs=insuplc_admdvs,
                                  visit_id=visit_id, before_send=before_send, resend=resend,
                                  sent=sent)
        finally:
            context.visit_id = outer
        if infno == "2208" and visit_id:
            self._visit_msgids.restart(visit_id)
        return answer

    def _sign_in(self, operator: str, client: InsurerClient, day: str) -> None:
        context = self._visit_msgids.context
        outer = getattr(context, "visit_id", None)
        context.visit_id = None  # a sign-in is no message of the visit
        try:
            super()._sign_in(operator, client, day)
        finally:
            context.visit_id = outer


class ReusesMsgidHis(VariantHis):
    variant_name = "reuses-msgid"
    link_class = PerVisitMsgidLink
