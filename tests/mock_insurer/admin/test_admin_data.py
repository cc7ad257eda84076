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
     f"duplicate psn_no {dataset.PERSONS[0]['psn_no']} (first on line 1)"),
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


def _person(**changes: Any) -> bytes:
    return _jsonl([{**dataset.PERSONS[0], **changes}])


_SCHEME = dataset.PERSONS[0]["insuinfo"][0]


@pytest.mark.parametrize(("changes", "says"), [
    (dict(brdy="2026-02-30"), "brdy: must be a real date YYYY-MM-DD (got '2026-02-30')"),
    (dict(brdy=5), "brdy: must be a real date"),
    (dict(brdy="1980-1-1"), "brdy: must be a real date"),
    (dict(gend="9"), "gend: must be one of 1, 2 (got '9')"),
    (dict(psn_no=5), "psn_no: must be 1 to 40 letters or digits (got 5)"),
    (dict(certno=""), "certno: must be"),
    (dict(deceased="x"), "deceased: must be true or false (got 'x')"),
    (dict(maf_eligible=1), "maf_eligible: must be true or false"),
    (dict(psn_name=""), "psn_name: must be a non-empty text"),
    (dict(naty=1), "naty: must be 2 digits"),
    (dict(insuplc_admdvs="beijing"), "insuplc_admdvs: must be 6 digits"),
    (dict(insuinfo=[{"insutype": "310"}]), "missing field 'insuinfo[0].psn_type'"),
    (dict(insuinfo=[{**_SCHEME, "psn_insu_date": "2010-13-01"}]),
     "insuinfo[0].psn_insu_date: must be a real date"),
    (dict(insuinfo=[{**_SCHEME, "paus_insu_date": 20250601}]),
     "insuinfo[0].paus_insu_date: must be a real date"),
    (dict(insuinfo=[{**_SCHEME, "cvlserv_flag": True}]), "insuinfo[0].cvlserv_flag"),
    (dict(insuinfo=["310"]), "insuinfo[0]: must be an object"),
    (dict(cards=[{"card_no": 5, "card_sn": "X"}]), "cards[0].card_no: must be"),
    (dict(cards=[{"card_no": "A1", "card_sn": "X", "status": "gone"}]),
     "cards[0].status: must be one of active, lost, replaced"),
    (dict(ec_token=["x"]), "ec_token: must be"),
    (dict(balc="1e400"), "balc: must be yuan with at most two places, up to "
                            "999999999999.99 (got '1e400')"),
    (dict(balc="1000000000000.00"), "balc: must be yuan"),
    (dict(balc="12.345"), "balc: must be yuan with at most two places"),
    (dict(balc="NaN"), "balc: not a finite number"),
    (dict(balc="Infinity"), "balc: not a finite number"),
    (dict(cum=[{"year": 2026, "insutype": "310", "dedc_used": "1e400"}]),
     "cum[0].dedc_used: must be yuan"),
    (dict(cum=[{"year": 2026, "insutype": "310", "hifp_paid": "sNaN"}]),
     "cum[0].hifp_paid: not a"),
    (dict(cum=[{"year": 2026, "insutype": 310}]), "cum[0].insutype: must be 3 digits"),
])
def test_a_person_with_a_value_the_insurer_cannot_use_is_refused(
        client: TestClient, insurer: Insurer, changes: dict[str, Any], says: str) -> None:
    answer = client.post("/admin/population", content=_person(**changes), headers=NDJSON)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["where"] == "body:1" and error["message"].startswith(f"body:1: {says}"), error
    assert insurer.counts()["persons"] == len(dataset.PERSONS)
    hospital = Hospital(client)
    hospital.sign_in()
    info = hospital.send("1101", {"data": {
        "mdtrt_cert_type": "02", "mdtrt_cert_no": dataset.PERSONS[0]["certno"], "card_sn": "",
        "begntime": "2026-03-02 08:00:00", "psn_cert_type": "01", "certno": "",
        "psn_name": ""}})
    assert info["infcode"] == 0, info  # the old population still answers
    assert info["output"]["insuinfo"][0]["balc"] == 1378.15


