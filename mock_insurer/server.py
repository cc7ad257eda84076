"""Running an ASGI app (the mock insurer) on uvicorn, with control of each TCP connection.

Two ways in:

- :func:`run` — serve in the foreground until Ctrl+C / SIGTERM (what ``cardsettle insurer
  serve`` calls), optionally with several worker processes.
- :func:`start_in_thread` — serve from a background thread on a free port and return a
  :class:`RunningServer` (``url``, ``port``, ``stop()``); for tests, every HTTP test.

Both use a uvicorn HTTP protocol of our own (a subclass of uvicorn's httptools or h11
protocol) that puts a :class:`ConnectionControl` into every HTTP request's scope as
``scope["extensions"]["cardsettle.transport"]``, so that a fault can reset (RST) or close
(FIN) the connection instead of answering: see :mod:`mock_insurer.faults.effects`.

A connection closed while a request's body is still arriving (the gateway refused a body too
large or too slow, and answered ``Connection: close``) is closed the way web servers do it
("lingering close"): the answer is sent and followed by FIN, what the client still sends is read
and dropped for at most :data:`LINGER_S`, then the socket is closed. Closing at once would make
the kernel answer the unread bytes with RST, and a client that writes its whole body before
reading (most HTTP libraries) would see "connection reset" instead of the answer.

A connection whose next request head (request line and headers) is not complete within
:data:`HEAD_TIMEOUT_S` of when the server began waiting for it — a client that connects and
says nothing, or sends its headers a byte at a time ("slowloris") — is closed: with an HTTP 408
when part of a head had arrived, silently when nothing had. The gateway bounds the body in the
same way (:data:`mock_insurer.gateway.asgi.BODY_DEADLINE_S`), uvicorn the idle time between
requests (``timeout_keep_alive``).

Times here are wall clock (seconds); the insurer's business clock is elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Literal

import h11
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from mock_insurer.errors import InsurerError
from mock_insurer.faults.effects import TRANSPORT_EXTENSION

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

__all__ = [
    "HEAD_TIMEOUT_S",
    "ConnectionControl",
    "H11TransportProtocol",
    "HttpToolsTransportProtocol",
    "RunningServer",
    "ServerError",
    "check_listen",
    "protocol_class",
    "run",
    "start_in_thread",
]

logger = logging.getLogger(__name__)

#: Seconds a stopping server waits for open requests before it cuts them.
GRACEFUL_SHUTDOWN_S = 5

#: Seconds a connection closed with part of a request's body unread goes on reading (and
#: dropping) it after the answer, so that the client, still writing, gets the answer and not a
#: reset; the socket is closed earlier when the client closes its side.
LINGER_S = 5.0

#: Seconds a connection has to complete a request's head (request line and headers), from
#: when it is opened or its previous answer was sent (nginx's ``client_header_timeout`` is 60,
#: Apache's ``RequestReadTimeout header`` 20-40).
HEAD_TIMEOUT_S = 30.0

HttpImpl = Literal["auto", "httptools", "h11"]


class ServerError(InsurerError):
    """The server could not be started as asked (the message says why)."""


class ConnectionControl:
    """Control of one TCP connection, for fault effects (see
    :class:`mock_insurer.faults.effects.TransportControl`). One per connection; shared by the
    requests that arrive on it. Use only from the server's event loop."""

    __slots__ = ("_closed", "_protocol", "_released")

    def __init__(self, protocol: H11Protocol | HttpToolsProtocol) -> None:
        self._protocol = protocol
        self._closed = asyncio.Event()
        self._released = asyncio.Event()

    @property
    def closed(self) -> bool:
        """Whether the connection is gone (closed by either side)."""
        return self._closed.is_set()

    def abort(self) -> None:
        """Reset the connection: ``SO_LINGER`` on with a 0 timeout, so that closing sends RST
        instead of FIN, then abort the transport (pending output is discarded)."""
        transport = self._protocol.transport
        if transport is None or self.closed:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

    def close(self) -> None:
        """Close the connection (FIN) once anything already written has been sent."""
        transport = self._protocol.transport
        if transport is None or self.closed:
            return
        transport.close()

    async def wait_closed(self) -> None:
        """Return once the server has seen the connection go (uvicorn has marked the request
        as disconnected by then, so returning from the app sends nothing)."""
        await self._closed.wait()

    async def hold(self, seconds: float) -> None:
        """Wait ``seconds`` (wall clock) without answering; return early when the client
        leaves or the server begins to shut down."""
        if self._released.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), seconds)

    # called by the protocol

    def _connection_lost(self) -> None:
        self._closed.set()
        self._released.set()

    def _shutdown(self) -> None:
        self._released.set()


