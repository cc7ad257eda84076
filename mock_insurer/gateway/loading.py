"""Loading the generator's JSONL files (persons, institutions, catalogue) into the ledger.

The record formats are those of ``simulator/schemas`` (docs/generator.md). A line that does not
parse, lacks a field or holds a value the insurer could not use later (a date that is not a real
``YYYY-MM-DD`` day, a code of the wrong shape, a flag that is not true/false, an amount that is
not money of at most two places up to :data:`MAX_MONEY`) is refused with the file, line number
and field — before anything is written (the whole load is one transaction). The shapes checked
are those the generator writes, a little looser where the tests' hand-made files need it (any
letters and digits for a person's, card's or token's number).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from mock_insurer.errors import InsurerError
from mock_insurer.ledger import Ledger, dump_json, load_json
from mock_insurer.money import MoneyParseError, parse_decimal, round_money
from mock_insurer.policy import CatalogueEntry, CatalogueRecordError
from mock_insurer.policy.payers import PAYER_COUNTERS

__all__ = ["MAX_MONEY", "DataFileError", "enrolment_ids", "load_catalogue",
           "load_institutions", "load_population"]

BATCH = 5000
MAX_MONEY = Decimal("999999999999.99")
"""The largest amount a data file may give (under a trillion yuan): sums of such amounts stay
far inside the ledger's 64-bit cents."""


class DataFileError(InsurerError):
    """A data file given to the insurer cannot be loaded (file, line and field named)."""


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
        yield number, line


def _need(record: dict[str, Any], key: str, where: str, name: str | None = None) -> Any:
    if key not in record or record[key] is None:
        raise DataFileError(f"{where}: missing field {name or key!r}")
    return record[key]


def load_institutions(ledger: Ledger, path: Path) -> int:
    rows = []
    for number, rec in _records(path):
        rows.append(_institution_row(rec, f"{path}:{number}"))
    if not rows:
        raise DataFileError(f"{path}: no institutions in the file")
    with ledger.write() as tx:
        tx.delete_all(["institutions"])
        _insert(tx, "institutions", rows, path)
    return len(rows)


def _institution_row(rec: dict[str, Any], where: str) -> dict[str, Any]:
    credentials = rec.get("credentials") or {}
    if not isinstance(credentials, dict):
        raise DataFileError(f"{where}: credentials must be an object")
    for key, value in credentials.items():
        if not isinstance(value, str) or not value:
            raise DataFileError(f"{where}: credentials.{key}: must be a non-empty text "
                                f"(got {_shown(value)})")
    tier = str(_need(rec, "tier", where))
    if tier not in ("community", "1", "2", "3"):
        raise DataFileError(f"{where}: tier must be community, 1, 2 or 3 (got {tier!r})")
    return {
        "fixmedins_code": _code(rec, "fixmedins_code", _FIXMEDINS, where),
        "fixmedins_name": _text(rec, "fixmedins_name", where, longest=200),
        "tier": tier, "admdvs": _code(rec, "admdvs", _ADMDVS, where),
        "credentials": dump_json(credentials),
        "blacklisted": _flag(rec, "blacklisted", where),
    }


# -- the fields' checks ------------------------------------------------------------------------

_FIXMEDINS = (re.compile(r"H[0-9]{11}"), "H and 11 digits, like H11010500003")
_ADMDVS = (re.compile(r"[0-9]{6}"), "6 digits, like 110105")
_NUMBER = (re.compile(r"[0-9A-Za-z]{1,40}"), "1 to 40 letters or digits")
_CERTNO = (re.compile(r"[0-9A-Za-z]{1,50}"), "1 to 50 letters or digits, like 11010519800101001X")
_TWO_DIGITS = (re.compile(r"[0-9]{2}"), "2 digits, like 01")
_INSUTYPE = (re.compile(r"[0-9]{3}"), "3 digits, like 310")
_PSN_TYPE = (re.compile(r"[0-9]{4}"), "4 digits, like 1101")
_ONE_DIGIT = (re.compile(r"[0-9]"), "1 digit, like 1")
_MED_LIST = (re.compile(r"[0-9A-Z]{1,50}"), "1 to 50 capital letters or digits")
_DIAG = (re.compile(r"[A-Z][0-9A-Za-z.]{1,19}"), "a diagnosis code like J06.900")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_Shape = tuple[re.Pattern[str], str]


