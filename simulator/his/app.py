"""The reference HIS assembled: database, insurer link, cashier, settlements, day-end, behind
the :class:`~simulator.his.driver.HisDriver` operations.

>>> his = ReferenceHis(config)                      # doctest: +SKIP
>>> outcome = his.identify(IdentifyInput("03", "A00000001", card_sn="110100D156..."))
"""

from __future__ import annotations

import threading
from datetime import date
from importlib import metadata
from typing import ClassVar

from simulator.his.cashier import Cashier
from simulator.his.config import HisConfig
from simulator.his.dayend import DayEnd
from simulator.his.desk import Desk
from simulator.his.driver import HisDriver
from simulator.his.insurer import InsurerLink
from simulator.his.operations import (
    API_VERSION,
    ChargeInput,
    DayEndInput,
    DeclareInput,
    IdentifyInput,
    Outcome,
    RefundInput,
    RegisterInput,
    SettleInput,
    VisitInput,
)
from simulator.his.receivables import Receivables
from simulator.his.settlement import Settlements
from simulator.his.store import HisStore

__all__ = ["ReferenceHis", "his_version"]


def his_version() -> str:
    """The installed cardsettle version (the reference HIS's version)."""
    try:
        return metadata.version("cardsettle")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


class ReferenceHis(HisDriver):
    """An outpatient charging system that integrates correctly (docs/reference-his.md).
    Thread-safe: one operation at a time per visit, one insurer call at a time per operator,
    one day-end at a time.

    Its parts are built from the classes below; a subclass may swap one for a subclass of its
    own (the deliberately broken variants of :mod:`simulator.his.variants` do)."""

    link_class: ClassVar[type[InsurerLink]] = InsurerLink
    desk_class: ClassVar[type[Desk]] = Desk
    cashier_class: ClassVar[type[Cashier]] = Cashier
    settlements_class: ClassVar[type[Settlements]] = Settlements
    dayend_class: ClassVar[type[DayEnd]] = DayEnd
    receivables_class: ClassVar[type[Receivables]] = Receivables

    def __init__(self, config: HisConfig) -> None:
        self.config = config
        self.store = HisStore(config.db_url)
        self.link = self.link_class(config, self.store)
        self.desk = self.desk_class(config, self.store, self.link)
        self.cashier = self.cashier_class(self.desk)
        self.settlements = self.settlements_class(self.desk, self.cashier)
        self.dayend = self.dayend_class(self.desk, self.settlements)
        self._dayend_lock = threading.Lock()
        self.finance = self.receivables_class(self.desk)
        self._finance_lock = threading.Lock()

    def info(self) -> Outcome:
        cfg = self.config
        return Outcome.success(
            name=cfg.name, version=his_version(), api_version=API_VERSION,
            institution={"fixmedins_code": cfg.fixmedins_code,
                         "fixmedins_name": cfg.fixmedins_name,
                         "admdvs": cfg.mdtrtarea_admvs},
            insurer_url=cfg.insurer_url, items=len(cfg.items.items))

    def identify(self, request: IdentifyInput) -> Outcome:
        return self.cashier.identify(request)

    def register(self, request: RegisterInput) -> Outcome:
        return self.cashier.register(request)

    def charge(self, visit_id: str, request: ChargeInput) -> Outcome:
        return self.cashier.charge(visit_id, request)

    def pre_settle(self, visit_id: str, request: SettleInput) -> Outcome:
        return self.settlements.pre_settle(visit_id, request)

    def settle(self, visit_id: str, request: SettleInput) -> Outcome:
        return self.settlements.settle(visit_id, request)

    def refund(self, visit_id: str, request: RefundInput) -> Outcome:
        return self.settlements.refund(visit_id, request)

    def cancel(self, visit_id: str, request: VisitInput) -> Outcome:
        return self.cashier.cancel(visit_id, request)

    def visit(self, visit_id: str) -> Outcome:
        return self.cashier.visit(visit_id)

    def bill(self, visit_id: str) -> Outcome:
        return self.cashier.bill(visit_id)

    def day_end(self, request: DayEndInput) -> Outcome:
        with self._dayend_lock:
            return self.dayend.run(request)

    def ledger(self, day: date | None = None) -> Outcome:
        return self.cashier.ledger(day)

    def declare(self, request: DeclareInput) -> Outcome:
        with self._finance_lock:
            return self.finance.declare(request.period, request.force, request.operator)

    def collect_payments(self) -> Outcome:
        with self._finance_lock:
            return self.finance.collect_payments()

    def receivables(self, period: str | None = None) -> Outcome:
        with self._finance_lock:
            return self.finance.receivables(period)

    def close(self) -> None:
        self.link.close()
        self.store.close()
