"""3201 totals reconciliation and 3202 detail reconciliation (fact sheet §3, reference rule 8).

The ledger's side is every settlement row *in effect* for the institution: rows made by 2207
(settlements, ``refd_setl_flag`` 0) and 2208 (cancellations, ``refd_setl_flag`` 1, negative
amounts) that no 2601 reversal has undone; rows made by 2601 are not counted, nor the rows they
undid (a reversed message "never happened" on both sides). Sums are net; the count is the number
of rows (settlements and cancellations each count one).

``stmt_rslt``: 0 balanced (对平), 1 the center has more (中心多), 2 the institution has more
(医药机构多), 3 inconsistent (数据不一致: some figures higher on each side).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from mock_insurer.ledger import LedgerTx, Settlement
from mock_insurer.money import ZERO, MoneyParseError, parse_decimal, render
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions.context import Answered, Call, Outcome

__all__ = ["handle_3201", "handle_3202", "in_effect", "read_detail_file"]

RESULT_FILENAME = "result.txt"

#: The most a 3202 detail file may hold once unzipped, in bytes: about 240,000 rows of some 70
#: bytes, where a large hospital's day is some 10,000 settlements (under 1 MB). A zip
#: whose member declares more, or yields more while it is read, is refused before it is read
#: further: a few KB of zip can unpack to gigabytes, and 3202 is handled by the ledger's single
#: writer, so every hospital's message waits while it is read (reading a file of this size
#: takes about 2 s, docs/insurer.md).
DETAIL_FILE_MAX_BYTES = 16 * 1024 * 1024
#: zip compression methods a detail file may use: stored and deflate (what every zip tool and
#: library writes by default); bzip2, LZMA and the rest are refused.
DETAIL_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_READ_CHUNK = 1024 * 1024


def in_effect(tx: LedgerTx, rows: list[Settlement]) -> list[Settlement]:
    """The rows of ``rows`` that count for reconciliation (see the module docstring)."""
    kept = []
    for row in rows:
        if row.made_by_infno == "2601":
            continue
        if row.cancelled_by:
            by = tx.settlement(row.cancelled_by)
            if by is not None and by.made_by_infno == "2601":
                continue
        kept.append(row)
    return kept


@dataclass(frozen=True, slots=True)
class Totals:
    medfee: Decimal
    fund: Decimal
    acct: Decimal
    count: int

    def describe(self) -> str:
        return (f"医疗费总额{render(self.medfee)} 基金支付{render(self.fund)} "
                f"个人账户{render(self.acct)} 笔数{self.count}")


def _totals(rows: list[Settlement]) -> Totals:
    return Totals(sum((r.medfee_sumamt for r in rows), ZERO),
                  sum((r.fund_pay_sumamt for r in rows), ZERO),
                  sum((r.acct_pay for r in rows), ZERO), len(rows))


def compare(center: Totals, institution: Totals) -> tuple[str, str]:
    diffs = [center.medfee - institution.medfee, center.fund - institution.fund,
             center.acct - institution.acct, Decimal(center.count - institution.count)]
    if all(d == 0 for d in diffs):
        return "0", f"对平：{center.describe()}"
    text = f"医保中心：{center.describe()}；医药机构：{institution.describe()}"
    if all(d >= 0 for d in diffs):
        return "1", f"中心多。{text}"
    if all(d <= 0 for d in diffs):
        return "2", f"医药机构多。{text}"
    return "3", f"数据不一致。{text}"


def _scope(call: Call, tx: LedgerTx, begin: str, end: str, *, insutype: str | None,
           clr_type: str | None, setl_optins: str | None,
           refd: str | None) -> list[Settlement]:
    return in_effect(tx, tx.settlements_between(
        call.institution.fixmedins_code, begin, end, insutype=insutype or None,
        clr_type=clr_type or None, clr_optins=setl_optins or None, refd_setl_flag=refd))


def handle_3201(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("data")
    insutype = r.text("insutype", max_len=6)
    clr_type = r.text("clr_type", max_len=6)
    setl_optins = r.text("setl_optins", max_len=6, required=False)
    begin = r.date("stmt_begndate")
    end = r.date("stmt_enddate")
    # net sums: a day with more cancellations than settlements declares negative ones
    medfee = r.money("medfee_sumamt", signed=True)
    fund = r.money("fund_pay_sumamt", signed=True)
    acct = r.money("acct_pay", signed=True)
    count = r.integer("fixmedins_setl_cnt")
    refd = r.code("refd_setl_flag", ("0", "1"), required=False)
    if r.problem:
        return r.problem
    if begin > end:
        return refuse("stmt_dates_invalid", "data.stmt_begndate", begin=begin, end=end)
    rows = _scope(call, tx, begin.isoformat(), end.isoformat(), insutype=insutype,
                  clr_type=clr_type, setl_optins=setl_optins, refd=refd)
    rslt, text = compare(_totals(rows), Totals(medfee, fund, acct, count))
    if not rows and setl_optins:  # the usual slip: the hospital's own area, not 2207's clr_optins
        others = sorted({r.clr_optins for r in _scope(
            call, tx, begin.isoformat(), end.isoformat(), insutype=insutype,
            clr_type=clr_type, setl_optins=None, refd=refd)})
        if others:
            text = (f"结算经办机构(setl_optins)应填2207返回的clr_optins：本期本机构的结算在"
                    f"{'、'.join(others)}。{text}")
    return Answered({"stmtinfo": {"setl_optins": setl_optins or "", "stmt_rslt": rslt,
                                  "stmt_rslt_dscr": text[:200]}})


@dataclass(frozen=True, slots=True)
class DetailRow:
    setl_id: str
    mdtrt_id: str
    psn_no: str
    medfee: Decimal
    fund: Decimal
    acct: Decimal
    refd_setl_flag: str


def read_detail_file(content: bytes) -> list[DetailRow] | str:
    """Rows of an uploaded detail file (a zip holding one text file, or the text itself):
    ``setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt, acct_pay, refd_setl_flag``
    separated by tabs or spaces, with or without a first line naming them. Returns the rows,
    or what is wrong (in words)."""
    text_bytes = content
    if content[:2] == b"PK":
        unzipped = _unzip_detail_file(content)
        if isinstance(unzipped, str):
            return unzipped
        text_bytes = unzipped
    try:
        text = text_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = text_bytes.decode("gbk")
        except UnicodeDecodeError:
            return "文件编码无法识别(应为UTF-8)"
    rows: list[DetailRow] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or (not rows and line.lstrip().lower().startswith("setl_id")):
            continue  # blank lines, and a first line naming the columns
        parts = re.split(r"\t|\s+", line.strip())
        if len(parts) < 7:
            return f"第{number}行应有7列(setl_id mdtrt_id psn_no medfee_sumamt fund_pay_sumamt acct_pay refd_setl_flag)，实际{len(parts)}列"
        try:
            money = [parse_decimal(p) for p in parts[3:6]]
        except MoneyParseError:
            return f"第{number}行金额不是有效数字"
        rows.append(DetailRow(parts[0], parts[1], parts[2], money[0], money[1], money[2],
                              parts[6]))
    return rows


def _unzip_detail_file(content: bytes) -> bytes | str:
    """The first file in the zip ``content``, or what is wrong (in words): not a zip, no file,
    encrypted, compressed other than stored/deflate, or larger than
    :data:`DETAIL_FILE_MAX_BYTES` once unzipped — by its declared size or, should the header
    lie, by what comes out (read in chunks and given up at the limit)."""
    too_large = f"明细文件解压后超过{DETAIL_FILE_MAX_BYTES // (1024 * 1024)}MB"
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            # not ZipInfo.is_dir(): it fails on a member whose name is empty
            members = [i for i in archive.infolist() if not i.filename.endswith("/")]
            if not members:
                return "压缩包中没有文件"
            member = members[0]
            if member.flag_bits & 0x1:
                return "压缩包已加密，请上传未加密的压缩包"
            if member.compress_type not in DETAIL_ZIP_METHODS:
                return "压缩方式不支持，请用zip标准压缩(deflate)或不压缩"
            if member.file_size > DETAIL_FILE_MAX_BYTES:
                return too_large
            chunks: list[bytes] = []
            size = 0
            with archive.open(member) as stream:
                while chunk := stream.read(_READ_CHUNK):
                    size += len(chunk)
                    if size > DETAIL_FILE_MAX_BYTES:
                        return too_large
                    chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError,
            IndexError, KeyError, OverflowError, OSError, RuntimeError, struct.error):
        return "不是有效的zip压缩包"  # what zipfile raises on damaged bytes, found by fuzzing
    return b"".join(chunks)


def _result_line(values: list[Any]) -> str:
    return "\t".join("" if v is None else (render(v) if isinstance(v, Decimal) else str(v))
                     for v in values)


def handle_3202(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("data")
    setl_optins = r.text("setl_optins", max_len=6, required=False)
    file_qury_no = r.text("file_qury_no", max_len=40)
    begin = r.date("stmt_begndate")
    end = r.date("stmt_enddate")
    r.money("medfee_sumamt", signed=True)  # net sums, as in 3201
    r.money("fund_pay_sumamt", signed=True)
    r.money("cash_payamt", required=False, signed=True)
    r.integer("fixmedins_setl_cnt")
    clr_type = r.text("clr_type", max_len=6, required=False)
    refd = r.code("refd_setl_flag", ("0", "1"), required=False)
    if r.problem:
        return r.problem
    stored = tx.file(file_qury_no)
    if stored is None or stored["kind"] != "upload":
        return refuse("file_not_found", "data.file_qury_no", file_qury_no=file_qury_no)
    if stored["fixmedins_code"] != call.institution.fixmedins_code:
        return refuse("file_other_institution", "data.file_qury_no", file_qury_no=file_qury_no)
    parsed = read_detail_file(bytes(stored["content"]))
    if isinstance(parsed, str):
        return refuse("file_bad_content", "data.file_qury_no", detail=parsed)
    ledger = {s.setl_id: s for s in _scope(call, tx, begin.isoformat(), end.isoformat(),
                                            insutype=None, clr_type=clr_type,
                                            setl_optins=setl_optins, refd=refd)}
    declared = {row.setl_id: row for row in parsed}
    lines = []
    for setl_id, s in ledger.items():
        row = declared.get(setl_id)
        if row is None:
            rslt, memo = "1", "医药机构无此结算记录(中心多)"
        elif (row.medfee, row.fund, row.acct) != (s.medfee_sumamt, s.fund_pay_sumamt,
                                                   s.acct_pay):
            rslt, memo = "3", (f"金额不一致：机构 {render(row.medfee)}/{render(row.fund)}/"
                               f"{render(row.acct)}")
        else:
            rslt, memo = "0", "对平"
        lines.append(_result_line([s.psn_no, s.mdtrt_id, s.setl_id, s.medins_setl_id, rslt,
                                   s.refd_setl_flag, memo, s.medfee_sumamt, s.fund_pay_sumamt,
                                   s.acct_pay]))
    for setl_id, row in declared.items():
        if setl_id not in ledger:
            lines.append(_result_line([row.psn_no, row.mdtrt_id, setl_id, "", "2",
                                       row.refd_setl_flag, "医保中心无此结算记录(医药机构多)",
                                       row.medfee, row.fund, row.acct]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(RESULT_FILENAME, date_time=call.now.timetuple()[:6])
        archive.writestr(info, ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"))
    answer_no = _store(call, tx, "result", f"{file_qury_no}_result.zip", buffer.getvalue())
    return Answered({"fileinfo": answer_no})


def _store(call: Call, tx: LedgerTx, kind: str, filename: str, content: bytes) -> dict[str, str]:
    number = f"F{call.now:%Y%m%d%H%M%S}{tx.next_seq('file_qury_no'):08d}"
    ends = (call.now + timedelta(hours=call.settings.file_ttl_hours)).strftime(
        "%Y-%m-%d %H:%M:%S")
    tx.add_file({"file_qury_no": number, "fixmedins_code": call.institution.fixmedins_code,
                 "filename": filename, "kind": kind, "content": content, "dld_endtime": ends,
                 "biz_time": call.biz_time})
    return {"file_qury_no": number, "filename": filename, "dld_endtime": ends}


def store_upload(call: Call, tx: LedgerTx, filename: str, content: bytes) -> dict[str, str]:
    """9101's side: keep an uploaded file and answer its query number."""
    return _store(call, tx, "upload", filename, content)


def stored_file(call: Call, tx: LedgerTx, file_qury_no: str,
                where: str) -> tuple[str, bytes] | Refusal:
    """9102's side: a stored file of this institution that has not expired."""
    stored = tx.file(file_qury_no)
    if stored is None:
        return refuse("file_not_found", where, file_qury_no=file_qury_no)
    if stored["fixmedins_code"] != call.institution.fixmedins_code:
        return refuse("file_other_institution", where, file_qury_no=file_qury_no)
    if stored["dld_endtime"] < call.biz_time:
        return refuse("file_expired", where, file_qury_no=file_qury_no,
                      dld_endtime=stored["dld_endtime"])
    return str(stored["filename"]), bytes(stored["content"])
