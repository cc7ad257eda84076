"""The insurer service: one incoming message from bytes to answer, minus the transport.

``prepare`` (no database): parse the envelope, find the transaction and the institution, check
the gateway signature, and ask the fault layer whether a fault hits this message. ``execute_in``
(given a ledger transaction): the sign-in check, msgid idempotency, the handler and the record.
``execute_async`` runs it through the ledger's writer (on SQLite many messages share one commit:
:mod:`mock_insurer.ledger.batch`) and returns once it is committed; ``execute`` runs it in a
transaction of its own (blocking). The ASGI layer (:mod:`mock_insurer.gateway.asgi`) applies the
transport-level fault effects around these steps.

Idempotency (reference README, "msgid"): a keyed msgid repeated with the same input replays the
original answer and applies nothing; with a different input it is refused. Envelope-level refusals
(malformed, unknown institution, signature, sign-in) and fault-made refusals are recorded but not
keyed, so a client that fixes the cause may resend under the same msgid; business refusals are
keyed. A msgid that a 2601 reversal undid or tombstoned is refused, never replayed. There is no
look-up before the handler: the handler runs in a savepoint and the keyed record is inserted last;
when the unique index says the msgid is already recorded, the savepoint rolls back and the
recorded message is replayed (or the repeat refused).
"""

from __future__ import annotations

import asyncio
import hmac
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
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
from mock_insurer.ledger.batch import Writer, writer_for
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
    MAX_DEVIATIONS,
    RequestEnvelope,
    build_answer,
    content_type_deviation,
    parse_request,
    request_fingerprint,
)
from mock_insurer.wire.jsonio import dumps, loads
from mock_insurer.wire.msgid import RefMsgidFactory
from mock_insurer.wire.multipart import MultipartProblem, envelope_from_form, is_form
from mock_insurer.wire.outcomes import Deviation, FieldProblem
from mock_insurer.wire.texts import bounded_err_msg
from mock_insurer.wire.tif import (
    TIF_REASONS,
    NonceCache,
    missing_tif_header,
    nearest_clock,
    verify_tif,
)
from mock_insurer.wire.timefmt import format_stamp17, unix_seconds

__all__ = ["Auth", "InsurerService", "Prepared", "Reply"]

JSON = "application/json;charset=utf-8"
SIGNIN_CACHE_SECONDS = 5.0
OCTET = "application/octet-stream"
UNAUTHENTICATED_KEPT_BYTES = 4096
"""Of a message refused before its sender was authenticated (garbage, an unknown
institution, a failed gateway check), the record keeps this much of the body: anyone who can
reach the gateway could otherwise fill the ledger with 2 MB bodies."""
UNAUTHENTICATED_WORDS = ("网关认证失败：定点医药机构编号与网关账号无法通过认证，请核对本机构的 "
                         "fixmedins_code、paasid/token 或 apikey")
