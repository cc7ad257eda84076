"""The insurer's client SDK: the "business component" a HIS embeds to talk to the center.

It builds envelopes (:func:`mock_insurer.wire.envelope.build_request`), draws msgids, signs
for the gateway, sends over HTTP, reads answers with exact Decimal amounts, and turns every
failure into a typed error that says whether the request may have taken effect
(:mod:`mock_insurer.client.errors`). docs/client-sdk.md walks through a whole visit.

One client per cashier window (a :class:`requests.Session` is not meant to be shared between
threads); windows of one institution in one process should share one
:class:`~mock_insurer.wire.msgid.MsgidFactory` so their msgids never collide.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests
import urllib3.exceptions

from mock_insurer.client.answer import Answer, output_node, read_answer
from mock_insurer.client.auth import Auth, NoAuth
from mock_insurer.client.errors import (
    ConnectionLost,
    InsurerTimeout,
    InsurerUnavailable,
    MalformedAnswer,
)
from mock_insurer.wire.envelope import build_request
from mock_insurer.wire.jsonio import dumps
from mock_insurer.wire.msgid import MsgidFactory

__all__ = ["DEFAULT_PATH", "InsurerClient"]

DEFAULT_PATH = "/fsi/api/rsfComIfsService/callService"
"""The national single endpoint (fact sheet §1.1)."""


def _uuid_nonce() -> str:
    return uuid.uuid4().hex


class InsurerClient:
    """Talks to one insurer center for one institution and one operator.

    *base_url* is ``http(s)://host:port`` (the mock's, or a real front-end processor's);
    *path* is appended. *clock* gives the wall-clock time put into ``inf_time`` and msgids
    (China time; aware datetimes are converted). *nonce* draws TIF nonces (default: random
    UUIDs). *timeout* is in seconds, for connecting and for each wait for data.
    *strict_err_msg* treats ``infcode`` 0 with a non-empty ``err_msg`` as a refusal (some
    provinces' quirk; fact sheet §5). *msgid_factory* lets windows share a msgid sequence.
    *timer* measures ``Answer.elapsed_ms`` (monotonic seconds; default
    :func:`time.perf_counter`)."""

    def __init__(self, base_url: str, *, fixmedins_code: str, fixmedins_name: str,
                 mdtrtarea_admvs: str, insuplc_admdvs: str = "", opter: str, opter_name: str,
                 opter_type: str = "1", infver: str = "V1.0", recer_sys_code: str = "YBXT",
                 auth: Auth | None = None, clock: Callable[[], datetime],
                 nonce: Callable[[], str] | None = None, timeout: float = 10.0,
                 session: requests.Session | None = None, path: str = DEFAULT_PATH,
                 strict_err_msg: bool = True, msgid_factory: MsgidFactory | None = None,
                 timer: Callable[[], float] = time.perf_counter) -> None:
        self.url = base_url.rstrip("/") + "/" + path.lstrip("/")
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
        self.session = session or requests.Session()
        self.sign_no = ""
        self.last_request: dict[str, Any] | None = None
        self.last_answer: Answer | None = None
        self._clock = clock
        self._nonce = nonce or _uuid_nonce
        self._timer = timer
        self._msgids = msgid_factory or MsgidFactory(fixmedins_code, clock)

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
        money to two places first), int or str. Returns the :class:`Answer` of a success;
        raises a :class:`~mock_insurer.client.errors.ClientError` subclass otherwise. The
        envelope sent is kept in :attr:`last_request` (to resend or reverse it)."""
        envelope = self.build(infno, input, msgid=msgid, insuplc_admdvs=insuplc_admdvs)
        return self.send_raw(envelope)

    def send_raw(self, envelope: Mapping[str, Any]) -> Answer:
        """Send *envelope* exactly as given (same msgid: a resend after a lost answer is
        answered with the original answer by an idempotent center). New gateway headers are
        drawn for every send."""
        request = dict(envelope)
        self.last_request = request
        msgid = str(request.get("msgid", ""))
        infno = str(request.get("infno", ""))
        answer = self._post(dumps(request), msgid=msgid, infno=infno)
        self.last_answer = answer
        return answer

    def _post(self, body: bytes, *, msgid: str, infno: str) -> Answer:
        headers = {"Content-Type": "application/json;charset=utf-8",
                   **self.auth.headers(self._clock, self._nonce)}
        where = f"{infno} {msgid}"
        started = self._timer()
        try:
            response = self.session.post(self.url, data=body, headers=headers,
                                         timeout=(self.timeout, self.timeout))
            content = response.content
        except requests.exceptions.ConnectTimeout as exc:
            raise InsurerUnavailable(f"{where}: could not connect to {self.url} within "
                                     f"{self.timeout} s; nothing was sent",
                                     msgid=msgid, infno=infno) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise InsurerTimeout(f"{where}: no answer within {self.timeout} s; the request may "
                                 "have taken effect — reverse it (2601) or query (5203)",
                                 msgid=msgid, infno=infno) from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise InsurerUnavailable(f"{where}: cannot connect to {self.url} ({exc}); "
                                         "nothing was sent", msgid=msgid, infno=infno) from exc
            raise ConnectionLost(f"{where}: the connection broke after sending ({exc}); the "
                                 "request may have taken effect", msgid=msgid,
                                 infno=infno) from exc
        except requests.exceptions.ContentDecodingError as exc:
            raise MalformedAnswer(f"{where}: the answer cannot be decoded ({exc})",
                                  msgid=msgid, infno=infno, body=b"") from exc
        except requests.exceptions.RequestException as exc:
            raise ConnectionLost(f"{where}: the answer was cut off ({exc}); the request may "
                                 "have taken effect", msgid=msgid, infno=infno) from exc
        elapsed_ms = (self._timer() - started) * 1000.0
        return read_answer(content, content_type=response.headers.get("Content-Type", ""),
                           status=response.status_code, msgid=msgid, infno=infno,
                           elapsed_ms=elapsed_ms, strict_err_msg=self.strict_err_msg)

    # --- conveniences for the transactions every HIS needs ------------------------------------
    def sign_in(self, opter_no: str, mac: str, ip: str) -> str:
        """9001: sign in and keep the ``sign_no`` for every later call; returns it."""
        answer = self.call("9001", {"signIn": {"opter_no": opter_no, "mac": mac, "ip": ip}})
        sign_no = output_node(answer.output, "signinoutb").get("sign_no") \
            or (answer.output.get("sign_no") if isinstance(answer.output, Mapping) else None)
        if not sign_no:
            raise MalformedAnswer(f"9001 {answer.msgid}: the answer carries no sign_no",
                                  msgid=answer.msgid, infno="9001",
                                  body=dumps(answer.raw))
        self.sign_no = str(sign_no)
        return self.sign_no

    def sign_out(self, opter_no: str) -> Answer:
        """9002: sign out; forgets the ``sign_no``."""
        answer = self.call("9002", {"signOut": {"sign_no": self.sign_no, "opter_no": opter_no}})
        self.sign_no = ""
        return answer

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
        answer = self.call("9102", {"fsDownloadIn": {
            "file_qury_no": file_qury_no, "filename": filename,
            "fixmedins_code": self.fixmedins_code}})
        if answer.file is None:
            raise MalformedAnswer(f"9102 {answer.msgid}: an envelope came back instead of a "
                                  "file", msgid=answer.msgid, infno="9102",
                                  body=dumps(answer.raw))
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
