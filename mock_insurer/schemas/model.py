"""A compact description of the interface's messages, rendered as JSON Schema (Draft 2020-12).

The field tables of shared/reference/nhsa-interface-facts.md §3 are written once, in
:mod:`mock_insurer.schemas.catalog`, with the helpers below; :func:`render_node` turns them
into schemas. Direction matters: on the way **in** an amount may be a JSON number or a
numeric string and an optional field may be ``""``, ``null`` or ``"null"``; on the way **out**
(what the mock answers) every amount is a JSON number, and unknown properties are not allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mock_insurer.schemas.codes import CODE_TABLES
from mock_insurer.wire.labels import FIELD_LABELS, NODE_LABELS

__all__ = [
    "Direction",
    "Field",
    "Node",
    "Transaction",
    "ch",
    "code",
    "day",
    "exp",
    "integer",
    "moment",
    "money",
    "num",
    "price",
    "qty",
    "ratio",
    "render_node",
]

Direction = Literal["in", "out"]
Kind = Literal["char", "money", "ratio", "qty", "price", "num", "int", "date", "datetime",
               "code", "exp", "bytes"]

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
_EMPTY_IN: tuple[dict[str, Any], ...] = ({"type": "null"}, {"const": ""}, {"const": "null"})
"""An optional field left empty on the way in: ``null``, ``""`` or the string ``"null"``
(shared/reference/README.md, "body")."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field: name, kind, length / digits, places, required (必填 Y), code table."""

    name: str
    kind: Kind
    length: int = 0
    places: int = 0
    required: bool = False
    table: str = ""
    signed: bool = False
    nullable: bool = False
    label: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Node:
    """A node of ``input`` or ``output``: one object, or a list of them (``many``)."""

    name: str
    fields: tuple[Field, ...]
    many: bool = False
    required: bool = True
    min_items: int = 0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    flat: bool = False
    """The fields sit directly in ``input``/``output`` (no node name)."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction: number, names, nodes in and out, sources."""

    infno: str
    name_zh: str
    name_en: str
    inputs: tuple[Node, ...]
    outputs: tuple[Node, ...]
    sources: str
    note: str = ""
    output_note: str = ""


# --- terse constructors (length in characters; digits/places as in 数值型 16,2) --------------
def ch(name: str, length: int, required: bool = False, **kw: Any) -> Field:
    """A text field (char *length*)."""
    return Field(name, "char", length=length, required=required, **kw)


def money(name: str, required: bool = False, **kw: Any) -> Field:
    """An amount in yuan (16,2)."""
    return Field(name, "money", length=16, places=2, required=required, **kw)


def ratio(name: str, required: bool = False, **kw: Any) -> Field:
    """A ratio (5,4), 0..1."""
    return Field(name, "ratio", length=5, places=4, required=required, **kw)


def qty(name: str, required: bool = False, **kw: Any) -> Field:
    """A quantity (16,4)."""
    return Field(name, "qty", length=16, places=4, required=required, **kw)


def price(name: str, required: bool = False, **kw: Any) -> Field:
    """A unit price in yuan (16,6)."""
    return Field(name, "price", length=16, places=6, required=required, **kw)


def num(name: str, digits: int, places: int, required: bool = False, **kw: Any) -> Field:
    """Any other number (数值型 digits,places)."""
    return Field(name, "num", length=digits, places=places, required=required, **kw)


def integer(name: str, digits: int, required: bool = False, **kw: Any) -> Field:
    """A whole number of at most *digits* digits."""
    return Field(name, "int", length=digits, required=required, **kw)


def day(name: str, required: bool = False, **kw: Any) -> Field:
    """A date, ``yyyy-MM-dd``."""
    return Field(name, "date", length=10, required=required, **kw)


def moment(name: str, required: bool = False, **kw: Any) -> Field:
    """A datetime, ``yyyy-MM-dd HH:mm:ss``."""
    return Field(name, "datetime", length=19, required=required, **kw)


def code(name: str, table: str, length: int, required: bool = False, **kw: Any) -> Field:
    """A coded field from :data:`~mock_insurer.schemas.codes.CODE_TABLES`."""
    return Field(name, "code", length=length, required=required, table=table, **kw)


def exp(name: str = "exp_content", length: int = 4000) -> Field:
    """The extension parameters: a JSON text (objects and arrays occur)."""
    return Field(name, "exp", length=length)


# --- rendering -------------------------------------------------------------------------------
def _number_text_pattern(digits: int, places: int, signed: bool) -> str:
    whole = digits - places
    sign = "-?" if signed else ""
    fraction = rf"(\.\d{{1,{places}}})?" if places else ""
    return rf"^{sign}\d{{1,{whole}}}{fraction}$"


