"""File upload as a form (9101, variant (a) of the fact sheet §1.2): a ``multipart/form-data``
body whose text part ``jsonStr`` holds the envelope and whose binary part ``file`` holds the file.

The gateway turns such a body into the envelope it carries, with the file's bytes Base64-encoded
into ``input.fsUploadIn.in`` — variant (b), which the 9101 handler reads — and handles and records
that envelope like any other. The form is read by the standard library's MIME parser.
"""

from __future__ import annotations

import base64
from email import policy
from email.message import MIMEPart
from email.parser import BytesParser
from typing import Any

from mock_insurer.wire.jsonio import dumps, loads

__all__ = ["MultipartProblem", "envelope_from_form", "is_form"]

_PARSER = BytesParser(policy=policy.HTTP)


class MultipartProblem(ValueError):
    """The form cannot carry an envelope; the message says what is wrong (for ``err_msg``)."""


def is_form(content_type: str) -> bool:
    """Whether the Content-Type header names a multipart form."""
    return content_type[:19].lower() == "multipart/form-data"


def envelope_from_form(body: bytes, content_type: str) -> bytes:
    """The envelope the form carries, as JSON bytes, with the ``file`` part (if any) in
    ``input.fsUploadIn.in`` as Base64 and its file name as ``filename`` when the envelope gives
    none. Raises :class:`MultipartProblem` when there is no readable ``jsonStr`` part."""
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    form = _PARSER.parsebytes(head + body)
    if not form.is_multipart():
        raise MultipartProblem("文件上传表单无法解析（缺少boundary或分段）")
    parts: dict[str, MIMEPart] = {}
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and name not in parts:
            parts[name] = part
    if "jsonStr" not in parts:
        raise MultipartProblem("文件上传表单缺少jsonStr部分（报文）")
    text = _payload(parts["jsonStr"])
    try:
        envelope = loads(text)
    except ValueError as exc:
        raise MultipartProblem("文件上传表单的jsonStr不是合法的JSON报文") from exc
    if not isinstance(envelope, dict):
        raise MultipartProblem("文件上传表单的jsonStr不是JSON对象")
    file_part = parts.get("file")
    if file_part is not None:
        _put_file(envelope, _payload(file_part), file_part.get_filename())
    return dumps(envelope)


def _payload(part: MIMEPart) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _put_file(envelope: dict[str, Any], content: bytes, filename: str | None) -> None:
    """Put the file into ``input.fsUploadIn`` (``input`` may be a JSON text, as some send it)."""
    node = envelope.get("input")
    if isinstance(node, (str, bytes)):
        try:
            node = loads(node)
        except ValueError:
            return  # left as sent: the envelope parser refuses it with its own words
    if not isinstance(node, dict):
        node = {}
    upload = node.get("fsUploadIn")
    if not isinstance(upload, dict):
        upload = {}
    upload["in"] = base64.b64encode(content).decode("ascii")
    if filename and not upload.get("filename"):
        upload["filename"] = filename
    node["fsUploadIn"] = upload
    envelope["input"] = node
