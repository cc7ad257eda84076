"""The enrolment post-pass: a seeded share of a generated population enrolled with the payers
that cover persons by enrolment (docs/policy.md "Several payers"), and the bill's payers."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from simulator.enrolments import DEFAULT_SHARES, enrol_persons, write_enrolled
from simulator.errors import InvalidArgumentError
from simulator.his.views import payers_of, with_payers
from simulator.population import write_population
from simulator.schemas import load_schema


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("enrol") / "persons.jsonl"
    write_population(path, 2000, seed=5, workers=1)
    return path


def test_a_seeded_share_is_enrolled_and_the_records_stay_valid(population: Path,
                                                               tmp_path: Path) -> None:
    target = tmp_path / "enrolled.jsonl"
    assert write_enrolled(population, target, seed=5) == 2000
    persons = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    validator = Draft202012Validator(load_schema("person"), format_checker=FormatChecker())
    for person in persons[:200]:
        validator.validate(person)
    for payer, share in DEFAULT_SHARES.items():
        enrolled = sum(payer in p["enrolments"] for p in persons)
        assert abs(enrolled / len(persons) - share) < 0.02 + share / 2, payer
    plain = [orjson.loads(line) for line in population.read_bytes().splitlines()]
    assert [{k: v for k, v in p.items() if k != "enrolments"} for p in persons] == plain


def test_the_draw_does_not_depend_on_the_order_or_the_run(population: Path) -> None:
    plain = [orjson.loads(line) for line in population.read_bytes().splitlines()][:300]
    forward = {p["psn_no"]: p["enrolments"] for p in enrol_persons(plain, 9)}
    backward = {p["psn_no"]: p["enrolments"] for p in enrol_persons(reversed(plain), 9)}
    assert forward == backward
    other = {p["psn_no"]: p["enrolments"] for p in enrol_persons(plain, 10)}
    assert other != forward
    kept = next(enrol_persons([{"psn_no": "1", "enrolments": ["veterans"]}], 9, {}))
    assert kept["enrolments"] == ["veterans"]


def test_a_share_outside_0_1_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match=r"veterans.*0\.\.1"):
        list(enrol_persons([{"psn_no": "1"}], 1, {"veterans": 1.5}))


def test_the_bill_lists_each_payer_as_the_insurer_answered() -> None:
    output = {"setlinfo": {"setl_id": "40001"}, "setldetail": [
        {"fund_pay_type": "310100", "fund_pay_type_name": "职工基本医疗保险统筹基金",
         "fund_payamt": 280},
        {"fund_pay_type": "610200", "fund_pay_type_name": "优抚对象医疗补助基金",
         "fund_payamt": "-96.0"}]}
    info = with_payers(output)
    assert info["setl_id"] == "40001"
    assert payers_of(info) == [
        {"fund_pay_type": "310100", "name": "职工基本医疗保险统筹基金", "amount": "280.00"},
        {"fund_pay_type": "610200", "name": "优抚对象医疗补助基金", "amount": "-96.00"}]
    assert payers_of({"setl_id": "40001"}) == []