"""What a caller is told when it names an institution the insurer does not know while gateway
auth is on: no more than a failed check, so that codes cannot be probed unauthenticated (the
record keeps ``unknown_institution``)."""


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
    arrived: datetime  # the business clock when the message arrived
    envelope: RequestEnvelope | None = None
    institution: Institution | None = None
    refusal: Refusal | None = None
    deviations: list[Deviation] = field(default_factory=list)
    hit: Hit | None = None
    psn_no: str | None = None
    skew: timedelta = timedelta(0)
    authenticated: bool = False  # the institution is known and passed the gateway's check


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str
    answer: dict[str, Any] | None  # the envelope (None for a file)
    hit: Hit | None
    applied: bool  # the message took effect (for faults that lose the answer afterwards)
    signins_changed: bool = False  # a sign-in ended: drop the cache once committed
    filename: str | None = None  # a file answer's name (its Content-Disposition)


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
    fault engine, the business clock, the wall clock (China time: a gateway signature's
    timestamp is checked against it — or against the business clock when an operator moved
    that and the signature follows it, as a simulated HIS does), and the epoch
    milliseconds/timer used only for the record."""

    def __init__(self, *, ledger: Ledger, settings: Settings, reference: Reference,
                 faults: FaultEngine, clock: Callable[[], datetime],
                 wall: Callable[[], datetime], auth: Auth,
                 wall_ms: Callable[[], int], timer: Callable[[], float],
                 area: str = "110000", refmsgid_start: int = 1) -> None:
        self.ledger = ledger
        self.settings = settings
        self.reference = reference
        self.faults = faults
        self.clock = clock
        self.wall = wall
        self.auth = auth
        self.wall_ms = wall_ms
        self.timer = timer
        self.refmsgids = RefMsgidFactory(area, clock, start=refmsgid_start)
        self.nonces = NonceCache(settings.tif_skew_seconds, timer)
        self._institutions: dict[str, Institution] = {}
        self._signins: dict[str, tuple[SignIn, float]] = {}
        self._lock = threading.Lock()
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Writer] = (
            weakref.WeakKeyDictionary())
        self._last_writer: tuple[asyncio.AbstractEventLoop, Writer] | None = None
        self.reload_institutions()

    # -- reference data ----------------------------------------------------------------
    def reload_institutions(self) -> None:
        with self.ledger.read() as tx:
            found = {i.fixmedins_code: i for i in tx.institutions()}
        with self._lock:
            self._institutions = found

    def institution(self, code: str) -> Institution | None:
        return self._institutions.get(code)  # the dict is replaced whole, never changed

    def portal_institution(self, token: str) -> str | None:
        """The code of the institution whose settlement-portal credential (``credentials.
        portal``) is ``token``, or None. Every institution's is compared, in constant time."""
        given = token.encode("utf-8", "replace")
        found = None
        for code, institution in self._institutions.items():
            expected = institution.credentials.get("portal")
            if expected and hmac.compare_digest(given, expected.encode("utf-8", "replace")):
                found = code
        return found

    def set_reference(self, reference: Reference) -> None:
        self.reference = reference

    # -- step 1: no database ----------------------------------------------------------------
    def prepare(self, body: bytes, *, path_infno: str | None, headers: Mapping[str, str],
                content_type: str = "application/json") -> Prepared:
        """Parse and check the message; its business time is taken now, on arrival, so a
        fault's delay does not move it. A multipart form (9101's variant (a)) becomes the
        envelope it carries; a Content-Type other than JSON is recorded as a deviation."""
        prepared = Prepared(body=body, received_ms=self.wall_ms(), started=self.timer(),
                            arrived=self.clock())
        max_body = self.settings.max_body_bytes
        if is_form(content_type):
            try:
                body = prepared.body = envelope_from_form(body, content_type)
            except MultipartProblem as problem:
                prepared.refusal = refuse("input_invalid", "body:multipart", detail=str(problem))
                return prepared
            max_body += max_body // 2 + 4  # the file's Base64 is a third longer than its bytes
        elif content_type[:16].lower() != "application/json":
            deviation = content_type_deviation(content_type)
            if deviation is not None:
                prepared.deviations.append(deviation)
        outcome = parse_request(body, mode=self.settings.mode, path_infno=path_infno,
                                max_body=max_body)
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
            if self.auth.mode != "none":  # the caller is told no more than a failed sign-on
                prepared.refusal = Refusal(prepared.refusal.code, refuse(
                    "auth_failed", "headers", reason=UNAUTHENTICATED_WORDS).err_msg)
            return prepared
        reason = self._check_auth(institution, headers)
        if reason:
            prepared.refusal = refuse("auth_failed", "headers", reason=_auth_words(reason, headers))
            return prepared
        prepared.institution = institution
        prepared.authenticated = True
        if institution.blacklisted:
            prepared.refusal = refuse("institution_blacklisted", "fixmedins_code",
                                      code=envelope.fixmedins_code)
            return prepared
        if self.faults.has_active:
            prepared.hit = self.faults.match(MessageFacts(
                infno=envelope.infno, fixmedins_code=envelope.fixmedins_code,
                psn_no=prepared.psn_no, msgid=envelope.msgid, business_time=prepared.arrived))
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
            expected = creds.get("apikey")
            good = (given is not None and expected is not None
                    and hmac.compare_digest(given.encode("utf-8", "replace"),
                                            expected.encode("utf-8", "replace")))
            return None if good else "apikey_invalid"
        if mode == "tif":
            now = nearest_clock(headers, (unix_seconds(self.wall()),
                                          unix_seconds(self.clock())))

            def token_of(paasid: str) -> str | None:
                return creds.get("token") if paasid == creds.get("paasid") else None

            return verify_tif(headers, token_of, now, self.settings.tif_skew_seconds,
                              self.nonces)
        return f"unknown auth mode {mode}"

    # -- step 2: the ledger -------------------------------------------------------------------
    def execute(self, prepared: Prepared) -> Reply:
        """Run the message in a ledger transaction of its own (blocking; from a worker
        thread or a test). Returns once committed."""
        with self.ledger.write() as tx:
            reply = self.execute_in(tx, prepared)
        if reply.signins_changed:
            self.forget_signins()
        return reply

    async def execute_async(self, prepared: Prepared) -> Reply:
        """Run the message through the ledger's writer (from the event loop). Returns once
        the transaction that holds it has committed."""
        reply = await self._writer().run(partial(self.execute_in, prepared=prepared))
        if reply.signins_changed:
            self.forget_signins()
        return reply

    def _writer(self) -> Writer:
        loop = asyncio.get_running_loop()
        last = self._last_writer  # (loop, writer) of the previous call: one read, atomic
        if last is not None and last[0] is loop:
            return last[1]
        writer = self._writers.get(loop)
        if writer is None:
            writer = self._writers[loop] = writer_for(self.ledger)
        self._last_writer = (loop, writer)
        return writer

    def execute_in(self, tx: LedgerTx, prepared: Prepared) -> Reply:
        """Run the message inside ``tx``: sign-in check, the handler and the record (the
        caller commits)."""
        now = prepared.arrived + prepared.skew
        envelope, institution, hit = prepared.envelope, prepared.institution, prepared.hit
        if prepared.refusal is not None or envelope is None or institution is None:
            refusal = prepared.refusal or refuse("input_invalid", "body", detail="报文无法解析")
            return self._refuse_unkeyed(tx, prepared, refusal, now)
        effect = hit.effect if hit is not None else None
        if isinstance(effect, BusinessError):
            refusal = Refusal("fault_business_error", effect.err_msg)
            return self._refuse_unkeyed(tx, prepared, refusal, now)
        signins_changed = False
        if isinstance(effect, SigninInvalidated):
            tx.invalidate_signins(institution.fixmedins_code)
            self.forget_signins()
            signins_changed = True
        if self.settings.require_signin and envelope.infno not in SIGNIN_EXEMPT:
            problem = self._signin_problem(tx, envelope, institution, now)
            if problem is not None:
                reply = self._refuse_unkeyed(tx, prepared, problem, now)
                return _with_signins_changed(reply) if signins_changed else reply
        for _attempt in range(3):
            keyed = self._execute_keyed(tx, prepared, envelope, institution, now)
            if keyed is not None:
                return _with_signins_changed(keyed) if signins_changed else keyed
        raise RuntimeError(f"msgid {envelope.msgid} kept colliding")  # a bug, not an outcome

    def _signin_problem(self, tx: LedgerTx, envelope: RequestEnvelope, institution: Institution,
                        now: datetime) -> Refusal | None:
        if not envelope.sign_no:
            return refuse("no_signin", "sign_no")
        sign = self._signin(tx, envelope.sign_no)
        if sign is None or not sign.valid:
            return refuse("no_signin", "sign_no")
        if sign.fixmedins_code != institution.fixmedins_code:  # a campus using another's
            return refuse("signin_other_institution", "sign_no", sign_no=envelope.sign_no,
                          owner=sign.fixmedins_code, code=institution.fixmedins_code)
        if sign.biz_date != _biz_time(now)[:10]:
            return refuse("signin_other_day", "sign_no")
        return None

    def _signin(self, tx: LedgerTx, sign_no: str) -> SignIn | None:
        """A sign-in, from a short-lived cache of valid ones (SIGNIN_CACHE_SECONDS, so that a
        sign-out in another insurer process sharing the ledger is seen within that time); a
        miss reads it in the message's own transaction."""
        now = self.timer()
        cached = self._signins.get(sign_no)  # one dict read: atomic
        if cached is not None and now - cached[1] < SIGNIN_CACHE_SECONDS:
            return cached[0]
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

    def _execute_keyed(self, tx: LedgerTx, prepared: Prepared, envelope: RequestEnvelope,
                       institution: Institution, now: datetime) -> Reply | None:
        """The handler and the keyed record, in a savepoint. The record is written last: when
        the msgid is already recorded the insert fails (DuplicateMessage), the savepoint rolls
        back and the recorded message is replayed. A refusal rolls back whatever the handler
        wrote and is recorded instead. None: the conflict was not on this msgid (a
        concurrent 2601 tombstone): try again."""
        fingerprint = request_fingerprint(envelope)
        call = Call(envelope=envelope, institution=institution, now=now,
                    settings=self.settings, reference=self.reference,
                    deviations=list(prepared.deviations))
        try:
            try:
                with tx.savepoint():
                    outcome = HANDLERS[envelope.infno](call, tx)
                    if isinstance(outcome, (Refusal, FieldProblem)):
                        raise _Refused(outcome)
                    return self._commit(tx, prepared, call, outcome, fingerprint, now)
            except _Refused as refused:
                with tx.savepoint():
                    return self._commit(tx, prepared, call, refused.outcome, fingerprint, now)
        except DuplicateMessage:
            pass
        existing = tx.keyed_message(institution.fixmedins_code, envelope.msgid)
        if existing is None:
            return None
        return self._repeat(tx, prepared, envelope, existing, fingerprint, now)

    def _commit(self, tx: LedgerTx, prepared: Prepared, call: Call, outcome: Any,
                fingerprint: str, now: datetime) -> Reply:
        prepared.deviations[:] = call.deviations
        reply, values = self._reply(prepared, outcome, now)
        tx.add_message(self._record(prepared, now, keyed=True, input_hash=fingerprint,
                                    **values))
        if call.envelope.infno == "9002" and reply.applied:
            self.forget_signins()
            return _with_signins_changed(reply)
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
                         applied=False,
                         filename=_downloaded_name(tx, envelope) if is_file else None)
        body, answer = self._answer_bytes(-1, None, refusal.err_msg, "", prepared, now)
        tx.add_message(self._record(prepared, now, keyed=False, status="answered",
                                    answer=body, infcode=-1, http_status=200,
                                    rejection_code=refusal.code, err_msg=refusal.err_msg))
        return Reply(200, body, JSON, answer, prepared.hit, applied=False)

    def _reply(self, prepared: Prepared, outcome: Any,
               now: datetime) -> tuple[Reply, dict[str, Any]]:
        done: dict[str, Any] = {"http_status": 200}
        if isinstance(outcome, FileAnswer):
            done.update(answer=outcome.content, infcode=0, status="answered")
            return Reply(200, outcome.content, OCTET, None, prepared.hit, applied=True,
                         filename=outcome.filename), done
        if isinstance(outcome, Answered):
            body, answer = self._answer_bytes(0, outcome.output, "", outcome.warn_msg,
                                              prepared, now)
            done.update(answer=body, infcode=0, status="answered", effect_ref=outcome.effect_ref,
                        psn_no=outcome.psn_no or prepared.psn_no)
            return Reply(200, body, JSON, answer, prepared.hit, applied=True), done
        code = outcome.code
        err_msg = bounded_err_msg(outcome.err_msg)
        body, answer = self._answer_bytes(-1, None, err_msg, "", prepared, now)
        done.update(answer=body, infcode=-1, status="answered", rejection_code=code,
                    err_msg=err_msg)
        return Reply(200, body, JSON, answer, prepared.hit, applied=False), done

    def _refuse_unkeyed(self, tx: LedgerTx, prepared: Prepared, refusal: Refusal,
                        now: datetime) -> Reply:
        err_msg = (refusal.err_msg if refusal.code == "fault_business_error"  # as planned
                   else bounded_err_msg(refusal.err_msg))
        body, answer = self._answer_bytes(-1, None, err_msg, "", prepared, now)
        tx.add_message(self._record(prepared, now, keyed=False, status="answered",
                                    answer=body, infcode=-1, http_status=200,
                                    rejection_code=refusal.code, err_msg=err_msg))
        return Reply(200, body, JSON, answer, prepared.hit, applied=False)

    def _answer_bytes(self, infcode: int, output: Any, err_msg: str, warn_msg: str,
                      prepared: Prepared, now: datetime) -> tuple[bytes, dict[str, Any]]:
        answer = build_answer(
            infcode=infcode, output=output, err_msg=err_msg, warn_msg=warn_msg,
            inf_refmsgid=self.refmsgids.new(), refmsg_time=format_stamp17(now),
            respond_time=format_stamp17(self.clock() + prepared.skew),
            infcode_as_string=self.settings.infcode_as_string)
        return dumps(answer), answer

    def unavailable_answer(self, prepared: Prepared) -> bytes:
        """The envelope answered (HTTP 503) when the ledger's database cannot be used: nothing
        can be recorded, and whether a commit under way took effect is unknown, so the HIS is
        told to send the same msgid again (a committed message is then replayed)."""
        refusal = refuse("ledger_unavailable")
        body, _answer = self._answer_bytes(-1, None, refusal.err_msg, "", prepared,
                                           prepared.arrived + prepared.skew)
        return body

    def record_fault_only(self, prepared: Prepared, *, http_status: int | None,
                          effect: str) -> None:
        """Record a message that a transport-level fault answered before any handler ran."""
        with self.ledger.write() as tx:
            self.record_fault_only_in(tx, prepared, http_status=http_status, effect=effect)

    async def record_fault_only_async(self, prepared: Prepared, *, http_status: int | None,
                                      effect: str) -> None:
        """:meth:`record_fault_only` through the ledger's writer (from the event loop)."""
        await self._writer().run(partial(self.record_fault_only_in, prepared=prepared,
                                         http_status=http_status, effect=effect))

    def record_fault_only_in(self, tx: LedgerTx, prepared: Prepared, *,
                             http_status: int | None, effect: str) -> None:
        now = prepared.arrived + prepared.skew
        tx.add_message(self._record(prepared, now, keyed=False, status="faulted",
                                    http_status=http_status, fault_effect=effect))

    def _record(self, prepared: Prepared, now: datetime, *, keyed: bool, status: str,
                **values: Any) -> dict[str, Any]:
        envelope = prepared.envelope
        hit = prepared.hit
        request, deviations = prepared.body, prepared.deviations
        if not prepared.authenticated and len(request) > UNAUTHENTICATED_KEPT_BYTES:
            deviations = [*deviations, Deviation(
                "body_kept_in_part", "body",
                f"{len(request)} bytes, refused before authentication: the first "
                f"{UNAUTHENTICATED_KEPT_BYTES} kept")]
            request = request[:UNAUTHENTICATED_KEPT_BYTES]
        record: dict[str, Any] = {
            "fixmedins_code": envelope.fixmedins_code if envelope else None,
            "msgid": envelope.msgid if envelope else None,
            "infno": envelope.infno if envelope else None,
            "keyed": keyed, "input_hash": None, "psn_no": prepared.psn_no,
            "request": request, "answer": None, "http_status": None, "infcode": None,
            "rejection_code": None, "err_msg": None,
            "deviations": _deviations_json(deviations),
            "fault_id": hit.fault_id if hit else None,
            "fault_effect": hit.effect.kind if hit else None,
            "status": status, "replay_of": None, "biz_time": _biz_time(now),
            "received_ms": prepared.received_ms,
            "duration_ms": (self.timer() - prepared.started) * 1000.0, "effect_ref": None,
        }
        record.update(values)
        return record


