"""Parsing a request body as real clients send it (docs/wire.md has the strict/tolerant
table). Outcomes are data: :func:`parse_request` never raises for anything in the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from mock_insurer.wire.jsonio import dumps, loads_text
from mock_insurer.wire.labels import label_of
from mock_insurer.wire.msgid import check_msgid
from mock_insurer.wire.outcomes import Deviation
from mock_insurer.wire.request import (
    ENVELOPE_FIELDS,
    FIELD_MAX_LEN,
    INPUT_MAX_CHARS,
    MAX_DEVIATIONS,
    REQUIRED_FIELDS,
    TOLERANT_MSGID_MAX,
    Mode,
    ParseOutcome,
    RequestEnvelope,
)
from mock_insurer.wire.texts import MSGID_TEXTS, PADDING, WIRE_TEXTS, fsi
from mock_insurer.wire.timefmt import parse_datetime

__all__ = ["parse_request"]

_OPTER_TYPES = frozenset({"1", "2", "3"})
_INFNO = re.compile(r"\d{4}[A-Za-z]?")
_ADMDVS = re.compile(r"\d{6}")
_BOM = b"\xef\xbb\xbf"
_NULL_TEXTS = frozenset({"null", "NULL", "Null", " null", "null "})  # each has "ull"/"ULL"
_KNOWN_FIELDS = frozenset(ENVELOPE_FIELDS)
_TEXT_FIELDS = tuple(name for name in ENVELOPE_FIELDS if name != "input")
_CANONICAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
MAX_INPUT_DEPTH = 32
"""Nesting levels of containers ``input`` may have (the interface's deepest, 3101's
``patient_dtos[].fsi_encounter_dtos[].fsi_order_dtos[]`` with an ``exp_content`` object, is
under ten); deeper is refused (``input_too_deep``), never a recursion error."""
#: Fields the center matches or parses exactly: padding (``PADDING``: a HIS reading them from a
#: CHAR column) makes them a different value, so strict mode refuses it with words that say so;
#: in the other text fields it is removed (both modes) and recorded.
_SPACE_SENSITIVE = frozenset({"msgid", "fixmedins_code", "sign_no", "mdtrtarea_admvs",
                              "insuplc_admdvs", "opter_type", "inf_time"})


def _is_canonical_datetime(text: str) -> bool:
    """:func:`~mock_insurer.wire.timefmt.is_canonical_datetime`, read once."""
    if _CANONICAL_DATETIME.fullmatch(text) is None:
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


class _Refusals:
    """Collects refusals in the order found; the first one is the outcome's."""

    def __init__(self) -> None:
        self.first: tuple[str, str] | None = None

    def add(self, code: str, where: str, *, text: str | None = None, **values: object) -> None:
        """Refusal *code* at *where*; its words are ``WIRE_TEXTS[text or code]``."""
        if self.first is None:
            self.first = (code, fsi(WIRE_TEXTS[text or code].format(**values), where))


class _Deviations:
    def __init__(self) -> None:
        self.items: list[Deviation] = []
        self.dropped = 0

    def add(self, code: str, field: str, detail: str) -> None:
        if len(self.items) < MAX_DEVIATIONS:
            self.items.append(Deviation(code, field, detail))
        else:
            self.dropped += 1

    def result(self) -> tuple[Deviation, ...]:
        if self.dropped:
            return (*self.items, Deviation("deviations_truncated", "body",
                                           f"{self.dropped} more deviations not listed"))
        return tuple(self.items)


def _named(names: list[str]) -> str:
    return "、".join(f"{label_of(name)}({name})" for name in names)


def _refused(code: str, where: str, devs: _Deviations, **values: object) -> ParseOutcome:
    return ParseOutcome(None, code, fsi(WIRE_TEXTS[code].format(**values), where),
                        devs.result())


def _decode(body: bytes, strict: bool, devs: _Deviations) -> str | ParseOutcome:
    data = body
    if data.startswith(_BOM):
        data = data[len(_BOM):]
        devs.add("utf8_bom", "body", "body starts with a UTF-8 byte order mark")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"body:byte {exc.start}"
        if strict:
            devs.add("bad_encoding", "body", f"not UTF-8 at byte {exc.start}")
            return _refused("bad_encoding", where, devs)
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            devs.add("bad_encoding", "body", f"neither UTF-8 nor GB18030 (byte {exc.start})")
            return _refused("bad_encoding", where, devs)
        devs.add("encoding_gb18030", "body", "body is GB18030, not UTF-8")
        return text


