"""The hospital's own item table (收费项目字典) and diagnosis table, loaded from a catalogue file.

A catalogue file (docs/generator.md, "The catalogue") holds the national items, the diagnoses and
one mapping record (对码) per institution and item. The reference HIS keeps the mapping records
of its own institution: its item code (``medins_list_codg``), its name for it, its price
(``hosp_pric``, yuan) and the national code it is mapped to. It uses
``intended_med_list_codg`` — the correct mapping — because a reference HIS does not carry the
wrong or missing mappings the generator plants for other HIS to trip over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from mock_insurer.money import MoneyParseError, parse_decimal
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
        """Build the table of ``fixmedins_code`` from catalogue records (any order)."""
        national: dict[str, Mapping[str, Any]] = {}
        diagnoses: dict[str, str] = {}
        mappings: list[tuple[int, Mapping[str, Any]]] = []
        for number, record in enumerate(records, start=1):
            kind = record.get("kind")
            if kind == "item":
                national[str(record.get("med_list_codg"))] = record
            elif kind == "diagnosis":
                diagnoses[str(record.get("diag_code"))] = str(record.get("diag_name", ""))
            elif kind == "mapping" and record.get("fixmedins_code") == fixmedins_code:
                mappings.append((number, record))
        items: dict[str, HospitalItem] = {}
        for number, record in mappings:
            where = f"{source}: record {number}"
            code = record.get("medins_list_codg")
            target = record.get("intended_med_list_codg") or record.get("med_list_codg")
            if not isinstance(code, str) or not code:
                raise CatalogueFileError(f"{where}: medins_list_codg is missing")
            if not isinstance(target, str) or not target:
                continue  # an item the hospital never mapped: not chargeable to insurance
            try:
                price = parse_decimal(record.get("hosp_pric"))
            except MoneyParseError as exc:
                raise CatalogueFileError(f"{where}: hosp_pric: {exc}") from exc
            item = national.get(target, {})
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

    @classmethod
    def load(cls, path: str | Path, fixmedins_code: str) -> ItemTable:
        """Read a catalogue JSONL file (``cardsettle generate catalogue``)."""
        return cls.from_records(_read_jsonl(Path(path)), fixmedins_code, source=str(path))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise CatalogueFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise CatalogueFileError(f"{path}: line {number} is not JSON ({exc})") from exc
        if not isinstance(record, dict):
            raise CatalogueFileError(f"{path}: line {number} is not a JSON object")
        records.append(record)
    return records


def institutions_in(path: str | Path) -> list[str]:
    """The institutions that have mapping records in a catalogue file, in order of first
    appearance."""
    seen: dict[str, None] = {}
    for record in _read_jsonl(Path(path)):
        if record.get("kind") == "mapping" and isinstance(record.get("fixmedins_code"), str):
            seen.setdefault(record["fixmedins_code"], None)
    return list(seen)
