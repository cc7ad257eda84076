"""The HIS's side of the national interface: the insurer's client SDK, wrapped.

One :class:`~mock_insurer.client.InsurerClient` per operator (cashier window), all sharing one
msgid sequence and one pool of at most :data:`MAX_CONNECTIONS` kept-alive connections to the
insurer (each client has its own session, so no cookie passes from one operator to another).
At most :data:`MAX_CLIENTS` clients are kept: past that the least recently used idle one is
dropped — its ``sign_no`` stays in the database, so when that operator calls again a new client
takes it up without a new 9001. An ``operator`` per request, however many, holds no socket.
Every call:

- signs the operator in (9001) once per operator and day (the HIS clock's day), keeping the
  ``sign_no`` in the HIS database so that a restart reuses it;
- renews the sign-in when the insurer refuses a message for it (the refusal text names 签到 /
  9001; the national specification gives no code for it, fact sheet §5) and sends the message
  again under a new msgid — the refused one took no effect;
- logs every msgid sent with its outcome (``ok``, ``refused``, ``unknown``, ``unavailable``,
  or ``unusable``: ``infcode`` 0 but content the HIS cannot use, :mod:`simulator.his.answers`);
- on request (``resend=True``, for everything but 2207/2208) answers an effect-unknown failure
  by resending the identical envelope: an idempotent center answers the original and applies
  nothing twice (reference README, "msgid"). Settlements are recovered by query or reversal
  instead (:mod:`simulator.his.settlement`);
- decides on ``infcode`` alone: an ``infcode`` 0 that carries an ``err_msg`` (a provincial
  quirk) is a success whose text is a notice, never a failure to settle again (docs/faults.md).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mock_insurer.client import Answer, ClientError, InsurerClient, InsurerRefusal
from mock_insurer.client.bounded import BoundedAdapter, bounded_session
from mock_insurer.wire.msgid import MsgidFactory
from simulator.his import answers
from simulator.his.config import HisConfig
from simulator.his.store import HisStore

__all__ = ["MAX_CLIENTS", "MAX_CONNECTIONS", "InsurerLink", "signin_refused"]

#: Operators' SDK clients kept between calls; the least recently used idle one goes beyond it.
MAX_CLIENTS = 64
#: Connections to the insurer kept alive, shared by every operator (more may be open while
#: more calls than this run at once; those are closed after their call).
MAX_CONNECTIONS = 16


def signin_refused(error: ClientError) -> bool:
    """Whether the insurer refused a message because the sign-in is missing or stale."""
    return (isinstance(error, InsurerRefusal) and error.effect == "none"
            and ("签到" in error.err_msg or "9001" in error.err_msg))


@dataclass(slots=True)
class _Window:
    """One operator's client, the lock that runs its calls one at a time, and how many calls
    are using it (a window in use is never dropped)."""

    client: InsurerClient
    lock: threading.Lock
    users: int = 0


class InsurerLink:
    """Calls the insurer for the HIS (thread-safe; one operator's calls run one at a time)."""

    max_clients = MAX_CLIENTS

    def __init__(self, config: HisConfig, store: HisStore) -> None:
        self.config = config
        self.store = store
        start = store.next_number("msgid_block") * 500 % 10_000
        self._msgids = MsgidFactory(config.fixmedins_code, config.clock, start=start)
        self._pool = BoundedAdapter(pool_connections=1, pool_maxsize=MAX_CONNECTIONS)
        self._windows: OrderedDict[str, _Window] = OrderedDict()
        self._signed_day: dict[str, str] = {}
        self._guard = threading.Lock()

    def close(self) -> None:
        with self._guard:
            self._windows.clear()
            self._signed_day.clear()
            self._pool.close()

    def clients(self) -> int:
        """How many operators' clients are kept now (at most :data:`MAX_CLIENTS` idle)."""
        with self._guard:
            return len(self._windows)

    def _new_client(self, operator: str) -> InsurerClient:
        cfg = self.config
        return InsurerClient(
            cfg.insurer_url, fixmedins_code=cfg.fixmedins_code,
            fixmedins_name=cfg.fixmedins_name, mdtrtarea_admvs=cfg.mdtrtarea_admvs,
            opter=operator, opter_name=cfg.operator_name(operator), auth=cfg.auth,
            clock=cfg.clock, timeout=cfg.timeout, msgid_factory=self._msgids,
            strict_err_msg=False, session=bounded_session(self._pool))

    @contextmanager
    def _client(self, operator: str) -> Iterator[InsurerClient]:
        """``operator``'s client, its calls one at a time: held while the block runs."""
        with self._guard:
            window = self._windows.get(operator)
            if window is None:
                window = _Window(self._new_client(operator), threading.Lock())
                self._windows[operator] = window
            self._windows.move_to_end(operator)
            window.users += 1
        try:
            with window.lock:
                yield window.client
        finally:
            with self._guard:
                window.users -= 1
                self._trim()

    def _trim(self) -> None:
        """Drop the least recently used idle clients beyond :attr:`max_clients` (under the
        guard). Nothing of theirs is lost: the sign-in is in the database, the connections
        belong to the shared pool (a dropped client's session is not closed: that would close
        the pool)."""
        excess = len(self._windows) - self.max_clients
        if excess <= 0:
            return
        idle = [op for op, window in self._windows.items() if window.users == 0]
        for operator in idle[:excess]:
            del self._windows[operator]
            self._signed_day.pop(operator, None)

    def _today(self) -> str:
        return self.config.clock().strftime("%Y-%m-%d")

    def _ensure_signed_in(self, operator: str, client: InsurerClient) -> None:
        day = self._today()
        if client.sign_no and self._signed_day.get(operator) == day:
            return
        stored = self.store.signin(operator, day)
        if stored:
            client.sign_no = stored
            self._signed_day[operator] = day
            return
        self._sign_in(operator, client, day)

    def _sign_in(self, operator: str, client: InsurerClient, day: str) -> None:
        message_id = self.store.log_message({
            "msgid": "", "infno": "9001", "operator": operator, "visit_id": None,
            "sent_at": self.config.clock().strftime("%Y-%m-%d %H:%M:%S"), "outcome": "sent"})
        try:
            sign_no = client.sign_in(opter_no=operator, mac=self.config.mac, ip=self.config.ip)
        except ClientError as error:
            self.store.update_message(message_id, msgid=error.msgid, outcome=_outcome(error),
                                      err_msg=str(error))
            raise
        msgid = str((client.last_request or {}).get("msgid", ""))
        self.store.update_message(message_id, msgid=msgid, outcome="ok")
        self.store.save_signin(operator, day, sign_no,
                               self.config.clock().strftime("%Y-%m-%d %H:%M:%S"))
        self._signed_day[operator] = day

    def call(self, operator: str, infno: str, input: Mapping[str, Any], *,
             insuplc_admdvs: str | None = None, visit_id: str | None = None,
             before_send: Callable[[str], None] | None = None,
             resend: bool = False, sent: list[Mapping[str, Any]] | None = None) -> Answer:
        """Send ``infno`` for ``operator``; returns the answer or raises the SDK's typed error
        (:class:`~mock_insurer.client.ClientError`). ``before_send(msgid)`` runs before each
        send (a settlement is written ahead under its msgid). ``resend`` resends the identical
        envelope after an effect-unknown failure, up to ``config.resends`` times; ``sent``, when
        given, receives each envelope sent (to replay it later: :meth:`replay`)."""
        with self._client(operator) as client:
            self._ensure_signed_in(operator, client)
            renewed = False
            while True:
                envelope = client.build(infno, input, insuplc_admdvs=insuplc_admdvs)
                if before_send is not None:
                    before_send(str(envelope["msgid"]))
                if sent is not None:
                    sent.append(envelope)
                try:
                    return self._send(operator, client, envelope, visit_id, resend)
                except ClientError as error:
                    if renewed or not signin_refused(error):
                        raise
                    renewed = True
                    self.store.forget_signin(operator, self._today())
                    self._sign_in(operator, client, self._today())

    def replay(self, operator: str, envelope: Mapping[str, Any], visit_id: str) -> Answer:
        """Send a message whose outcome is unknown once more, byte for byte (same msgid): the
        insurer answers with the original answer if it took effect, or handles it now."""
        with self._client(operator) as client:
            self._ensure_signed_in(operator, client)
            return self._send(operator, client, envelope, visit_id, False)

    def _send(self, operator: str, client: InsurerClient, envelope: Mapping[str, Any],
              visit_id: str | None, resend: bool) -> Answer:
        message_id = self.store.log_message({
            "msgid": str(envelope["msgid"]), "infno": str(envelope["infno"]),
            "operator": operator, "visit_id": visit_id, "outcome": "sent",
            "sent_at": str(envelope.get("inf_time", ""))})
        attempts = 1 + (self.config.resends if resend else 0)
        for attempt in range(attempts):
            try:
                answer = client.send_raw(envelope)
            except ClientError as error:
                self.store.update_message(message_id, outcome=_outcome(error),
                                          err_msg=str(error))
                if error.effect_unknown and attempt + 1 < attempts:
                    continue
                raise
            problem = answers.unusable(str(envelope["infno"]), answer)
            if problem is None:
                self.store.update_message(message_id, outcome="ok",
                                          err_msg=answer.warn_msg or None)
            else:  # the caller's reader raises it: effect unknown, as if no answer came
                self.store.update_message(message_id, outcome="unusable", err_msg=str(problem))
            return answer
        raise AssertionError("unreachable")  # pragma: no cover


def _outcome(error: ClientError) -> str:
    if isinstance(error, InsurerRefusal) and error.effect == "none":
        return "refused"
    return "unknown" if error.effect_unknown else "unavailable"
