"""One-stop settlement with several payers, end to end through the gateway: a person enrolled
through the admin API is paid by each payer of the chain (one setldetail row each), 2208 and
2601 unwind every payer's row and counter exactly, and the admin API's per-payer totals equal
the sum of the setldetail rows (docs/policy.md "Several payers")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from mock_insurer.client import InsurerClient
from mock_insurer.gateway import Insurer
from mock_insurer.gateway.loading import DataFileError, load_population
from mock_insurer.ledger.enrolments import enrolments_of
from mock_insurer.server import RunningServer
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window

RESIDENT = 3  # 李娜, 390, balance 0: at the tier-3 hospital deductible 550, 50%
BILL = [("002203000010000", "1"), ("ZA01AAA0001010101234", "1")]  # MRI 3000 + 丙类 58
AUTH = {"Authorization": "Bearer secret"}
COMBINATIONS = [(), ("veterans",), ("commercial",), ("veterans", "commercial")]
# pool 50% of (3000 − 550) = 1225.00; in scope left 1775.00; self-pay item 58.00
EXPECTED = {
    (): {},
    ("veterans",): {"610200": Decimal("1420.00")},  # 80% of 1775
    ("commercial",): {"999997": Decimal("799.80")},  # 60% of (1775 + 58 − 500)
    # veterans leaves 355 + 58 = 413, below the insurer's 500 deductible
    ("veterans", "commercial"): {"610200": Decimal("1420.00")},
}


def _enrol(server: RunningServer, psn_no: str, payers: list[str]) -> httpx.Response:
    return httpx.put(f"{server.url}/admin/persons/{psn_no}/enrolments", headers=AUTH,
                     json={"enrolments": payers})


def _ytd(insurer: Insurer, psn_no: str) -> dict[str, Decimal]:
    with insurer.ledger.read() as tx:
        return {k: v for k, v in tx.ytd(psn_no, dataset.YEAR, "390").items() if v}


def _sums(output: dict[str, Any]) -> dict[str, Decimal]:
    return {row["fund_pay_type"]: Decimal(str(row["fund_payamt"]))
            for row in output["setldetail"]}


@pytest.mark.parametrize("enrolled", COMBINATIONS, ids=lambda c: "+".join(c) or "none")
def test_each_payer_pays_its_row_and_a_cancel_unwinds_every_one(
    enrolled: tuple[str, ...], server: RunningServer, insurer: Insurer, window: Window,
) -> None:
    psn_no = window.person(RESIDENT)["psn_no"]
    answer = _enrol(server, psn_no, list(enrolled))
    assert answer.status_code == 200 and answer.json()["enrolments"] == sorted(enrolled)
    before = _ytd(insurer, psn_no)
    settled = window.visit(RESIDENT, BILL, acct="0")
    assert settled.ok, settled.err_msg
    info, rows = settled.output["setlinfo"], _sums(settled.output)
    assert rows["390100"] == Decimal("1225.00")
    assert {k: v for k, v in rows.items() if k != "390100"} == EXPECTED[enrolled]
    assert sum(rows.values(), Decimal(0)) == (Decimal(str(info["fund_pay_sumamt"]))
                                              + Decimal(str(info["acct_pay"]))
                                              + Decimal(str(info["hosp_part_amt"])))
    assert Decimal(str(info["maf_pay"])) == rows.get("610200", Decimal(0))
    assert Decimal(str(info["oth_pay"])) == rows.get("999997", Decimal(0))
    moved = _ytd(insurer, psn_no)
    assert moved.get("veterans_paid", Decimal(0)) == rows.get("610200", Decimal(0))
    assert moved.get("commercial_paid", Decimal(0)) == rows.get("999997", Decimal(0))

    cancelled = window.cancel(RESIDENT, info["mdtrt_id"], info["setl_id"])
    assert cancelled.ok, cancelled.err_msg
    assert _sums(cancelled.output) == {k: -v for k, v in rows.items()}
    assert _ytd(insurer, psn_no) == before


def test_a_reversal_of_the_settlement_unwinds_every_payer(
    server: RunningServer, insurer: Insurer, window: Window, client: InsurerClient,
) -> None:
    psn_no = window.person(RESIDENT)["psn_no"]
    assert _enrol(server, psn_no, ["veterans", "commercial"]).status_code == 200
    before = _ytd(insurer, psn_no)
    settled = window.visit(RESIDENT, BILL, acct="0")
    assert "610200" in _sums(settled.output)
    reversed_ = client.call("2601", {"data": {"psn_no": psn_no, "omsgid": settled.msgid,
                                              "oinfno": "2207"}})
    assert reversed_.ok, reversed_.err_msg
    assert _ytd(insurer, psn_no) == before


def test_payer_totals_are_the_sums_of_the_setldetail_rows(
    server: RunningServer, insurer: Insurer, window: Window,
) -> None:
    psn_no = window.person(RESIDENT)["psn_no"]
    assert _enrol(server, psn_no, ["veterans"]).status_code == 200
    first = window.visit(RESIDENT, BILL, acct="0")
    second = window.visit(RESIDENT, BILL, acct="0")
    info = second.output["setlinfo"]
    window.cancel(RESIDENT, info["mdtrt_id"], info["setl_id"])
    answer = httpx.get(f"{server.url}/admin/payers/totals", headers=AUTH, params={
        "fixmedins_code": dataset.HOSPITAL, "begin": "2026-03-01", "end": "2026-03-31"})
    assert answer.status_code == 200, answer.text
    totals = {t["fund_pay_type"]: t for t in answer.json()["items"]}
    expected: dict[str, Decimal] = {}
    with insurer.ledger.read() as tx:
        for setl in tx.settlements_between(dataset.HOSPITAL, "2026-03-01", "2026-03-31"):
            for row in setl.setldetail:
                code = str(row["fund_pay_type"])
                expected[code] = expected.get(code, Decimal(0)) + Decimal(str(row["fund_payamt"]))
    assert {k: Decimal(str(t["net_amt"])) for k, t in totals.items()} == expected
    veterans = totals["610200"]
    assert (veterans["settled_cnt"], veterans["cancelled_cnt"]) == (2, 1)
    assert Decimal(str(veterans["net_amt"])) == _sums(first.output)["610200"]


def test_enrolment_route_refuses_bad_input(server: RunningServer, insurer: Insurer) -> None:
    psn_no = dataset.PERSONS[0]["psn_no"]
    bad = _enrol(server, psn_no, ["pension"])
    assert bad.status_code == 422
    assert bad.json()["error"]["where"] == "body.enrolments[0]"
    shape = httpx.put(f"{server.url}/admin/persons/{psn_no}/enrolments", headers=AUTH,
                      json={"enrolments": "veterans"})
    assert shape.status_code == 422
    unknown = _enrol(server, "NOPE", ["veterans"])
    assert unknown.status_code == 404
    assert _enrol(server, psn_no, ["veterans", "veterans"]).json()["enrolments"] == ["veterans"]
    got = httpx.get(f"{server.url}/admin/persons/{psn_no}/enrolments", headers=AUTH)
    assert got.json() == {"psn_no": psn_no, "enrolments": ["veterans"]}
    with insurer.ledger.read() as tx:
        assert enrolments_of(tx, psn_no) == {"veterans"}


def test_the_population_file_may_enrol_persons(insurer: Insurer, tmp_path: Any) -> None:
    people = [dict(p) for p in dataset.PERSONS]
    people[2]["enrolments"] = ["veterans", "commercial"]  # the others have no such field
    path = tmp_path / "enrolled.jsonl"
    path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in people))
    assert load_population(insurer.ledger, path) == len(people)
    with insurer.ledger.read() as tx:
        assert enrolments_of(tx, people[2]["psn_no"]) == {"veterans", "commercial"}
        assert enrolments_of(tx, people[0]["psn_no"]) == frozenset()
    people[2]["enrolments"] = ["pension"]
    path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in people))
    with pytest.raises(DataFileError, match=r"enrolled.jsonl:3: enrolments: unknown payer"):
        load_population(insurer.ledger, path)
    with insurer.ledger.read() as tx:  # a bad file changes nothing
        assert enrolments_of(tx, people[2]["psn_no"]) == {"veterans", "commercial"}
