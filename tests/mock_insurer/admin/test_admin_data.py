"""Reset and data loads: the ledger goes back to its loaded state, and new data files replace
the old ones only when they are good."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from mock_insurer.gateway import Insurer
from mock_insurer.ledger import queries

from .conftest import (
    PSN_NO,
    SETL_ID,
    SETTLED_ACCT_PAY,
    Hospital,
    dataset,
    write_settled_visit,
)

NDJSON = {"Content-Type": "application/x-ndjson"}


def _ok(answer: Any) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def test_reset_empties_the_business_tables_and_restores_accounts(client: TestClient,
                                                                 insurer: Insurer,
                                                                 seeded: Hospital) -> None:
    result = _ok(client.post("/admin/reset"))
    assert result["emptied"]["settlements"] == 1 and result["emptied"]["messages"] == 3
    assert result["restored"]["accounts"] == len(dataset.PERSONS)
    assert result["reloaded"] == {}
    counts = insurer.counts()
    assert counts["settlements"] == 0 and counts["messages"] == 0
    assert counts["persons"] == len(dataset.PERSONS)
    assert counts["catalogue_items"] == len(dataset.ITEMS)
    person = _ok(client.get(f"/admin/persons/{PSN_NO}"))
    assert Decimal(str(person["balc"])) == Decimal("1378.15")
    assert person["cum"] == [] and person["account_entries"] == [] and person["visits"] == []
    assert client.get(f"/admin/settlements/{SETL_ID}").status_code == 404
    assert _ok(client.get("/admin/visits"))["total"] == 0


def test_the_insurer_serves_after_a_reset(client: TestClient, seeded: Hospital) -> None:
    _ok(client.post("/admin/reset", json={"keep_reference": True}))
    hospital = Hospital(client)
    hospital.sequence = 100  # new msgids; the old sign-in is gone with the reset
    hospital.sign_in()
    assert hospital.register(dataset.PERSONS[1]).startswith("30")


def test_reset_keeps_counters_the_population_file_loaded(client: TestClient,
                                                         insurer: Insurer) -> None:
    records = copy.deepcopy(dataset.PERSONS)
    records[0]["cum"] = [{"year": 2026, "insutype": "310", "dedc_used": "100.00"}]
    _ok(client.post("/admin/population", content=_jsonl(records), headers=NDJSON))
    write_settled_visit(insurer)  # moves dedc_used by 30 and the account by -12.50
    assert _ok(client.get(f"/admin/persons/{PSN_NO}/counters"))["cum"][0]["value"] == 130
    _ok(client.post("/admin/reset"))
    counters = _ok(client.get(f"/admin/persons/{PSN_NO}/counters"))
    assert [(c["name"], c["value"]) for c in counters["cum"]] == [("dedc_used", 100)]
    assert counters["balc"] == 1378.15 and counters["cum_entries"] == []


def test_reset_can_reload_the_startup_files(client: TestClient, insurer: Insurer,
                                            seeded: Hospital) -> None:
    _ok(client.post("/admin/population", content=_jsonl(dataset.PERSONS[:2]), headers=NDJSON))
    assert insurer.counts()["persons"] == 2
    result = _ok(client.post("/admin/reset", json={"keep_reference": False}))
    assert result["reloaded"]["population"] == {"persons": len(dataset.PERSONS)}
    assert set(result["reloaded"]) == {"institutions", "population", "catalogue"}
    assert insurer.counts()["persons"] == len(dataset.PERSONS)


@pytest.mark.parametrize(("body", "where"), [
    ({"keep_reference": "yes"}, "body.keep_reference"),
    ({"everything": True}, "body.everything"),
])
def test_a_bad_reset_body_is_refused(client: TestClient, body: dict[str, Any],
                                     where: str) -> None:
    answer = client.post("/admin/reset", json=body)
    assert answer.status_code == 422 and answer.json()["error"]["where"] == where


def test_loading_a_population_from_the_body(client: TestClient) -> None:
    records = copy.deepcopy(dataset.PERSONS[:3])
    records[0]["psn_name"] = "张伟强"
    records[0]["balc"] = "10.00"
    result = _ok(client.post("/admin/population", content=_jsonl(records), headers=NDJSON))
    assert result == {"kind": "population", "source": "body", "loaded": {"persons": 3}}
    person = _ok(client.get(f"/admin/persons/{PSN_NO}"))
    assert person["psn_name"] == "张伟强" and person["balc"] == 10
    assert _ok(client.get("/admin/persons"))["total"] == 3


def test_loading_from_a_path_on_the_insurers_machine(client: TestClient,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "more.jsonl"
    path.write_bytes(_jsonl(dataset.PERSONS[:1]))
    result = _ok(client.post("/admin/population", json={"path": str(path)}))
    assert result["source"] == str(path) and result["loaded"] == {"persons": 1}


@pytest.mark.parametrize(("lines", "where", "says"), [
    ([b"", b"  "], "body", "no records"),
    ([orjson.dumps(dataset.PERSONS[0]), b"{not json"], "body:2", "not valid JSON"),
    ([orjson.dumps(dataset.PERSONS[0]), b"[1]"], "body:2", "JSON object"),
    ([orjson.dumps(dataset.PERSONS[0]), orjson.dumps(dataset.PERSONS[0])], "body:2",
     "already on line 1"),
    ([orjson.dumps({**dataset.PERSONS[0], "certno": None})], "body:1", "certno"),
    ([orjson.dumps({**dataset.PERSONS[0], "cards": "A1"})], "body:1", "cards"),
    ([orjson.dumps({**dataset.PERSONS[0], "cum": [{"insutype": "310"}]})], "body:1", "year"),
    ([orjson.dumps({**dataset.PERSONS[0], "balc": "-1"})], "body:1", "negative"),
    ([orjson.dumps(dataset.PERSONS[0])[:-1] + b', "x": ' + b"[" * 40 + b"]" * 40 + b"}"],
     "body:1", "nested"),
])
def test_a_bad_population_is_refused_with_its_line_and_nothing_changes(
        client: TestClient, insurer: Insurer, lines: list[bytes], where: str,
        says: str) -> None:
    answer = client.post("/admin/population", content=b"\n".join(lines) + b"\n",
                         headers=NDJSON)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["where"] == where and says in error["message"]
    assert "/tmp" not in error["message"] and "cardsettle-admin" not in error["message"]
    assert insurer.counts()["persons"] == len(dataset.PERSONS)


@pytest.mark.parametrize(("body", "where"), [
    ({"path": "/no/such/file.jsonl"}, "/no/such/file.jsonl"),
    ({"path": ""}, "body.path"),
    ({"path": 5}, "body.path"),
    ({"file": "x"}, "body.file"),
])
def test_a_bad_path_is_refused(client: TestClient, body: dict[str, Any], where: str) -> None:
    answer = client.post("/admin/population", json=body)
    assert answer.status_code == 422 and answer.json()["error"]["where"] == where


def test_loading_a_catalogue_refreshes_what_the_gateway_prices_with(
        client: TestClient, insurer: Insurer) -> None:
    records = dataset.catalogue_records()
    item = next(r for r in records if r["med_list_codg"] == "001102000010000")
    item["med_list_name"] = "门诊诊查费（新）"
    records = [r for r in records if r.get("med_list_codg") != "002203000010000"]
    result = _ok(client.post("/admin/catalogue", content=_jsonl(records), headers=NDJSON))
    assert result["loaded"]["items"] == len(dataset.ITEMS) - 1
    catalogue = insurer.service.reference.catalogue
    assert "002203000010000" not in catalogue
    assert catalogue["001102000010000"].med_list_name == "门诊诊查费（新）"


def test_a_catalogue_item_the_policy_engine_cannot_use_is_refused(client: TestClient,
                                                                  insurer: Insurer) -> None:
    records = dataset.catalogue_records()
    records[1] = {**records[1], "selfpay_prop": "1.5"}
    answer = client.post("/admin/catalogue", content=_jsonl(records), headers=NDJSON)
    assert answer.status_code == 422
    assert answer.json()["error"]["where"] == "body:2"
    assert "selfpay_prop" in answer.json()["error"]["message"]
    assert len(insurer.service.reference.catalogue) == len(dataset.ITEMS)


def test_loading_institutions_changes_who_is_served(client: TestClient,
                                                    insurer: Insurer) -> None:
    records = [dict(dataset.INSTITUTIONS[1], fixmedins_code="H11010500077")]
    result = _ok(client.post("/admin/institutions", content=_jsonl(records), headers=NDJSON))
    assert result["loaded"] == {"institutions": 1}
    assert insurer.service.institution("H11010500077") is not None
    assert insurer.service.institution(dataset.HOSPITAL) is None
    bad = client.post("/admin/institutions",
                      content=_jsonl([dict(dataset.INSTITUTIONS[0], tier="4")]), headers=NDJSON)
    assert bad.status_code == 422 and bad.json()["error"]["where"] == "body:1"
    assert insurer.service.institution("H11010500077") is not None


def test_opening_values_are_current_values_minus_their_movements(insurer: Insurer) -> None:
    write_settled_visit(insurer)
    with insurer.ledger.read() as tx:
        balances = {row["psn_no"]: row["balc"] for row in queries.opening_balances(tx)}
        counters = queries.opening_counters(tx)
        assert tx.balance(PSN_NO) == Decimal("1378.15") - SETTLED_ACCT_PAY
    assert balances[PSN_NO] == Decimal("1378.15")
    assert counters == []
