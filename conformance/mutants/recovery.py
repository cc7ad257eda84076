"""A mutant that breaks outage recovery (fact sheet §3 2601: a reversal names the original
message by ``omsgid`` and its transaction by ``oinfno``; §7: query, then reverse, then settle
again).

- ``bad-reversal``: 2601 reverses "the window's last message" — the ``omsgid`` is the msgid of
  the operator's previous message (after a lost 2207 answer that is the 5203 query just sent),
  with ``oinfno`` 2207. The insurer refuses it (``reversal_infno_mismatch``), the lost 2207 is
  never reversed, and a 2207 still on its way could take effect after the HIS settled again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mock_insurer.client import Answer, InsurerClient
from simulator.his.config import HisConfig
from simulator.his.insurer import InsurerLink
from simulator.his.store import HisStore
from simulator.his.variants import VariantHis

__all__ = ["BadReversalHis"]


class LastMessageReversalLink(InsurerLink):
    """Defect: a 2601's ``omsgid`` is replaced by the msgid of the operator's last message."""

    def __init__(self, config: HisConfig, store: HisStore) -> None:
        super().__init__(config, store)
        self._last_sent: dict[str, str] = {}

    def call(self, operator: str, infno: str, input: Mapping[str, Any], *,
             insuplc_admdvs: str | None = None, visit_id: str | None = None,
             before_send: Callable[[str], None] | None = None,
             resend: bool = False, sent: list[Mapping[str, Any]] | None = None) -> Answer:
        last = self._last_sent.get(operator)
        if infno == "2601" and last:
            input = {**input, "data": {**input["data"], "omsgid": last}}
        return super().call(operator, infno, input, insuplc_admdvs=insuplc_admdvs,
                            visit_id=visit_id, before_send=before_send, resend=resend,
                            sent=sent)

    def _send(self, operator: str, client: InsurerClient, envelope: Mapping[str, Any],
              visit_id: str | None, resend: bool) -> Answer:
        try:
            return super()._send(operator, client, envelope, visit_id, resend)
        finally:
            self._last_sent[operator] = str(envelope["msgid"])


class BadReversalHis(VariantHis):
    variant_name = "bad-reversal"
    link_class = LastMessageReversalLink
