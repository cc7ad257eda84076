"""9101 file upload and 9102 file download (fact sheet §3, 3202).

9101 takes ``fsUploadIn.in`` as a Base64 string or a JSON array of byte values (both occur in
HIS code) and answers a ``file_qury_no``; 9102 answers the file itself as
application/octet-stream (not an envelope) until ``dld_endtime``.
"""

from __future__ import annotations

import base64
import binascii

from mock_insurer.ledger import LedgerTx
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions.context import Answered, Call, FileAnswer, Outcome
from mock_insurer.transactions.reconcile import store_upload, stored_file
from mock_insurer.wire.outcomes import Deviation

__all__ = ["decode_upload", "handle_9101", "handle_9102"]


def decode_upload(value: object,
                  deviations: list[Deviation] | None = None) -> bytes | Refusal:
    """The uploaded file: a JSON array of byte values (Java's signed bytes too) or Base64.
    Base64 as MIME encoders write it — lines of 76 characters (Java's ``sun.misc.BASE64Encoder``
    and MIME encoder, .NET's ``InsertLineBreaks``) — or without its ``=`` padding is read,
    with a deviation appended to *deviations*."""
    if isinstance(value, list) and all(isinstance(b, int) for b in value):
        try:
            return bytes(b & 0xFF for b in value)
        except ValueError:
            pass
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
        compact = "".join(value.split())
        compact += "=" * (-len(compact) % 4)
        try:
            content = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            pass
        else:
            if deviations is not None:
                deviations.append(Deviation(
                    "base64_layout", "fsUploadIn.in",
                    "Base64 with line breaks or spaces, or without its padding"))
            return content
    return refuse("input_invalid", "fsUploadIn.in",
                  detail="文件内容(in)应为Base64字符串或字节数组")


def handle_9101(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("fsUploadIn")
    filename = r.text("filename", max_len=200)
    r.text("fixmedins_code", max_len=30)
    if r.problem:
        return r.problem
    content = decode_upload(r.data.get("in"), call.deviations)
    if isinstance(content, Refusal):
        return content
    return Answered(store_upload(call, tx, filename, content))


def handle_9102(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("fsDownloadIn")
    number = r.text("file_qury_no", max_len=40)
    r.text("filename", max_len=200, required=False)
    r.text("fixmedins_code", max_len=30, required=False)
    if r.problem:
        return r.problem
    found = stored_file(call, tx, number, "fsDownloadIn.file_qury_no")
    if isinstance(found, Refusal):
        return found
    filename, content = found
    return FileAnswer(content, filename)
