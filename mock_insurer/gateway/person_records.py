"""One person record of a population file (docs/generator.md, "The person record") as the
ledger's rows, with its checks.

Besides each field's shape (:mod:`mock_insurer.gateway.datafields`), a record must agree with
itself and with the file: a resident ID card's number (``psn_cert_type`` 01) has 18 characters;
every ``insutype`` is one of the national table (``mock_insurer/policy/codes.yaml``); the
birthday is not after the person was insured (``insuinfo[].psn_insu_date``), got a card
(``cards[].issued``) or has year-to-date counters (``cum[].year``) — the file's own dates are
the reference, not the wall clock; and ``psn_no``, ``certno``, every ``card_no`` and the
``ec_token`` belong to one person of the file only (a second person with one ID number would
answer a 1101 meant for the first).
"""

from __future__ import annotations

import re
from typing import Any

from mock_insurer.gateway.datafields import (
    DataFileError,
    Shape,
    UniqueKeys,
    choice,
    code,
    day,
    flag,
    money,
    need,
    shown,
    text,
    whole,
)
from mock_insurer.ledger import dump_json
from mock_insurer.policy.codes import INSUTYPES
from mock_insurer.policy.payers import PAYER_COUNTERS

__all__ = ["ADMDVS", "PERSON_TABLES", "Batch", "enrolment_ids", "new_batch", "person_rows"]

PERSON_TABLES = ("persons", "cards", "ec_tokens", "accounts", "cum", "enrolments")
Batch = dict[str, list[dict[str, Any]]]
"""Rows of each of :data:`PERSON_TABLES`, as many persons' as a batch holds."""

ADMDVS: Shape = (re.compile(r"[0-9]{6}"), "6 digits, like 110105")
_NUMBER: Shape = (re.compile(r"[0-9A-Za-z]{1,40}"), "1 to 40 letters or digits")
_CERTNO: Shape = (re.compile(r"[0-9A-Za-z]{1,50}"),
                  "1 to 50 letters or digits, like 11010519800101001X")
_RESIDENT_ID: Shape = (re.compile(r"[0-9]{17}[0-9X]"),
                       "a resident ID card's 18 characters: 17 digits and a digit or X, like "
                       "11010519800101001X")
_RESIDENT_ID_CARD = "01"  # psn_cert_type 居民身份证
_TWO_DIGITS: Shape = (re.compile(r"[0-9]{2}"), "2 digits, like 01")
_INSUTYPE: Shape = (re.compile(r"[0-9]{3}"), "3 digits, like 310")
_PSN_TYPE: Shape = (re.compile(r"[0-9]{4}"), "4 digits, like 1101")
_ONE_DIGIT: Shape = (re.compile(r"[0-9]"), "1 digit, like 1")
_TYPED = ("psn_name", "certno", "card_no")


def new_batch() -> Batch:
    return {table: [] for table in PERSON_TABLES}


