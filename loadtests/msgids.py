"""Msgids that never collide between locust processes.

A msgid is ``fixmedins_code + yyyyMMddHHmmss + 4-digit sequence`` (fact sheet §2.1); windows of
one institution in one process share a sequence, but several locust workers speak for the same
institutions in the same second. Each process therefore draws from its own residue class:
sequence numbers ``k * stride + offset`` (mod 10 000), *offset* being the worker's index — up to
``10 000 / stride`` msgids per second per institution per process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime

from mock_insurer.wire.msgid import MsgidFactory
from mock_insurer.wire.timefmt import format_stamp14

__all__ = ["STRIDE_ENV", "StridedMsgids", "stride_from_env"]

STRIDE_ENV = "CARDSETTLE_LOAD_MSGID_STRIDE"
_MODULUS = 10_000


def stride_from_env() -> int:
    """The stride (10 unless ``CARDSETTLE_LOAD_MSGID_STRIDE`` says 100 or 1000: more than 10
    locust processes)."""
    value = os.environ.get(STRIDE_ENV, "10")
    return int(value) if value in ("10", "100", "1000") else 10


class StridedMsgids(MsgidFactory):
    """A :class:`MsgidFactory` drawing ``offset, offset + stride, …`` (mod 10 000)."""

    def __init__(self, fixmedins_code: str, clock: Callable[[], datetime], *, offset: int,
                 stride: int) -> None:
        super().__init__(fixmedins_code, clock)
        self._stride = stride
        self._offset = offset % stride
        self._count = 0
        self._guard = threading.Lock()
        self._wall = clock

    def new(self) -> str:
        with self._guard:
            count = self._count
            self._count = (count + 1) % (_MODULUS // self._stride)
        number = count * self._stride + self._offset
        return f"{self.fixmedins_code}{format_stamp14(self._wall())}{number:04d}"

    __call__ = new
