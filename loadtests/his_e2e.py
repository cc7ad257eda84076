"""Locustfile: end-to-end load through a HIS's driver API (docs/his-driver.md).

Each locust user is a cashier window driving the HIS (``--host`` = the HIS's driver API,
``http://HOST:PORT``) with :class:`~simulator.his.driver.HttpHisDriver` on locust's session:
identify → register → charge → pre-settle → settle, each step named (``settle``) and timed
by locust, and the whole visit timed as ``visit`` (wall-clock ms). The mix (:data:`MIX`): a
paid visit, a refused card (the refusal expected), a paid visit refunded at once (``refund``).
A driver answer ``"ok": false`` is a failure unless expected. Persons and the hospital's item
codes come from the insurer's data (:mod:`loadtests.data`, ``CARDSETTLE_LOAD_DATA``); the
institution is the one the HIS says it is (``GET /his/v1/info``).
"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from typing import Any

from locust import HttpUser, events, task
from locust.env import Environment

from loadtests.data import shared_data
from loadtests.glue import LoadShape, add_arguments, final_stats, pacing
from loadtests.samples import record_samples
from loadtests.sessions import JudgedSession, VisitTimer, driver_verdict
from simulator.his.driver import HttpHisDriver
from simulator.his.errors import DriverError
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    IdentifyInput,
    Outcome,
    RefundInput,
    RegisterInput,
    SettleInput,
)

__all__ = ["MIX", "HisWindow", "LoadShape"]

MIX = {"visit": 87, "refused": 5, "refund": 8}
"""Relative weights of what a patient at the window does (a working assumption)."""

_windows = itertools.count()


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    add_arguments(parser)


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    record_samples(environment, names=("settle", "visit"))
    final_stats(environment)




class RefusedOutcome(Exception):
    """A step answered ``ok: false`` where the visit cannot go on (already a failure)."""


class HisWindow(HttpUser):
    """One cashier window driving the HIS (see the module docstring)."""

    wait_time = pacing()

    def on_start(self) -> None:
        index = next(_windows)
        offset = int(getattr(self.environment.runner, "worker_index", 0) or 0)
        self.rng = random.Random(f"his:{offset}:{index}")
        self.data = shared_data()
        self.session = JudgedSession(self.host or "", self.environment, self, driver_verdict)
        self.client = self.session
        self.his = HttpHisDriver(self.host or "", session=self.session, timeout=60.0)
        self.operator = f"L{index:04d}"
        self.visits = VisitTimer(self.environment)
        with self.session.step("info"):
            info = self.his.info()
        code = str((info.body.get("institution") or {}).get("fixmedins_code", ""))
        if code not in self.data.items:
            raise DriverError(f"the HIS is institution {code!r}, which has no mapped items in "
                              "the load test's data (CARDSETTLE_LOAD_DATA)")
        self.code = code

    def step(self, name: str, send: Any, *, expect_refusal: bool = False) -> Outcome:
        with self.session.step(name, expect_refusal=expect_refusal):
            outcome: Outcome = send()
        if not outcome.ok and not expect_refusal:
            raise RefusedOutcome(name)
        return outcome

    @task
    def patient(self) -> None:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        try:
            with self.visits.timing():
                self.visit(kind)
        except (RefusedOutcome, DriverError):
            pass  # already counted as a failed request and a failed visit

    def visit(self, kind: str) -> None:
        if kind == "refused":
            card_no, card_sn = self.data.refused_card(self.rng)
            self.step("identify", lambda: self.his.identify(IdentifyInput(
                "03", card_no, card_sn, operator=self.operator)), expect_refusal=True)
            return
        card = self.data.person(self.rng)["cards"][-1]
        patient = self.step("identify", lambda: self.his.identify(IdentifyInput(
            "03", card["card_no"], card["card_sn"], operator=self.operator)))
        patient_id = str(patient.body["patient"]["patient_id"])
        visit = self.step("register", lambda: self.his.register(RegisterInput(
            patient_id, "A03", "D0001", dept_name="内科", doctor_name="李医生",
            operator=self.operator)))
        visit_id = str(visit.body["visit"]["visit_id"])
        items = tuple(ChargeItem(item.hospital_code, Decimal(1))
                      for item in self.data.prescription(self.code, self.rng))
        self.step("charge", lambda: self.his.charge(visit_id, ChargeInput(
            items, diagnoses=("J06.900",), operator=self.operator)))
        settle = SettleInput(acct_used=True, operator=self.operator)
        self.step("pre-settle", lambda: self.his.pre_settle(visit_id, settle))
        self.step("settle", lambda: self.his.settle(visit_id, settle))
        if kind == "refund":
            self.step("refund", lambda: self.his.refund(visit_id, RefundInput(
                operator=self.operator)))