def person_rows(rec: dict[str, Any], where: str, number: int, keys: UniqueKeys,
                batch: Batch) -> None:
    """Check the person record on line ``number`` (``where``: ``FILE:LINE``), claim its unique
    keys in ``keys`` and add its rows to ``batch``."""
    psn_no = code(rec, "psn_no", _NUMBER, where)
    cert_type = code(rec, "psn_cert_type", _TWO_DIGITS, where, default=_RESIDENT_ID_CARD)
    certno = code(rec, "certno", _RESIDENT_ID if cert_type == _RESIDENT_ID_CARD else _CERTNO,
                  where)
    insuinfo = need(rec, "insuinfo", where)
    if not isinstance(insuinfo, list) or not insuinfo:
        raise DataFileError(f"{where}: insuinfo: must be a non-empty list of objects (got "
                            f"{shown(insuinfo)})")
    insured = [_check_scheme(scheme, where, f"insuinfo[{index}]")
               for index, scheme in enumerate(insuinfo)]
    balc = money(rec.get("balc", "0"), where, "balc")
    brdy = day(rec, "brdy", where)
    assert brdy is not None
    batch["persons"].append({
        "psn_no": psn_no, "psn_cert_type": cert_type, "certno": certno,
        "psn_name": text(rec, "psn_name", where, longest=50),
        "gend": choice(rec, "gend", ("1", "2"), where),
        "brdy": brdy, "naty": code(rec, "naty", _TWO_DIGITS, where, default="01"),
        "insuplc_admdvs": code(rec, "insuplc_admdvs", ADMDVS, where),
        "insuinfo": dump_json(insuinfo), "maf_eligible": flag(rec, "maf_eligible", where),
        "deceased": flag(rec, "deceased", where),
        "blacklisted": flag(rec, "blacklisted", where),
    })
    batch["accounts"].append({"psn_no": psn_no, "balc": balc})
    card_nos, issued = _card_rows(rec, psn_no, where, batch)
    for payer in enrolment_ids(rec.get("enrolments") or [], where):
        batch["enrolments"].append({"psn_no": psn_no, "payer": payer})
    token = None
    if rec.get("ec_token"):
        token = code(rec, "ec_token", _NUMBER, where)
        batch["ec_tokens"].append({"ec_token": token, "psn_no": psn_no})
    years = _counter_rows(rec, psn_no, where, batch)
    _check_typed(rec, where)
    _check_born_first(brdy, where, [*insured, *issued], years)
    keys.claim(number, "psn_no", psn_no)
    keys.claim(number, "certno", certno)
    for card_no in card_nos:
        keys.claim(number, "card_no", card_no)
    if token is not None:
        keys.claim(number, "ec_token", token)