def _shown(value: Any) -> str:
    """A value as a message quotes it (long ones cut)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(rec: dict[str, Any], key: str, where: str, *, longest: int = 200,
          name: str | None = None) -> str:
    """``rec[key]``: a non-empty text of at most ``longest`` characters."""
    value = _need(rec, key, where, name)
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise DataFileError(f"{where}: {name or key}: must be a non-empty text of at most "
                            f"{longest} characters (got {_shown(value)})")
    return value


def _code(rec: dict[str, Any], key: str, shape: _Shape, where: str, *,
          default: str | None = None, name: str | None = None) -> str:
    """``rec[key]`` (or ``default`` when absent): a text of ``shape``."""
    value = rec.get(key)
    if value is None and default is not None:
        return default
    value = _need(rec, key, where, name)
    if not isinstance(value, str) or not shape[0].fullmatch(value):
        raise DataFileError(f"{where}: {name or key}: must be {shape[1]} "
                            f"(got {_shown(value)})")
    return value


def _choice(rec: dict[str, Any], key: str, choices: tuple[str, ...], where: str, *,
            default: str | None = None, name: str | None = None) -> str:
    """``rec[key]`` (or ``default`` when absent): one of ``choices``."""
    value = rec.get(key)
    if value is None and default is not None:
        return default
    value = _need(rec, key, where, name)
    if value not in choices:
        raise DataFileError(f"{where}: {name or key}: must be one of {', '.join(choices)} "
                            f"(got {_shown(value)})")
    return str(value)


def _flag(rec: dict[str, Any], key: str, where: str) -> bool:
    """``rec[key]``: true or false (absent or null: false)."""
    value = rec.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise DataFileError(f"{where}: {key}: must be true or false (got {_shown(value)})")
    return value


def _day(rec: dict[str, Any], key: str, where: str, *, name: str | None = None,
         optional: bool = False) -> str | None:
    """``rec[key]``: a real day written ``YYYY-MM-DD`` (``None`` if ``optional`` and absent)."""
    value = rec.get(key)
    if value is None and optional:
        return None
    value = _need(rec, key, where, name)
    try:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise DataFileError(f"{where}: {name or key}: must be a real date YYYY-MM-DD "
                            f"(got {_shown(value)})") from None
    return value


def _money(value: Any, where: str, name: str) -> Decimal:
    """An amount of money: a number of at most two places from 0 to :data:`MAX_MONEY`."""
    try:
        amount = parse_decimal(value)
    except MoneyParseError as exc:
        raise DataFileError(f"{where}: {name}: {exc}") from exc
    if amount < 0:
        raise DataFileError(f"{where}: {name} must not be negative")
    if amount > MAX_MONEY or amount != round_money(amount):
        raise DataFileError(f"{where}: {name}: must be yuan with at most two places, up to "
                            f"{MAX_MONEY} (got {_shown(value)})")
    return amount


def _whole(value: Any, where: str, name: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``, given as a number or as digits."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DataFileError(f"{where}: {name}: must be a whole number from {low} to {high} "
                            f"(got {_shown(value)})")
    return value


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
    psn_no = _code(rec, "psn_no", _NUMBER, where)
    insuinfo = _need(rec, "insuinfo", where)
    if not isinstance(insuinfo, list) or not insuinfo:
        raise DataFileError(f"{where}: insuinfo must be a non-empty list")
    for index, scheme in enumerate(insuinfo):
        _check_scheme(scheme, where, f"insuinfo[{index}]")
    balc = _money(rec.get("balc", "0"), where, "balc")
    batch["persons"].append({
        "psn_no": psn_no,
        "psn_cert_type": _code(rec, "psn_cert_type", _TWO_DIGITS, where, default="01"),
        "certno": _code(rec, "certno", _CERTNO, where),
        "psn_name": _text(rec, "psn_name", where, longest=50),
        "gend": _choice(rec, "gend", ("1", "2"), where),
        "brdy": _day(rec, "brdy", where), "naty": _code(rec, "naty", _TWO_DIGITS, where,
                                                       default="01"),
        "insuplc_admdvs": _code(rec, "insuplc_admdvs", _ADMDVS, where),
        "insuinfo": dump_json(insuinfo), "maf_eligible": _flag(rec, "maf_eligible", where),
        "deceased": _flag(rec, "deceased", where),
        "blacklisted": _flag(rec, "blacklisted", where),
    })
    batch["accounts"].append({"psn_no": psn_no, "balc": balc})
    _card_rows(rec, psn_no, where, batch)
    for payer in enrolment_ids(rec.get("enrolments") or [], where):
        batch["enrolments"].append({"psn_no": psn_no, "payer": payer})
    if rec.get("ec_token"):
        token = _code(rec, "ec_token", _NUMBER, where)
        batch["ec_tokens"].append({"ec_token": token, "psn_no": psn_no})
    _counter_rows(rec, psn_no, where, batch)


def _check_scheme(scheme: Any, where: str, name: str) -> None:
    """One ``insuinfo`` row: the fields 1101 answers and the checks of a visit read."""
    if not isinstance(scheme, dict):
        raise DataFileError(f"{where}: {name}: must be an object")
    _code(scheme, "insutype", _INSUTYPE, where, name=f"{name}.insutype")
    _code(scheme, "psn_type", _PSN_TYPE, where, name=f"{name}.psn_type")
    _code(scheme, "psn_insu_stas", _ONE_DIGIT, where, name=f"{name}.psn_insu_stas")
    _day(scheme, "psn_insu_date", where, name=f"{name}.psn_insu_date")
    _day(scheme, "paus_insu_date", where, name=f"{name}.paus_insu_date", optional=True)
    _choice(scheme, "cvlserv_flag", ("0", "1"), where, default="0",
            name=f"{name}.cvlserv_flag")
    if scheme.get("emp_name") is not None:
        _text(scheme, "emp_name", where, name=f"{name}.emp_name")
    if scheme.get("insuplc_admdvs"):
        _code(scheme, "insuplc_admdvs", _ADMDVS, where, name=f"{name}.insuplc_admdvs")


def _objects(rec: dict[str, Any], key: str, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The objects of the optional list ``rec[key]``, each with its name (``cards[0]``)."""
    values = rec.get(key) or []
    if not isinstance(values, list):
        raise DataFileError(f"{where}: {key} must be a list of objects")
    for index, value in enumerate(values):
        if not isinstance(value, dict):
            raise DataFileError(f"{where}: {key}[{index}]: must be an object")
        yield f"{key}[{index}]", value