def parse_request(body: bytes, *, mode: Mode, path_infno: str | None, max_body: int,
                  known_infnos: Collection[str] | None = None) -> ParseOutcome:
    """Read one request body as real clients send it (see docs/wire.md for the table).

    *mode* ``"strict"`` refuses what the specification forbids; ``"tolerant"`` accepts what
    real clients send and records it. *path_infno* is the infno the gateway derived from the
    URL path (``/<infno>`` or a per-service path), if any: the body's ``infno`` wins, and a
    difference is recorded; a body without ``infno`` takes the path's (tolerant mode only).
    *max_body* is in bytes. When *known_infnos* is given, any other infno is refused as
    ``unknown_infno``; otherwise that is left to the caller. Content-Type is not looked at
    (see :func:`content_type_deviation`)."""
    strict = mode == "strict"
    devs = _Deviations()
    if len(body) > max_body:
        devs.add("body_too_large", "body", f"{len(body)} bytes, limit {max_body}")
        return _refused("body_too_large", "body", devs, limit=max_body)
    decoded = _decode(bytes(body), strict, devs)
    if isinstance(decoded, ParseOutcome):
        return decoded
    if not decoded.strip():
        devs.add("empty_body", "body", "the body is empty")
        return _refused("empty_body", "body", devs)
    try:
        raw = loads_text(decoded)
    except json.JSONDecodeError as exc:
        devs.add("malformed_json", "body", exc.msg)
        return _refused("malformed_json", f"body:line {exc.lineno} col {exc.colno}", devs)
    except (ValueError, RecursionError) as exc:
        devs.add("malformed_json", "body", str(exc)[:200])
        return _refused("malformed_json", "body", devs)
    if not isinstance(raw, dict):
        devs.add("not_an_object", "body", f"the body is a JSON {type(raw).__name__}")
        return _refused("not_an_object", "body", devs)
    return _EnvelopeReader(raw, strict, devs, path_infno, known_infnos, len(body)).read()