def enrolment_ids(value: Any, where: str) -> list[str]:
    """A person's ``enrolments`` (a list of known payer ids, possibly empty), or why not."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataFileError(f"{where}: enrolments: must be a list of payer ids such as "
                            f"[\"veterans\"]")
    for payer in value:
        if payer not in PAYER_COUNTERS:
            raise DataFileError(f"{where}: enrolments: unknown payer {payer[:40]!r} (known: "
                                f"{', '.join(PAYER_COUNTERS)})")
    return sorted(set(value))


def _insutype(rec: dict[str, Any], where: str, name: str) -> str:
    """``rec["insutype"]``: a code of the national insutype table."""
    value = code(rec, "insutype", _INSUTYPE, where, name=f"{name}.insutype")
    if value not in INSUTYPES:
        raise DataFileError(f"{where}: {name}.insutype: unknown insurance type {value!r} "
                            f"(known: {', '.join(INSUTYPES)})")
    return value


def _check_scheme(scheme: Any, where: str, name: str) -> tuple[str, str]:
    """One ``insuinfo`` row: the fields 1101 answers and the checks of a visit read. Returns
    (the field's name, the day insured since)."""
    if not isinstance(scheme, dict):
        raise DataFileError(f"{where}: {name}: must be an object")
    _insutype(scheme, where, name)
    code(scheme, "psn_type", _PSN_TYPE, where, name=f"{name}.psn_type")
    code(scheme, "psn_insu_stas", _ONE_DIGIT, where, name=f"{name}.psn_insu_stas")
    since = day(scheme, "psn_insu_date", where, name=f"{name}.psn_insu_date")
    day(scheme, "paus_insu_date", where, name=f"{name}.paus_insu_date", optional=True)
    choice(scheme, "cvlserv_flag", ("0", "1"), where, default="0",
           name=f"{name}.cvlserv_flag")
    if scheme.get("emp_name") is not None:
        text(scheme, "emp_name", where, name=f"{name}.emp_name")
    if scheme.get("insuplc_admdvs"):
        code(scheme, "insuplc_admdvs", ADMDVS, where, name=f"{name}.insuplc_admdvs")
    assert since is not None
    return f"{name}.psn_insu_date", since


def _objects(rec: dict[str, Any], key: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    """The objects of the list ``rec[key]`` (absent: none), each with its name
    (``cards[0]``)."""
    if key not in rec:
        return []
    values = rec[key]
    if not isinstance(values, list):
        raise DataFileError(f"{where}: {key}: must be a list of objects (got {shown(values)})")
    found = []
    for index, value in enumerate(values):
        if not isinstance(value, dict):
            raise DataFileError(f"{where}: {key}[{index}]: must be an object")
        found.append((f"{key}[{index}]", value))
    return found


def _card_rows(rec: dict[str, Any], psn_no: str, where: str,
               batch: Batch) -> tuple[list[str], list[tuple[str, str]]]:
    """Add the cards' rows; returns the card numbers, and (field, day) of each card's
    ``issued`` (the day empty when the record gives none)."""
    numbers, issued = [], []
    for name, card in _objects(rec, "cards", where):
        numbers.append(code(card, "card_no", _NUMBER, where, name=f"{name}.card_no"))
        batch["cards"].append({
            "card_no": numbers[-1],
            "card_sn": code(card, "card_sn", _NUMBER, where, name=f"{name}.card_sn"),
            "psn_no": psn_no, "status": choice(card, "status", ("active", "lost", "replaced"),
                                               where, default="active", name=f"{name}.status"),
        })
        when = day(card, "issued", where, name=f"{name}.issued", optional=True)
        issued.append((f"{name}.issued", when or ""))
    return numbers, issued


def _counter_rows(rec: dict[str, Any], psn_no: str, where: str,
                  batch: Batch) -> list[tuple[str, int]]:
    """Add the year-to-date counters' rows; returns (field, year) of each ``cum`` row."""
    years: list[tuple[str, int]] = []
    first: dict[tuple[int, str], str] = {}
    for name, row in _objects(rec, "cum", where):
        year = whole(row.get("year"), where, f"{name}.year", 1900, 9999)
        insutype = _insutype(row, where, name)
        seen = first.setdefault((year, insutype), name)
        if seen != name:
            raise DataFileError(f"{where}: {name}: a second row for year {year} and insutype "
                                f"{insutype} (the first is {seen})")
        years.append((f"{name}.year", year))
        for counter in ("dedc_used", "hifp_paid"):
            value = money(row.get(counter, "0"), where, f"{name}.{counter}")
            if value:
                batch["cum"].append({"psn_no": psn_no, "year": year, "insutype": insutype,
                                     "name": counter, "value": value})
    return years


def _check_typed(rec: dict[str, Any], where: str) -> None:
    """``typed`` (what a cashier types: an object of texts) and ``edge_cases`` (a list of
    labels), which the insurer keeps no row of but a file holding another shape is not one
    the generator wrote."""
    if "typed" in rec:
        typed = rec["typed"]
        if not isinstance(typed, dict):
            raise DataFileError(f"{where}: typed: must be an object like {{\"psn_name\": ..., "
                                f"\"certno\": ..., \"card_no\": ...}} (got {shown(typed)})")
        for key in _TYPED:
            if key in typed and not isinstance(typed[key], str):
                raise DataFileError(f"{where}: typed.{key}: must be text (got "
                                    f"{shown(typed[key])})")
    if "edge_cases" in rec:
        labels = rec["edge_cases"]
        if not isinstance(labels, list) or not all(isinstance(v, str) and v for v in labels):
            raise DataFileError(f"{where}: edge_cases: must be a list of edge-case labels like "
                                f"[\"twin\"] (got {shown(labels)})")


def _check_born_first(brdy: str, where: str, days: list[tuple[str, str]],
                      years: list[tuple[str, int]]) -> None:
    """The birthday is not after any day the record says something happened to the person."""
    for name, when in days:
        if when and when < brdy:
            raise DataFileError(f"{where}: brdy: {brdy} is after {name} {when} (a person is "
                                "born first)")
    for name, year in years:
        if year < int(brdy[:4]):
            raise DataFileError(f"{where}: brdy: {brdy} is after {name} {year} (a person is "
                                "born first)")
