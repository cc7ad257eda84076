"""A plain HTTP server on 127.0.0.1 in a thread, for fakes that answer the way a hostile or
scripted counterpart would (tests/mock_insurer/client/fake_insurer.py,
tests/simulator/his/hostile.py)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["ThreadServer"]


class ThreadServer:
    """``handler`` served on a free port of 127.0.0.1 (``url``) until :meth:`close`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