def test_a_bad_line_after_good_ones_leaves_the_old_population(client: TestClient,
                                                              insurer: Insurer) -> None:
    records = copy.deepcopy(dataset.PERSONS[1:])
    records[0]["balc"] = "1.00"
    records[-1]["brdy"] = "1999-02-29"
    answer = client.post("/admin/population", content=_jsonl(records), headers=NDJSON)
    assert answer.status_code == 422
    assert answer.json()["error"]["where"] == f"body:{len(records)}"
    assert "brdy" in answer.json()["error"]["message"]
    person = _ok(client.get(f"/admin/persons/{dataset.PERSONS[1]['psn_no']}"))
    assert person["balc"] == 5000  # not the refused file's 1.00
    assert insurer.counts()["persons"] == len(dataset.PERSONS)


_INSTITUTION = dataset.INSTITUTIONS[1]


@pytest.mark.parametrize(("record", "says"), [
    ({**_INSTITUTION, "fixmedins_code": "bad"},
     "fixmedins_code: must be H and 11 digits, like H11010500003 (got 'bad')"),
    ({**_INSTITUTION, "admdvs": "abc"}, "admdvs: must be 6 digits"),
    ({**_INSTITUTION, "blacklisted": "x"}, "blacklisted: must be true or false (got 'x')"),
    ({**_INSTITUTION, "credentials": {**_INSTITUTION["credentials"], "paasid": 5}},
     "credentials.paasid: must be a non-empty text (got 5)"),
    ({**_INSTITUTION, "fixmedins_name": 12345}, "fixmedins_name: must be a non-empty text"),
])
def test_an_institution_with_a_bad_value_is_refused(client: TestClient, insurer: Insurer,
                                                    record: dict[str, Any], says: str) -> None:
    answer = client.post("/admin/institutions", content=_jsonl([record]), headers=NDJSON)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["where"] == "body:1" and error["message"].startswith(f"body:1: {says}")
    assert insurer.counts()["institutions"] == len(dataset.INSTITUTIONS)
    assert insurer.service.institution(dataset.HOSPITAL) is not None


@pytest.mark.parametrize(("index", "change", "says"), [
    (0, {"pric": "1e400"}, "pric: must be yuan with at most two places"),
    (0, {"pric_uplmt_amt": "NaN"}, "pric_uplmt_amt: not a finite number"),
    (0, {"pric": -1}, "pric: must not be negative"),
    (0, {"med_list_codg": 5}, "med_list_codg: must be 1 to 50 capital letters or digits"),
    (0, {"lmt_used_flag": "x"}, "lmt_used_flag: must be one of 0, 1"),
    (1, {"max_days_per_rx": 10**7}, "max_days_per_rx: must be a whole number from 1 to"),
    (0, {"age_max": 1000}, "age_max: must be a whole number from 0 to 150"),
    (len(dataset.ITEMS), {"diag_code": 5}, "diag_code: must be a diagnosis code"),
    (-1, {"fixmedins_code": "bad"}, "fixmedins_code: must be H and 11 digits"),
    (-1, {"intended_med_list_codg": ["x"]}, "intended_med_list_codg: must be"),
])
def test_a_catalogue_record_with_a_bad_value_is_refused(
        client: TestClient, insurer: Insurer, index: int, change: dict[str, Any],
        says: str) -> None:
    records = dataset.catalogue_records()
    records[index] = {**records[index], **change}
    line = index + 1 if index >= 0 else len(records)
    answer = client.post("/admin/catalogue", content=_jsonl(records), headers=NDJSON)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["where"] == f"body:{line}" and says in error["message"], error
    assert insurer.counts()["catalogue_items"] == len(dataset.ITEMS)
    assert len(insurer.service.reference.catalogue) == len(dataset.ITEMS)


@pytest.mark.parametrize("kind", ["population", "catalogue", "institutions"])
def test_a_path_that_cannot_be_read_is_refused_naming_it(client: TestClient, insurer: Insurer,
                                                         kind: str) -> None:
    for path in ("/proc/self/mem", "/dev/zero", "/"):
        answer = client.post(f"/admin/{kind}", json={"path": path})
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["where"] == path and error["message"].startswith(f"{path}: cannot read")
    assert insurer.counts()["persons"] == len(dataset.PERSONS)