def _describe(f: Field, direction: Direction) -> str:
    en = FIELD_LABELS.get(f.name, ("", f.name))[1]
    kind = {
        "char": f"char {f.length}",
        "money": "数值型 16,2 (yuan)",
        "ratio": "数值型 5,4",
        "qty": "数值型 16,4",
        "price": "数值型 16,6 (yuan)",
        "num": f"数值型 {f.length},{f.places}",
        "int": f"integer, at most {f.length} digits",
        "date": "日期型 yyyy-MM-dd",
        "datetime": "日期时间型 yyyy-MM-dd HH:mm:ss",
        "code": f"char {f.length}, coded",
        "exp": f"JSON text, char {f.length}",
        "bytes": "file bytes, Base64 text (or an array of bytes)",
    }[f.kind]
    parts = [f"{en}; {kind}", "required (必填)" if f.required else "optional"]
    if f.kind == "code":
        table = CODE_TABLES[f.table]
        parts.append(f"{table.name_zh}: {table.meaning}")
    if f.kind in ("money", "ratio", "qty", "price", "num", "int") and direction == "in":
        parts.append("a JSON number or a numeric string")
    if f.note:
        parts.append(f.note)
    return "; ".join(parts)


def _value_schema(f: Field, direction: Direction) -> dict[str, Any]:
    optional = not f.required or f.nullable
    if f.kind in ("money", "ratio", "qty", "price", "num", "int"):
        places = 0 if f.kind == "int" else f.places
        signed = f.signed
        number: dict[str, Any] = {"type": "integer" if f.kind == "int" else "number"}
        if not signed:
            number["minimum"] = 0
        if f.kind == "ratio":
            number["maximum"] = 1
            if signed:
                number["minimum"] = -1
        else:
            number["exclusiveMaximum"] = 10 ** (f.length - places)
            if signed:
                number["exclusiveMinimum"] = -(10 ** (f.length - places))
        if direction == "out":
            return {"type": [number["type"], "null"], **{k: v for k, v in number.items()
                                                        if k != "type"}} \
                if optional else number
        text = {"type": "string", "pattern": _number_text_pattern(f.length, places, signed)}
        choices: list[dict[str, Any]] = [number, text]
        if optional:
            choices.extend(_EMPTY_IN)
        return {"anyOf": choices}
    empty: list[dict[str, Any]] = [{"type": "null"}]
    if direction == "in":
        empty.extend(_EMPTY_IN[1:])
    if f.kind in ("date", "datetime"):
        pattern = DATE_PATTERN if f.kind == "date" else DATETIME_PATTERN
        if optional:
            return {"anyOf": [{"type": "string", "pattern": pattern}, *empty]}
        return {"type": "string", "pattern": pattern}
    if f.kind == "code":
        table = CODE_TABLES[f.table]
        inner: dict[str, Any] = {"type": "string", "maxLength": f.length}
        if table.values:
            inner["enum"] = list(table.values)
        else:
            inner["pattern"] = table.pattern
        if optional:
            return {"anyOf": [inner, *empty]}
        return inner
    if f.kind == "exp":
        return {"type": ["string", "object", "array", "null"],
                "maxLength": f.length}
    if f.kind == "bytes":
        return {"anyOf": [{"type": "string", "minLength": 1},
                          {"type": "array", "items": {"type": "integer", "minimum": 0,
                                                      "maximum": 255}}]}
    # char
    if optional:
        return {"type": ["string", "null"], "maxLength": f.length}
    return {"type": "string", "minLength": 1, "maxLength": f.length}


def _property(f: Field, direction: Direction) -> dict[str, Any]:
    zh = f.label or FIELD_LABELS.get(f.name, (f.name, ""))[0]
    return {"title": f"{zh} {f.name}", "description": _describe(f, direction),
            **_value_schema(f, direction)}


def _row_schema(node: Node, direction: Direction) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {f.name: _property(f, direction) for f in node.fields},
    }
    required = [f.name for f in node.fields if f.required]
    if required:
        schema["required"] = required
    if direction == "out":
        schema["additionalProperties"] = False
    schema.update(node.extra)
    return schema


def render_node(node: Node, direction: Direction) -> dict[str, Any]:
    """The schema of one node (an object, or an array of objects)."""
    zh, en = NODE_LABELS.get(node.name, (node.name, node.name))
    row = _row_schema(node, direction)
    head = {"title": f"{zh} {node.name}", "description": en + (f"; {node.note}"
                                                               if node.note else "")}
    if node.many:
        array: dict[str, Any] = {**head, "type": "array", "items": row}
        if node.min_items:
            array["minItems"] = node.min_items
        return array
    return {**head, **row}