class _LingeringTransport:
    """The protocol's transport, except that :meth:`close` while the request's body is still
    arriving (``body_unread()``) half-closes — FIN once the answer is written — and drops what
    the client still sends until it closes or :data:`LINGER_S` pass, then closes. Everything
    else is the transport's own."""

    def __init__(self, transport: asyncio.Transport, body_unread: Callable[[], bool]) -> None:
        self._transport = transport
        self._body_unread = body_unread
        self._loop = asyncio.get_running_loop()  # made by the protocol, in the server's loop
        self.lingering = False
        self._timer: asyncio.TimerHandle | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self.lingering:  # nothing more is sent once the answer was followed by FIN
            self._transport.write(data)

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def close(self) -> None:
        transport = self._transport
        if (self.lingering or transport.is_closing() or not transport.can_write_eof()
                or not self._body_unread()):
            self._stop()
            return
        self.lingering = True
        transport.write_eof()  # after what is buffered: the answer
        transport.resume_reading()
        self._timer = self._loop.call_later(LINGER_S, self._stop)

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._transport.close()


class _HeadDeadline:
    """Closes a connection whose next request head is not complete within ``seconds`` of
    :meth:`arm` (the protocol arms it on connection and after each answer). A head is complete
    when the protocol has started a new request cycle; what arrives in between does not
    postpone the deadline, unlike uvicorn's keep-alive timer. No timer per request: one sweep
    per server (:func:`_sweep_heads`) looks at every connection a few times per deadline, so a
    connection is closed between ``seconds`` and 1.25 × ``seconds`` (at most 1 s late)."""

    __slots__ = ("_cycle", "_partial", "_protocol", "_since", "seconds")

    def __init__(self, protocol: Any, seconds: float) -> None:
        self._protocol = protocol
        self.seconds = seconds
        self._since: float | None = None  # event loop time the wait began; None: not waiting
        self._cycle: object = None
        self._partial = False

    def arm(self) -> None:
        """Start waiting for a head, unless a request is under way (a pipelined one was
        started) or the connection is closing."""
        protocol = self._protocol
        cycle = protocol.cycle
        if protocol.transport.is_closing() or (cycle is not None and not cycle.response_complete):
            self._since = None
            return
        self._cycle = cycle
        self._partial = False
        self._since = protocol.loop.time()
        _sweep_heads(protocol)

    def received(self) -> None:
        """Bytes arrived (already given to the parser): the wait ends if they completed a head."""
        if self._since is None:
            return
        if self._protocol.cycle is not self._cycle:
            self._since = None
        else:
            self._partial = True

    def cancel(self) -> None:
        self._since = None

    def check(self, now: float) -> None:
        """Close the connection if its head is late at event loop time ``now``."""
        if self._since is None or now - self._since < self.seconds:
            return
        self._since = None
        protocol = self._protocol
        transport = protocol.transport
        if transport.is_closing() or protocol.cycle is not self._cycle:
            return
        if self._partial:
            text = (f"请求头未在 {self.seconds:g} 秒内收全 / request head not complete "
                    f"within {self.seconds:g} s").encode()
            transport.write(b"HTTP/1.1 408 Request Timeout\r\n"
                            b"content-type: text/plain; charset=utf-8\r\n"
                            b"content-length: " + str(len(text)).encode() + b"\r\n"
                            b"connection: close\r\n\r\n" + text)
        transport.close()


#: The attribute of uvicorn's ``ServerState`` (one per server) holding its sweep's timer.
_SWEEP = "cardsettle_head_sweep"


def _sweep_heads(protocol: Any) -> None:
    """Make sure the server of ``protocol`` sweeps its connections for late heads: every
    ``min(1 s, deadline / 4)`` while it has connections; it stops when it has none and starts
    again with the next one."""
    state = protocol.server_state
    if getattr(state, _SWEEP, None) is not None:
        return
    loop = protocol.loop
    interval = min(1.0, protocol.head_deadline.seconds / 4)

    def sweep() -> None:
        now = loop.time()
        for connection in list(state.connections):
            deadline = getattr(connection, "head_deadline", None)
            if deadline is not None:
                deadline.check(now)
        setattr(state, _SWEEP, loop.call_later(interval, sweep) if state.connections else None)

    setattr(state, _SWEEP, loop.call_later(interval, sweep))


