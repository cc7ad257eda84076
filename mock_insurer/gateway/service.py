"""The insurer service: one incoming message from bytes to answer, minus the transport.

``prepare`` (no database): parse the envelope, find the transaction and the institution, check
the gateway signature, and ask the fault layer whether a fault hits this message. ``execute``
(in a worker thread): the sign-in check, msgid idempotency, the handler and the record, all in one
ledger transaction. The ASGI layer (:mod:`mock_insurer.gateway.asgi`) applies the transport-level
fault effects around these two steps.

Idempotency (reference README, "msgid"): a keyed msgid repeated with the same input replays the
original answer and applies nothing; with a different input it is refused. Envelope-level refusals
(malformed, unknown institution, signature, sign-in) and fault-made refusals are recorded but not
keyed, so a client that fixes the cause may resend under the same msgid; business refusals are
keyed. A msgid that a 2601 reversal undid or tombstoned is refused, never replayed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mock_insurer.faults import (
    BusinessError,
    ClockSkew,
    FaultEngine,
    Hit,
    MessageFacts,
    SigninInvalidated,
)
from mock_insurer.ledger import (
    DuplicateMessage,
    Institution,
    Ledger,
    LedgerTx,
    SignIn,
    dump_json,
)
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions import (
    HANDLERS,
    SIGNIN_EXEMPT,
    Answered,
    Call,
    FileAnswer,
    Reference,
    Settings,
)
from mock_insurer.wire.envelope import (
    RequestEnvelope,
    build_answer,
    parse_request,
    request_fingerprint,
)
from mock_insurer.wire.jsonio import dumps, loads
from mock_insurer.wire.msgid import RefMsgidFactory
from mock_insurer.wire.outcomes import Deviation, FieldProblem
from mock_insurer.wire.tif import NonceCache, verify_tif
from mock_insurer.wire.timefmt import format_stamp17, unix_seconds

__all__ = ["Auth", "InsurerService", "Prepared", "Reply"]

JSON = "application/json;charset=utf-8"
SIGNIN_CACHE_SECONDS = 5.0
OCTET = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Auth:
    """Gateway authentication: ``none`` (a local front-end processor), ``tif`` (Tencent TIF
    headers checked against each institution's paasid/token), ``apikey`` (header
    ``x-api-key`` equal to the institution's apikey)."""

    mode: str = "none"


@dataclass(slots=True)
class Prepared:
    body: bytes
    received_ms: int
    started: float
    envelope: RequestEnvelope | None = None
    institution: Institution | None = None
    refusal: Refusal | None = None
    deviations: list[Deviation] = field(default_factory=list)
    hit: Hit | None = None
    psn_no: str | None = None
    skew: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str
    answer: dict[str, Any] | None  # the envelope (None for a file)
    hit: Hit | None
    applied: bool  # the message took effect (for faults that lose the answer afterwards)


def _psn_no(envelope: RequestEnvelope) -> str | None:
    data = envelope.input.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("psn_no"), str):
        return str(data["psn_no"])
    for name in ("mdtrtinfo",):
        node = envelope.input.get(name)
        if isinstance(node, Mapping) and isinstance(node.get("psn_no"), str):
            return str(node["psn_no"])
    rows = envelope.input.get("feedetail")
    if isinstance(rows, list) and rows and isinstance(rows[0], Mapping):
        value = rows[0].get("psn_no")
        return str(value) if isinstance(value, str) else None
    return None


class _Refused(Exception):
    """Carries a handler's refusal out of its transaction so that the writes roll back."""

    def __init__(self, outcome: Refusal | FieldProblem) -> None:
        super().__init__(outcome.code)
        self.outcome = outcome


