"""Day-end reconciliation at the reference HIS (fact sheet §3 3201/3202, reference rule 8).

For a date (the insurer's settlement date):

1. Resolve what is still open: ``pending`` ledger rows (query 5203 or reverse 2601) and visits
   whose cancellation at the insurer is pending (2205, 2202).
2. 3201 for every group (``insutype``, ``clr_type``, ``setl_optins``) of the HIS's own ledger,
   and for every group of a visit registered that day (with zero totals), so that a settlement
   the HIS lost entirely is still found.
3. For each group not balanced: the detail rows of its (``clr_type``, ``setl_optins``) are zipped
   and uploaded (9101), compared by 3202, the result downloaded (9102), and the HIS's ledger
   corrected from it — the center is the truth:

   - ``1`` the center has a settlement the HIS lost: learn it (5203 by ``setl_id``) and record
     it; or, with the ``reverse`` policy, reverse it by its msgid (2601, same business day);
   - ``2`` the HIS has a settlement the center does not: mark it ``void``;
   - ``3`` amounts differ: take the center's amounts (5203).

4. 3201 again; the answer lists each group's first and final result and every correction.
"""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from mock_insurer.client import ClientError, InsurerRefusal
from mock_insurer.money import ZERO, render
from simulator.his import answers
from simulator.his.answers import AnswerUnusable
from simulator.his.desk import Desk, refusal_of
from simulator.his.operations import DayEndInput, Outcome
from simulator.his.settlement import Settlements
from simulator.his.store import COUNTED, LEDGER_MONEY
from simulator.his.views import amounts_of

__all__ = ["RESULT_FILE_MAX_BYTES", "RESULT_FILE_MAX_ROWS", "DayEnd", "ResultFileError",
           "detail_file", "read_result_file"]

Key = tuple[str, str, str]
RESULT_COLUMNS = ("psn_no", "mdtrt_id", "setl_id", "msgid", "stmt_rslt", "refd_setl_flag",
                  "memo", "medfee_sumamt", "fund_pay_sumamt", "acct_pay")
RESULT_FILE_MAX_BYTES = 16 * 1024 * 1024
"""The largest 3202 result file read, unzipped (16 MiB: the insurer's own limit on a 3202
detail file, mock_insurer/transactions/reconcile.py ``DETAIL_FILE_MAX_BYTES``)."""
RESULT_FILE_MAX_ROWS = 100_000
"""The most rows of a 3202 result file read (one per settlement of the scope and day)."""
_RESULTS = ("0", "1", "2", "3")
_FIELD_MAX = {"psn_no": 30, "mdtrt_id": 30, "setl_id": 30, "msgid": 30, "stmt_rslt": 1,
              "refd_setl_flag": 1, "memo": 500, "medfee_sumamt": 20, "fund_pay_sumamt": 20,
              "acct_pay": 20}
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_CHUNK = 64 * 1024


class ResultFileError(ValueError):
    """A 3202 result file that cannot be read (the message says why, in English)."""


@dataclass(slots=True)
class _Totals:
    medfee: Decimal = ZERO
    fund: Decimal = ZERO
    acct: Decimal = ZERO
    cash: Decimal = ZERO
    count: int = 0

    def add(self, entry: Mapping[str, Any]) -> None:
        self.medfee += entry["medfee_sumamt"] or ZERO
        self.fund += entry["fund_pay_sumamt"] or ZERO
        self.acct += entry["acct_pay"] or ZERO
        self.cash += entry["psn_cash_pay"] or ZERO
        self.count += 1

    def to_json(self) -> dict[str, Any]:
        return {"medfee_sumamt": render(self.medfee), "fund_pay_sumamt": render(self.fund),
                "acct_pay": render(self.acct), "count": self.count}


def detail_file(entries: Sequence[Mapping[str, Any]], stamp: tuple[int, ...]) -> bytes:
    """The zipped 3202 detail file: ``detail.txt``, one tab-separated line per settlement row
    (setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt, acct_pay, refd_setl_flag)."""
    lines = ["\t".join([e["setl_id"], e["mdtrt_id"], e["psn_no"], render(e["medfee_sumamt"]),
                        render(e["fund_pay_sumamt"]), render(e["acct_pay"]),
                        e["refd_setl_flag"]]) for e in entries]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("detail.txt", date_time=stamp[:6])  # type: ignore[arg-type]
        archive.writestr(info, "".join(line + "\n" for line in lines).encode("utf-8"))
    return buffer.getvalue()


