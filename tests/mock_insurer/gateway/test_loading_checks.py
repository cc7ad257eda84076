"""The data-file loaders the insurer starts with (``cardsettle insurer serve --population``):
a value the insurer could not use later is refused at load, naming the file, line and field,
and nothing is written."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from cardsettle.cli.generate import generate
from cardsettle.cli.insurer import insurer as insurer_cli
from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.gateway.loading import (
    DataFileError,
    load_catalogue,
    load_institutions,
    load_population,
)
from mock_insurer.ledger import Ledger
from simulator.edge_cases import EDGE_CASE_LABELS, NAME_KINDS

from . import dataset
from .conftest import START


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    return path


def _open(tmp_path: Path, **files: Path) -> Insurer:
    paths = {**dataset.write(tmp_path), **files}
    return Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{tmp_path}/l.db", population=paths["population"],
        catalogue=paths["catalogue"], institutions=paths["institutions"], wall=FixedClock(START)))


def test_a_start_with_an_impossible_birthday_is_refused_naming_line_and_field(
        tmp_path: Path) -> None:
    people = [*dataset.PERSONS[:2], {**dataset.PERSONS[2], "brdy": "2026-02-30"}]
    bad = _write(tmp_path / "bad-persons.jsonl", people)
    with pytest.raises(DataFileError) as caught:
        _open(tmp_path, population=bad)
    assert str(caught.value) == (f"{bad}:3: brdy: must be a real date YYYY-MM-DD "
                                 f"(got '2026-02-30')")


def test_files_saved_with_a_byte_order_mark_load(tmp_path: Path) -> None:
    """Windows editors (Notepad) save UTF-8 with a byte-order mark: the loaders skip it."""
    paths = dataset.write(tmp_path)
    marked = {}
    for kind, path in paths.items():
        marked[kind] = tmp_path / f"bom-{path.name}"
        marked[kind].write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    insurer = _open(tmp_path, **marked)
    try:
        assert insurer.counts()["persons"] == len(dataset.PERSONS)
    finally:
        insurer.close()


@pytest.mark.parametrize("balc", ["1e400", "-0.01", "NaN", 1e300])
def test_a_reload_with_bad_money_writes_nothing(tmp_path: Path, balc: Any) -> None:
    insurer = _open(tmp_path)
    try:
        bad = _write(tmp_path / "bad.jsonl", [{**dataset.PERSONS[0], "balc": "1.00"},
                                              {**dataset.PERSONS[1], "balc": balc}])
        with pytest.raises(DataFileError, match=r"bad\.jsonl:2: balc"):
            load_population(insurer.ledger, bad)
        assert insurer.counts()["persons"] == len(dataset.PERSONS)
        with insurer.ledger.read() as tx:
            assert tx.balance(dataset.PERSONS[0]["psn_no"]) == Decimal("1378.15")
    finally:
        insurer.close()


def test_an_institution_with_a_misshapen_code_is_refused(tmp_path: Path) -> None:
    insurer = _open(tmp_path)
    try:
        bad = _write(tmp_path / "bad.jsonl", [{**dataset.INSTITUTIONS[0], "admdvs": 110105}])
        with pytest.raises(DataFileError, match=r"bad\.jsonl:1: admdvs: must be 6 digits"):
            load_institutions(insurer.ledger, bad)
        assert insurer.counts()["institutions"] == len(dataset.INSTITUTIONS)
    finally:
        insurer.close()


# -- what `insurer serve` says of a file whose records disagree with each other ----------------

Change = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def _record(index: int, **changes: Any) -> Change:
    def change(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        records[index] = {**records[index], **changes}
        return records
    return change


def _scheme(**changes: Any) -> Change:
    def change(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        records[3] = {**records[3], "insuinfo": [{**records[3]["insuinfo"][0], **changes}]}
        return records
    return change


def _mapping(offset: int = 0, **changes: Any) -> Change:
    def change(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        at = [i for i, r in enumerate(records) if r["kind"] == "mapping"][offset]
        records[at] = {**records[at], **changes}
        return records
    return change


_P = dataset.PERSONS
_FIRST_MAPPING = 1 + next(i for i, r in enumerate(dataset.catalogue_records())
                          if r["kind"] == "mapping")
_REFUSED = [
    ("population", _record(3, certno=_P[0]["certno"]),
     f"4: duplicate certno {_P[0]['certno']} (first on line 1)"),
    ("population", _record(3, psn_no=_P[0]["psn_no"]),
     f"4: duplicate psn_no {_P[0]['psn_no']} (first on line 1)"),
    ("population", _record(3, cards=_P[0]["cards"]),
     f"4: duplicate card_no {_P[0]['cards'][0]['card_no']} (first on line 1)"),
    ("population", _record(7, cards=[*_P[7]["cards"], _P[7]["cards"][0]]),
     f"8: duplicate card_no {_P[7]['cards'][0]['card_no']} (first on this line)"),
    ("population", _record(3, ec_token=_P[0]["ec_token"]),
     f"4: duplicate ec_token {_P[0]['ec_token']} (first on line 1)"),
    ("population", _record(3, certno="12345"),
     "4: certno: must be a resident ID card's 18 characters: 17 digits and a digit or X, like "
     "11010519800101001X (got '12345')"),
    ("population", _record(3, brdy="2099-01-01"),
     "4: brdy: 2099-01-01 is after insuinfo[0].psn_insu_date 2010-01-01 (a person is born "
     "first)"),
    ("population", _record(3, cards=None), "4: cards: must be a list of objects (got null)"),
    ("population", _record(3, typed="x"),
     "4: typed: must be an object like {\"psn_name\": ..., \"certno\": ..., \"card_no\": ...} "
     "(got 'x')"),
    ("population", _record(3, edge_cases="twin"),
     "4: edge_cases: must be a list of edge-case labels like [\"twin\"] (got 'twin')"),
    ("population", _scheme(insutype="999"),
     "4: insuinfo[0].insutype: unknown insurance type '999' (known: 310, 320, 330, 340, 350, "
     "360, 370, 380, 390, 391, 392, 399, 410, 510)"),
    ("institutions", _record(1, admdvs=None),
     "2: admdvs: must be text (6 digits, like 110105), got null"),
    ("institutions", _record(1, fixmedins_code=dataset.INSTITUTIONS[0]["fixmedins_code"]),
     f"2: duplicate fixmedins_code {dataset.INSTITUTIONS[0]['fixmedins_code']} "
     "(first on line 1)"),
    ("catalogue", _record(1, med_list_codg=dataset.ITEMS[0]["med_list_codg"]),
     f"2: duplicate med_list_codg {dataset.ITEMS[0]['med_list_codg']} (first on line 1)"),
    ("catalogue", _mapping(1, medins_list_codg="HOSP0000"),
     f"{_FIRST_MAPPING + 1}: duplicate medins_list_codg 'HOSP0000' of {dataset.HOSPITAL} "
     f"(first on line {_FIRST_MAPPING})"),
    ("catalogue", _mapping(mapping="maybe"),
     f"{_FIRST_MAPPING}: mapping: must be one of ok, unmapped, wrong (got 'maybe')"),
    ("catalogue", _mapping(hosp_pric="1e9999"),
     f"{_FIRST_MAPPING}: hosp_pric: must be yuan with at most two places, up to "
     "999999999999.99 (got '1e9999')"),
    ("catalogue", _mapping(med_list_codg="NOPE"),
     f"{_FIRST_MAPPING}: med_list_codg: no catalogue item NOPE in the file (a mapping is to a "
     "national code of an item record)"),
    ("catalogue", _mapping(fixmedins_code="H99999999999"),
     f"{_FIRST_MAPPING}: fixmedins_code: no institution H99999999999 in the institutions file "
     "{institutions}"),
]


def _records(kind: str) -> list[dict[str, Any]]:
    return {"population": copy.deepcopy(dataset.PERSONS),
            "institutions": copy.deepcopy(dataset.INSTITUTIONS),
            "catalogue": dataset.catalogue_records()}[kind]


def _ledger_holding_the_dataset(tmp_path: Path) -> str:
    db_url = f"sqlite:///{tmp_path}/held.db"
    _open_at(tmp_path, db_url).close()
    return db_url


def _open_at(tmp_path: Path, db_url: str, **files: Path) -> Insurer:
    paths = {**dataset.write(tmp_path), **files}
    return Insurer.open(InsurerConfig(
        db_url=db_url, population=paths["population"], catalogue=paths["catalogue"],
        institutions=paths["institutions"], wall=FixedClock(START), fresh=True))


def _held(db_url: str) -> dict[str, Any]:
    """What a ledger holds that a load would replace."""
    ledger = Ledger(db_url)
    try:
        with ledger.read() as tx:
            return {"counts": {t: tx.count(t) for t in ("persons", "cards", "institutions",
                                                          "catalogue_items", "mappings")},
                    "institutions": [i.fixmedins_name for i in tx.institutions()],
                    "balance": tx.balance(dataset.PERSONS[0]["psn_no"])}
    finally:
        ledger.dispose()


@pytest.mark.parametrize(("kind", "change", "says"), _REFUSED)
def test_serve_refuses_a_file_whose_records_disagree_in_one_line_and_writes_nothing(
        tmp_path: Path, kind: str, change: Change, says: str) -> None:
    db_url = _ledger_holding_the_dataset(tmp_path)
    before = _held(db_url)
    files = dataset.write(tmp_path)
    # the good files differ from what the ledger holds: a load of them would show
    institutions = copy.deepcopy(dataset.INSTITUTIONS)
    for institution in institutions:
        institution["fixmedins_name"] = f"{institution['fixmedins_name']}（新）"
    people = [{**person, "balc": "1.00"} for person in dataset.PERSONS]
    _write(files["institutions"], institutions)
    _write(files["population"], people)
    bad = _write(tmp_path / f"bad-{kind}.jsonl", change(_records(kind)))
    files[kind] = bad
    result = CliRunner().invoke(insurer_cli, [
        "serve", "--port", "0", "--data-dir", str(tmp_path / "data"), "--db", db_url, "--fresh",
        *(arg for key, path in files.items() for arg in (f"--{key}", str(path)))])
    assert result.exit_code == 1, result.output
    expected = f"Error: {bad}:{says.replace('{institutions}', str(files['institutions']))}"
    assert result.output.strip().splitlines() == [expected]
    assert _held(db_url) == before  # --fresh dropped nothing, nothing was loaded
    assert not (tmp_path / "data").exists()


def test_a_catalogue_loaded_alone_maps_only_institutions_the_ledger_holds(
        tmp_path: Path) -> None:
    insurer = _open(tmp_path)
    try:
        bad = _write(tmp_path / "bad.jsonl", _mapping(fixmedins_code="H11010599999")(
            dataset.catalogue_records()))
        with pytest.raises(DataFileError) as refused:
            load_catalogue(insurer.ledger, bad)
        assert str(refused.value) == (f"{bad}:{_FIRST_MAPPING}: fixmedins_code: no institution "
                                      "H11010599999 in the institutions the insurer holds")
        assert insurer.counts()["mappings"] == 2 * len(dataset.ITEMS)
    finally:
        insurer.close()


def test_every_file_the_generator_writes_loads_with_every_edge_case(tmp_path: Path) -> None:
    """``cardsettle generate`` plants identity edge cases on purpose (docs/generator.md): a
    population with every one of them, and its institutions and catalogue, load whole."""
    rates = {label: 0.2 if label in NAME_KINDS else 0.3 for label in EDGE_CASE_LABELS}
    files = {kind: tmp_path / f"{kind}.jsonl"
             for kind in ("population", "institutions", "catalogue")}
    for args in (
            ["population", "-n", "2000", "--seed", "1", "--ref-date", "2026-10-01", "-q",
             "--workers", "1", *(a for label, rate in rates.items()
                                 for a in ("--edge-rate", f"{label}={rate}"))],
            ["institutions", "--seed", "1"],
            ["catalogue", "--seed", "1", "--institutions", str(files["institutions"])]):
        result = CliRunner().invoke(generate, [*args, "--out", str(files[args[0]])])
        assert result.exit_code == 0, result.output
    people = [orjson.loads(line) for line in files["population"].read_bytes().splitlines()]
    assert {label for person in people for label in person["edge_cases"]} == set(
        EDGE_CASE_LABELS)
    insurer = Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{tmp_path}/l.db", population=files["population"],
        catalogue=files["catalogue"], institutions=files["institutions"],
        wall=FixedClock(START), fresh=True))
    try:
        counts = insurer.counts()
    finally:
        insurer.close()
    assert counts["persons"] == 2000
    assert counts["cards"] == sum(len(person["cards"]) for person in people)
    mappings = [line for line in files["catalogue"].read_bytes().splitlines()
                if b'"kind":"mapping"' in line]
    assert counts["mappings"] == len(mappings) > 0
