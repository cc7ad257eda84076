"""An insurer's answer as the SDK hands it to the HIS, and reading one from HTTP.

Amounts in ``output`` are exact :class:`~decimal.Decimal` (the body is parsed with
:func:`mock_insurer.wire.jsonio.loads`, which reads every JSON number with a fraction from its
text; whole numbers stay ``int``). Times are left as the texts the insurer sent
(``yyyy-MM-dd HH:mm:ss``); :mod:`mock_insurer.wire.timefmt` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mock_insurer.client.bounded import cap_text
from mock_insurer.client.errors import GatewayError, InsurerRefusal, MalformedAnswer
from mock_insurer.money import parse_decimal
from mock_insurer.wire.jsonio import loads

__all__ = ["Answer", "output_node", "read_answer"]

_FILE_TYPES = ("application/octet-stream", "application/zip", "application/x-zip-compressed")


@dataclass(frozen=True)
class Answer:
    """One answer. ``infcode`` 0 is success; ``output`` is the business data (``{}`` when
    the insurer sent none); ``err_msg`` and ``warn_msg`` are the insurer's texts — on an
    answer a call returned (``infcode`` 0) a non-empty ``err_msg`` is a *notice* to show,
    not a failure (docs/faults.md); both texts are cut after 1 000 characters, with a marker
    (:func:`~mock_insurer.client.bounded.cap_text`); ``msgid`` is the request's; ``raw`` the whole envelope as
    parsed; ``elapsed_ms`` the wall-clock round trip in milliseconds. A file download (9102)
    has the file's bytes in ``file`` and an empty ``raw``."""

    infcode: int
    output: Any
    err_msg: str
    warn_msg: str
    inf_refmsgid: str
    msgid: str
    raw: dict[str, Any]
    elapsed_ms: float
    infno: str = ""
    file: bytes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """``infcode`` 0 and no ``err_msg``: a success without a notice. (Every answer a call
        returns has ``infcode`` 0 — decide on that; ``ok`` is False only for a notice.)"""
        return self.infcode == 0 and not self.err_msg

    def money(self, *path: str | int) -> Decimal:
        """The amount at *path* in ``output`` as a :class:`~decimal.Decimal` (yuan), as the
        insurer wrote it: ``answer.money("setlinfo", "psn_cash_pay")`` is ``Decimal("0")``
        for ``0``, ``Decimal("4.50")`` for ``4.50`` or ``"4.50"``. Raises ``KeyError`` /
        ``IndexError`` when the path is absent and
        :class:`~mock_insurer.money.MoneyParseError` (a ``ValueError``) when the value is
        null or not a number."""
        value: Any = self.output
        for step in path:
            value = value[step]
        return parse_decimal(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else type(value).__name__


def _shown_text(value: Any) -> str:
    """A text of the insurer's (``err_msg``, ``warn_msg``) as kept and shown: at most
    :data:`~mock_insurer.client.bounded.MAX_SHOWN_TEXT` characters, then a marker."""
    return cap_text(_text(value))


def _infcode(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def read_answer(body: bytes, *, content_type: str, status: int, msgid: str, infno: str,
                elapsed_ms: float, strict_err_msg: bool, request: dict[str, Any]) -> Answer:
    """The :class:`Answer` in an HTTP answer to *request*, or the typed error it amounts to.

    Raises :class:`GatewayError` (status ≠ 200; JSON without ``infcode``),
    :class:`MalformedAnswer` (not JSON, not an object, a bad ``infcode``, a success whose
    ``output`` is not an object) or
    :class:`InsurerRefusal` (``infcode`` ≠ 0; or 0 with an ``err_msg`` when
    *strict_err_msg*). An ``infcode`` 0 with an ``err_msg`` is otherwise an :class:`Answer`
    whose ``err_msg`` is a notice."""
    where = f"{infno} {msgid}"
    if status != 200:
        raise GatewayError(f"{where}: HTTP {status} from the insurer's gateway: "
                           f"{body[:200].decode('utf-8', 'replace')}",
                           msgid=msgid, infno=infno, status=status, body=body,
                           request=request)
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _FILE_TYPES:
        return Answer(infcode=0, output={}, err_msg="", warn_msg="", inf_refmsgid="",
                      msgid=msgid, raw={}, elapsed_ms=elapsed_ms, infno=infno, file=body)
    try:
        envelope = loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedAnswer(f"{where}: the answer is not JSON ({exc}); "
                              f"{len(body)} bytes received", msgid=msgid, infno=infno,
                              body=body, request=request) from exc
    if not isinstance(envelope, dict):
        raise MalformedAnswer(f"{where}: the answer is a JSON {type(envelope).__name__}, not "
                              "an envelope", msgid=msgid, infno=infno, body=body,
                              request=request)
    if "infcode" not in envelope:
        shown = cap_text(repr({k: envelope[k] for k in list(envelope)[:4]}), 300)
        raise GatewayError(f"{where}: the answer is not an envelope (no infcode): {shown}",
                           msgid=msgid, infno=infno, status=status, body=body,
                           request=request)
    infcode = _infcode(envelope["infcode"])
    if infcode is None:
        raise MalformedAnswer(f"{where}: infcode {cap_text(repr(envelope['infcode']), 60)} is "
                              "not a number",
                              msgid=msgid, infno=infno, body=body, request=request)
    output = envelope.get("output")
    answer = Answer(
        infcode=infcode,
        output={} if output is None else output,
        err_msg=_shown_text(envelope.get("err_msg")),
        warn_msg=_shown_text(envelope.get("warn_msg")),
        inf_refmsgid=_text(envelope.get("inf_refmsgid")),
        msgid=msgid, raw=envelope, elapsed_ms=elapsed_ms, infno=infno,
    )
    if infcode != 0:
        raise InsurerRefusal(f"{where}: refused (infcode {infcode}): {answer.err_msg}",
                             msgid=msgid, infno=infno, err_msg=answer.err_msg, answer=answer,
                             request=request)
    if not isinstance(answer.output, dict):
        raise MalformedAnswer(f"{where}: infcode 0 but output is a JSON "
                              f"{_json_type(output)}, not an object; the request may have "
                              "taken effect", msgid=msgid, infno=infno, body=body,
                              request=request)
    if answer.err_msg and strict_err_msg:
        raise InsurerRefusal(f"{where}: infcode 0 but err_msg {answer.err_msg!r}; the insurer "
                             "may have applied it — query or reverse before retrying",
                             msgid=msgid, infno=infno, err_msg=answer.err_msg, answer=answer,
                             request=request, effect="unknown")
    return answer


def output_node(output: Any, name: str) -> Mapping[str, Any]:
    """``output[name]`` as a mapping (``{}`` when absent or not an object)."""
    value = output.get(name) if isinstance(output, Mapping) else None
    return value if isinstance(value, Mapping) else {}