class _Capped(io.RawIOBase):
    """A member of a zip read at most *limit* bytes far (unzipped): past it,
    :class:`ResultFileError` — whatever its header declared (a zip bomb lies)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(min(len(buffer), _CHUNK))
        self._size += len(data)
        if self._size > self._limit:
            raise ResultFileError(f"unzips to more than {self._limit} bytes")
        buffer[:len(data)] = data
        return len(data)


def _result_lines(content: bytes, max_bytes: int) -> Iterator[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            # not ZipInfo.is_dir(): it fails on a member whose name is empty
            members = [i for i in archive.infolist() if not i.filename.endswith("/")]
            if not members:
                return
            member = members[0]
            if member.flag_bits & 0x1:
                raise ResultFileError("is encrypted")
            if member.compress_type not in _ZIP_METHODS:
                raise ResultFileError(f"uses compression method {member.compress_type} "
                                      "(stored or deflate expected)")
            if member.file_size > max_bytes:
                raise ResultFileError(f"declares {member.file_size} bytes unzipped, more than "
                                      f"{max_bytes}")
            with archive.open(member) as stream:
                text = io.TextIOWrapper(io.BufferedReader(_Capped(stream, max_bytes)),
                                        encoding="utf-8-sig", newline=None)
                yield from text
    except UnicodeDecodeError:
        raise ResultFileError("is not UTF-8 text") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, IndexError,
            KeyError, OverflowError, OSError, RuntimeError, struct.error) as exc:
        raise ResultFileError(f"is not a readable zip ({type(exc).__name__})") from None
    except ValueError as exc:  # zipfile's own complaints (ResultFileError is one: kept)
        if isinstance(exc, ResultFileError):
            raise
        raise ResultFileError(f"is not a readable zip ({type(exc).__name__})") from None


def read_result_file(content: bytes, *, max_bytes: int = RESULT_FILE_MAX_BYTES,
                     max_rows: int = RESULT_FILE_MAX_ROWS) -> list[dict[str, str]]:
    """The rows of a 3202 result zip (``result.txt``, tab-separated, no header) that are not
    balanced (``stmt_rslt`` other than ``0``: what day-end corrects).

    Read as a stream, never whole: the member is refused when it is encrypted, compressed
    otherwise than stored/deflate, or larger than *max_bytes* unzipped (by its header or by
    what comes out), when it holds more than *max_rows* rows, is not UTF-8, or a row has an
    unknown ``stmt_rslt`` or a field longer than the interface allows. Raises
    :class:`ResultFileError` saying which."""
    rows = []
    count = 0
    for number, line in enumerate(_result_lines(content, max_bytes), start=1):
        if not line.strip():
            continue
        count += 1
        if count > max_rows:
            raise ResultFileError(f"holds more than {max_rows} rows")
        parts = line.rstrip("\r\n").split("\t")
        row = dict(zip(RESULT_COLUMNS, parts + [""] * len(RESULT_COLUMNS), strict=False))
        for name, value in row.items():
            if len(value) > _FIELD_MAX[name]:
                raise ResultFileError(f"line {number}: {name} is longer than "
                                      f"{_FIELD_MAX[name]} characters")
        if row["stmt_rslt"] not in _RESULTS:
            raise ResultFileError(f"line {number}: stmt_rslt {row['stmt_rslt'][:10]!r} is not "
                                  "0, 1, 2 or 3")
        if row["stmt_rslt"] != "0":
            rows.append(row)
    return rows


class DayEnd:
    """The day-end run (one at a time)."""

    def __init__(self, desk: Desk, settlements: Settlements) -> None:
        self.desk = desk
        self.settlements = settlements
        self.store = desk.store

    def run(self, request: DayEndInput) -> Outcome:
        desk = self.desk
        operator = desk.operator(request.operator)
        day = request.date.isoformat()
        unresolved = self._resolve_open(operator)
        try:
            first = self._compare(day, operator)
            corrections: list[dict[str, Any]] = []
            scopes = sorted({(key[1], key[2]) for key, (rslt, _) in first.items()
                             if rslt != "0"})
            for clr_type, optins in scopes:
                corrections.extend(self._detail(day, clr_type, optins, operator))
            final = self._compare(day, operator) if scopes else first
        except ClientError as error:  # refused, no answer, or one that cannot be used
            return Outcome.refused(refusal_of(error), date=day)
        unresolved = [item for item in unresolved  # day-end may have learnt them meanwhile
                      if (self.store.entry_by_msgid(item["msgid"]) or {}).get("status") == "pending"]
        groups: list[dict[str, Any]] = []
        totals = self._groups(day)
        for key in sorted(set(first) | set(final)):
            groups.append({
                "insutype": key[0], "clr_type": key[1], "setl_optins": key[2],
                "his": totals.get(key, _Totals()).to_json(),
                "first": _result(first.get(key)), "final": _result(final.get(key))})
        balanced = all(group["final"]["stmt_rslt"] == "0" for group in groups) and not unresolved
        return Outcome.success(date=day, balanced=balanced, groups=groups,
                               corrections=corrections, unresolved=unresolved)

    # -- steps ---------------------------------------------------------------------------
    def _resolve_open(self, operator: str) -> list[dict[str, Any]]:
        unresolved = []
        for entry in self.store.entries(statuses=("pending",)):
            visit_id = entry["visit_id"]
            with self.desk.visit_lock(visit_id):
                blocked = self.settlements.resolve_pending(visit_id, operator)
            if blocked is not None:
                unresolved.append({"visit_id": visit_id, "msgid": entry["msgid"],
                                   "infno": entry["infno"]})
        for visit in self.store.visits(statuses=("cancel_pending", "register_unknown")):
            with self.desk.visit_lock(visit["visit_id"]):
                self.desk.close_at_insurer(visit, operator)
        return unresolved

    def _groups(self, day: str) -> dict[Key, _Totals]:
        totals: dict[Key, _Totals] = {}
        for entry in self.store.entries(setl_date=day, statuses=COUNTED):
            key = (entry["insutype"] or "", entry["clr_type"] or "11", entry["clr_optins"] or "")
            totals.setdefault(key, _Totals()).add(entry)
        for visit in self.store.visits(reg_date=day):
            if visit["mdtrt_id"]:
                totals.setdefault((visit["insutype"], "11", visit["insuplc_admdvs"] or ""),
                                  _Totals())
        return totals

    def _compare(self, day: str, operator: str) -> dict[Key, tuple[str, str]]:
        results = {}
        for key, t in sorted(self._groups(day).items()):
            answer = self.desk.link.call(operator, "3201", {"data": {
                "insutype": key[0], "clr_type": key[1], "setl_optins": key[2],
                "stmt_begndate": day, "stmt_enddate": day, "medfee_sumamt": t.medfee,
                "fund_pay_sumamt": t.fund, "acct_pay": t.acct, "fixmedins_setl_cnt": t.count}},
                resend=True)
            results[key] = answers.statement(answer)
        return results

    def _detail(self, day: str, clr_type: str, optins: str,
                operator: str) -> list[dict[str, Any]]:
        desk = self.desk
        code = desk.config.fixmedins_code
        entries = [e for e in self.store.entries(setl_date=day, statuses=COUNTED)
                   if (e["clr_type"] or "11") == clr_type and (e["clr_optins"] or "") == optins]
        totals = _Totals()
        for entry in entries:
            totals.add(entry)
        content = detail_file(entries, desk.now().timetuple())
        filename = f"{code}_{day.replace('-', '')}_{clr_type}_{optins or 'all'}.zip"
        uploaded = desk.link.call(operator, "9101", {"fsUploadIn": {
            "in": base64.b64encode(content).decode("ascii"), "filename": filename,
            "fixmedins_code": code}}, resend=True)
        file_qury_no = answers.file_query_no(uploaded)
        compared = desk.link.call(operator, "3202", {"data": {
            "setl_optins": optins, "file_qury_no": file_qury_no, "stmt_begndate": day,
            "stmt_enddate": day, "medfee_sumamt": totals.medfee,
            "fund_pay_sumamt": totals.fund, "cash_payamt": totals.cash,
            "fixmedins_setl_cnt": totals.count, "clr_type": clr_type}}, resend=True)
        result_no, result_name = answers.result_file_info(compared)
        downloaded = desk.link.call(operator, "9102", {"fsDownloadIn": {
            "file_qury_no": result_no, "filename": result_name, "fixmedins_code": code}},
            resend=True)
        if downloaded.file is None:
            raise AnswerUnusable(downloaded, "file", "is missing: an envelope came instead")
        try:
            rows = read_result_file(downloaded.file)
        except ResultFileError as problem:  # nothing corrected from a file not read whole
            raise AnswerUnusable(downloaded, "file", f"(the 3202 result zip) {problem}") \
                from problem
        return [self._correct(row, operator, optins) for row in rows]

    def _correct(self, row: dict[str, str], operator: str, optins: str) -> dict[str, Any]:
        done = {key: row[key] for key in ("setl_id", "mdtrt_id", "psn_no", "msgid",
                                          "stmt_rslt", "memo")}
        visit = self.store.visit_by_mdtrt_id(row["mdtrt_id"])
        area = (visit["insuplc_admdvs"] if visit is not None else "") or optins
        entry = self.store.entry_by_setl_id(row["setl_id"])
        if row["stmt_rslt"] == "2":
            if entry is not None:
                self.store.update_entry(entry["id"], status="void",
                                        note="day-end: the center has no such settlement")
            return {**done, "action": "voided"}
        if row["stmt_rslt"] == "1" and self.desk.config.center_only == "reverse":
            oinfno = "2208" if row["refd_setl_flag"] == "1" else "2207"
            try:
                self.desk.link.call(operator, "2601", {"data": {
                    "psn_no": row["psn_no"], "omsgid": row["msgid"], "oinfno": oinfno}},
                    insuplc_admdvs=area, resend=True)
                return {**done, "action": "reversed"}
            except InsurerRefusal:
                pass  # too late to reverse (another day): learn it instead
        answer = self.desk.link.call(operator, "5203", {"data": {
            "psn_no": row["psn_no"], "setl_id": row["setl_id"], "mdtrt_id": row["mdtrt_id"]}},
            insuplc_admdvs=area, resend=True)
        self._take(entry, row, answers.settlement_row(answer) or {})
        return {**done, "action": "learned" if row["stmt_rslt"] == "1" else "amended"}

    def _take(self, entry: Mapping[str, Any] | None, row: Mapping[str, str],
              info: Mapping[str, Any]) -> None:
        """Record the center's version of a settlement row in the HIS's ledger."""
        amounts = amounts_of(info)
        msgid = str(info.get("medins_setl_id") or row["msgid"])
        setl_time = str(info.get("setl_time") or "")
        refund = str(info.get("refd_setl_flag", row["refd_setl_flag"])) == "1"
        values: dict[str, Any] = {key: amounts[key] for key in LEDGER_MONEY}
        values.update(
            setl_id=row["setl_id"], mdtrt_id=row["mdtrt_id"], psn_no=row["psn_no"],
            refd_setl_flag="1" if refund else "0", insutype=str(info.get("insutype") or ""),
            clr_type=str(info.get("clr_type") or "11"),
            clr_optins=str(info.get("clr_optins") or ""), setl_time=setl_time,
            setl_date=setl_time[:10], setlinfo=dict(info),
            status="refund" if refund else "settled", note="day-end: taken from the center")
        existing = entry or self.store.entry_by_msgid(msgid)
        if existing is not None:
            self.store.update_entry(existing["id"], **values)
            visit = self.store.visit(existing["visit_id"]) if existing["visit_id"] else None
            if visit is not None and visit["status"] == "settling" and not refund:
                sent = self.store.lines(visit["visit_id"], statuses=("uploaded",))
                self.store.set_lines([line["id"] for line in sent], status="settled")
                self.store.update_visit(visit["visit_id"], status="settled",
                                        setl_id=row["setl_id"])
            return
        visit = self.store.visit_by_mdtrt_id(row["mdtrt_id"])
        self.store.add_entry({**values, "msgid": msgid, "infno": "2208" if refund else "2207",
                              "visit_id": None if visit is None else visit["visit_id"],
                              "created_at": self.desk.stamp()})


def _result(found: tuple[str, str] | None) -> dict[str, str]:
    rslt, text = found or ("", "")
    return {"stmt_rslt": rslt, "stmt_rslt_dscr": text}
