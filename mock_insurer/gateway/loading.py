"""Loading the generator's JSONL files (persons, institutions, catalogue) into the ledger.

The record formats are those of ``simulator/schemas`` (docs/generator.md). A line that does not
parse, lacks a field or holds a value the insurer could not use later (a date that is not a real
``YYYY-MM-DD`` day, a code of the wrong shape, a flag that is not true/false, an amount that is
not money of at most two places up to :data:`MAX_MONEY`) is refused with the file, line number
and field; so is a record that disagrees with the file (a key another line holds already —
``FILE:LINE: duplicate psn_no … (first on line N)`` — a person born after being insured, a
mapping of an institution or an item that is not there; :mod:`.person_records` for a person's).
The shapes checked are those the generator writes, a little looser where the tests' hand-made
files need it (any letters and digits for a person's, card's or token's number).

Nothing is written before the file is read to its end: institutions and the catalogue are read
whole, then written; a population is written in batches inside one transaction, so a refusal
rolls back what the batches wrote. :func:`check_data_files` reads the files without writing,
which the insurer does before it touches the ledger at all.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from mock_insurer.gateway.datafields import (
    MAX_MONEY,
    DataFileError,
    Shape,
    UniqueKeys,
    choice,
    code,
    flag,
    money,
    need,
    shown,
    text,
    whole,
)
from mock_insurer.gateway.person_records import (
    ADMDVS,
    PERSON_TABLES,
    Batch,
    enrolment_ids,
    new_batch,
    person_rows,
)
from mock_insurer.ledger import Ledger, dump_json, load_json
from mock_insurer.policy import CatalogueEntry, CatalogueRecordError
from mock_insurer.policy.codes import INSTITUTION_TIERS

__all__ = ["MAX_MONEY", "DataFileError", "check_data_files", "enrolment_ids", "load_catalogue",
           "load_institutions", "load_population"]

BATCH = 5000


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        for number, line in _lines(handle, path):
            if not line.strip():
                continue
            try:
                record = load_json(line)
            except ValueError as exc:
                raise DataFileError(f"{path}:{number}: not valid JSON ({exc})") from exc
            if not isinstance(record, dict):
                raise DataFileError(f"{path}:{number}: expected a JSON object")
            yield number, record


def _lines(handle: Any, path: Path) -> Iterator[tuple[int, bytes]]:
    """The numbered lines of an open file; a read that fails is the file's error."""
    number = 0
    while True:
        try:
            line = handle.readline()
        except OSError as exc:
            raise DataFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        if not line:
            return
        number += 1
        if number == 1 and line.startswith(codecs.BOM_UTF8):  # what Windows editors write
            line = line[len(codecs.BOM_UTF8):]
        yield number, line


def check_data_files(*, population: Path | None = None, catalogue: Path | None = None,
                     institutions: Path | None = None) -> None:
    """Read each given file as its load would and write nothing: whatever the load would
    refuse is refused here (file, line and field named). The catalogue's mappings are checked
    against ``institutions`` when it is given (otherwise their load checks them against the
    institutions the ledger holds then). The insurer calls this before it opens the ledger, so
    a refused file leaves the ledger as it was (a ``--fresh`` start drops nothing)."""
    known = None
    if institutions is not None:
        known = ({row["fixmedins_code"] for _number, row in _read_institutions(institutions)},
                 f"the institutions file {institutions}")
    if catalogue is not None:
        _read_catalogue(catalogue, known)
    if population is not None:
        for _batch in _read_population(population):
            pass


# -- institutions ------------------------------------------------------------------------------

_FIXMEDINS: Shape = (re.compile(r"H[0-9]{11}"), "H and 11 digits, like H11010500003")


def load_institutions(ledger: Ledger, path: Path) -> int:
    rows = [row for _number, row in _read_institutions(path)]
    with ledger.write() as tx:
        tx.delete_all(["institutions"])
        _insert(tx, "institutions", rows, path)
    return len(rows)


