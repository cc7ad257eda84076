"""A small HTTP server on 127.0.0.1 with fixed JSON answers: a vendor's HIS or an insurer as
the tests need one to misbehave (an info of the wrong shape, an insurer that does not say its
gateway authentication)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["answering"]


@contextlib.contextmanager
def answering(routes: Mapping[str, bytes], *, default: bytes | None = None) -> Iterator[str]:
    """Serve GET ``path`` with ``routes[path]`` (JSON, 200); another path with ``default``
    (200), or 404 without one. Yields the server's URL; stopped on exit."""

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = routes.get(self.path, default)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
