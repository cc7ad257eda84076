"""Writes the JSON Schema files of this package from :mod:`mock_insurer.schemas.catalog`
and the envelope constants of :mod:`mock_insurer.wire.request`.

The files are kept in the repository (they are served under ``/schemas/`` and read by people
and by other languages); a test fails when they differ from what this module renders. After
changing the catalogue, regenerate::

    python -m mock_insurer.schemas.generate          # rewrite the files
    python -m mock_insurer.schemas.generate --check  # exit 1 when a file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mock_insurer.schemas.catalog import TRANSACTIONS
from mock_insurer.schemas.codes import CODE_TABLES
from mock_insurer.schemas.model import DATETIME_PATTERN, Transaction, render_node
from mock_insurer.wire.labels import FIELD_LABELS
from mock_insurer.wire.request import FIELD_MAX_LEN, INPUT_MAX_CHARS, REQUIRED_FIELDS
from mock_insurer.wire.texts import ERR_MSG_MAX

__all__ = ["SCHEMA_DIALECT", "documents", "main", "render", "schema_id", "write"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
HERE = Path(__file__).resolve().parent
_SPEC = ("Source: the national interface (医疗保障信息平台定点医药机构接口规范), as restated in "
         "shared/reference/nhsa-interface-facts.md")


def schema_id(name: str) -> str:
    """The ``$id`` of schema *name* (``"2207.input"`` → ``urn:cardsettle:schema:2207.input``)."""
    return f"urn:cardsettle:schema:{name}"


def _transaction_doc(tx: Transaction, direction: str) -> dict[str, Any]:
    way = "input" if direction == "in" else "output"
    name = f"{tx.infno}.{way}"
    nodes = tx.inputs if direction == "in" else tx.outputs
    notes = [tx.note] if tx.note and direction == "in" else []
    if direction == "out" and tx.output_note:
        notes.append(tx.output_note)
    if direction == "in":
        rule = ("On the way in, amounts may be JSON numbers or numeric strings, optional "
                "fields may be empty (\"\" or null), and unknown properties are ignored.")
    else:
        rule = ("What the mock answers: every amount is a JSON number, optional fields are "
                "null or absent, and no other property appears.")
    doc: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": schema_id(name),
        "title": f"{tx.infno} {tx.name_zh} {way} / {tx.name_en} — {way}",
        "description": " ".join([f"【{tx.infno}】{tx.name_zh}交易{'输入' if way == 'input' else '输出'}"
                                 f" ({tx.name_en}, the `{way}` of the envelope).", rule, *notes,
                                 f"{_SPEC} §3 ({tx.sources})."]),
        "type": "object",
    }
    properties: dict[str, Any] = {}
    required: list[str] = []
    for node in nodes:
        rendered = render_node(node, "in" if direction == "in" else "out")
        if node.flat:
            properties.update(rendered["properties"])
            required.extend(rendered.get("required", []))
        else:
            properties[node.name] = rendered
            if node.required:
                required.append(node.name)
    if properties:
        doc["properties"] = properties
    if required:
        doc["required"] = required
    if direction == "out":
        if not nodes:
            doc["maxProperties"] = 0
        doc["additionalProperties"] = False
    return doc


def _text(name: str, length: int, *, required: bool) -> dict[str, Any]:
    zh, en = FIELD_LABELS[name]
    schema: dict[str, Any] = {"title": f"{zh} {name}",
                              "description": f"{en}; char {length}; "
                                             f"{'required (必填)' if required else 'optional'}"}
    if required:
        schema.update({"type": "string", "minLength": 1, "maxLength": length})
    else:
        schema.update({"type": ["string", "null"], "maxLength": length})
    return schema


def _envelope_request() -> dict[str, Any]:
    props: dict[str, Any] = {
        "infno": {**_text("infno", 6, required=True), "pattern": CODE_TABLES["infno"].pattern},
        "msgid": {**_text("msgid", 30, required=True), "pattern": "^[0-9A-Za-z]{30}$",
                  "description": "sender's message id; char 30 = fixmedins_code(12) + "
                                 "yyyyMMddHHmmss(14) + 4-digit sequence; required (必填)"},
        "inf_time": {**_text("inf_time", 19, required=True), "pattern": DATETIME_PATTERN},
    }
    for name, length in FIELD_MAX_LEN.items():
        props[name] = _text(name, length, required=name in REQUIRED_FIELDS)
    props["opter_type"]["enum"] = list(CODE_TABLES["opter_type"].values)
    props["mdtrtarea_admvs"]["pattern"] = CODE_TABLES["admdvs"].pattern
    props["insuplc_admdvs"] = {
        **props["insuplc_admdvs"],
        "anyOf": [{"type": "string", "pattern": CODE_TABLES["admdvs"].pattern},
                  {"const": ""}, {"const": "null"}, {"type": "null"}],
        "description": "insurance area code where insured; char 6; required when the input "
                       "carries psn_no (from 1101 insuinfo.insuplc_admdvs)",
    }
    props["input"] = {
        "title": "交易输入 input",
        "description": "transaction input: an object with named nodes (data, feedetail, "
                       "signIn …), or a JSON string of one (both occur); the schema of each "
                       f"transaction's input is <infno>.input; at most {INPUT_MAX_CHARS} "
                       "characters",
        "type": ["object", "string"],
    }
    ordered = {key: props[key] for key in REQUIRED_FIELDS + tuple(
        k for k in props if k not in REQUIRED_FIELDS)}
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": schema_id("envelope.request"),
        "title": "请求报文 / Request envelope",
        "description": "交易请求报文 (the JSON body of POST /fsi/api/rsfComIfsService/callService). "
                       "Unknown extra fields are ignored. Empty values arrive as \"\", null, "
                       f"omitted or \"null\" (see docs/wire.md). {_SPEC} §2.1.",
        "type": "object",
        "properties": ordered,
        "required": list(REQUIRED_FIELDS),
    }


def _envelope_answer() -> dict[str, Any]:
    def answer_text(name: str, length: int, pattern: str = "") -> dict[str, Any]:
        schema = _text(name, length, required=True)
        if pattern:
            schema["pattern"] = pattern
        return schema

    return {
        "$schema": SCHEMA_DIALECT,
        "$id": schema_id("envelope.answer"),
        "title": "应答报文 / Answer envelope",
        "description": "交易应答报文, as the mock answers it: infcode 0 (success) or -1 "
                       "(failure), as a number (or, when so configured, as the strings \"0\" / "
                       "\"-1\"); err_msg and warn_msg empty on success; output {} on failure. "
                       f"{_SPEC} §2.2.",
        "type": "object",
        "properties": {
            "infcode": {"title": "交易状态码 infcode",
                        "description": "0 成功 (success); -1 失败 (failure)",
                        "enum": [0, -1, "0", "-1"]},
            "inf_refmsgid": answer_text("inf_refmsgid", 30, r"^\d{30}$"),
            "refmsg_time": answer_text("refmsg_time", 17, r"^\d{17}$"),
            "respond_time": answer_text("respond_time", 17, r"^\d{17}$"),
            "err_msg": {"title": "错误信息 err_msg",
                        "description": "failure text FSI-<what is wrong>[<where>]; empty on "
                                       "success; char 200", "type": "string",
                        "maxLength": ERR_MSG_MAX},
            "warn_msg": {"title": "警告信息 warn_msg", "description": "warning text",
                         "type": "string"},
            "enctype": {"title": "加密类型 enctype", "type": ["string", "null"]},
            "signtype": {"title": "签名类型 signtype", "type": ["string", "null"]},
            "cainfo": {"title": "数字签名信息 cainfo", "type": ["string", "null"]},
            "output": {"title": "交易输出 output",
                       "description": "an object with named nodes; the schema of each "
                                      "transaction's output is <infno>.output",
                       "type": "object"},
        },
        "required": ["infcode", "inf_refmsgid", "refmsg_time", "respond_time", "err_msg",
                     "warn_msg", "output"],
        "allOf": [
            {"if": {"properties": {"infcode": {"enum": [0, "0"]}}},
             "then": {"properties": {"err_msg": {"maxLength": 0}}}},
            {"if": {"properties": {"infcode": {"enum": [-1, "-1"]}}},
             "then": {"properties": {"err_msg": {"minLength": 1, "pattern": "^FSI-"},
                                     "output": {"maxProperties": 0}}}},
        ],
    }


def documents() -> dict[str, dict[str, Any]]:
    """Every schema by name (``"envelope.request"``, ``"2207.input"`` …)."""
    docs = {"envelope.request": _envelope_request(), "envelope.answer": _envelope_answer()}
    for tx in TRANSACTIONS:
        docs[f"{tx.infno}.input"] = _transaction_doc(tx, "in")
        docs[f"{tx.infno}.output"] = _transaction_doc(tx, "out")
    return docs


def render(doc: dict[str, Any]) -> str:
    """The file text of a schema (2-space indent, UTF-8, trailing newline)."""
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def write(directory: Path = HERE, *, check: bool = False) -> list[str]:
    """Write (or with *check*, only compare) every schema file; returns the names that
    differed from what was on disk."""
    stale = []
    for name, doc in documents().items():
        path = directory / f"{name}.json"
        text = render(doc)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(name)
            if not check:
                path.write_text(text, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    """Command line: write the files, or ``--check`` that they are current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--dir", type=Path, default=HERE, help="where the files are")
    args = parser.parse_args(argv)
    stale = write(args.dir, check=args.check)
    verb = "stale" if args.check else "written"
    sys.stderr.write(f"{len(stale)} schema file(s) {verb}: {', '.join(stale) or '-'}\n")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