def _auth_words(reason: str, headers: Mapping[str, str]) -> str:
    """What a refused gateway authentication tells the caller, in words (the code's text)."""
    if reason == "apikey_invalid":
        return "网关认证失败：API密钥(x-api-key)缺失或不正确，请核对本机构的 apikey"
    text = TIF_REASONS.get(reason, reason)
    return text.format(header=missing_tif_header(headers) or "x-tif-*") if "{header}" in text else text


def _biz_time(now: datetime) -> str:
    """The business clock as ``YYYY-MM-DD HH:MM:SS`` (naive wall-clock time)."""
    if now.tzinfo is None:
        return now.isoformat(" ", "seconds")
    return now.strftime("%Y-%m-%d %H:%M:%S")


def _with_signins_changed(reply: Reply) -> Reply:
    return Reply(reply.status, reply.body, reply.content_type, reply.answer, reply.hit,
                 reply.applied, signins_changed=True, filename=reply.filename)


def _downloaded_name(tx: LedgerTx, envelope: RequestEnvelope) -> str | None:
    """The name of the file a replayed 9102 downloads (its ``fsDownloadIn.file_qury_no``)."""
    node = envelope.input.get("fsDownloadIn")
    number = node.get("file_qury_no") if isinstance(node, Mapping) else None
    stored = tx.file(number.strip()) if isinstance(number, str) else None
    return str(stored["filename"]) if stored is not None else None


def _deviations_json(deviations: list[Deviation]) -> str:
    """The record's deviations: each (code, field) once, at most ``MAX_DEVIATIONS`` and then
    one ``deviations_truncated`` (a handler may read a field twice; 500 fee rows may carry
    the same departure)."""
    if not deviations:
        return "[]"
    seen: set[tuple[str, str]] = set()
    kept = []
    for d in deviations:
        if (d.code, d.field) not in seen:
            seen.add((d.code, d.field))
            kept.append({"code": d.code, "field": d.field, "detail": d.detail})
    if len(kept) > MAX_DEVIATIONS:
        dropped = len(kept) - MAX_DEVIATIONS
        kept = [*kept[:MAX_DEVIATIONS], {"code": "deviations_truncated", "field": "body",
                                         "detail": f"{dropped} more deviations not listed"}]
    return dump_json(kept)
