"""How a reference HIS is set up: the insurer it talks to, the institution it is, its database,
its item table, its clock and its recovery policy — and the insurer's settlement portal.

Times: ``clock`` is the HIS's own wall clock (China time, naive). It stamps msgids, ``inf_time``,
registration and fee times, and decides the day of a sign-in. Settlement dates in the HIS's
ledger are the insurer's (``setl_time`` as answered), so that day-end totals use the same day as
the center. ``timeout`` is in seconds (wall clock), per wait for the insurer.

``portal_url`` and ``portal_token``: the insurer's settlement portal, where the hospital's
insurance office declares the month's claims and reads the review and the payments (in the
field a web portal of the insurer; here the mock insurer's admin API, ``/admin/declarations``
and ``/admin/payments``, with its bearer token). Empty ``portal_url``: the HIS has no portal and
the declaration operations answer ``portal_not_configured``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from mock_insurer.client import Auth
from simulator.his.catalogue import ItemTable

__all__ = ["CenterOnlyPolicy", "HisConfig", "admdvs_of"]

CenterOnlyPolicy = Literal["learn", "reverse"]
"""What day-end does with a settlement the center has and the HIS lost: ``learn`` it (query
5203 and record it, the default: the patient was served and the money moved) or ``reverse`` it
(2601 by its msgid, same business day only)."""


def admdvs_of(fixmedins_code: str) -> str:
    """The district of an institution from its code (``H`` + district (6) + serial;
    docs/generator.md, "Institutions"), or ``""`` when the code has another shape."""
    district = fixmedins_code[1:7]
    return district if len(district) == 6 and district.isdigit() else ""


@dataclass(frozen=True, slots=True)
class HisConfig:
    """Everything a :class:`simulator.his.app.ReferenceHis` needs, passed in."""

    insurer_url: str
    fixmedins_code: str
    fixmedins_name: str
    mdtrtarea_admvs: str
    db_url: str
    items: ItemTable
    clock: Callable[[], datetime]
    timeout: float = 10.0
    auth: Auth | None = None
    name: str = "cardsettle reference HIS"
    default_operator: str = "C01"
    operator_names: tuple[tuple[str, str], ...] = ()
    mac: str = "00-00-00-00-00-00"
    ip: str = "127.0.0.1"
    center_only: CenterOnlyPolicy = "learn"
    resends: int = 1
    portal_url: str = ""
    portal_token: str = ""

    def operator_name(self, operator: str) -> str:
        """The name put into envelopes for ``operator`` (the code itself when unknown)."""
        return dict(self.operator_names).get(operator, operator)
