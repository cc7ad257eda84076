"""Reading an HTTP answer within limits: one deadline for the whole exchange and a largest
size, whatever the other side does (trickles a byte at a time, sends gigabytes, or a small
gzip that inflates to gigabytes). The SDK reads the insurer's answers with it
(:class:`~mock_insurer.client.InsurerClient`), the reference HIS its portal's.

The deadline covers the answer's head too (status line and headers) on a session whose
adapter is a :class:`BoundedAdapter` (the SDK's own sessions, the reference HIS's pool):
inside :func:`exchange_deadline`, every wait for the head's bytes ends by the deadline, so
headers sent a byte at a time cannot hold a window past it. A session of the caller's with
another adapter (locust's) keeps requests' per-read timeout for the head.

Times are monotonic seconds (the caller's *timer*); sizes are bytes of the decoded body.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import requests
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
from requests.adapters import HTTPAdapter

__all__ = ["DEFAULT_MAX_ANSWER_BYTES", "MAX_SHOWN_TEXT", "AnswerTooLarge", "BoundedAdapter",
           "DeadlinePassed", "bounded_session", "cap_text", "exchange_deadline", "read_bounded",
           "remaining"]

DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""The largest answer read (8 MiB): four times the largest request the insurer accepts (2 MB),
room for a day's 3202 result zip. A larger one is refused unread past this size."""

MAX_SHOWN_TEXT = 1000
"""The most characters of an ``err_msg`` (or another text from the other side) shown to a
cashier or stored; the rest is cut with a marker saying how long it was."""

_CHUNK = 64 * 1024


class AnswerTooLarge(Exception):
    """The answer is larger than the limit (``declared``: by its Content-Length)."""

    def __init__(self, limit: int, *, declared: int | None = None) -> None:
        super().__init__(f"larger than {limit} bytes" + (
            f" (Content-Length {declared})" if declared is not None else ""))
        self.limit = limit
        self.declared = declared


class DeadlinePassed(Exception):
    """The exchange's deadline passed while the answer was still arriving."""


def cap_text(text: str, limit: int = MAX_SHOWN_TEXT) -> str:
    """*text* as shown or stored: at most *limit* characters, then a marker with the whole
    length. A locator at the end (``…[data.mdtrt_id]``, fact sheet §5) is kept."""
    if len(text) <= limit:
        return text
    where = ""
    if text.endswith("]") and "[" in text[-80:]:
        where = text[text.rindex("["):]
    return f"{text[:limit]}…(共{len(text)}字符，已截断 / {len(text)} characters, cut){where}"


_DEADLINE: ContextVar[float | None] = ContextVar("cardsettle_exchange_deadline", default=None)
"""The deadline (:func:`time.monotonic` seconds) of the exchange under way in this thread or
task, if any."""


@contextlib.contextmanager
def exchange_deadline(deadline: float) -> Iterator[None]:
    """Within the block, an answer's head read through a :class:`BoundedAdapter` must have
    arrived by *deadline* (:func:`time.monotonic` seconds), else the read fails as a read
    timeout does (requests' ``ReadTimeout``)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class _DeadlineSocketIO(socket.SocketIO):
    """A socket's reading side whose every wait ends by the deadline (and after the socket's
    own per-read timeout, whichever comes first)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__(sock, "rb")
        self._socket = sock
        self._deadline = deadline
        self._per_read = sock.gettimeout()

    def readinto(self, b: Any) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the exchange's deadline passed while its answer arrived")
        wait = left if self._per_read is None else min(self._per_read, left)
        self._socket.settimeout(max(wait, 0.001))
        return super().readinto(b)


class _DeadlineSocket:
    """What :class:`http.client.HTTPResponse` reads the head (and body) from: the socket, its
    file made of :class:`_DeadlineSocketIO`."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        raw = _DeadlineSocketIO(self._sock, self._deadline)
        self._sock._io_refs += 1  # type: ignore[attr-defined]  # as socket.makefile counts
        return io.BufferedReader(raw)


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        deadline = _DEADLINE.get()
        if deadline is not None and isinstance(sock, socket.socket):
            sock = _DeadlineSocket(sock, deadline)
        super().__init__(sock, *args, **kwargs)


class _Connection(urllib3.connection.HTTPConnection):
    response_class = _DeadlineResponse


class _TLSConnection(urllib3.connection.HTTPSConnection):
    response_class = _DeadlineResponse


class _Pool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


class BoundedAdapter(HTTPAdapter):
    """requests' adapter whose answers' heads are read within :func:`exchange_deadline`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}


def bounded_session(adapter: HTTPAdapter | None = None) -> requests.Session:
    """A session sending through *adapter* (default: a new :class:`BoundedAdapter`)."""
    session = requests.Session()
    adapter = adapter or BoundedAdapter()
    for prefix in ("http://", "https://"):
        session.mount(prefix, adapter)
    return session


def remaining(deadline: float, timer: Callable[[], float]) -> float:
    """Seconds left until *deadline* (``timer()`` time), never below 0."""
    return max(0.0, deadline - timer())


def _set_read_timeout(raw: Any, seconds: float) -> None:
    """Make the socket's next wait for data end after *seconds* (the per-read timeout
    requests set, shortened to what is left of the exchange)."""
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # closed: the next read says so
            sock.settimeout(max(seconds, 0.001))


def read_bounded(response: requests.Response, *, deadline: float,
                 timer: Callable[[], float], per_read: float,
                 max_bytes: int = DEFAULT_MAX_ANSWER_BYTES) -> bytes:
    """The body of *response* (made with ``stream=True``), decoded, read before *deadline*
    (``timer()`` time) and no larger than *max_bytes*.

    Each wait for data lasts at most *per_read* seconds and never past the deadline; each
    read takes what has arrived (one receive), so a body trickling in byte by byte is still
    stopped at the deadline. Raises :class:`AnswerTooLarge` (its Content-Length says so, or
    more arrived), :class:`DeadlinePassed`, and requests' own errors for the rest, as
    ``response.content`` would: ``ConnectionError`` (a read timed out),
    ``ChunkedEncodingError`` (cut off, reset), ``ContentDecodingError``."""
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise AnswerTooLarge(max_bytes, declared=int(declared))
    if getattr(response, "_content_consumed", False):
        # a session that read the body itself (locust's, for its statistics): what it read
        content = response.content
        if len(content) > max_bytes:
            raise AnswerTooLarge(max_bytes)
        return content
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            left = deadline - timer()
            if left <= 0:
                if getattr(raw, "length_remaining", None) == 0 or getattr(raw, "closed", False):
                    break  # all of it came: nothing left to wait for
                raise DeadlinePassed
            _set_read_timeout(raw, min(per_read, left))
            if read1 is not None:
                chunk = read1(_CHUNK, decode_content=True)
            else:  # pragma: no cover - urllib3 before 2.3 has no read1
                chunk = raw.read(_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise AnswerTooLarge(max_bytes)
            chunks.append(chunk)
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        if deadline - timer() <= 0.005:  # the wait that ended was cut at the deadline
            raise DeadlinePassed from exc
        raise requests.exceptions.ConnectionError(exc) from exc
    except urllib3.exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc
    return b"".join(chunks)
