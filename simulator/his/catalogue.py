"""The hospital's own item table (收费项目字典) and diagnosis table, loaded from a catalogue file.

A catalogue file (docs/generator.md, "The catalogue") holds the national items, the diagnoses and
one mapping record (对码) per institution and item. The reference HIS keeps the mapping records
of its own institution: its item code (``medins_list_codg``), its name for it, its price
(``hosp_pric``, yuan) and the national code it is mapped to. It uses
``intended_med_list_codg`` — the correct mapping — because a reference HIS does not carry the
wrong or missing mappings the generator plants for other HIS to trip over.

A file is refused whole, naming its line and field, when a record is of no known ``kind`` or
gives a price that is not yuan of at most two places from 0 to
:data:`mock_insurer.money.MAX_MONEY` (any institution's), or when one of the institution's
mappings repeats an item code or maps to no item of the file.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from mock_insurer.money import MoneyParseError, parse_amount
from simulator.his.errors import CatalogueFileError

__all__ = ["HospitalItem", "ItemTable", "institutions_in"]


@dataclass(frozen=True, slots=True)
class HospitalItem:
    """One chargeable item as the hospital knows it. ``price`` is yuan per ``unit``."""

    code: str
    name: str
    national_code: str
    price: Decimal
    national_name: str = ""
    unit: str = ""
    chrgitm_lv: str = ""
    list_type: str = ""


@dataclass(frozen=True, slots=True)
class ItemTable:
    """The items of one institution by hospital code, and diagnosis names by code."""

    fixmedins_code: str
    items: Mapping[str, HospitalItem]
    diagnoses: Mapping[str, str]

    def get(self, code: str) -> HospitalItem | None:
        return self.items.get(code)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], fixmedins_code: str,
                     *, source: str = "catalogue") -> ItemTable:
        """Build the table of ``fixmedins_code`` from catalogue records (any order); a record
        refused is named ``SOURCE: record N``."""
        return cls._build(((f"{source}: record {number}", number, record)
                           for number, record in enumerate(records, start=1)),
                          fixmedins_code, source, unit="record")

    @classmethod
    def load(cls, path: str | Path, fixmedins_code: str) -> ItemTable:
        """Read a catalogue JSONL file (``cardsettle generate catalogue``); a record refused is
        named ``FILE:LINE``."""
        path = Path(path)
        return cls._build(((f"{path}:{number}", number, record)
                           for number, record in _read_jsonl(path)), fixmedins_code, str(path),
                          unit="line")

    @classmethod
    def _build(cls, records: Iterable[tuple[str, int, Mapping[str, Any]]], fixmedins_code: str,
               source: str, *, unit: str) -> ItemTable:
        """The table from (where, number, record) triples, ``number`` counting ``unit``s (a
        line of a file, a record of a list). Every record is checked, not only the
        institution's: its ``kind``, and every price (``pric``, ``pric_uplmt_amt``,
        ``hosp_pric``) must be yuan of at most two places from 0 to
        :data:`mock_insurer.money.MAX_MONEY`, as the insurer's load checks them — a price the
        HIS could not multiply would otherwise fail a charge half-way. The institution's
        mappings name each item code once and map to an item of the file."""
        national: dict[str, Mapping[str, Any]] = {}
        diagnoses: dict[str, str] = {}
        mappings: list[tuple[str, int, Mapping[str, Any]]] = []
        for at, number, record in records:
            kind = record.get("kind")
            if kind == "item":
                for field in ("pric", "pric_uplmt_amt"):
                    if field in record:
                        _price(record, field, at)
                national[str(record.get("med_list_codg"))] = record
            elif kind == "diagnosis":
                diagnoses[str(record.get("diag_code"))] = str(record.get("diag_name", ""))
            elif kind == "mapping":
                if "hosp_pric" in record:
                    _price(record, "hosp_pric", at)
                if record.get("fixmedins_code") == fixmedins_code:
                    mappings.append((at, number, record))
            else:
                raise CatalogueFileError(f"{at}: kind: must be item, diagnosis or mapping "
                                         f"(got {_shown(kind)})")
        items: dict[str, HospitalItem] = {}
        first: dict[str, int] = {}
        for at, number, record in mappings:
            code = record.get("medins_list_codg")
            if not isinstance(code, str) or not code:
                raise CatalogueFileError(f"{at}: medins_list_codg: must be a non-empty text "
                                         f"(got {_shown(code)})")
            if first.setdefault(code, number) != number:
                raise CatalogueFileError(f"{at}: duplicate medins_list_codg {code!r} of "
                                         f"{fixmedins_code} (first on {unit} {first[code]})")
            field = ("intended_med_list_codg" if record.get("intended_med_list_codg")
                     else "med_list_codg")
            target = record.get(field)
            if not isinstance(target, str) or not target:
                continue  # an item the hospital never mapped: not chargeable to insurance
            if target not in national:
                raise CatalogueFileError(f"{at}: {field}: no catalogue item {_shown(target)} "
                                         "in the file (kind 'item', med_list_codg)")
            price = _price(record, "hosp_pric", at)
            item = national[target]
            items[code] = HospitalItem(
                code=code, name=str(record.get("medins_list_name") or code),
                national_code=target, price=price,
                national_name=str(item.get("med_list_name", "")), unit=str(item.get("unit", "")),
                chrgitm_lv=str(item.get("chrgitm_lv", "")),
                list_type=str(item.get("list_type", "")))
        if not items:
            raise CatalogueFileError(f"{source}: no item mapping for institution "
                                     f"{fixmedins_code} (kind 'mapping', fixmedins_code)")
        return cls(fixmedins_code, items, diagnoses)


def _price(record: Mapping[str, Any], field: str, at: str) -> Decimal:
    """``record[field]``: a price in yuan as the insurer's load accepts one."""
    try:
        return parse_amount(record.get(field))
    except MoneyParseError as exc:
        raise CatalogueFileError(f"{at}: {field}: {exc}") from exc


def _shown(value: Any) -> str:
    text = "null" if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) of every non-blank line."""
    try:
        lines = path.read_bytes().removeprefix(codecs.BOM_UTF8).splitlines()  # Windows editors
    except OSError as exc:
        raise CatalogueFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise CatalogueFileError(f"{path}:{number}: not valid JSON ({exc})") from exc
        if not isinstance(record, dict):
            raise CatalogueFileError(f"{path}:{number}: expected a JSON object")
        records.append((number, record))
    return records


def institutions_in(path: str | Path) -> list[str]:
    """The institutions that have mapping records in a catalogue file, in order of first
    appearance."""
    seen: dict[str, None] = {}
    for _number, record in _read_jsonl(Path(path)):
        if record.get("kind") == "mapping" and isinstance(record.get("fixmedins_code"), str):
            seen.setdefault(record["fixmedins_code"], None)
    return list(seen)
