"""The 3202 detail file is unzipped within bounds: only stored/deflate members, at most
``DETAIL_FILE_MAX_BYTES`` once unzipped (by the declared size, and by what comes out), and
anything odd in the zip is a refusal in words, never an exception (security review, finding 1)."""

from __future__ import annotations

import functools
import io
import struct
import time
import zipfile

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_insurer.client import InsurerRefusal
from mock_insurer.gateway import Insurer
from mock_insurer.transactions import reconcile
from mock_insurer.transactions.reconcile import DETAIL_FILE_MAX_BYTES, read_detail_file
from tests.mock_insurer.gateway.driver import Window

ROW = b"400000000005\t100000000003\tP000000001\t45.00\t30.60\t14.40\t0\n"
TOO_LARGE = f"明细文件解压后超过{DETAIL_FILE_MAX_BYTES // (1024 * 1024)}MB"
DAY = "2026-03-02"


def zipped(text: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("detail.txt", text)
    return buffer.getvalue()


def with_headers(content: bytes, *, size: int | None = None, flags: int | None = None) -> bytes:
    """``content`` (a zip of one member, no zip64) with the member's uncompressed size and/or
    general-purpose flags rewritten in its local and central headers."""
    data = bytearray(content)
    for signature, flag_at, size_at in ((b"PK\x03\x04", 6, 22), (b"PK\x01\x02", 8, 24)):
        at = data.index(signature)
        if size is not None:
            data[at + size_at:at + size_at + 4] = struct.pack("<I", size)
        if flags is not None:
            data[at + flag_at:at + flag_at + 2] = struct.pack("<H", flags)
    return bytes(data)


@functools.cache
def deflate_bomb() -> bytes:
    """Zeros a quarter over the limit, deflated: some 20 KB of zip."""
    return zipped(b"\0" * (DETAIL_FILE_MAX_BYTES + DETAIL_FILE_MAX_BYTES // 4))


def test_stored_and_deflated_detail_files_are_read() -> None:
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        rows = read_detail_file(zipped(ROW * 3, method))
        assert isinstance(rows, list) and len(rows) == 3
    assert isinstance(read_detail_file(ROW), list)  # the text itself, not zipped


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_other_compression_methods_are_refused_unread(method: int) -> None:
    assert read_detail_file(zipped(ROW, method)) == "压缩方式不支持，请用zip标准压缩(deflate)或不压缩"


def test_a_deflate_bomb_is_refused_by_its_declared_size_at_once() -> None:
    bomb = deflate_bomb()
    assert len(bomb) < 100_000
    started = time.perf_counter()
    assert read_detail_file(bomb) == TOO_LARGE
    assert time.perf_counter() - started < 0.5


def test_a_header_declaring_gigabytes_is_refused_without_reading() -> None:
    assert read_detail_file(with_headers(zipped(ROW), size=4_000_000_000)) == TOO_LARGE


def test_a_header_that_understates_the_size_gets_no_more_than_it_declares() -> None:
    lying = with_headers(deflate_bomb(), size=len(ROW))
    started = time.perf_counter()
    assert read_detail_file(lying) == "不是有效的zip压缩包"  # the CRC of what it declared fails
    assert time.perf_counter() - started < 0.5


def test_what_comes_out_is_counted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a member yield more than its header declares (the standard library stops at the
    declared size; this pretends it did not), reading stops at the limit."""
    text = ROW * 1000
    content = zipped(text)
    monkeypatch.setattr(reconcile, "DETAIL_FILE_MAX_BYTES", len(text) - 1)
    real_infolist, real_open = zipfile.ZipFile.infolist, zipfile.ZipFile.open
    true_sizes: dict[str, int] = {}

    def understated(self: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
        infos = real_infolist(self)
        for info in infos:
            true_sizes[info.filename] = info.file_size
            info.file_size = 1
        return infos

    def read_in_full(self: zipfile.ZipFile, member: zipfile.ZipInfo, *args: object,
                     **kwargs: object) -> object:
        member.file_size = true_sizes[member.filename]
        return real_open(self, member, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "infolist", understated)
    monkeypatch.setattr(zipfile.ZipFile, "open", read_in_full)
    assert read_detail_file(content) == "明细文件解压后超过0MB"  # the patched limit, in MB


def test_an_encrypted_member_is_refused_in_words() -> None:
    assert read_detail_file(with_headers(zipped(ROW), flags=0x1)) == "压缩包已加密，请上传未加密的压缩包"


def test_an_empty_zip_and_a_broken_one_are_refused_in_words() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w"):
        pass
    assert read_detail_file(buffer.getvalue()) == "压缩包中没有文件"
    assert read_detail_file(b"PK\x03\x04 not a zip") == "不是有效的zip压缩包"
    stream_start = zipped(ROW * 50).index(b"detail.txt") + len(b"detail.txt")
    damaged = bytearray(zipped(ROW * 50))
    damaged[stream_start:stream_start + 8] = b"\xff" * 8  # the deflate stream itself
    assert read_detail_file(bytes(damaged)) == "不是有效的zip压缩包"


_VALID = [zipped(ROW * 20, zipfile.ZIP_STORED), zipped(ROW * 20)]


@settings(max_examples=300, deadline=None)
@example(_VALID[1], [(618, 0), (4797, 10)], 167)  # a member whose name is empty (CI found it)
@given(st.sampled_from(_VALID), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)),
                                        max_size=8), st.integers(2, 10_000))
def test_a_damaged_zip_is_a_refusal_never_an_exception(base: bytes, changes: list[tuple[int, int]],
                                                       cut: int) -> None:
    data = bytearray(base[:max(cut, 2)])
    for at, value in changes:
        data[at % len(data)] = value
    data[:2] = b"PK"
    result = read_detail_file(bytes(data))
    assert isinstance(result, (list, str))


# -- through the gateway: 9101 then 3202 --------------------------------------------------------

def reconcile_upload(window: Window, content: bytes) -> InsurerRefusal:
    uploaded = window.client.upload_file("detail.zip", content).output
    with pytest.raises(InsurerRefusal) as caught:
        window.client.call("3202", {"data": {
            "setl_optins": "110000", "file_qury_no": uploaded["file_qury_no"],
            "stmt_begndate": DAY, "stmt_enddate": DAY, "medfee_sumamt": "0",
            "fund_pay_sumamt": "0", "cash_payamt": "0", "fixmedins_setl_cnt": 0}})
    return caught.value


def last_rejection(insurer: Insurer) -> str | None:
    with insurer.ledger.read() as tx:
        rows = tx.messages(limit=1000)
    return rows[-1]["rejection_code"]


def test_3202_refuses_a_zip_bomb_in_words_the_finance_clerk_reads(window: Window,
                                                                 insurer: Insurer) -> None:
    started = time.perf_counter()
    refusal = reconcile_upload(window, deflate_bomb())
    assert time.perf_counter() - started < 2
    assert refusal.err_msg == f"FSI-对账明细文件无法读取：{TOO_LARGE}[data.file_qury_no]"
    assert last_rejection(insurer) == "file_bad_content"


def test_3202_refuses_a_bzip2_detail_file(window: Window) -> None:
    refusal = reconcile_upload(window, zipped(b" " * 1_000_000, zipfile.ZIP_BZIP2))
    assert refusal.err_msg == ("FSI-对账明细文件无法读取：压缩方式不支持，请用zip标准压缩(deflate)"
                               "或不压缩[data.file_qury_no]")


def test_the_limit_leaves_room_for_many_days_of_a_large_hospital() -> None:
    assert 100_000 * len(ROW) <= DETAIL_FILE_MAX_BYTES  # ten days of 10,000 settlements
