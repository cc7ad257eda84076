"""Loading the generator's JSONL files (persons, institutions, catalogue) into the ledger.

The record formats are those of ``simulator/schemas`` (docs/generator.md). A line that does not
parse or lacks a field is refused with the file, line number and field — before anything is
written (the whole load is one transaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from mock_insurer.errors import InsurerError
from mock_insurer.ledger import Ledger, dump_json, load_json
from mock_insurer.money import MoneyParseError, parse_decimal
from mock_insurer.policy.payers import PAYER_COUNTERS

__all__ = ["DataFileError", "enrolment_ids", "load_catalogue", "load_institutions",
           "load_population"]

BATCH = 5000


class DataFileError(InsurerError):
    """A data file given to the insurer cannot be loaded (file, line and field named)."""


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = load_json(line)
            except ValueError as exc:
                raise DataFileError(f"{path}:{number}: not valid JSON ({exc})") from exc
            if not isinstance(record, dict):
                raise DataFileError(f"{path}:{number}: expected a JSON object")
            yield number, record


def _need(record: dict[str, Any], key: str, where: str) -> Any:
    if key not in record or record[key] is None:
        raise DataFileError(f"{where}: missing field {key!r}")
    return record[key]


def load_institutions(ledger: Ledger, path: Path) -> int:
    rows = []
    for number, rec in _records(path):
        where = f"{path}:{number}"
        if not isinstance(rec.get("credentials") or {}, dict):
            raise DataFileError(f"{where}: credentials must be an object")
        tier = str(_need(rec, "tier", where))
        if tier not in ("community", "1", "2", "3"):
            raise DataFileError(f"{where}: tier must be community, 1, 2 or 3 (got {tier!r})")
        rows.append({
            "fixmedins_code": str(_need(rec, "fixmedins_code", where)),
            "fixmedins_name": str(_need(rec, "fixmedins_name", where)),
            "tier": tier, "admdvs": str(_need(rec, "admdvs", where)),
            "credentials": dump_json(rec.get("credentials") or {}),
            "blacklisted": bool(rec.get("blacklisted", False)),
        })
    if not rows:
        raise DataFileError(f"{path}: no institutions in the file")
    with ledger.write() as tx:
        tx.delete_all(["institutions"])
        _insert(tx, "institutions", rows, path)
    return len(rows)


def load_population(ledger: Ledger, path: Path) -> int:
    """Replace the persons, cards, e-certificate tokens, accounts, year-to-date counters and
    enrolments (a record's optional ``enrolments``: payer ids such as ``["veterans"]``)."""
    count = 0
    with ledger.write() as tx:  # one transaction: a bad line leaves the old population
        tx.delete_all(["cum_entries", "cum", "account_entries", "accounts", "ec_tokens",
                       "cards", "enrolments", "persons"])
        batch: dict[str, list[dict[str, Any]]] = {k: [] for k in _PERSON_TABLES}
        for number, rec in _records(path):
            where = f"{path}:{number}"
            try:
                _person_rows(rec, where, batch)
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise DataFileError(f"{where}: malformed person record ({exc!r})") from exc
            count += 1
            if len(batch["persons"]) >= BATCH:
                _flush(tx, batch, path)
        _flush(tx, batch, path)
        if count == 0:
            raise DataFileError(f"{path}: no persons in the file")
    return count


def _insert(tx: Any, table: str, rows: list[dict[str, Any]], path: Path) -> None:
    try:
        tx.insert_many(table, rows)
    except IntegrityError as exc:
        raise DataFileError(f"{path}: duplicate or inconsistent {table} records "
                            f"({exc.orig})") from exc


def _flush(tx: Any, batch: dict[str, list[dict[str, Any]]], path: Path) -> None:
    for table in _PERSON_TABLES:
        try:
            tx.insert_many(table, batch[table])
        except IntegrityError as exc:
            raise DataFileError(f"{path}: duplicate or inconsistent {table} records "
                                f"({exc.orig})") from exc
        batch[table].clear()


_PERSON_TABLES = ("persons", "cards", "ec_tokens", "accounts", "cum", "enrolments")


def enrolment_ids(value: Any, where: str) -> list[str]:
    """A person's ``enrolments`` (a list of known payer ids, possibly empty), or why not."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataFileError(f"{where}: enrolments must be a list of payer ids such as "
                            f"[\"veterans\"]")
    for payer in value:
        if payer not in PAYER_COUNTERS:
            raise DataFileError(f"{where}: enrolments: unknown payer {payer[:40]!r} (known: "
                                f"{', '.join(PAYER_COUNTERS)})")
    return sorted(set(value))


def _person_rows(rec: dict[str, Any], where: str, batch: dict[str, list[dict[str, Any]]]) -> None:
    psn_no = str(_need(rec, "psn_no", where))
    insuinfo = _need(rec, "insuinfo", where)
    if not isinstance(insuinfo, list) or not insuinfo:
        raise DataFileError(f"{where}: insuinfo must be a non-empty list")
    try:
        balc = parse_decimal(rec.get("balc", "0"))
    except MoneyParseError as exc:
        raise DataFileError(f"{where}: balc: {exc}") from exc
    if balc < 0:
        raise DataFileError(f"{where}: balc must not be negative")
    batch["persons"].append({
        "psn_no": psn_no, "psn_cert_type": str(rec.get("psn_cert_type") or "01"),
        "certno": str(_need(rec, "certno", where)), "psn_name": str(_need(rec, "psn_name", where)),
        "gend": str(_need(rec, "gend", where)), "brdy": str(_need(rec, "brdy", where)),
        "naty": str(rec.get("naty") or "01"),
        "insuplc_admdvs": str(_need(rec, "insuplc_admdvs", where)),
        "insuinfo": dump_json(insuinfo), "maf_eligible": bool(rec.get("maf_eligible", False)),
        "deceased": bool(rec.get("deceased", False)),
        "blacklisted": bool(rec.get("blacklisted", False)),
    })
    batch["accounts"].append({"psn_no": psn_no, "balc": balc})
    for card in rec.get("cards") or []:
        batch["cards"].append({"card_no": str(_need(card, "card_no", where + " cards")),
                               "card_sn": str(_need(card, "card_sn", where + " cards")),
                               "psn_no": psn_no, "status": str(card.get("status", "active"))})
    for payer in enrolment_ids(rec.get("enrolments") or [], where):
        batch["enrolments"].append({"psn_no": psn_no, "payer": payer})
    if rec.get("ec_token"):
        batch["ec_tokens"].append({"ec_token": str(rec["ec_token"]), "psn_no": psn_no})
    for row in rec.get("cum") or []:
        for name in ("dedc_used", "hifp_paid"):
            try:
                value = parse_decimal(row.get(name, "0"))
            except MoneyParseError as exc:
                raise DataFileError(f"{where}: cum.{name}: {exc}") from exc
            if value:
                batch["cum"].append({"psn_no": psn_no, "year": int(row["year"]),
                                     "insutype": str(row["insutype"]), "name": name,
                                     "value": value})


def load_catalogue(ledger: Ledger, path: Path) -> dict[str, int]:
    """Replace catalogue items, diagnoses and the institutions' filed mappings (对码).

    The filed mapping of a hospital item is its *intended* national code: the insurer holds
    what the hospital filed, and a HIS whose own table maps the item wrongly is refused."""
    items, diagnoses, mappings = [], [], []
    for number, rec in _records(path):
        where = f"{path}:{number}"
        kind = rec.get("kind")
        if kind == "item":
            items.append({"med_list_codg": str(_need(rec, "med_list_codg", where)),
                          "med_list_name": str(_need(rec, "med_list_name", where)),
                          "record": dump_json(rec)})
        elif kind == "diagnosis":
            diagnoses.append({"diag_code": str(_need(rec, "diag_code", where)),
                              "diag_name": str(_need(rec, "diag_name", where))})
        elif kind == "mapping":
            filed = rec.get("intended_med_list_codg") or rec.get("med_list_codg")
            mappings.append({"fixmedins_code": str(_need(rec, "fixmedins_code", where)),
                             "medins_list_codg": str(_need(rec, "medins_list_codg", where)),
                             "med_list_codg": filed})
        else:
            raise DataFileError(f"{where}: kind must be item, diagnosis or mapping "
                                f"(got {kind!r})")
    if not items:
        raise DataFileError(f"{path}: no catalogue items in the file")
    with ledger.write() as tx:
        tx.delete_all(["catalogue_items", "diagnoses", "mappings"])
        _insert(tx, "catalogue_items", items, path)
        _insert(tx, "diagnoses", diagnoses, path)
        _insert(tx, "mappings", mappings, path)
    return {"items": len(items), "diagnoses": len(diagnoses), "mappings": len(mappings)}
