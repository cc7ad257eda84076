"""Reading business fields out of ``input`` for the transaction handlers; outcomes as data.

A handler reads twenty fields tersely and answers the first problem::

    data = Reader(envelope.input, strict=True).node("data")
    psn_no = data.text("psn_no", max_len=30)
    medfee = data.money("medfee_sumamt")
    rows = Reader(envelope.input).rows("feedetail")
    cnt = rows[2].qty("cnt")        # problem: FSI-费用明细第3条 数量(cnt)不是有效数字[feedetail[2].cnt]
    if data.problem:                # the first FieldProblem, shared by the whole tree
        return refuse(data.problem.err_msg)

Every reader made from another (``node``, ``rows``) shares its problems and deviations, so
``problem`` on any of them is the first problem anywhere. Empty means ``None``, ``""``,
``"null"`` or absent. Numbers are accepted as JSON numbers (exact Decimals from
:func:`mock_insurer.wire.jsonio.loads`), integers or numeric strings (a ``number_as_string``
deviation), and returned as :class:`~decimal.Decimal` quantized to the field's places
(money 16,2 yuan; ratio 5,4; quantity 16,4; unit price 16,6 yuan — fact sheet §2.1). More
places than the field has: a problem in strict mode, rounded half-up (a ``precision``
deviation) in tolerant mode. Dates and times: see :mod:`mock_insurer.wire.timefmt`; a
non-canonical form is a problem in strict mode and a ``time_format`` deviation in tolerant mode.

The module-level ``read_*`` functions do the same for one field and return the value or the
:class:`FieldProblem`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, TypeVar, cast, overload

from mock_insurer.money import MoneyParseError, parse_decimal
from mock_insurer.wire.jsonio import loads_text
from mock_insurer.wire.labels import label_of, node_label_of
from mock_insurer.wire.outcomes import Deviation, FieldProblem
from mock_insurer.wire.texts import FIELD_TEXTS, PADDING, fsi
from mock_insurer.wire.timefmt import (
    is_canonical_date,
    is_canonical_datetime,
    parse_date,
    parse_datetime,
)

__all__ = [
    "SPACE_SENSITIVE_FIELDS",
    "TYPED_CERTIFICATE_FIELDS",
    "FieldProblem",
    "Reader",
    "read_code",
    "read_date",
    "read_datetime",
    "read_list",
    "read_money",
    "read_price",
    "read_qty",
    "read_ratio",
    "read_str",
]

_NULL_TEXTS = frozenset({"null", "NULL", "Null"})
_ONE = Decimal(1)
_QUANTUM = {places: _ONE.scaleb(-places) for places in range(0, 10)}
_CANONICAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_T = TypeVar("_T")

SPACE_SENSITIVE_FIELDS = frozenset({
    "psn_no", "mdtrt_id", "setl_id", "chrg_bchno", "feedetl_sn", "ipt_otp_no",
    "card_sn", "psn_name", "med_list_codg", "medins_list_codg",
    "dise_codg", "diag_code", "omsgid", "oinfno", "file_qury_no", "sign_no", "opter_no",
    "fixmedins_code", "insutype", "clr_type", "setl_optins", "cum_ym",
})
"""Text fields the center matches exactly (identifiers, catalogue codes, the name checked
against the record): surrounding padding (:data:`~mock_insurer.wire.texts.PADDING` — a HIS
reading them from a CHAR column or a card reader's buffer) is a problem in strict mode that
says so, instead of a "not found" or "mismatch" the cashier cannot see the reason for; tolerant
mode removes it (deviation ``whitespace``). Codes, dates and times are matched exactly too; in
every other text padding is removed in both modes — except in :data:`TYPED_CERTIFICATE_FIELDS`."""

TYPED_CERTIFICATE_FIELDS = frozenset({"mdtrt_cert_no", "certno"})
"""Certificate numbers as a cashier types them: read as sent, padding included — the 1101
identity rules judge them (strict: matched exactly, "not found"; tolerant: normalised with a
``typed_value_normalised`` deviation; :mod:`mock_insurer.transactions.identity`)."""


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and
                             (not value.strip(PADDING) or value.strip(PADDING) in _NULL_TEXTS))


class _Log:
    __slots__ = ("deviations", "problems")

    def __init__(self, deviations: list[Deviation] | None = None) -> None:
        self.problems: list[FieldProblem] = []
        self.deviations: list[Deviation] = [] if deviations is None else deviations


class Reader:
    """Reads the fields of one node (a JSON object) of a transaction's input.

    *node* is the object (anything else reads as empty and — unless ``None`` at the root —
    is a problem); *where* is its path for the ``[...]`` of texts (``""`` at the root of
    ``input``, ``"data"``, ``"feedetail[2]"``); *strict* is the gateway's mode; *prefix* is
    put before field labels in texts (``"费用明细第3条 "``); *deviations*, when given, is the
    list the deviations of this reader and every reader made from it are appended to (the
    message's, so that the record lists them)."""

    __slots__ = ("_log", "_node", "prefix", "strict", "where")

    def __init__(self, node: Any, where: str = "", *, strict: bool = True, prefix: str = "",
                 deviations: list[Deviation] | None = None, _log: _Log | None = None) -> None:
        self._log = _log if _log is not None else _Log(deviations)
        self.where = where
        self.strict = strict
        self.prefix = prefix
        if node is None or isinstance(node, Mapping):
            self._node: Mapping[str, Any] = node or {}
        else:
            self._node = {}
            self._problem("node_not_object", "", subject=self._node_subject())

    # --- results ---------------------------------------------------------------------------
    @property
    def problem(self) -> FieldProblem | None:
        """The first problem found by this reader or any reader made from it."""
        return self._log.problems[0] if self._log.problems else None

    @property
    def problems(self) -> list[FieldProblem]:
        """Every problem so far, in the order found."""
        return list(self._log.problems)

    @property
    def deviations(self) -> list[Deviation]:
        """Every accepted departure from the specification so far (path in ``field``)."""
        return list(self._log.deviations)

    @property
    def data(self) -> Mapping[str, Any]:
        """The node as given (empty mapping when it was absent or not an object)."""
        return self._node

    def has(self, name: str) -> bool:
        """Whether *name* holds a non-empty value."""
        return not _is_empty(self._node.get(name))

    # --- structure -------------------------------------------------------------------------
    def node(self, name: str, *, required: bool = True) -> Reader:
        """The child object *name* (a list holding one object is taken, with a deviation, in
        tolerant mode). Absent: a ``node_missing`` problem when *required*."""
        value = self._node.get(name)
        path = self._path(name)
        prefix = "" if name == "data" else f"{node_label_of(name)} "
        if _is_empty(value):
            if required:
                self._problem("node_missing", path, subject=f"{node_label_of(name)}({name})")
            return Reader(None, path, strict=self.strict, prefix=prefix, _log=self._log)
        if isinstance(value, list) and not self.strict and len(value) == 1:
            self._deviate("node_is_list", path, f"{name} is a one-element list, not an object")
            value = value[0]
        if isinstance(value, str) and not self.strict:
            parsed = self._parse_json_text(value, path)
            if parsed is not None:
                self._deviate("node_as_string", path, f"{name} is a JSON string")
                value = parsed
        return Reader(value, path, strict=self.strict, prefix=prefix, _log=self._log)

    def rows(self, name: str, *, required: bool = True) -> list[Reader]:
        """The rows of the list *name*, one reader each, labelled ``<node>第N条``. A single
        object instead of a list, or the list as a JSON text, is taken (deviation) in tolerant
        mode."""
        value = self._node.get(name)
        path = self._path(name)
        label = node_label_of(name)
        if _is_empty(value):
            if required:
                self._problem("node_missing", path, subject=f"{label}({name})")
            return []
        if isinstance(value, str) and not self.strict:  # as node() reads one
            parsed = self._parse_json_text(value, path)
            if parsed is not None:
                self._deviate("node_as_string", path, f"{name} is a JSON string")
                value = parsed
        if isinstance(value, Mapping) and not self.strict:
            self._deviate("node_not_list", path, f"{name} is an object, not a list")
            value = [value]
        if not isinstance(value, list):
            self._problem("node_not_list", path, subject=f"{label}({name})")
            return []
        return [Reader(item, f"{path}[{index}]", strict=self.strict,
                       prefix=f"{label}第{index + 1}条 ", _log=self._log)
                for index, item in enumerate(value)]

    # --- texts and codes -------------------------------------------------------------------
    @overload
    def text(self, name: str, *, required: Literal[True] = True, max_len: int | None = None, label: str | None = None) -> str: ...
    @overload
    def text(self, name: str, *, required: bool, max_len: int | None = None, label: str | None = None) -> str | None: ...

    def text(self, name: str, *, required: bool = True, max_len: int | None = None,
             label: str | None = None) -> str | None:
        """A text field (``char``); longer than *max_len* characters is a problem in strict
        mode. Tolerant mode keeps what the center's column holds: free text cut to *max_len*
        (a ``field_too_long`` deviation), so that no answer echoes more than its output schema
        allows; an identifier the center matches (:data:`SPACE_SENSITIVE_FIELDS`) is a problem
        there too, since cutting it would change what it matches. Surrounding padding: see
        :data:`SPACE_SENSITIVE_FIELDS`."""
        value = self._node.get(name)
        if value.__class__ is str and (max_len is None or len(value) <= max_len):
            stripped = value.strip(PADDING)
            if (stripped and len(stripped) == len(value)
                    and stripped not in _NULL_TEXTS):  # the common case: a plain text
                return value
        if name in TYPED_CERTIFICATE_FIELDS:
            return self._text(name, required=required, max_len=max_len, label=label,
                              exact=None)
        return self._text(name, required=required, max_len=max_len, label=label,
                          exact=name in SPACE_SENSITIVE_FIELDS)

    def _text(self, name: str, *, required: bool, max_len: int | None, label: str | None,
              exact: bool | None) -> str | None:
        """:meth:`text`; *exact*: surrounding padding is a problem in strict mode (the
        value is matched or parsed exactly), else it is removed with a deviation; ``None``:
        the text is read as sent, padding included."""
        value = self._node.get(name)
        if value.__class__ is str and (max_len is None or len(value) <= max_len):
            stripped = value.strip(PADDING)
            if (stripped and len(stripped) == len(value)
                    and stripped not in _NULL_TEXTS):  # the common case: a plain text
                return value
        path = self._path(name)
        if _is_empty(value):
            if required:
                self._problem("missing", path, subject=self._subject(name, label))
            return None
        if isinstance(value, str):
            text = value
            stripped = text.strip(PADDING)
            if exact is not None and len(stripped) != len(text):
                if self.strict and exact:
                    self._problem("whitespace", path, subject=self._subject(name, label))
                    return None
                self._deviate("whitespace", path, f"{text[:40]!r} is padded (spaces, NULs)")
                text = stripped
        elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            text = str(value)
            if self.strict:
                self._problem("bad_type", path, subject=self._subject(name, label),
                              expected="字符串")
                return None
            self._deviate("field_not_string", path, f"the number {text} where text is expected")
        else:
            self._problem("bad_type", path, subject=self._subject(name, label), expected="字符串")
            return None
        if max_len is not None and len(text) > max_len:
            if self.strict or exact:
                self._problem("too_long", path, subject=self._subject(name, label),
                              max_len=max_len)
                return None
            if exact is None:  # a typed certificate: judged (normalised) by 1101 as sent
                self._deviate("field_too_long", path, f"{len(text)} characters, limit {max_len}")
                return text
            self._deviate("field_too_long", path,
                          f"{len(text)} characters, limit {max_len}; kept the first {max_len}")
            text = text[:max_len]
        return text

    @overload
    def code(self, name: str, allowed: Collection[str], *, required: Literal[True] = True, label: str | None = None) -> str: ...
    @overload
    def code(self, name: str, allowed: Collection[str], *, required: bool, label: str | None = None) -> str | None: ...

    def code(self, name: str, allowed: Collection[str], *, required: bool = True,
             label: str | None = None) -> str | None:
        """A coded field whose value must be one of *allowed*. Tolerant mode also takes a
        number or an unpadded code (``2`` for ``"02"``), with a deviation."""
        text = self._text(name, required=required, max_len=None, label=label, exact=True)
        if text is None:
            return None
        if text in allowed:
            return text
        path = self._path(name)
        if not self.strict:
            for candidate in allowed:
                if len(candidate) > len(text) and candidate == text.zfill(len(candidate)):
                    self._deviate("code_unpadded", path, f"{text!r} read as {candidate!r}")
                    return candidate
        self._problem("bad_code", path, subject=self._subject(name, label), value=text[:30])
        return None

    def exp_content(self, name: str = "exp_content") -> Any:
        """The extension parameters: a JSON text parsed, or an object/array as sent;
        ``None`` when empty or unreadable (a ``bad_json`` deviation, never a problem)."""
        value = self._node.get(name)
        if _is_empty(value):
            return None
        if isinstance(value, str):
            return self._parse_json_text(value, self._path(name))
        return value

    # --- numbers ---------------------------------------------------------------------------
    @overload
    def money(self, name: str, *, required: Literal[True] = True, signed: bool = False, label: str | None = None) -> Decimal: ...
    @overload
    def money(self, name: str, *, required: bool, signed: bool = False, label: str | None = None) -> Decimal | None: ...

    def money(self, name: str, *, required: bool = True, signed: bool = False,
              label: str | None = None) -> Decimal | None:
        """Money in yuan (16,2): a Decimal with two places. Negative only when *signed*."""
        return self._number(name, places=2, digits=16, required=required, signed=signed,
                            label=label)

    @overload
    def ratio(self, name: str, *, required: Literal[True] = True, label: str | None = None) -> Decimal: ...
    @overload
    def ratio(self, name: str, *, required: bool, label: str | None = None) -> Decimal | None: ...

    def ratio(self, name: str, *, required: bool = True, label: str | None = None) -> Decimal | None:
        """A ratio (5,4) between 0 and 1 inclusive, four places."""
        return self._number(name, places=4, digits=5, required=required, signed=False,
                            label=label, high=_ONE)

    @overload
    def qty(self, name: str, *, required: Literal[True] = True, signed: bool = False, label: str | None = None) -> Decimal: ...
    @overload
    def qty(self, name: str, *, required: bool, signed: bool = False, label: str | None = None) -> Decimal | None: ...

    def qty(self, name: str, *, required: bool = True, signed: bool = False,
            label: str | None = None) -> Decimal | None:
        """A quantity (16,4), four places."""
        return self._number(name, places=4, digits=16, required=required, signed=signed,
                            label=label)

    @overload
    def price(self, name: str, *, required: Literal[True] = True, label: str | None = None) -> Decimal: ...
    @overload
    def price(self, name: str, *, required: bool, label: str | None = None) -> Decimal | None: ...

    def price(self, name: str, *, required: bool = True, label: str | None = None) -> Decimal | None:
        """A unit price in yuan (16,6), six places, not negative."""
        return self._number(name, places=6, digits=16, required=required, signed=False,
                            label=label)

    @overload
    def decimal(self, name: str, *, places: int, digits: int, required: Literal[True] = True, signed: bool = False, label: str | None = None) -> Decimal: ...
    @overload
    def decimal(self, name: str, *, places: int, digits: int, required: bool, signed: bool = False, label: str | None = None) -> Decimal | None: ...

    def decimal(self, name: str, *, places: int, digits: int, required: bool = True,
                signed: bool = False, label: str | None = None) -> Decimal | None:
        """Any ``数值型 (digits, places)`` field (e.g. ``prd_days`` 4,2; ``age`` 4,1)."""
        return self._number(name, places=places, digits=digits, required=required,
                            signed=signed, label=label)

    @overload
    def integer(self, name: str, *, digits: int = 10, required: Literal[True] = True, label: str | None = None) -> int: ...
    @overload
    def integer(self, name: str, *, digits: int = 10, required: bool, label: str | None = None) -> int | None: ...

    def integer(self, name: str, *, digits: int = 10, required: bool = True,
                label: str | None = None) -> int | None:
        """A whole number of at most *digits* digits, not negative (``fixmedins_setl_cnt``)."""
        value = self._number(name, places=0, digits=digits, required=required, signed=False,
                             label=label, integral=True)
        return None if value is None else int(value)

    # --- times -----------------------------------------------------------------------------
    @overload
    def date(self, name: str, *, required: Literal[True] = True, label: str | None = None) -> dt.date: ...
    @overload
    def date(self, name: str, *, required: bool, label: str | None = None) -> dt.date | None: ...

    def date(self, name: str, *, required: bool = True, label: str | None = None) -> dt.date | None:
        """A date (日期型 ``yyyy-MM-dd``)."""
        text = self._text(name, required=required, max_len=None, label=label, exact=True)
        if text is None:
            return None
        path = self._path(name)
        value = parse_date(text)
        if value is None or (self.strict and not is_canonical_date(text)):
            self._problem("bad_date", path, subject=self._subject(name, label))
            return None
        if not is_canonical_date(text):
            self._deviate("time_format", path, f"{text[:40]!r} is not yyyy-MM-dd")
        return value

    @overload
    def datetime(self, name: str, *, required: Literal[True] = True, label: str | None = None) -> dt.datetime: ...
    @overload
    def datetime(self, name: str, *, required: bool, label: str | None = None) -> dt.datetime | None: ...

    def datetime(self, name: str, *, required: bool = True,
                 label: str | None = None) -> dt.datetime | None:
        """A moment (日期时间型 ``yyyy-MM-dd HH:mm:ss``), naive China wall clock."""
        text = self._text(name, required=required, max_len=None, label=label, exact=True)
        if text is None:
            return None
        if _CANONICAL_DATETIME.fullmatch(text) is not None:  # the common case, read once
            try:
                return dt.datetime.fromisoformat(text)
            except ValueError:
                pass
        path = self._path(name)
        value = parse_datetime(text)
        if value is None or (self.strict and not is_canonical_datetime(text)):
            self._problem("bad_datetime", path, subject=self._subject(name, label))
            return None
        if not is_canonical_datetime(text):
            self._deviate("time_format", path, f"{text[:40]!r} is not yyyy-MM-dd HH:mm:ss")
        return value

    # --- internals -------------------------------------------------------------------------
    def _number(self, name: str, *, places: int, digits: int, required: bool, signed: bool,
                label: str | None, high: Decimal | None = None,
                integral: bool = False) -> Decimal | None:
        value = self._node.get(name)
        kind = value.__class__
        if (kind is Decimal or kind is int) and places in _QUANTUM:  # common: a number that fits
            number = cast(Decimal, value) if kind is Decimal else Decimal(cast(int, value))
            if number.is_finite() and number.adjusted() < digits + 2:
                rounded = number.quantize(_QUANTUM[places], rounding=ROUND_HALF_UP)
                if (rounded == number and abs(rounded) < _ONE.scaleb(digits - places)
                        and (signed or rounded > 0 or not rounded.is_signed())
                        and (high is None or rounded <= high)):
                    return rounded
        path = self._path(name)
        subject = self._subject(name, label)
        if _is_empty(value):
            if required:
                self._problem("missing", path, subject=subject)
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
            self._problem("bad_type", path, subject=subject, expected="数值")
            return None
        if isinstance(value, str) and not value.isascii():  # "１２.００": the schemas say 0-9
            if self.strict:
                self._problem("not_ascii_number", path, subject=subject, value=value[:20])
                return None
            normalised = unicodedata.normalize("NFKC", value)
            self._deviate("fullwidth_number", path, f"{value[:40]!r} read as {normalised!r}")
            value = normalised
        try:
            number = parse_decimal(value)
        except MoneyParseError:
            self._problem("not_number", path, subject=subject)
            return None
        if isinstance(value, str):
            self._deviate("number_as_string", path, f"the text {value[:40]!r} holds a number")
        if not signed and number.is_zero() and number.is_signed():  # "-0.00"
            if self.strict:
                self._problem("negative_zero", path, subject=subject, value=str(value)[:20])
                return None
            self._deviate("negative_zero", path, f"{str(value)[:40]!r} read as 0")
            number = abs(number)
        quantum = _ONE.scaleb(-places)
        rounded = number.quantize(quantum, rounding=ROUND_HALF_UP) \
            if number.adjusted() < digits + 2 else number
        if rounded != number:
            if self.strict or integral:
                code = "not_integer" if integral else "too_many_places"
                self._problem(code, path, subject=subject, places=places)
                return None
            self._deviate("precision", path, f"{number} has more than {places} places; "
                          f"read as {rounded}")
        if abs(rounded) >= _ONE.scaleb(digits - places):
            self._problem("too_large", path, subject=subject)
            return None
        if rounded < 0 and not signed:
            self._problem("negative", path, subject=subject)
            return None
        if high is not None and rounded > high:
            self._problem("out_of_range", path, subject=subject, low=0, high=high)
            return None
        return rounded

    def _parse_json_text(self, text: str, path: str) -> Any:
        try:
            return loads_text(text)
        except (ValueError, RecursionError):
            self._deviate("bad_json", path, "not a JSON text")
            return None

    def _path(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def _subject(self, name: str, label: str | None) -> str:
        return f"{self.prefix}{label or label_of(name)}({name})"

    def _node_subject(self) -> str:
        last = self.where.rsplit(".", 1)[-1].split("[", 1)[0]
        return f"{self.prefix.strip() or node_label_of(last)}({self.where or 'input'})"

    def _problem(self, code: str, path: str, **values: object) -> None:
        where = path or self.where or "input"
        self._log.problems.append(
            FieldProblem(code, where, fsi(FIELD_TEXTS[code].format(**values), where)))

    def _deviate(self, code: str, path: str, detail: str) -> None:
        self._log.deviations.append(Deviation(code, path, detail))


# --- one field at a time ----------------------------------------------------------------------
def _one(reader: Reader, value: _T | None) -> _T | FieldProblem | None:
    return reader.problem or value


def read_str(data: Any, name: str, *, required: bool = True, max_len: int | None = None,
             where: str = "", strict: bool = True) -> str | FieldProblem | None:
    """One text field of *data*: the text, ``None`` (empty, optional) or the problem."""
    reader = Reader(data, where, strict=strict)
    return _one(reader, reader.text(name, required=required, max_len=max_len))


def read_code(data: Any, name: str, allowed: Collection[str], *, required: bool = True,
              where: str = "", strict: bool = True) -> str | FieldProblem | None:
    """One coded field of *data* (see :meth:`Reader.code`)."""
    reader = Reader(data, where, strict=strict)
    return _one(reader, reader.code(name, allowed, required=required))


def read_money(data: Any, name: str, *, required: bool = True, signed: bool = False,
               where: str = "", strict: bool = True) -> Decimal | FieldProblem | None:
    """One money field (16,2 yuan) of *data*."""
    reader = Reader(data, where, strict=strict)
    return _one(reader, reader.money(name, required=required, signed=signed))


def read_ratio(data: Any, name: str, *, required: bool = True, where: str = "",
               strict: bool = True) -> Decimal | FieldProblem | None:
    """One ratio field (5,4, 0..1) of *data*."""
    reader = Reader(data, where, strict=strict)
    return _one(reader, reader.ratio(name, required=required))


def read_qty(data: Any, name: str, *, required: bool = True, where: str = "",
             strict: bool = True) -> Decimal | FieldProblem | None:
    """One quantity field (16,4) of *data*."""
    reader = Reader(data, where, strict=strict)
    return _one(reader, reader.qty(name, required=required))


def read_price(data: Any, name: str, *, required: bool = True, where: str = "",
               strict: bool = True) -> Decimal | FieldProblem | None:
    """One unit-price field (16,6 yuan) of *data*."""
    reader = Reader(data, where, strict=strict)
    return _one(reader, reader.price(name, required=required))


def read_date(data: Any, name: str, *, required: bool = True, where: str = "",
              strict: bool = True) -> dt.date | FieldProblem | None:
    """One date field (``yyyy-MM-dd``) of *data*."""
    reader = Reader(data, where, strict=strict)
    return _one(reader, reader.date(name, required=required))


def read_datetime(data: Any, name: str, *, required: bool = True, where: str = "",
                  strict: bool = True) -> dt.datetime | FieldProblem | None:
    """One datetime field (``yyyy-MM-dd HH:mm:ss``) of *data*."""
    reader = Reader(data, where, strict=strict)
    return _one(reader, reader.datetime(name, required=required))


def read_list(data: Any, name: str, *, required: bool = True, where: str = "",
              strict: bool = True) -> list[Reader] | FieldProblem:
    """The rows of one list node of *data*, a :class:`Reader` each (sharing one log)."""
    reader = Reader(data, where, strict=strict)
    rows = reader.rows(name, required=required)
    return reader.problem or rows
