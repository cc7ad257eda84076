"""The wire format of the national interface: JSON, times, ids, the TIF signature, the
envelope, and reading business fields. Shared by the insurer's gateway and the client SDK.

Modules: :mod:`~.jsonio` (bytes ⇄ values, Decimal-exact), :mod:`~.timefmt`,
:mod:`~.msgid`, :mod:`~.tif`, :mod:`~.envelope`, :mod:`~.fields`, :mod:`~.labels`,
:mod:`~.texts`, :mod:`~.outcomes`, :mod:`~.errors`. docs/wire.md explains strict and tolerant
reading.
"""

from __future__ import annotations

from mock_insurer.wire.envelope import (
    ParseOutcome,
    RequestEnvelope,
    build_answer,
    build_request,
    content_type_deviation,
    parse_request,
    request_fingerprint,
)
from mock_insurer.wire.errors import WireEncodeError, WireError
from mock_insurer.wire.fields import Reader
from mock_insurer.wire.jsonio import dumps, loads
from mock_insurer.wire.msgid import MsgidFactory, RefMsgidFactory, check_msgid
from mock_insurer.wire.outcomes import Deviation, FieldProblem
from mock_insurer.wire.tif import NonceCache, tif_headers, verify_tif

__all__ = [
    "Deviation",
    "FieldProblem",
    "MsgidFactory",
    "NonceCache",
    "ParseOutcome",
    "Reader",
    "RefMsgidFactory",
    "RequestEnvelope",
    "WireEncodeError",
    "WireError",
    "build_answer",
    "build_request",
    "check_msgid",
    "content_type_deviation",
    "dumps",
    "loads",
    "parse_request",
    "request_fingerprint",
    "tif_headers",
    "verify_tif",
]
