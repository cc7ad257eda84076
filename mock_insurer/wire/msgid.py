"""Message ids: the sender's ``msgid`` and the insurer's ``inf_refmsgid``.

``msgid`` (发送方报文ID, char 30) = ``fixmedins_code`` (12) + ``yyyyMMddHHmmss`` (14) + a
4-digit sequence (fact sheet §2.1, §2.3; JS, CQ, JL ``BusnessIdUtil.getMsgid``). In practice
clients send 26–30 characters, random 4-digit tails, or hex ids (shared/reference/README.md,
"msgid"); :func:`check_msgid` names each departure as a :class:`Deviation`.

``inf_refmsgid`` (接收方报文ID, char 30) = the insurer's area code (6) + ``yyyyMMddHHmmss`` +
a 10-digit sequence (fact sheet §2.2; samples ``500000202107141108170000514555``).

Both factories take a clock (``Callable[[], datetime]``, wall clock of the caller's choosing)
and are safe to share between threads. The sequence runs on from ``start`` and wraps; ids are
unique as long as fewer than 10 000 (msgid) ids are drawn per second *from one factory* —
windows of one institution in one process should share a factory.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime

from mock_insurer.wire.outcomes import Deviation
from mock_insurer.wire.timefmt import format_stamp14, parse_stamp14

__all__ = [
    "MSGID_LENGTH",
    "MsgidFactory",
    "RefMsgidFactory",
    "check_msgid",
]

MSGID_LENGTH = 30
_SEQ_DIGITS = 4
_REF_SEQ_DIGITS = 10
_ALNUM = re.compile(r"[0-9A-Za-z]+")
_AREA = re.compile(r"\d{6}")


class _Sequence:
    """A thread-safe counter modulo ``10**digits``."""

    def __init__(self, digits: int, start: int) -> None:
        if start < 0:
            raise ValueError("start must be >= 0")
        self._modulus = 10**digits
        self._next = start % self._modulus
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            value = self._next
            self._next = (value + 1) % self._modulus
            return value


class MsgidFactory:
    """Draws msgids ``fixmedins_code + yyyyMMddHHmmss + NNNN`` (30 chars for a 12-char code).

    *clock* gives the time put into the id (China wall clock; aware times are converted)."""

    def __init__(self, fixmedins_code: str, clock: Callable[[], datetime], start: int = 1) -> None:
        if not fixmedins_code:
            raise ValueError("fixmedins_code must not be empty")
        self.fixmedins_code = fixmedins_code
        self._clock = clock
        self._sequence = _Sequence(_SEQ_DIGITS, start)

    def new(self) -> str:
        """The next msgid."""
        number = self._sequence.take()
        return f"{self.fixmedins_code}{format_stamp14(self._clock())}{number:0{_SEQ_DIGITS}d}"

    __call__ = new


class RefMsgidFactory:
    """Draws the insurer's ``inf_refmsgid``: ``area(6) + yyyyMMddHHmmss + 10-digit sequence``.

    *area* is the insurer's 6-digit area code (医保区划, e.g. ``"110000"``). Several insurer
    processes sharing one ledger should pass different *start* values (e.g. ``pid * 10**6``)."""

    def __init__(self, area: str, clock: Callable[[], datetime], start: int = 1) -> None:
        if _AREA.fullmatch(area) is None:
            raise ValueError(f"area must be 6 digits, got {area!r}")
        self.area = area
        self._clock = clock
        self._sequence = _Sequence(_REF_SEQ_DIGITS, start)

    def new(self) -> str:
        """The next inf_refmsgid (30 chars)."""
        number = self._sequence.take()
        return f"{self.area}{format_stamp14(self._clock())}{number:0{_REF_SEQ_DIGITS}d}"

    __call__ = new


def check_msgid(msgid: str, fixmedins_code: str) -> list[Deviation]:
    """Every way *msgid* departs from ``fixmedins_code + yyyyMMddHHmmss + NNNN`` (30 chars).

    Codes: ``msgid_length`` (not 30 characters), ``msgid_charset`` (not only letters and
    digits), ``msgid_prefix`` (does not start with the institution's code), ``msgid_time``
    (the 14 characters after the code are not a real ``yyyyMMddHHmmss``),
    ``msgid_sequence`` (the 4 characters after the time are not digits). The time and
    sequence are only checked when the prefix is right. An empty list means well-formed."""
    found: list[Deviation] = []
    if len(msgid) != MSGID_LENGTH:
        found.append(Deviation("msgid_length", "msgid",
                               f"{len(msgid)} characters, expected {MSGID_LENGTH}"))
    if _ALNUM.fullmatch(msgid) is None:
        found.append(Deviation("msgid_charset", "msgid",
                               "contains characters other than letters and digits"))
    if not fixmedins_code or not msgid.startswith(fixmedins_code):
        found.append(Deviation("msgid_prefix", "msgid",
                               f"does not start with fixmedins_code {fixmedins_code!r}"))
        return found
    rest = msgid[len(fixmedins_code):]
    stamp = rest[:14]
    if parse_stamp14(stamp) is None:
        found.append(Deviation("msgid_time", "msgid",
                               f"{stamp!r} after the institution code is not yyyyMMddHHmmss"))
    tail = rest[14:]
    if len(tail) != _SEQ_DIGITS or not (tail.isascii() and tail.isdigit()):
        found.append(Deviation("msgid_sequence", "msgid",
                               f"{tail!r} after the time is not a {_SEQ_DIGITS}-digit sequence"))
    return found
