"""The reference HIS's item table (``his serve --catalogue``): a catalogue with a price the HIS
could not charge, or a record of no known kind, is refused at start naming the file, line and
field; and a charge whose amount cannot be made is refused before anything is sent, leaving the
visit as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from click.testing import CliRunner

from cardsettle.cli.his import his
from simulator.his.catalogue import ItemTable
from simulator.his.errors import CatalogueFileError
from tests.simulator.his.rig import CONSULT, HOSPITAL, Rig, catalogue_records, write_dataset

OTHER = "H11010500001"  # the dataset's community centre, which has mappings too


def _first(records: list[dict[str, Any]], kind: str, institution: str = HOSPITAL) -> int:
    return next(index for index, record in enumerate(records) if record["kind"] == kind
                and record.get("fixmedins_code", institution) == institution)


def _catalogue(tmp_path: Path, index: Callable[[list[dict[str, Any]]], int],
               change: dict[str, Any]) -> tuple[Path, int]:
    """The rig's catalogue with ``change`` made to one record; (the file, its line)."""
    records = catalogue_records()
    at = index(records)
    records[at] = {**records[at], **change}
    path = tmp_path / "bad-catalogue.jsonl"
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    return path, at + 1


def _item(records: list[dict[str, Any]]) -> int:
    return _first(records, "item")


def _mapping(records: list[dict[str, Any]]) -> int:
    return _first(records, "mapping")


def _second_mapping(records: list[dict[str, Any]]) -> int:
    return _first(records, "mapping") + 1


def _others_mapping(records: list[dict[str, Any]]) -> int:
    return _first(records, "mapping", OTHER)


@pytest.mark.parametrize(("index", "change", "says"), [
    (_item, {"kind": "itme"}, "kind: must be item, diagnosis or mapping (got 'itme')"),
    (_item, {"pric": "cheap"}, "pric: not a number: 'cheap'"),
    (_item, {"pric": "-1.00"}, "pric: must not be negative (got '-1.00')"),
    (_item, {"pric_uplmt_amt": "8.605"},
     "pric_uplmt_amt: must be yuan with at most two places, up to 999999999999.99 "
     "(got '8.605')"),
    (_mapping, {"hosp_pric": "1e9999"},
     "hosp_pric: must be yuan with at most two places, up to 999999999999.99 (got '1e9999')"),
    (_mapping, {"hosp_pric": "NaN"}, "hosp_pric: not a finite number: 'NaN'"),
    (_mapping, {"hosp_pric": None}, "hosp_pric: must be yuan (a number), got null"),
    (_others_mapping, {"hosp_pric": "1000000000000.00"},  # every price, not only its own
     "hosp_pric: must be yuan with at most two places, up to 999999999999.99"),
    (_mapping, {"intended_med_list_codg": "NOPE"},
     "intended_med_list_codg: no catalogue item 'NOPE' in the file"),
])
def test_a_catalogue_the_his_cannot_charge_from_is_refused_at_start(
        tmp_path: Path, index: Callable[[list[dict[str, Any]]], int], change: dict[str, Any],
        says: str) -> None:
    paths = write_dataset(tmp_path)
    bad, line = _catalogue(tmp_path, index, change)
    result = CliRunner().invoke(his, [
        "serve", "--data-dir", str(tmp_path), "--insurer-url", "http://127.0.0.1:1",
        "--catalogue", str(bad), "--institutions", str(paths["institutions"]),
        "--institution", HOSPITAL])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {bad}:{line}: {says}"), result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_an_item_code_mapped_twice_is_refused_naming_both_lines(tmp_path: Path) -> None:
    records = catalogue_records()
    first = _mapping(records)
    code = records[first]["medins_list_codg"]
    bad, line = _catalogue(tmp_path, _second_mapping, {"medins_list_codg": code})
    with pytest.raises(CatalogueFileError) as refused:
        ItemTable.load(bad, HOSPITAL)
    assert str(refused.value) == (f"{bad}:{line}: duplicate medins_list_codg {code!r} of "
                                  f"{HOSPITAL} (first on line {first + 1})")


def test_records_given_in_python_are_named_by_their_number() -> None:
    records = catalogue_records()
    at = _mapping(records)
    records[at] = {**records[at], "hosp_pric": "12.345"}
    with pytest.raises(CatalogueFileError, match=rf"^mine: record {at + 1}: hosp_pric: must be "
                                                 "yuan with at most two places"):
        ItemTable.from_records(records, HOSPITAL, source="mine")


def test_the_rigs_catalogue_still_loads(tmp_path: Path) -> None:
    table = ItemTable.load(write_dataset(tmp_path)["catalogue"], HOSPITAL)
    assert table.items[CONSULT].price == Decimal("30.00")


# -- a charge whose amount cannot be made --------------------------------------------------------

def _charge(rig: Rig, visit_id: str, qty: str) -> requests.Response:
    return requests.post(f"{rig.his_server.url}/his/v1/visits/{visit_id}/charges",
                         json={"items": [{"code": CONSULT, "qty": qty}],
                               "diagnoses": ["J06.900"]}, timeout=10)


@pytest.mark.parametrize(("price", "qty"), [
    (Decimal("1E+9999"), "1"),  # an item table made in Python, past the file's checks
    (Decimal("999999999999.99"), "2"),  # each fine, the line above the largest amount
])
def test_a_line_amount_that_cannot_be_made_is_refused_and_the_visit_stays_as_it_was(
        make_rig: Callable[..., Rig], tmp_path: Path, price: Decimal, qty: str) -> None:
    table = ItemTable.load(write_dataset(tmp_path)["catalogue"], HOSPITAL)
    items = {**table.items, CONSULT: replace(table.items[CONSULT], price=price)}
    rig = make_rig(items=replace(table, items=items))
    patient = rig.patient(1)
    registered = requests.post(f"{rig.his_server.url}/his/v1/visits", json={
        "patient_id": patient, "dept_code": "A03", "doctor_code": "D0007"}, timeout=10)
    visit_id = registered.json()["visit"]["visit_id"]
    response = _charge(rig, visit_id, qty)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "items[0].qty"
    assert error["message"] == (f"{Decimal(qty)} × the price {price} of {CONSULT} is not an "
                                "amount a line can have (0 to 999999999999.99 yuan)")
    visit = rig.driver.visit(visit_id)["visit"]
    assert visit["status"] == "registered" and visit["diagnoses"] == []
    assert [m["infno"] for m in rig.his.store.messages()] == ["9001", "1101", "2201"]


def test_a_catalogue_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    plain = write_dataset(tmp_path)["catalogue"]
    marked = tmp_path / "bom-catalogue.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())  # Windows editors write one
    assert ItemTable.load(marked, HOSPITAL) == ItemTable.load(plain, HOSPITAL)