class InsurerService:
    """Everything the gateway needs, passed in: the ledger, settings, reference data, the
    fault engine, the business clock, and the wall clock/timer used only for the record."""

    def __init__(self, *, ledger: Ledger, settings: Settings, reference: Reference,
                 faults: FaultEngine, clock: Callable[[], datetime], auth: Auth,
                 wall_ms: Callable[[], int], timer: Callable[[], float],
                 area: str = "110000", refmsgid_start: int = 1) -> None:
        self.ledger = ledger
        self.settings = settings
        self.reference = reference
        self.faults = faults
        self.clock = clock
        self.auth = auth
        self.wall_ms = wall_ms
        self.timer = timer
        self.refmsgids = RefMsgidFactory(area, clock, start=refmsgid_start)
        self.nonces = NonceCache(settings.tif_skew_seconds)
        self._institutions: dict[str, Institution] = {}
        self._signins: dict[str, tuple[SignIn, float]] = {}
        self._lock = threading.Lock()
        self.reload_institutions()

    # -- reference data ----------------------------------------------------------------
    def reload_institutions(self) -> None:
        with self.ledger.read() as tx:
            found = {i.fixmedins_code: i for i in tx.institutions()}
        with self._lock:
            self._institutions = found

    def institution(self, code: str) -> Institution | None:
        with self._lock:
            return self._institutions.get(code)

    def set_reference(self, reference: Reference) -> None:
        self.reference = reference

    # -- step 1: no database ----------------------------------------------------------------
    def prepare(self, body: bytes, *, path_infno: str | None,
                headers: Mapping[str, str]) -> Prepared:
        prepared = Prepared(body=body, received_ms=self.wall_ms(), started=self.timer())
        outcome = parse_request(body, mode=self.settings.mode, path_infno=path_infno,
                                max_body=self.settings.max_body_bytes)
        prepared.deviations.extend(outcome.deviations)
        envelope = outcome.envelope
        if envelope is None:
            prepared.refusal = Refusal(outcome.refusal_code or "malformed", outcome.err_msg)
            return prepared
        prepared.envelope = envelope
        prepared.psn_no = _psn_no(envelope)
        if envelope.infno not in HANDLERS:
            prepared.refusal = refuse("unknown_infno", "infno", infno=envelope.infno)
            return prepared
        institution = self.institution(envelope.fixmedins_code)
        if institution is None:
            prepared.refusal = refuse("unknown_institution", "fixmedins_code",
                                      code=envelope.fixmedins_code)
            return prepared
        prepared.institution = institution
        if institution.blacklisted:
            prepared.refusal = refuse("institution_blacklisted", "fixmedins_code",
                                      code=envelope.fixmedins_code)
            return prepared
        reason = self._check_auth(institution, headers)
        if reason:
            prepared.refusal = refuse("auth_failed", "headers", reason=reason)
            return prepared
        if self.faults.has_active:
            prepared.hit = self.faults.match(MessageFacts(
                infno=envelope.infno, fixmedins_code=envelope.fixmedins_code,
                psn_no=prepared.psn_no, msgid=envelope.msgid, business_time=self.clock()))
            if prepared.hit is not None and isinstance(prepared.hit.effect, ClockSkew):
                prepared.skew = timedelta(seconds=prepared.hit.effect.seconds)
        return prepared

    def _check_auth(self, institution: Institution, headers: Mapping[str, str]) -> str | None:
        mode = self.auth.mode
        if mode == "none":
            return None
        creds = institution.credentials
        if mode == "apikey":
            lowered = {k.lower(): v for k, v in headers.items()}
            given = lowered.get("x-api-key") or lowered.get("apikey")
            return None if given and given == creds.get("apikey") else "apikey_invalid"
        if mode == "tif":
            now = unix_seconds(self.clock())

            def token_of(paasid: str) -> str | None:
                return creds.get("token") if paasid == creds.get("paasid") else None

            return verify_tif(headers, token_of, now, self.settings.tif_skew_seconds,
                              self.nonces)
        return f"unknown auth mode {mode}"

    # -- step 2: the ledger -------------------------------------------------------------------
    def execute(self, prepared: Prepared) -> Reply:
        """Run the message against the ledger (call from a worker thread)."""
        now = self.clock() + prepared.skew
        envelope, institution, hit = prepared.envelope, prepared.institution, prepared.hit
        if prepared.refusal is not None or envelope is None or institution is None:
            refusal = prepared.refusal or refuse("input_invalid", "body", detail="报文无法解析")
            return self._refuse_unkeyed(prepared, refusal, now)
        effect = hit.effect if hit is not None else None
        if isinstance(effect, BusinessError):
            refusal = Refusal("fault_business_error", effect.err_msg)
            return self._refuse_unkeyed(prepared, refusal, now)
        if isinstance(effect, SigninInvalidated):
            with self.ledger.write() as tx:
                tx.invalidate_signins(institution.fixmedins_code)
            self.forget_signins()
        if self.settings.require_signin and envelope.infno not in SIGNIN_EXEMPT:
            problem = self._signin_problem(envelope, institution, now)
            if problem is not None:
                return self._refuse_unkeyed(prepared, problem, now)
        for _attempt in range(3):
            try:
                return self._execute_keyed(prepared, envelope, institution, now)
            except DuplicateMessage:
                continue  # a concurrent identical msgid committed first: replay it
        raise RuntimeError(f"msgid {envelope.msgid} kept colliding")  # a bug, not an outcome

    def _signin_problem(self, envelope: RequestEnvelope, institution: Institution,
                        now: datetime) -> Refusal | None:
        if not envelope.sign_no:
            return refuse("no_signin", "sign_no")
        sign = self._signin(envelope.sign_no)
        if sign is None or not sign.valid or sign.fixmedins_code != institution.fixmedins_code:
            return refuse("no_signin", "sign_no")
        if sign.biz_date != now.strftime("%Y-%m-%d"):
            return refuse("signin_other_day", "sign_no")
        return None

    def _signin(self, sign_no: str) -> SignIn | None:
        """A sign-in, from a short-lived cache of valid ones (SIGNIN_CACHE_SECONDS, so that a
        sign-out in another insurer process sharing the ledger is seen within that time)."""
        now = self.timer()
        with self._lock:
            cached = self._signins.get(sign_no)
        if cached is not None and now - cached[1] < SIGNIN_CACHE_SECONDS:
            return cached[0]
        with self.ledger.read() as tx:
            sign = tx.signin(sign_no)
        if sign is not None and sign.valid:
            with self._lock:
                if len(self._signins) > 10_000:
                    self._signins.clear()
                self._signins[sign_no] = (sign, now)
        return sign

    def forget_signins(self) -> None:
        """Drop the sign-in cache (after a sign-out, an invalidation or a reset)."""
        with self._lock:
            self._signins.clear()

    def _execute_keyed(self, prepared: Prepared, envelope: RequestEnvelope,
                       institution: Institution, now: datetime) -> Reply:
        """The handler and the keyed record in one transaction. The record is written last:
        a concurrent twin of the same msgid makes the insert fail (DuplicateMessage), the
        transaction rolls back and the caller replays. A refusal rolls back whatever the
        handler wrote and is recorded in a transaction of its own."""
        fingerprint = request_fingerprint(envelope)
        code = institution.fixmedins_code
        call = Call(envelope=envelope, institution=institution, now=now,
                    settings=self.settings, reference=self.reference,
                    deviations=list(prepared.deviations))
        try:
            with self.ledger.write() as tx:
                existing = tx.keyed_message(code, envelope.msgid)
                if existing is not None:
                    return self._repeat(tx, prepared, envelope, existing, fingerprint, now)
                outcome = HANDLERS[envelope.infno](call, tx)
                if isinstance(outcome, (Refusal, FieldProblem)):
                    raise _Refused(outcome)
                return self._commit(tx, prepared, call, outcome, fingerprint, now)
        except _Refused as refused:
            with self.ledger.write() as tx:
                existing = tx.keyed_message(code, envelope.msgid)
                if existing is not None:
                    return self._repeat(tx, prepared, envelope, existing, fingerprint, now)
                return self._commit(tx, prepared, call, refused.outcome, fingerprint, now)

    def _commit(self, tx: LedgerTx, prepared: Prepared, call: Call, outcome: Any,
                fingerprint: str, now: datetime) -> Reply:
        prepared.deviations[:] = call.deviations
        reply, values = self._reply(prepared, outcome, now)
        tx.add_message(self._record(prepared, now, keyed=True, input_hash=fingerprint,
                                    **values))
        if call.envelope.infno == "9002" and reply.applied:
            self.forget_signins()
        return reply

    def _repeat(self, tx: LedgerTx, prepared: Prepared, envelope: RequestEnvelope,
                existing: Any, fingerprint: str, now: datetime) -> Reply:
        if existing["status"] in ("reversed", "tombstone"):
            refusal = refuse("msgid_reversed", "msgid")
        elif existing["input_hash"] != fingerprint or existing["answer"] is None:
            refusal = refuse("duplicate_msgid", "msgid")
        else:
            answer_bytes = bytes(existing["answer"])
            is_file = existing["infno"] == "9102" and existing["infcode"] == 0
            tx.add_message(self._record(prepared, now, keyed=False, status="replayed",
                                        replay_of=existing["id"], answer=answer_bytes,
                                        infcode=existing["infcode"], http_status=200,
                                        effect_ref=existing["effect_ref"]))
            answer = None if is_file else dict(loads(answer_bytes))
            return Reply(200, answer_bytes, OCTET if is_file else JSON, answer, prepared.hit,
                         applied=False)
        body, answer = self._answer_bytes(-1, None, refusal.err_msg, "", prepared, now)
        tx.add_message(self._record(prepared, now, keyed=False, status="answered",
                                    answer=body, infcode=-1, http_status=200,
                                    rejection_code=refusal.code, err_msg=refusal.err_msg))
        return Reply(200, body, JSON, answer, prepared.hit, applied=False)

    def _reply(self, prepared: Prepared, outcome: Any,
               now: datetime) -> tuple[Reply, dict[str, Any]]:
        done = {"duration_ms": (self.timer() - prepared.started) * 1000.0, "http_status": 200,
                "deviations": _deviations_json(prepared.deviations)}
        if isinstance(outcome, FileAnswer):
            done.update(answer=outcome.content, infcode=0, status="answered")
            return Reply(200, outcome.content, OCTET, None, prepared.hit, applied=True), done
        if isinstance(outcome, Answered):
            body, answer = self._answer_bytes(0, outcome.output, "", outcome.warn_msg,
                                              prepared, now)
            done.update(answer=body, infcode=0, status="answered", effect_ref=outcome.effect_ref,
                        psn_no=outcome.psn_no or prepared.psn_no)
            return Reply(200, body, JSON, answer, prepared.hit, applied=True), done
        code = outcome.code
        err_msg = outcome.err_msg
        body, answer = self._answer_bytes(-1, None, err_msg, "", prepared, now)
        done.update(answer=body, infcode=-1, status="answered", rejection_code=code,
                    err_msg=err_msg)
        return Reply(200, body, JSON, answer, prepared.hit, applied=False), done

    def _refuse_unkeyed(self, prepared: Prepared, refusal: Refusal, now: datetime) -> Reply:
        body, answer = self._answer_bytes(-1, None, refusal.err_msg, "", prepared, now)
        with self.ledger.write() as tx:
            tx.add_message(self._record(prepared, now, keyed=False, status="answered",
                                        answer=body, infcode=-1, http_status=200,
                                        rejection_code=refusal.code, err_msg=refusal.err_msg))
        return Reply(200, body, JSON, answer, prepared.hit, applied=False)

    def _answer_bytes(self, infcode: int, output: Any, err_msg: str, warn_msg: str,
                      prepared: Prepared, now: datetime) -> tuple[bytes, dict[str, Any]]:
        answer = build_answer(
            infcode=infcode, output=output, err_msg=err_msg, warn_msg=warn_msg,
            inf_refmsgid=self.refmsgids.new(), refmsg_time=format_stamp17(now),
            respond_time=format_stamp17(self.clock() + prepared.skew),
            infcode_as_string=self.settings.infcode_as_string)
        return dumps(answer), answer

    def record_fault_only(self, prepared: Prepared, *, http_status: int | None,
                          effect: str) -> None:
        """Record a message that a transport-level fault answered before any handler ran."""
        now = self.clock() + prepared.skew
        with self.ledger.write() as tx:
            tx.add_message(self._record(prepared, now, keyed=False, status="faulted",
                                        http_status=http_status, fault_effect=effect))

    def _record(self, prepared: Prepared, now: datetime, *, keyed: bool, status: str,
                **values: Any) -> dict[str, Any]:
        envelope = prepared.envelope
        hit = prepared.hit
        record: dict[str, Any] = {
            "fixmedins_code": envelope.fixmedins_code if envelope else None,
            "msgid": envelope.msgid if envelope else None,
            "infno": envelope.infno if envelope else None,
            "keyed": keyed, "input_hash": None, "psn_no": prepared.psn_no,
            "request": prepared.body, "answer": None, "http_status": None, "infcode": None,
            "rejection_code": None, "err_msg": None,
            "deviations": _deviations_json(prepared.deviations),
            "fault_id": hit.fault_id if hit else None,
            "fault_effect": hit.effect.kind if hit else None,
            "status": status, "replay_of": None, "biz_time": now.strftime("%Y-%m-%d %H:%M:%S"),
            "received_ms": prepared.received_ms,
            "duration_ms": (self.timer() - prepared.started) * 1000.0, "effect_ref": None,
        }
        record.update(values)
        return record


def _deviations_json(deviations: list[Deviation]) -> str:
    return dump_json([{"code": d.code, "field": d.field, "detail": d.detail}
                      for d in deviations])