def _read_institutions(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line, ledger row) of every institution of the file; refused: a bad record, a
    ``fixmedins_code`` twice, no institution at all."""
    keys = UniqueKeys(path)
    rows = []
    for number, rec in _records(path):
        row = _institution_row(rec, f"{path}:{number}")
        keys.claim(number, "fixmedins_code", row["fixmedins_code"])
        rows.append((number, row))
    if not rows:
        raise DataFileError(f"{path}: no institutions in the file")
    return rows


def _institution_row(rec: dict[str, Any], where: str) -> dict[str, Any]:
    credentials = rec.get("credentials") or {}
    if not isinstance(credentials, dict):
        raise DataFileError(f"{where}: credentials: must be an object (got "
                            f"{shown(credentials)})")
    for key, value in credentials.items():
        if not isinstance(value, str) or not value:
            raise DataFileError(f"{where}: credentials.{key}: must be a non-empty text "
                                f"(got {shown(value)})")
    tier = need(rec, "tier", where)
    if isinstance(tier, int) and not isinstance(tier, bool):
        tier = str(tier)  # "tier": 3 is the tier "3"
    if tier not in INSTITUTION_TIERS:
        raise DataFileError(f"{where}: tier: must be community, 1, 2 or 3 (got {shown(tier)})")
    return {
        "fixmedins_code": code(rec, "fixmedins_code", _FIXMEDINS, where),
        "fixmedins_name": text(rec, "fixmedins_name", where, longest=200),
        "tier": tier, "admdvs": code(rec, "admdvs", ADMDVS, where),
        "credentials": dump_json(credentials),
        "blacklisted": flag(rec, "blacklisted", where),
    }


# -- population --------------------------------------------------------------------------------

def load_population(ledger: Ledger, path: Path) -> int:
    """Replace the persons, cards, e-certificate tokens, accounts, year-to-date counters and
    enrolments (a record's optional ``enrolments``: payer ids such as ``["veterans"]``)."""
    count = 0
    with ledger.write() as tx:  # one transaction: a bad line leaves the old population
        tx.delete_all(["cum_entries", "cum", "account_entries", "accounts", "ec_tokens",
                       "cards", "enrolments", "persons"])
        for batch in _read_population(path):
            count += len(batch["persons"])
            _flush(tx, batch, path)
    return count


def _read_population(path: Path, size: int = BATCH) -> Iterator[Batch]:
    """The ledger rows of the file's persons, ``size`` persons at a time; refused: a bad
    record, a key another person holds, no person at all (after the last batch)."""
    keys = UniqueKeys(path)
    batch = new_batch()
    persons = 0
    for number, rec in _records(path):
        where = f"{path}:{number}"
        try:
            person_rows(rec, where, number, keys, batch)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise DataFileError(f"{where}: malformed person record ({exc!r})") from exc
        persons += 1
        if len(batch["persons"]) >= size:
            yield batch
            batch = new_batch()
    if persons == 0:
        raise DataFileError(f"{path}: no persons in the file")
    yield batch


def _insert(tx: Any, table: str, rows: list[dict[str, Any]], path: Path) -> None:
    try:
        tx.insert_many(table, rows)
    except IntegrityError as exc:  # the readers refuse what they know of first
        raise DataFileError(f"{path}: duplicate or inconsistent {table} records "
                            f"({exc.orig})") from exc


def _flush(tx: Any, batch: Batch, path: Path) -> None:
    for table in PERSON_TABLES:
        _insert(tx, table, batch[table], path)
        batch[table].clear()


# -- catalogue ---------------------------------------------------------------------------------

_MED_LIST: Shape = (re.compile(r"[0-9A-Z]{1,50}"), "1 to 50 capital letters or digits")
_DIAG: Shape = (re.compile(r"[A-Z][0-9A-Za-z.]{1,19}"), "a diagnosis code like J06.900")
_MAPPINGS = ("ok", "unmapped", "wrong")
_KINDS = ("item", "diagnosis", "mapping")


def load_catalogue(ledger: Ledger, path: Path) -> dict[str, int]:
    """Replace catalogue items, diagnoses and the institutions' filed mappings (对码); the
    mappings must be of institutions the ledger holds.

    The filed mapping of a hospital item is its *intended* national code: the insurer holds
    what the hospital filed, and a HIS whose own table maps the item wrongly is refused."""
    with ledger.read() as tx:
        held = {institution.fixmedins_code for institution in tx.institutions()}
    rows = _read_catalogue(path, (held, "the institutions the insurer holds"))
    with ledger.write() as tx:
        tx.delete_all(["catalogue_items", "diagnoses", "mappings"])
        _insert(tx, "catalogue_items", rows["item"], path)
        _insert(tx, "diagnoses", rows["diagnosis"], path)
        _insert(tx, "mappings", rows["mapping"], path)
    return {"items": len(rows["item"]), "diagnoses": len(rows["diagnosis"]),
            "mappings": len(rows["mapping"])}


def _read_catalogue(path: Path, institutions: tuple[Collection[str], str] | None
                    ) -> dict[str, list[dict[str, Any]]]:
    """The ledger rows of each kind of the file. Refused besides a bad record: a
    ``med_list_codg``, ``diag_code`` or an institution's ``medins_list_codg`` twice; a mapping
    of an institution not in ``institutions`` (the codes, and where they are from; ``None``:
    not checked) or to a national code no item of the file has; no item at all."""
    keys = UniqueKeys(path)
    rows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _KINDS}
    filed: list[tuple[int, str, str]] = []  # (line, field, national code) of the mappings
    for number, rec in _records(path):
        where = f"{path}:{number}"
        kind = rec.get("kind")
        if kind == "item":
            row = _item_row(rec, where)
            keys.claim(number, "med_list_codg", row["med_list_codg"])
        elif kind == "diagnosis":
            row = {"diag_code": code(rec, "diag_code", _DIAG, where),
                   "diag_name": text(rec, "diag_name", where)}
            keys.claim(number, "diag_code", row["diag_code"])
        elif kind == "mapping":
            row, national = _mapping_row(rec, where)
            institution, own = row["fixmedins_code"], row["medins_list_codg"]
            if institutions is not None and institution not in institutions[0]:
                raise DataFileError(f"{where}: fixmedins_code: no institution {institution} "
                                    f"in {institutions[1]}")
            keys.claim(number, "medins_list_codg", (institution, own),
                       f"{shown(own)} of {institution}")
            filed.extend((number, field, value) for field, value in national)
        else:
            raise DataFileError(f"{where}: kind: must be item, diagnosis or mapping "
                                f"(got {shown(kind)})")
        rows[kind].append(row)
    if not rows["item"]:
        raise DataFileError(f"{path}: no catalogue items in the file")
    items = {row["med_list_codg"] for row in rows["item"]}
    for number, field, value in filed:
        if value not in items:
            raise DataFileError(f"{path}:{number}: {field}: no catalogue item {value} in the "
                                "file (a mapping is to a national code of an item record)")
    return rows