def _card_rows(rec: dict[str, Any], psn_no: str, where: str,
               batch: dict[str, list[dict[str, Any]]]) -> None:
    for name, card in _objects(rec, "cards", where):
        batch["cards"].append({
            "card_no": _code(card, "card_no", _NUMBER, where, name=f"{name}.card_no"),
            "card_sn": _code(card, "card_sn", _NUMBER, where, name=f"{name}.card_sn"),
            "psn_no": psn_no, "status": _choice(card, "status", ("active", "lost", "replaced"),
                                                where, default="active", name=f"{name}.status"),
        })


def _counter_rows(rec: dict[str, Any], psn_no: str, where: str,
                  batch: dict[str, list[dict[str, Any]]]) -> None:
    for name, row in _objects(rec, "cum", where):
        year = _whole(row.get("year"), where, f"{name}.year", 1900, 9999)
        insutype = _code(row, "insutype", _INSUTYPE, where, name=f"{name}.insutype")
        for counter in ("dedc_used", "hifp_paid"):
            value = _money(row.get(counter, "0"), where, f"{name}.{counter}")
            if value:
                batch["cum"].append({"psn_no": psn_no, "year": year, "insutype": insutype,
                                     "name": counter, "value": value})


def load_catalogue(ledger: Ledger, path: Path) -> dict[str, int]:
    """Replace catalogue items, diagnoses and the institutions' filed mappings (对码).

    The filed mapping of a hospital item is its *intended* national code: the insurer holds
    what the hospital filed, and a HIS whose own table maps the item wrongly is refused."""
    items, diagnoses, mappings = [], [], []
    for number, rec in _records(path):
        where = f"{path}:{number}"
        kind = rec.get("kind")
        if kind == "item":
            items.append(_item_row(rec, where))
        elif kind == "diagnosis":
            diagnoses.append({"diag_code": _code(rec, "diag_code", _DIAG, where),
                              "diag_name": _text(rec, "diag_name", where)})
        elif kind == "mapping":
            mappings.append(_mapping_row(rec, where))
        else:
            raise DataFileError(f"{where}: kind must be item, diagnosis or mapping "
                                f"(got {_shown(kind)})")
    if not items:
        raise DataFileError(f"{path}: no catalogue items in the file")
    with ledger.write() as tx:
        tx.delete_all(["catalogue_items", "diagnoses", "mappings"])
        _insert(tx, "catalogue_items", items, path)
        _insert(tx, "diagnoses", diagnoses, path)
        _insert(tx, "mappings", mappings, path)
    return {"items": len(items), "diagnoses": len(diagnoses), "mappings": len(mappings)}


_ITEM_FLAGS = ("lmt_used_flag", "bas_medn_flag", "hi_nego_drug_flag", "chld_medc_flag",
               "list_sp_item_flag")


def _item_row(rec: dict[str, Any], where: str) -> dict[str, Any]:
    """A catalogue item: its code, name, prices, flags and limits, then what the policy engine
    reads (:meth:`CatalogueEntry.from_record`)."""
    code = _code(rec, "med_list_codg", _MED_LIST, where)
    name = _text(rec, "med_list_name", where)
    for money in ("pric", "pric_uplmt_amt"):
        _money(_need(rec, money, where), where, money)
    for flag in _ITEM_FLAGS:
        _choice(rec, flag, ("0", "1"), where, default="0")
    for limit, low in (("max_cnt_per_rx", 1), ("max_days_per_rx", 1), ("age_min", 0),
                       ("age_max", 0)):
        if rec.get(limit) is not None:
            _whole(rec[limit], where, limit, low, 999999 if limit.startswith("max") else 150)
    try:
        CatalogueEntry.from_record(rec)
    except CatalogueRecordError as exc:
        raise DataFileError(f"{where}: {exc}") from exc
    return {"med_list_codg": code, "med_list_name": name, "record": dump_json(rec)}


def _mapping_row(rec: dict[str, Any], where: str) -> dict[str, Any]:
    """An institution's filed mapping: its own code and the national code it filed."""
    key = "intended_med_list_codg" if rec.get("intended_med_list_codg") else "med_list_codg"
    filed = None if not rec.get(key) else _code(rec, key, _MED_LIST, where)
    return {"fixmedins_code": _code(rec, "fixmedins_code", _FIXMEDINS, where),
            "medins_list_codg": _text(rec, "medins_list_codg", where, longest=150),
            "med_list_codg": filed}
