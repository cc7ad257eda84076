"""The out-of-area scenario against the reference HIS: each out-of-area patient is paid under the
home scheme's profile (recomputed here from the profiles), and day-end reconciles one 3201 group
per clearing institution (scenarios/library/out-of-area.yaml)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import orjson

from mock_insurer.money import round_money
from mock_insurer.policy import load_profile
from mock_insurer.policy.home_schemes import HomeSchemes
from scenarios.library import library_path
from scenarios.loading import load_scenario
from scenarios.runner import run_scenario

DAY = date(2026, 3, 2)


def test_out_of_area_patients_are_paid_by_their_home_scheme_and_reconciled_apart(
        tmp_path: Path) -> None:
    result = run_scenario(load_scenario(library_path("out-of-area") or ""), tmp_path)
    failed = {c.name: c.evidence for c in result.checks if not c.passed}
    assert not failed, failed
    persons = {}
    for path in (tmp_path / "data").glob("population-*.jsonl"):
        for line in path.read_bytes().splitlines():
            record = orjson.loads(line)
            persons[record["psn_no"]] = record
    home = HomeSchemes.packaged()
    places = {}
    for visit in result.visits:
        if visit.id not in ("hebei-employee", "elsewhere-employee"):
            continue
        person = persons[visit.psn_no]
        place = person["insuplc_admdvs"]
        places[visit.id] = place
        assert place[:2] != "11"
        amounts = {k: Decimal(v) for k, v in (visit.bill or {})["amounts"].items()
                   if k in ("medfee_sumamt", "act_pay_dedc", "hifp_pay")}
        used = sum((Decimal(c["dedc_used"]) for c in person["cum"]
                    if c["year"] == DAY.year and c["insutype"] == "310"), Decimal(0))
        pool = load_profile(home.name_for(place)).at(DAY).rates("310", "3", retired=False).pool
        dedc = min(amounts["medfee_sumamt"], max(pool.deductible - used, Decimal(0)))
        assert amounts["act_pay_dedc"] == dedc, visit.id
        assert amounts["hifp_pay"] == round_money(
            (amounts["medfee_sumamt"] - dedc) * pool.ratio) + pool.registration_payment
        local = load_profile("beijing").at(DAY).rates("310", "3", retired=False).pool
        assert local.registration_payment > 0 and pool.registration_payment == 0
        assert amounts["hifp_pay"] != round_money((amounts["medfee_sumamt"] - dedc)
                                                  * local.ratio), "would equal the local split"
    assert home.name_for(places["hebei-employee"]) == "hebei"
    assert home.name_for(places["elsewhere-employee"]) == "national"
    (day_end,) = result.day_ends
    groups = day_end.body["groups"]
    employees = {g["setl_optins"] for g in groups if g["insutype"] == "310"}
    assert employees == {"110000", *places.values()}  # one 3201 per clearing institution
    assert all(g["first"]["stmt_rslt"] == "0" and g["his"]["count"] == 1
               for g in groups), groups