_ITEM_FLAGS = ("lmt_used_flag", "bas_medn_flag", "hi_nego_drug_flag", "chld_medc_flag",
               "list_sp_item_flag")


def _item_row(rec: dict[str, Any], where: str) -> dict[str, Any]:
    """A catalogue item: its code, name, prices, flags and limits, then what the policy engine
    reads (:meth:`CatalogueEntry.from_record`)."""
    item_code = code(rec, "med_list_codg", _MED_LIST, where)
    name = text(rec, "med_list_name", where)
    for field in ("pric", "pric_uplmt_amt"):
        money(need(rec, field, where), where, field)
    for item_flag in _ITEM_FLAGS:
        choice(rec, item_flag, ("0", "1"), where, default="0")
    for limit, low in (("max_cnt_per_rx", 1), ("max_days_per_rx", 1), ("age_min", 0),
                       ("age_max", 0)):
        if rec.get(limit) is not None:
            whole(rec[limit], where, limit, low, 999999 if limit.startswith("max") else 150)
    try:
        CatalogueEntry.from_record(rec)
    except CatalogueRecordError as exc:
        raise DataFileError(f"{where}: {exc}") from exc
    return {"med_list_codg": item_code, "med_list_name": name, "record": dump_json(rec)}


def _mapping_row(rec: dict[str, Any], where: str
                 ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """An institution's filed mapping: its own code and the national code it filed (the
    intended one when the record gives both); and (field, code) of every national code the
    record names, each of which must be a catalogue item."""
    row: dict[str, Any] = {
        "fixmedins_code": code(rec, "fixmedins_code", _FIXMEDINS, where),
        "medins_list_codg": text(rec, "medins_list_codg", where, longest=150)}
    if rec.get("mapping") is not None:
        choice(rec, "mapping", _MAPPINGS, where)
    if "hosp_pric" in rec:
        money(rec["hosp_pric"], where, "hosp_pric")
    national = [(field, code(rec, field, _MED_LIST, where))
                for field in ("intended_med_list_codg", "med_list_codg") if rec.get(field)]
    row["med_list_codg"] = national[0][1] if national else None
    return row, national