def _with_transport_extension(app: ASGIApp, control: ConnectionControl) -> ASGIApp:
    async def with_extension(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            extensions = scope.get("extensions")
            if extensions is None:
                scope["extensions"] = extensions = {}
            extensions[TRANSPORT_EXTENSION] = control
        await app(scope, receive, send)

    return with_extension


class _ControlledConnection:
    """The hooks our two protocol classes add to uvicorn's (put first in their bases): a
    :class:`ConnectionControl` in every request's scope, the lingering close and the deadline for
    request heads. Each class says how it knows that a request's body is still arriving
    (``_body_unread``)."""

    head_timeout_s = HEAD_TIMEOUT_S
    # Set by uvicorn's protocol classes, which come after this one in the bases.
    app: ASGIApp
    transport: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection_control = ConnectionControl(self)  # type: ignore[arg-type]
        self.app = _with_transport_extension(self.app, self.connection_control)
        self.head_deadline = _HeadDeadline(self, self.head_timeout_s)

    def _body_unread(self) -> bool:
        raise NotImplementedError

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        lingering = _LingeringTransport(transport, self._body_unread)  # type: ignore[arg-type]
        super().connection_made(lingering)  # type: ignore[misc]
        self.head_deadline.arm()

    def data_received(self, data: bytes) -> None:
        if not self.transport.lingering:
            super().data_received(data)  # type: ignore[misc]
            self.head_deadline.received()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self.head_deadline.arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.head_deadline.cancel()
        super().connection_lost(exc)  # type: ignore[misc]
        self.connection_control._connection_lost()

    def shutdown(self) -> None:
        self.connection_control._shutdown()
        super().shutdown()  # type: ignore[misc]


class H11TransportProtocol(_ControlledConnection, H11Protocol):
    """uvicorn's h11 protocol, with a :class:`ConnectionControl` in every request's scope."""

    def _body_unread(self) -> bool:
        return bool(self.conn.their_state is h11.SEND_BODY)


if HttpToolsProtocol is not None:

    class HttpToolsTransportProtocol(_ControlledConnection, HttpToolsProtocol):
        """uvicorn's httptools protocol, with a :class:`ConnectionControl` in every request's
        scope (the default: faster than h11)."""

        def _body_unread(self) -> bool:
            cycle = self.cycle
            return cycle is not None and cycle.more_body and not cycle.disconnected

else:  # pragma: no cover
    HttpToolsTransportProtocol = None  # type: ignore[assignment,misc]


def protocol_class(http: HttpImpl = "auto",
                   head_timeout: float | None = None) -> type[asyncio.Protocol]:
    """The protocol class to give uvicorn: ``httptools`` (the ``auto`` choice when installed)
    or ``h11``. ``head_timeout`` (seconds) other than :data:`HEAD_TIMEOUT_S` gives a subclass
    with that deadline for request heads (in this process only: worker processes import the
    protocol by name)."""
    if http not in ("auto", "httptools", "h11"):
        raise ServerError(f"unknown HTTP implementation {http!r} (use auto, httptools or h11)")
    chosen: type[H11TransportProtocol | HttpToolsTransportProtocol]
    if http == "h11" or HttpToolsTransportProtocol is None:
        if http == "httptools":
            raise ServerError("http='httptools' needs the httptools package")
        chosen = H11TransportProtocol
    else:
        chosen = HttpToolsTransportProtocol
    if head_timeout is None or head_timeout == HEAD_TIMEOUT_S:
        return chosen
    if not head_timeout > 0:
        raise ServerError(f"head_timeout must be a positive number of seconds, not {head_timeout!r}")
    return type(chosen.__name__, (chosen,), {"head_timeout_s": float(head_timeout)})


def run(
    app: ASGIApp | str,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int | None = None,
    *,
    http: HttpImpl = "auto",
    log_level: str = "info",
    factory: bool = False,
    **uvicorn_options: Any,
) -> None:
    """Serve ``app`` on ``host:port`` until interrupted (blocks).

    ``workers`` > 1 runs that many processes sharing the socket; uvicorn then needs the app
    as an import string (``"package.module:app"``, or a factory with ``factory=True``),
    because each worker imports it anew. ``uvicorn_options`` go to :class:`uvicorn.Config`
    as they are (``timeout_keep_alive``, ``limit_concurrency``, ``ssl_certfile``, ...).
    On SIGTERM or Ctrl+C, requests still open after :data:`GRACEFUL_SHUTDOWN_S` are cut (a
    message held by a fault's delay of minutes does not hold the stop); a commit under way
    completes first (:mod:`mock_insurer.ledger.batch`).
    """
    uvicorn_options.setdefault("timeout_graceful_shutdown", GRACEFUL_SHUTDOWN_S)
    if workers is not None and workers > 1 and not isinstance(app, str):
        raise ServerError(
            f"workers={workers} needs the app as an import string such as "
            "'mock_insurer.app:create_app' (each worker process imports it)"
        )
    with _sigterm_returns():
        uvicorn.run(
            app,
            host=host,
            port=port,
            workers=workers,
            http=protocol_class(http),
            log_level=log_level,
            factory=factory,
            **uvicorn_options,
        )


class _Terminated(BaseException):
    """SIGTERM, raised where the main thread is, to end :func:`run`."""


@contextlib.contextmanager
def _sigterm_returns() -> Iterator[None]:
    """Make SIGTERM end :func:`run` by returning. uvicorn stops gracefully on SIGTERM and then
    raises the signal again for its previous handler; with the default one the process ends on
    the spot and nothing after ``run()`` runs (the insurer's ledger would be left open, its
    write-ahead log beside it). Here the previous handler ends ``run()``, and the caller closes
    what it opened. Only in the main thread (where signals are handled)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(_signum: int, _frame: Any) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    except _Terminated:
        logger.info("stopped by SIGTERM")
    finally:
        signal.signal(signal.SIGTERM, previous)


class RunningServer:
    """A server started by :func:`start_in_thread`: where it listens, and how to stop it.
    Also a context manager (``with start_in_thread(app) as server: ...``)."""

    def __init__(
        self, host: str, port: int, server: uvicorn.Server, thread: threading.Thread
    ) -> None:
        self.host = host
        self.port = port
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{port}"
        self._server = server
        self._thread = thread

    def __repr__(self) -> str:
        return f"RunningServer(url={self.url!r})"

    @property
    def running(self) -> bool:
        """Whether the server thread is still alive."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and wait (at most ``timeout`` seconds, wall clock) for its thread.
        Requests in flight get a short grace period; held connections are released. Calling
        it again does nothing."""
        self._server.should_exit = True
        self._thread.join(timeout / 2)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout / 2)
        if self._thread.is_alive():  # pragma: no cover - uvicorn did not stop
            logger.warning("server at %s did not stop within %.1f s", self.url, timeout)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def check_listen(host: str, port: int) -> None:
    """:class:`ServerError` (one line) when ``host:port`` cannot be listened on — a port in
    use, an address not of this machine — checked before a command loads anything (uvicorn
    would say so only after the start-up, in its own words). Port 0 (any) is not checked."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ServerError(f"--host {host}: {exc.strerror or exc}") from exc
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ServerError(f"cannot listen on {host}:{port}: "
                              f"{exc.strerror or exc}") from exc


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def start_in_thread(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    http: HttpImpl = "auto",
    log_level: str = "warning",
    startup_timeout: float = 10.0,
    graceful_shutdown: float = 2.0,
    head_timeout: float | None = None,
    **uvicorn_options: Any,
) -> RunningServer:
    """Serve ``app`` from a daemon thread and return once it accepts connections.

    ``port=0`` binds a free port (learnt from the socket, in ``RunningServer.port``). Logging
    is left as the caller configured it (uvicorn's own logging config is not applied).
    ``graceful_shutdown`` is how long ``stop()`` lets requests in flight finish (seconds);
    ``head_timeout`` how long a connection has to complete a request's head (seconds, default
    :data:`HEAD_TIMEOUT_S`).
    Raises :class:`ServerError` when the app's startup fails or takes longer than
    ``startup_timeout`` seconds.
    """
    sock = _bind(host, port)
    real_port = sock.getsockname()[1]
    options: dict[str, Any] = {
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": graceful_shutdown,
        **uvicorn_options,
    }
    config = uvicorn.Config(
        app, host=host, port=real_port, http=protocol_class(http, head_timeout),
        log_level=log_level, **options
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit on a failed startup; keep it for the caller
            failure.append(exc)
        finally:
            sock.close()

    thread = threading.Thread(target=serve, name=f"cardsettle-server-{real_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            cause = failure[0] if failure else None
            raise ServerError(f"the server on {host}:{real_port} failed to start") from cause
        if time.monotonic() > deadline:
            server.should_exit = True
            thread.join(2.0)
            raise ServerError(
                f"the server on {host}:{real_port} did not start within {startup_timeout:g} s"
            )
        time.sleep(0.005)
    return RunningServer(host, real_port, server, thread)
