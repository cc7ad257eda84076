"""The insurer's client SDK: the "business component" a HIS embeds to talk to the center.

It builds envelopes (:func:`mock_insurer.wire.envelope.build_request`), draws msgids, signs
for the gateway, sends over HTTP, reads answers with exact Decimal amounts, and turns every
failure into a typed error that says whether the request may have taken effect
(:mod:`mock_insurer.client.errors`). docs/client-sdk.md walks through a whole visit.

One client per cashier window (a :class:`requests.Session` is not meant to be shared between
threads); windows of one institution in one process should share one
:class:`~mock_insurer.wire.msgid.MsgidFactory` so their msgids never collide. A client given
none shares the process's default factory for its ``fixmedins_code`` and *clock* object
(:func:`default_msgid_factory`).

Nothing leaves unless it can be sent exactly: a bad setting is refused when the client is
made, and an input holding a float (money must be exact), a NaN or infinite Decimal, or a
value JSON cannot carry is refused before sending, with
:class:`~mock_insurer.client.errors.RequestNotSent` naming the setting or the field's path.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests
import urllib3.exceptions

from mock_insurer.client.answer import Answer, output_node, read_answer
from mock_insurer.client.auth import Auth, NoAuth, header_problem
from mock_insurer.client.bounded import (
    DEFAULT_MAX_ANSWER_BYTES,
    AnswerTooLarge,
    DeadlinePassed,
    bounded_session,
    exchange_deadline,
    read_bounded,
)
from mock_insurer.client.errors import (
    ConnectionLost,
    GatewayError,
    InsurerTimeout,
    InsurerUnavailable,
    MalformedAnswer,
    RequestNotSent,
)
from mock_insurer.client.sendable import endpoint, timeout_problem, unsendable
from mock_insurer.wire.envelope import build_request
from mock_insurer.wire.errors import WireEncodeError
from mock_insurer.wire.jsonio import dumps, loads
from mock_insurer.wire.msgid import MsgidFactory

__all__ = ["DEFAULT_PATH", "InsurerClient", "default_msgid_factory"]

DEFAULT_PATH = "/fsi/api/rsfComIfsService/callService"
"""The national single endpoint (fact sheet §1.1)."""


#: requests' errors raised before anything is sent (the URL or a header cannot be used).
_NOT_SENT_ERRORS = (requests.exceptions.InvalidHeader, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL,
                    requests.exceptions.URLRequired)

_DEFAULT_FACTORIES: weakref.WeakValueDictionary[tuple[str, object], MsgidFactory] = \
    weakref.WeakValueDictionary()
_DEFAULT_FACTORIES_LOCK = threading.Lock()


def _uuid_nonce() -> str:
    return uuid.uuid4().hex


def default_msgid_factory(fixmedins_code: str,
                          clock: Callable[[], datetime]) -> MsgidFactory:
    """The msgid factory of a client made without ``msgid_factory=``: one per
    ``(fixmedins_code, clock)`` in this process, shared by every such client while one of
    them lives — so windows of one institution created with the same clock object never draw
    the same msgid, and a client with a clock of its own (a test's fixed clock) counts from
    0001 on its own. Clients in other processes or on other PCs are not covered: see
    docs/client-sdk.md, "Msgids"."""
    try:
        key: tuple[str, object] = (fixmedins_code, clock)
        hash(key)
    except TypeError:  # an unhashable clock object: a factory of its own
        return MsgidFactory(fixmedins_code, clock)
    with _DEFAULT_FACTORIES_LOCK:
        factory = _DEFAULT_FACTORIES.get(key)
        if factory is None:
            factory = _DEFAULT_FACTORIES[key] = MsgidFactory(fixmedins_code, clock)
        return factory


def _caused_by(exc: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...],
               depth: int = 6) -> bool:
    """Whether *exc*, or an exception it wraps (in ``args``, as cause or context), is one of
    *kinds* — requests and urllib3 wrap the socket's error two or three levels deep."""
    if isinstance(exc, kinds):
        return True
    if depth == 0:
        return False
    inner = [arg for arg in exc.args if isinstance(arg, BaseException)]
    inner += [e for e in (exc.__cause__, exc.__context__) if e is not None]
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        inner.append(exc.reason)
    return any(_caused_by(e, kinds, depth - 1) for e in inner)


class InsurerClient:
    """Talks to one insurer center for one institution and one operator.

    *base_url* is ``http(s)://host:port`` (the mock's, or a real front-end processor's);
    *path* is appended. *clock* gives the wall-clock time put into ``inf_time`` and msgids
    (China time; aware datetimes are converted). *nonce* draws TIF nonces (default: random
    UUIDs). *timeout* is in seconds: for connecting, for each wait for data, and for the
    whole exchange — an answer still arriving *timeout* seconds after it was sent (a body
    trickling in) is a :class:`~mock_insurer.client.errors.InsurerTimeout` too.
    *max_answer_bytes* is the largest answer read (default 8 MiB,
    :data:`~mock_insurer.client.bounded.DEFAULT_MAX_ANSWER_BYTES`): a larger one is
    :class:`~mock_insurer.client.errors.MalformedAnswer` (effect unknown), read no further.
    ``infcode`` decides success: an answer with ``infcode`` 0 and a non-empty ``err_msg``
    is returned, the text being a notice (docs/faults.md). *strict_err_msg* ``True`` raises
    :class:`~mock_insurer.client.errors.InsurerRefusal` (effect unknown) for it instead, for
    a center where that combination means failure (fact sheet §5). *msgid_factory* lets
    windows share a msgid sequence (default: :func:`default_msgid_factory`). *timer*
    measures ``Answer.elapsed_ms`` (monotonic seconds; default :func:`time.perf_counter`).

    A bad *base_url*, *timeout* or *fixmedins_code* raises
    :class:`~mock_insurer.client.errors.RequestNotSent` here, naming the setting."""

    def __init__(self, base_url: str, *, fixmedins_code: str, fixmedins_name: str,
                 mdtrtarea_admvs: str, insuplc_admdvs: str = "", opter: str, opter_name: str,
                 opter_type: str = "1", infver: str = "V1.0", recer_sys_code: str = "YBXT",
                 auth: Auth | None = None, clock: Callable[[], datetime],
                 nonce: Callable[[], str] | None = None, timeout: float = 10.0,
                 session: requests.Session | None = None, path: str = DEFAULT_PATH,
                 strict_err_msg: bool = False, msgid_factory: MsgidFactory | None = None,
                 timer: Callable[[], float] = time.perf_counter,
                 max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES) -> None:
        self.url = endpoint(base_url, path)
        problem = timeout_problem(timeout)
        if problem is not None:
            raise RequestNotSent(problem, field="timeout")
        if isinstance(max_answer_bytes, bool) or not isinstance(max_answer_bytes, int) \
                or max_answer_bytes <= 0:
            raise RequestNotSent(f"max_answer_bytes {max_answer_bytes!r} must be a positive "
                                 "number of bytes", field="max_answer_bytes")
        self.max_answer_bytes = max_answer_bytes
        if not isinstance(fixmedins_code, str) or not fixmedins_code:
            raise RequestNotSent("fixmedins_code is empty: every msgid starts with it",
                                 field="fixmedins_code")
        self.fixmedins_code = fixmedins_code
        self.fixmedins_name = fixmedins_name
        self.mdtrtarea_admvs = mdtrtarea_admvs
        self.insuplc_admdvs = insuplc_admdvs
        self.opter = opter
        self.opter_name = opter_name
        self.opter_type = opter_type
        self.infver = infver
        self.recer_sys_code = recer_sys_code
        self.auth: Auth = auth or NoAuth()
        self.timeout = timeout
        self.strict_err_msg = strict_err_msg
        self.session = session or bounded_session()
        self.sign_no = ""
        self.last_request: dict[str, Any] | None = None
        self.last_answer: Answer | None = None
        self._clock = clock
        self._nonce = nonce or _uuid_nonce
        self._timer = timer
        self._msgids = msgid_factory or default_msgid_factory(fixmedins_code, clock)

    # --- building and sending ---------------------------------------------------------------
    def new_msgid(self) -> str:
        """A fresh msgid: ``fixmedins_code + yyyyMMddHHmmss + 4-digit sequence``."""
        return self._msgids.new()

    def build(self, infno: str, input: Mapping[str, Any], *, msgid: str | None = None,
              insuplc_admdvs: str | None = None) -> dict[str, Any]:
        """The envelope :meth:`call` would send (nothing is sent)."""
        return build_request(
            infno=infno, msgid=msgid or self.new_msgid(), input=input,
            fixmedins_code=self.fixmedins_code, fixmedins_name=self.fixmedins_name,
            mdtrtarea_admvs=self.mdtrtarea_admvs,
            insuplc_admdvs=self.insuplc_admdvs if insuplc_admdvs is None else insuplc_admdvs,
            recer_sys_code=self.recer_sys_code, infver=self.infver, opter_type=self.opter_type,
            opter=self.opter, opter_name=self.opter_name, inf_time=self._clock(),
            sign_no=self.sign_no)

    def call(self, infno: str, input: Mapping[str, Any], *, msgid: str | None = None,
             insuplc_admdvs: str | None = None) -> Answer:
        """Send transaction *infno* with business data *input* (the nodes: ``{"data": …}``,
        ``{"feedetail": [...]}`` …). Amounts may be Decimal (written as they read: quantize
        money to two places first), int or str — never float (refused, with the field's
        path, before anything is sent). Returns the :class:`Answer` of a success
        (``infcode`` 0; its ``err_msg``, if any, is a notice); raises a
        :class:`~mock_insurer.client.errors.ClientError` subclass otherwise. The envelope
        sent is kept in :attr:`last_request` and in every error's ``request`` (to resend or
        reverse it)."""
        envelope = self.build(infno, input, msgid=msgid, insuplc_admdvs=insuplc_admdvs)
        return self.send_raw(envelope)

    def send_raw(self, envelope: Mapping[str, Any]) -> Answer:
        """Send *envelope* exactly as given (same msgid: a resend after a lost answer is
        answered with the original answer by an idempotent center). New gateway headers are
        drawn for every send. A successful 9001 sets :attr:`sign_no` and a successful 9002
        naming it clears it, as :meth:`sign_in` / :meth:`sign_out` do."""
        request, answer = self._exchange(envelope)
        self._follow_signin(request, answer)
        self.last_answer = answer
        return answer

    def _exchange(self, envelope: Mapping[str, Any]) -> tuple[dict[str, Any], Answer]:
        """Encode, check and send *envelope*; the request as sent (parsed back from its
        bytes, so that later changes to the caller's objects do not alter it) and the
        answer."""
        msgid = str(envelope.get("msgid", ""))
        infno = str(envelope.get("infno", ""))
        body = self._encode(envelope, msgid=msgid, infno=infno)
        request: dict[str, Any] = loads(body)
        headers = self._headers(request, msgid=msgid, infno=infno)
        self.last_request = request
        return request, self._post(body, headers, request=request, msgid=msgid, infno=infno)

    def _encode(self, envelope: Mapping[str, Any], *, msgid: str, infno: str) -> bytes:
        found = unsendable(envelope, "")
        if found is not None:
            path, why = found
            raise RequestNotSent(f"{infno} {msgid}: {path} {why}; nothing was sent",
                                 field=path, msgid=msgid, infno=infno)
        try:
            return dumps(envelope)
        except WireEncodeError as exc:
            raise RequestNotSent(f"{infno} {msgid}: the envelope cannot be written as JSON "
                                 f"({exc}); nothing was sent", field="envelope", msgid=msgid,
                                 infno=infno) from exc

    def _headers(self, request: dict[str, Any], *, msgid: str, infno: str) -> dict[str, str]:
        signed = self.auth.headers(self._clock, self._nonce)
        for name, value in signed.items():
            problem = header_problem(name, value, secret=True)
            if problem is not None:
                raise RequestNotSent(f"{infno} {msgid}: the gateway header {name} {problem}; "
                                     "nothing was sent", field=f"header:{name}", msgid=msgid,
                                     infno=infno, request=request)
        return {"Content-Type": "application/json;charset=utf-8", **signed}

    def _post(self, body: bytes, headers: Mapping[str, str], *, request: dict[str, Any],
              msgid: str, infno: str) -> Answer:
        where = f"{infno} {msgid}"
        problem = timeout_problem(self.timeout)
        if problem is not None:
            raise RequestNotSent(f"{where}: {problem}; nothing was sent", field="timeout",
                                 msgid=msgid, infno=infno, request=request)
        sent: dict[str, Any] = {"msgid": msgid, "infno": infno, "request": request}
        started = self._timer()
        deadline = time.monotonic() + self.timeout  # real seconds, whatever *timer* is
        try:
            with exchange_deadline(deadline):  # the answer's head by the deadline too
                response = self.session.post(self.url, data=body, headers=headers,
                                             timeout=(self.timeout, self.timeout), stream=True)
        except requests.exceptions.ConnectTimeout as exc:
            raise InsurerUnavailable(f"{where}: could not connect to {self.url} within "
                                     f"{self.timeout} s; nothing was sent", **sent) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise InsurerTimeout(f"{where}: no answer within {self.timeout} s; the request may "
                                 "have taken effect — reverse it (2601) or query (5203)",
                                 **sent) from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise InsurerUnavailable(f"{where}: cannot connect to {self.url} ({exc}); "
                                         "nothing was sent", **sent) from exc
            raise ConnectionLost(f"{where}: the connection broke after sending, before an "
                                 f"answer ({exc}); the request may have taken effect",
                                 **sent) from exc
        except _NOT_SENT_ERRORS as exc:
            raise RequestNotSent(f"{where}: {self.url} cannot be used ({exc}); nothing was "
                                 "sent", field="base_url", **sent) from exc
        except requests.exceptions.RequestException as exc:
            raise ConnectionLost(f"{where}: the exchange failed ({exc}); the request may "
                                 "have taken effect", **sent) from exc
        status = response.status_code
        try:
            content = read_bounded(response, deadline=deadline, timer=time.monotonic,
                                   per_read=self.timeout, max_bytes=self.max_answer_bytes)
        except DeadlinePassed as exc:
            raise InsurerTimeout(f"{where}: HTTP {status} headers arrived, but the whole "
                                 f"answer did not within {self.timeout} s; the request may have "
                                 "taken effect — reverse it (2601) or query (5203)",
                                 **sent) from exc
        except AnswerTooLarge as exc:
            if status != 200:
                raise GatewayError(f"{where}: HTTP {status}, and the answer is {exc}",
                                   status=status, body=b"", **sent) from exc
            raise MalformedAnswer(f"{where}: HTTP 200 but the answer is {exc}, more than an "
                                  "answer can be; not read — the request may have taken effect",
                                  body=b"", **sent) from exc
        except requests.exceptions.ConnectionError as exc:
            if _caused_by(exc, urllib3.exceptions.ReadTimeoutError):
                raise InsurerTimeout(f"{where}: HTTP {status} headers arrived, then no data "
                                     f"within {self.timeout} s; the request may have taken "
                                     "effect — reverse it (2601) or query (5203)",
                                     **sent) from exc
            raise ConnectionLost(f"{where}: the connection broke while the answer arrived "
                                 f"({exc}); the request may have taken effect",
                                 **sent) from exc
        except requests.exceptions.ChunkedEncodingError as exc:
            if _caused_by(exc, (ConnectionResetError, ConnectionAbortedError,
                                BrokenPipeError)):
                raise ConnectionLost(f"{where}: the connection was reset while the answer "
                                     f"arrived ({exc}); the request may have taken effect",
                                     **sent) from exc
            cut = f"the answer was cut off: fewer bytes arrived than announced ({exc})"
            if status != 200:
                raise GatewayError(f"{where}: HTTP {status}, and {cut}", status=status,
                                   body=b"", **sent) from exc
            raise MalformedAnswer(f"{where}: HTTP 200 but {cut}; the request may have taken "
                                  "effect", body=b"", **sent) from exc
        except requests.exceptions.ContentDecodingError as exc:
            raise MalformedAnswer(f"{where}: the answer cannot be decoded ({exc})", body=b"",
                                  **sent) from exc
        except requests.exceptions.RequestException as exc:
            raise ConnectionLost(f"{where}: the answer was cut off ({exc}); the request may "
                                 "have taken effect", **sent) from exc
        finally:
            response.close()
        elapsed_ms = (self._timer() - started) * 1000.0
        return read_answer(content, content_type=response.headers.get("Content-Type", ""),
                           status=status, msgid=msgid, infno=infno, elapsed_ms=elapsed_ms,
                           strict_err_msg=self.strict_err_msg, request=request)

    def _follow_signin(self, request: dict[str, Any], answer: Answer) -> None:
        """Keep the sign-in state the insurer answered, whichever way the 9001/9002 was
        sent (:meth:`sign_in`, :meth:`call`, or a resend through :meth:`send_raw`)."""
        if answer.infno == "9001":
            output = answer.output
            sign_no = output_node(output, "signinoutb").get("sign_no") \
                or (output.get("sign_no") if isinstance(output, Mapping) else None)
            if isinstance(sign_no, bool) or not isinstance(sign_no, (str, int)) \
                    or len(str(sign_no)) > 64:
                sign_no = None  # an object, a list, a novel: no sign_no to keep
            if not sign_no:
                raise MalformedAnswer(f"9001 {answer.msgid}: the answer carries no sign_no",
                                      msgid=answer.msgid, infno="9001",
                                      body=dumps(answer.raw), request=request)
            self.sign_no = str(sign_no)
        elif answer.infno == "9002" and self.sign_no:
            signed_out = output_node(request.get("input"), "signOut").get("sign_no")
            if self.sign_no in (signed_out, request.get("sign_no")):
                self.sign_no = ""

    # --- conveniences for the transactions every HIS needs ------------------------------------
    def sign_in(self, opter_no: str, mac: str, ip: str) -> str:
        """9001: sign in and keep the ``sign_no`` for every later call; returns it. (Any
        successful 9001 answer sets :attr:`sign_no` — a resend of a 9001 whose answer was
        lost, through :meth:`send_raw`, too.)"""
        self.call("9001", {"signIn": {"opter_no": opter_no, "mac": mac, "ip": ip}})
        return self.sign_no

    def sign_out(self, opter_no: str) -> Answer:
        """9002: sign out; forgets the ``sign_no``."""
        return self.call("9002", {"signOut": {"sign_no": self.sign_no, "opter_no": opter_no}})

    def reverse(self, *, psn_no: str, omsgid: str, oinfno: str,
                insuplc_admdvs: str | None = None) -> Answer:
        """2601: reverse the message *omsgid* of transaction *oinfno* (2207, 2208 …) — what
        to do after a settlement's answer was lost (timeout, connection lost)."""
        return self.call("2601", {"data": {"psn_no": psn_no, "omsgid": omsgid,
                                           "oinfno": oinfno}},
                         insuplc_admdvs=insuplc_admdvs)

    def upload_file(self, filename: str, content: bytes) -> Answer:
        """9101: upload a file (e.g. the zipped 3202 detail file), Base64 in ``in``; the
        answer's output carries ``file_qury_no``."""
        return self.call("9101", {"fsUploadIn": {
            "in": base64.b64encode(content).decode("ascii"), "filename": filename,
            "fixmedins_code": self.fixmedins_code}})

    def download_file(self, file_qury_no: str, filename: str) -> bytes:
        """9102: download a file (e.g. the 3202 result zip); returns its bytes."""
        request, answer = self._exchange(self.build("9102", {"fsDownloadIn": {
            "file_qury_no": file_qury_no, "filename": filename,
            "fixmedins_code": self.fixmedins_code}}))
        self.last_answer = answer
        if answer.file is None:
            raise MalformedAnswer(f"9102 {answer.msgid}: an envelope came back instead of a "
                                  "file", msgid=answer.msgid, infno="9102",
                                  body=dumps(answer.raw), request=request)
        return answer.file

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def __enter__(self) -> InsurerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """Whether the connection failed before anything was sent (refused, unreachable, name
    not resolved). A reset or close after connecting counts as sent: effect unknown."""
    reason: object = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (urllib3.exceptions.NewConnectionError,
                               urllib3.exceptions.ConnectTimeoutError))