class _EnvelopeReader:
    """One pass over a parsed envelope; collects deviations and the first refusal."""

    def __init__(self, raw: dict[str, Any], strict: bool, devs: _Deviations,
                 path_infno: str | None, known_infnos: Collection[str] | None,
                 body_size: int) -> None:
        self.raw = raw
        self.strict = strict
        self.devs = devs
        self.path_infno = path_infno
        self.known_infnos = known_infnos
        self.body_size = body_size
        self.refusals = _Refusals()
        self.source: dict[str, Any] = {}
        self.values: dict[str, str] = {}

    # --- keys -----------------------------------------------------------------------------
    def _collect_keys(self) -> None:
        known = _KNOWN_FIELDS
        if known.issuperset(self.raw):  # the common case: only envelope fields, as spelled
            self.source = self.raw
            return
        for key, value in self.raw.items():
            if key in known:
                self.source[key] = value
        for key, value in self.raw.items():
            if key in known:
                continue
            lowered = key.lower()
            if lowered in known and lowered not in self.raw:
                if self.strict:
                    self.devs.add("field_case", key,
                                  f"{key!r} is not {lowered!r} (ignored in strict mode)")
                elif lowered not in self.source:
                    self.source[lowered] = value
                    self.devs.add("field_case", key, f"{key!r} read as {lowered!r}")
                    continue
                else:
                    self.devs.add("extra_field", key, "another spelling of the same field")
            elif lowered in known:
                self.devs.add("extra_field", key, f"duplicate of {lowered!r} in another case, "
                              "ignored")
            else:
                self.devs.add("extra_field", key, "not an envelope field, ignored")

    # --- text fields ----------------------------------------------------------------------
    def _read_texts(self) -> None:
        wrong_type: list[str] = []
        spaced: list[str] = []
        for name in _TEXT_FIELDS:
            value = self.source.get(name)
            text = ""
            if value.__class__ is str and "ull" not in value and "ULL" not in value:
                text = value  # the common case: cannot be a "null" text
            elif value is None:
                text = ""
            elif isinstance(value, str):
                if value.strip() in _NULL_TEXTS:
                    self.devs.add("null_string", name, 'the string "null" stands for empty')
                else:
                    text = value
            elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                text = str(value)
                self.devs.add("field_not_string", name,
                              f"the number {text} where text is expected")
                if self.strict:
                    wrong_type.append(name)
            else:
                wrong_type.append(name)
                self.devs.add("bad_field_type", name,
                              f"a JSON {type(value).__name__} where text is expected")
            if text and (text[0] in PADDING or text[-1] in PADDING):
                text = self._spaced(name, text, spaced)
            self.values[name] = text
        if spaced:
            self.refusals.add("whitespace", spaced[0], fields=_named(spaced))
        if wrong_type:
            self.refusals.add("bad_field_type", wrong_type[0], fields=_named(wrong_type))

    def _spaced(self, name: str, text: str, spaced: list[str]) -> str:
        """A text with surrounding padding: strict mode refuses it in the fields matched
        exactly (listed in *spaced*, value kept for the record); otherwise it is removed."""
        self.devs.add("whitespace", name, f"{text[:40]!r} is padded (spaces, NULs)")
        stripped = text.strip(PADDING)
        if stripped and self.strict and name in _SPACE_SENSITIVE:
            spaced.append(name)
            return text
        return stripped  # only padding: empty, as "" would be

    # --- infno ----------------------------------------------------------------------------
    def _read_infno(self) -> str:
        infno = self.values["infno"]  # padding already removed (_spaced)
        path = (self.path_infno or "").strip()
        if infno:
            if path and path.upper() != infno.upper():
                self.devs.add("infno_path_mismatch", "infno",
                              f"body says {infno!r}, the URL path says {path!r}; body wins")
        elif path:
            self.devs.add("infno_from_path", "infno", f"no infno in the body; path gives {path!r}")
            if self.strict:
                self.refusals.add("missing_field", "infno", fields=_named(["infno"]))
            infno = path
        if not infno:
            return ""
        if _INFNO.fullmatch(infno) is None:
            self.devs.add("bad_infno", "infno", f"{infno!r} is not 4 digits and a letter")
            self.refusals.add("bad_infno", "infno", value=infno[:20])
            return infno
        if infno != infno.upper():
            self.devs.add("infno_case", "infno", f"{infno!r} has a lower-case letter")
            if self.strict:
                self.refusals.add("bad_infno", "infno", value=infno)
            infno = infno.upper()
        if self.known_infnos is not None and infno not in self.known_infnos:
            self.devs.add("unknown_infno", "infno", f"{infno!r} is not served")
            self.refusals.add("unknown_infno", "infno", value=infno)
        return infno

    # --- required / lengths / formats -------------------------------------------------------
    def _check_required(self, infno: str, input_present: bool) -> None:
        missing = [name for name in REQUIRED_FIELDS
                   if name not in ("infno", "input") and not self.values[name]]
        if not infno:
            missing.insert(0, "infno")
        if not input_present:
            missing.append("input")
        for name in missing:
            self.devs.add("missing_field", name, f"required field {name!r} is empty or absent")
        always = [name for name in missing if name in ("infno", "msgid", "fixmedins_code")]
        refused = missing if self.strict else always
        if refused:
            self.refusals.add("missing_field", refused[0], fields=_named(refused))

    def _check_lengths(self) -> None:
        too_long = []
        for name, limit in FIELD_MAX_LEN.items():
            text = self.values[name]
            if len(text) > limit:
                too_long.append(name)
                self.devs.add("field_too_long", name, f"{len(text)} characters, limit {limit}")
        msgid = self.values["msgid"]
        if not self.strict and len(msgid) > TOLERANT_MSGID_MAX:
            self.refusals.add("field_too_long", "msgid",
                              fields=f"{_named(['msgid'])}超过{TOLERANT_MSGID_MAX}位")
        if too_long and self.strict:
            self.refusals.add("field_too_long", too_long[0], fields="、".join(
                f"{label_of(n)}({n})超过{FIELD_MAX_LEN[n]}位" for n in too_long))

    def _check_msgid(self) -> None:
        msgid, code = self.values["msgid"], self.values["fixmedins_code"]
        if not msgid:
            return
        found = check_msgid(msgid, code)
        for deviation in found:
            self.devs.add(deviation.code, deviation.field, deviation.detail)
        if found and self.strict:
            first = found[0].code
            detail = MSGID_TEXTS[first].format(length=len(msgid), code=code)
            self.refusals.add("msgid_format", "msgid", detail=detail)

    def _check_formats(self) -> None:
        inf_time = self.values["inf_time"]
        if inf_time and not _is_canonical_datetime(inf_time):
            readable = parse_datetime(inf_time) is not None
            self.devs.add("time_format", "inf_time",
                          f"{inf_time[:40]!r} is not yyyy-MM-dd HH:mm:ss"
                          + ("" if readable else " and cannot be read as a time"))
            if self.strict:
                self.refusals.add("time_format", "inf_time", value=inf_time[:40])
        opter_type = self.values["opter_type"]
        if opter_type and opter_type not in _OPTER_TYPES:
            self.devs.add("bad_code", "opter_type", f"{opter_type[:10]!r} is not 1, 2 or 3")
            if self.strict:
                self.refusals.add("bad_code", "opter_type",
                                  fields=f"{_named(['opter_type'])}={opter_type[:10]}")
        bad_areas = [name for name in ("mdtrtarea_admvs", "insuplc_admdvs")
                     if self.values[name] and _ADMDVS.fullmatch(self.values[name]) is None]
        for name in bad_areas:
            self.devs.add("admdvs_format", name, f"{self.values[name][:20]!r} is not 6 digits")
        if bad_areas and self.strict:
            self.refusals.add("admdvs_format", bad_areas[0], fields=_named(bad_areas))

    # --- input ------------------------------------------------------------------------------
    def _read_input(self) -> tuple[dict[str, Any] | None, bool]:
        """The input object (``None`` if refused) and whether one was present at all."""
        value = self.source.get("input")
        if value is None or (isinstance(value, str) and value.strip() in ("", *_NULL_TEXTS)):
            return {}, False
        if isinstance(value, str):
            self.devs.add("input_as_string", "input", "input is a JSON string of an object")
            if len(value) > INPUT_MAX_CHARS:
                self._input_too_long(len(value))
            try:
                parsed = loads_text(value)
            except json.JSONDecodeError as exc:
                self.devs.add("input_malformed_json", "input", exc.msg)
                self.refusals.add("input_malformed_json",
                                  f"input:line {exc.lineno} col {exc.colno}")
                return None, True
            except (ValueError, RecursionError) as exc:
                self.devs.add("input_malformed_json", "input", str(exc)[:200])
                self.refusals.add("input_malformed_json", "input")
                return None, True
            value = parsed
            measured = True
        else:
            measured = self.body_size <= INPUT_MAX_CHARS  # then input cannot be longer
        if not isinstance(value, dict):
            self.devs.add("input_not_object", "input", f"input is a JSON {type(value).__name__}")
            self.refusals.add("input_not_object", "input")
            return None, True
        try:
            business = cast(dict[str, Any], _normalise(value, "input", self.devs, 0))
        except _TooDeep:
            self.devs.add("input_too_deep", "input", f"nested deeper than {MAX_INPUT_DEPTH} levels")
            self.refusals.add("input_too_deep", "input", limit=MAX_INPUT_DEPTH)
            return None, True
        if not measured:  # measured once known to be shallow enough to write back
            size = len(dumps(value).decode("utf-8"))
            if size > INPUT_MAX_CHARS:
                self._input_too_long(size)
        return business, True

    def _input_too_long(self, size: int) -> None:
        self.devs.add("input_too_long", "input",
                      f"{size} characters, limit {INPUT_MAX_CHARS}")
        if self.strict:
            self.refusals.add("input_too_long", "input", limit=INPUT_MAX_CHARS)

    def _check_insuplc(self, business: dict[str, Any]) -> None:
        if self.values["insuplc_admdvs"] or not _carries_psn_no(business):
            return
        self.devs.add("missing_field", "insuplc_admdvs",
                      "input carries psn_no but insuplc_admdvs is empty")
        if self.strict:
            self.refusals.add("missing_field", "insuplc_admdvs", text="missing_insuplc")

    def read(self) -> ParseOutcome:
        self._collect_keys()
        self._read_texts()
        infno = self._read_infno()
        business, input_present = self._read_input()
        self._check_required(infno, input_present)
        self._check_lengths()
        self._check_msgid()
        self._check_formats()
        if business is not None:
            self._check_insuplc(business)
        if not input_present:
            business = {}
        v = self.values
        if self.refusals.first is not None or business is None:
            code, err_msg = self.refusals.first or ("input_not_object", "")
            return ParseOutcome(None, code, err_msg, self.devs.result(), raw=self.raw,
                                msgid=v["msgid"], infno=infno,
                                fixmedins_code=v["fixmedins_code"])
        envelope = RequestEnvelope(
            infno=infno, msgid=v["msgid"], fixmedins_code=v["fixmedins_code"],
            fixmedins_name=v["fixmedins_name"], sign_no=v["sign_no"],
            mdtrtarea_admvs=v["mdtrtarea_admvs"], insuplc_admdvs=v["insuplc_admdvs"],
            recer_sys_code=v["recer_sys_code"], infver=v["infver"], opter_type=v["opter_type"],
            opter=v["opter"], opter_name=v["opter_name"], inf_time=v["inf_time"],
            input=business, raw=self.raw, dev_no=v["dev_no"], dev_safe_info=v["dev_safe_info"],
            cainfo=v["cainfo"], signtype=v["signtype"])
        return ParseOutcome(envelope, None, "", self.devs.result(), raw=self.raw,
                            msgid=v["msgid"], infno=infno, fixmedins_code=v["fixmedins_code"])


