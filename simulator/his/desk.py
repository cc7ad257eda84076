"""The cashier's desk: what every operation of the reference HIS shares — its configuration,
database and insurer link, a lock per visit, the translation of the SDK's errors into what the
cashier sees, and closing a visit at the insurer so that nothing is left orphaned."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from mock_insurer.client import ClientError, GatewayError, InsurerRefusal
from simulator.his import answers
from simulator.his.config import HisConfig
from simulator.his.errors import UnknownRecord
from simulator.his.insurer import InsurerLink
from simulator.his.operations import Refusal
from simulator.his.store import HisStore

__all__ = ["OPEN_STATUSES", "Desk", "his_refusal", "refusal_of", "unreachable"]

OPEN_STATUSES = ("registered", "charged")
"""Visit statuses in which items may be charged."""


def his_refusal(code: str, message: str) -> Refusal:
    """A refusal the HIS itself gives (``message`` in Chinese / English, for the cashier)."""
    return Refusal(code, message, "his")


def unreachable(error: ClientError) -> bool:
    """The insurer was not reached (no connection, or its gateway turned the request away):
    nothing happened there."""
    return error.effect == "none" and not isinstance(error, InsurerRefusal)


def refusal_of(error: ClientError) -> Refusal:
    """What the cashier sees for an SDK error: the insurer's ``err_msg`` as it came when the
    insurer refused; ``insurer_answer_unusable`` naming the field for an answer the HIS cannot
    use (:class:`~simulator.his.answers.AnswerUnusable`); the HIS's own words when the insurer
    could not be reached or did not answer."""
    if isinstance(error, answers.AnswerUnusable):
        return answers.unusable_refusal(error)
    if isinstance(error, InsurerRefusal) and error.effect == "none":
        return Refusal("insurer_refused", error.err_msg, "insurer", error.infno, error.msgid)
    if isinstance(error, GatewayError) and error.effect == "none":
        return Refusal("insurer_gateway",
                       f"医保网关拒绝请求(HTTP {error.status})，请联系信息科 / the insurer's "
                       f"gateway refused the request (HTTP {error.status})", "his",
                       error.infno, error.msgid)
    if error.effect_unknown:
        return Refusal("insurer_no_answer",
                       f"医保中心无应答({error.infno})，请稍后重试 / no answer from the insurer "
                       f"to {error.infno}", "his", error.infno, error.msgid)
    return Refusal("insurer_unavailable",
                   "医保中心连接失败，请稍后重试或按自费结算 / cannot reach the insurer; try "
                   "again later or charge the patient in full", "his", error.infno, error.msgid)


class Desk:
    """Shared by the operations (thread-safe)."""

    def __init__(self, config: HisConfig, store: HisStore, link: InsurerLink) -> None:
        self.config = config
        self.store = store
        self.link = link
        # a lock lives while a call holds it: the table keeps no entry for a visit nobody is
        # working on, so that calls naming unknown (or any number of) visit ids leave nothing
        self._locks: weakref.WeakValueDictionary[str, threading.RLock] = (
            weakref.WeakValueDictionary())
        self._guard = threading.Lock()

    def now(self) -> datetime:
        return self.config.clock().replace(tzinfo=None)

    def stamp(self) -> str:
        """The HIS's time now, ``yyyy-MM-dd HH:mm:ss``."""
        return self.now().strftime("%Y-%m-%d %H:%M:%S")

    def operator(self, given: str) -> str:
        return given or self.config.default_operator

    @contextmanager
    def visit_lock(self, visit_id: str) -> Iterator[None]:
        """One operation at a time on a visit. The lock is shared by every call under way on
        ``visit_id`` and dropped when the last of them ends (weakly held)."""
        with self._guard:
            lock = self._locks.get(visit_id)
            if lock is None:
                lock = threading.RLock()
                self._locks[visit_id] = lock
        with lock:
            yield

    def visit(self, visit_id: str) -> dict[str, Any]:
        found = self.store.visit(visit_id)
        if found is None:
            raise UnknownRecord("visit_id", f"no visit {visit_id!r} in this HIS")
        return found

    def patient(self, patient_id: str) -> dict[str, Any]:
        # this HIS's ids are ASCII digits within SQLite's integer range; anything else
        # ("１７", "²", 30 digits) is an id it never gave: 404, not a crash
        known = patient_id.isascii() and patient_id.isdigit() and len(patient_id) <= 18
        found = self.store.patient(int(patient_id)) if known else None
        if found is None:
            raise UnknownRecord("patient_id", f"no patient {patient_id!r} in this HIS "
                                              "(identify the patient first)")
        return found

    def after_failure(self, visit: dict[str, Any], operator: str, error: ClientError) -> None:
        """What a failed step inside a visit leaves: an insurer refusal, or a step whose
        effect is unknown, closes the visit at the insurer (no orphans); an insurer that could
        not be reached at all changed nothing, so the visit stays as it was for a retry."""
        if unreachable(error):
            return
        self.close_at_insurer(visit, operator)

    def resolve_registration(self, visit: dict[str, Any], operator: str) -> dict[str, Any] | None:
        """A 2201 whose answer was lost (status ``register_unknown``): send it once more, same
        msgid. The insurer answers the original answer if it registered the visit (or registers
        it now): the visit learns its ``mdtrt_id``. A refusal: nothing is there (``refused``).
        No answer: None, the visit stays as it is (day-end tries again)."""
        envelope = visit.get("register_envelope")
        visit_id = visit["visit_id"]
        if not envelope:
            self.store.update_visit(visit_id, status="refused")
            return None
        try:
            answer = self.link.replay(operator, envelope, visit_id)
            mdtrt_id = answers.registration(answer)  # unusable: effect unknown, as no answer
        except ClientError as error:
            if isinstance(error, InsurerRefusal) and error.effect == "none":
                self.store.update_visit(visit_id, status="refused", register_envelope=None)
            return None
        self.store.update_visit(visit_id, mdtrt_id=mdtrt_id, status="registered",
                                register_envelope=None)
        return self.visit(visit_id)

    def close_at_insurer(self, visit: dict[str, Any], operator: str) -> str:
        """Leave nothing of an unsettled visit at the insurer: cancel its unsettled details
        (2205, batch ``0000`` = all) and its registration (2202) — first learning the
        registration of a 2201 whose answer was lost. Returns the visit's new status:
        ``cancelled`` (``refused`` when nothing was ever registered), or ``cancel_pending`` /
        ``register_unknown`` when the insurer could not be reached (day-end tries again)."""
        if visit["status"] == "register_unknown":
            learnt = self.resolve_registration(visit, operator)
            if learnt is None:
                return str(self.visit(visit["visit_id"])["status"])
            visit = learnt
        visit_id = visit["visit_id"]
        mdtrt_id = visit["mdtrt_id"]
        unsettled = self.store.lines(visit_id, statuses=("sending", "uploaded", "unknown"))
        if mdtrt_id:
            area = visit["insuplc_admdvs"]
            try:
                self.link.call(operator, "2205", {"data": {
                    "mdtrt_id": mdtrt_id, "chrg_bchno": "0000", "psn_no": visit["psn_no"],
                    "exp_content": ""}}, insuplc_admdvs=area, visit_id=visit_id, resend=True)
                self.link.call(operator, "2202", {"data": {
                    "psn_no": visit["psn_no"], "mdtrt_id": mdtrt_id,
                    "ipt_otp_no": visit_id}}, insuplc_admdvs=area, visit_id=visit_id,
                    resend=True)
            except ClientError as error:
                # a refusal means nothing is left to cancel there (an earlier attempt took
                # effect); no answer means try again later
                if not (isinstance(error, InsurerRefusal) and error.effect == "none"):
                    self.store.update_visit(visit_id, status="cancel_pending")
                    return "cancel_pending"
        self.store.set_lines([line["id"] for line in unsettled], status="cancelled")
        self.store.update_visit(visit_id, status="cancelled", batch_no=None)
        return "cancelled"
