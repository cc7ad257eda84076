"""msgid and inf_refmsgid: shape, sequence, thread safety, and the deviations check names."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from mock_insurer.wire.msgid import MsgidFactory, RefMsgidFactory, check_msgid

CODE = "H11010200001"


def clock() -> datetime:
    return datetime(2024, 3, 1, 9, 10, 11)


def test_msgid_is_code_time_sequence() -> None:
    factory = MsgidFactory(CODE, clock)
    first, second = factory.new(), factory()
    assert first == "H11010200001202403010910110001"
    assert second == "H11010200001202403010910110002"
    assert check_msgid(first, CODE) == []


def test_sequence_wraps_after_9999() -> None:
    factory = MsgidFactory(CODE, clock, start=9999)
    assert factory.new().endswith("9999")
    assert factory.new().endswith("0000")


def test_msgids_are_unique_across_threads() -> None:
    factory = MsgidFactory(CODE, clock)
    drawn: list[str] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [factory.new() for _ in range(500)]
        with lock:
            drawn.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(drawn)) == 4000


def test_ref_msgid_is_area_time_ten_digits() -> None:
    factory = RefMsgidFactory("110000", clock, start=514555)
    ref = factory.new()
    assert ref == "110000202403010910110000514555"
    assert len(ref) == 30 and ref.isdigit()
    with pytest.raises(ValueError):
        RefMsgidFactory("11000", clock)


@pytest.mark.parametrize(("msgid", "codes"), [
    ("H11010200001202403010910110001", []),
    ("H1101020000120240301091011001", ["msgid_length", "msgid_sequence"]),
    ("X11010200001202403010910110001", ["msgid_prefix"]),
    ("H11010200001202413010910110001", ["msgid_time"]),
    ("H1101020000120240301091011ABCD", ["msgid_sequence"]),
    ("5f2b7c9e-1a2b-4c3d-9e8f-0a1b2c3d", ["msgid_length", "msgid_charset", "msgid_prefix"]),
    ("H11010200001202403010910110001RC", ["msgid_length", "msgid_sequence"]),
])
def test_check_msgid_names_each_departure(msgid: str, codes: list[str]) -> None:
    assert [d.code for d in check_msgid(msgid, CODE)] == codes