class _TooDeep(Exception):
    """``input`` nests deeper than :data:`MAX_INPUT_DEPTH` (caught in ``_read_input``)."""


def _normalise(value: Any, path: str, devs: _Deviations, depth: int) -> Any:
    """Empty texts → ``None``; ``expContent`` → ``exp_content``; everything else as is.
    This runs over every value of every input: paths are built only for containers and
    deviations, and the common case (a non-empty text or a number) costs one type check.
    *depth* is the container's nesting level; beyond :data:`MAX_INPUT_DEPTH` it stops
    (``_TooDeep``) before Python's recursion limit would."""
    if depth > MAX_INPUT_DEPTH:
        raise _TooDeep
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            kind = item.__class__
            if kind is str:
                if item and item not in _NULL_TEXTS:
                    out[key] = item
                    continue
                if item:
                    devs.add("null_string", f"{path}.{key}", 'the string "null" stands for empty')
                out[key] = None
            elif kind is dict or kind is list:
                name = key
                if key == "expContent" and "exp_content" not in value:
                    name = "exp_content"
                    devs.add("exp_content_name", f"{path}.{key}", "expContent read as exp_content")
                if name == "exp_content":
                    devs.add("exp_content_type", f"{path}.{name}",
                             f"exp_content is a JSON {kind.__name__}, not a JSON string")
                out[name] = _normalise(item, f"{path}.{name}", devs, depth + 1)
            else:
                out[key] = item
        if "expContent" in out and "exp_content" not in out:
            out["exp_content"] = out.pop("expContent")
            devs.add("exp_content_name", f"{path}.expContent", "expContent read as exp_content")
        return out
    if isinstance(value, list):
        return [_normalise(item, f"{path}[{index}]", devs, depth + 1)
                if isinstance(item, (dict, list, str)) else item
                for index, item in enumerate(value)]
    if isinstance(value, str):
        if not value:
            return None
        if value in _NULL_TEXTS:
            devs.add("null_string", path, 'the string "null" stands for empty')
            return None
    return value


def _carries_psn_no(business: Mapping[str, Any]) -> bool:
    for node in business.values():
        rows = node if isinstance(node, list) else [node]
        for row in rows[:1]:
            if isinstance(row, Mapping) and row.get("psn_no"):
                return True
    return False


