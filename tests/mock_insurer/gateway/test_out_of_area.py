"""Patients insured elsewhere (异地就医直接结算): the insured place is checked, the home scheme's
benefits pay, the clearing institution is the insured place, and reconciliation keeps the
groups apart (docs/policy.md "Patients insured elsewhere")."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from mock_insurer.client import InsurerRefusal
from mock_insurer.money import render, round_money
from mock_insurer.policy import load_profile
from mock_insurer.policy.home_schemes import HomeSchemes, pay_loc
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window

D = Decimal
DAY = "2026-03-02"
HEBEI = "130100"  # 石家庄市: province 13 -> profile hebei
BILL = [("002203000010000", "1"), ("XJ01CAA040A001010100568", "2"),
        ("ZA01AAA0001010101234", "1"), ("001102000010000", "1")]


def _twin(n: int, place: str) -> dict[str, Any]:
    """Person 1's twin for the bill above (same age, scheme and balance), insured in ``place``."""
    base = dict(dataset.PERSONS[0])
    return {**base, "psn_no": f"{place[:2]}00000000000000{n:04d}",
            "certno": f"{place}19800101{n:03d}X",
            "insuplc_admdvs": place, "insuinfo": [dict(base["insuinfo"][0])],
            "cards": [{"card_no": f"B{n:08d}", "card_sn": f"{place}D156{n:022d}",
                       "status": "active", "issued": "2020-01-01"}],
            "ec_token": f"{place}ec{n:026d}", "balc": "1378.15"}


@pytest.fixture(autouse=True)
def _persons(monkeypatch: pytest.MonkeyPatch) -> None:
    persons = [*dataset.PERSONS]
    persons += [_twin(len(persons) + 1, HEBEI), _twin(len(persons) + 2, "440300")]
    monkeypatch.setattr(dataset, "PERSONS", persons)


def _n(place: str) -> int:
    return next(i for i, p in enumerate(dataset.PERSONS, 1) if p["insuplc_admdvs"] == place)


def _as(window: Window, place: str) -> None:
    """The HIS sends ``place`` as insuplc_admdvs from now on."""
    window.client.insuplc_admdvs = place


def test_1101_answers_the_insured_place(window: Window) -> None:
    assert window.info(_n(HEBEI)).output["insuinfo"][0]["insuplc_admdvs"] == HEBEI


def test_the_hospitals_area_for_an_out_of_area_patient_is_refused(window: Window) -> None:
    with pytest.raises(InsurerRefusal) as refused:
        window.register(_n(HEBEI))  # the client sends 110000, the hospital's pool
    assert refused.value.err_msg.startswith("FSI-参保地医保区划110000与参保人参保地130100不符")
    assert "[insuplc_admdvs]" in refused.value.err_msg


def test_a_local_patient_with_another_area_is_refused_too(window: Window) -> None:
    _as(window, HEBEI)
    with pytest.raises(InsurerRefusal, match="参保人参保地110000"):
        window.register(1)


def test_settlement_is_refused_when_the_area_changes_after_registration(window: Window) -> None:
    n = _n(HEBEI)
    _as(window, HEBEI)
    mdtrt_id = window.register(n)
    window.diagnose(n, mdtrt_id)
    window.upload([window.row(n, mdtrt_id, "002203000010000", "1")])
    _as(window, "110000")
    with pytest.raises(InsurerRefusal, match="不符"):
        window.pre_settle(n, mdtrt_id, D(window.row(n, mdtrt_id, "002203000010000", "1")
                                          ["det_item_fee_sumamt"]))


def _visit(window: Window, place: str) -> dict[str, Any]:
    _as(window, place)
    info: dict[str, Any] = window.visit(_n(place), BILL).output["setlinfo"]
    return info


def test_the_home_schemes_benefits_pay_under_the_local_catalogue(window: Window) -> None:
    local = _visit(window, "110000")
    hebei = _visit(window, HEBEI)
    # The same items at the same prices: the catalogue's split is the treatment place's.
    for key in ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt",
                "inscp_scp_amt"):
        assert hebei[key] == local[key], key
    # The pooled fund pays by Hebei's rules: its deductible and its tier-3 ratio, no
    # registration payment (docs/policy.md "Patients insured elsewhere").
    rates = load_profile("hebei").at(date(2026, 3, 2)).rates("310", "3", retired=False).pool
    assert hebei["act_pay_dedc"] == rates.deductible
    assert hebei["hifp_pay"] == round_money((hebei["inscp_scp_amt"] - rates.deductible)
                                            * rates.ratio)
    beijing = load_profile("beijing").at(date(2026, 3, 2)).rates("310", "3", retired=False).pool
    assert local["act_pay_dedc"] == beijing.deductible
    assert hebei["hifp_pay"] != local["hifp_pay"]
    # Clearing: the insured place's agency; outpatient clearing type.
    assert (local["clr_optins"], hebei["clr_optins"]) == ("110000", HEBEI)
    assert hebei["clr_type"] == local["clr_type"] == "11"


def test_an_unmapped_province_gets_the_default_home_profile(window: Window) -> None:
    shenzhen = _visit(window, "440300")
    rates = load_profile(HomeSchemes.packaged().default).at(date(2026, 3, 2)).rates(
        "310", "3", retired=False).pool
    assert shenzhen["act_pay_dedc"] == rates.deductible
    assert shenzhen["clr_optins"] == "440300"


def _totals(window: Window, rows: list[dict[str, Any]], optins: str) -> dict[str, Any]:
    info: dict[str, Any] = window.client.call("3201", {"data": {
        "insutype": "310", "clr_type": "11", "setl_optins": optins,
        "stmt_begndate": DAY, "stmt_enddate": DAY,
        "medfee_sumamt": sum((r["medfee_sumamt"] for r in rows), D("0")),
        "fund_pay_sumamt": sum((r["fund_pay_sumamt"] for r in rows), D("0")),
        "acct_pay": sum((r["acct_pay"] for r in rows), D("0")),
        "fixmedins_setl_cnt": len(rows)}}).output["stmtinfo"]
    return info


def test_3201_keeps_the_local_and_the_out_of_area_groups_apart(window: Window) -> None:
    local, hebei = _visit(window, "110000"), _visit(window, HEBEI)
    _as(window, "110000")
    assert _totals(window, [local], "110000")["stmt_rslt"] == "0"
    assert _totals(window, [hebei], HEBEI)["stmt_rslt"] == "0"
    lumped = _totals(window, [local, hebei], "110000")  # a HIS that lumps the groups
    assert lumped["stmt_rslt"] == "2", lumped  # the institution has more
    assert lumped["setl_optins"] == "110000"


def test_3202_answers_only_the_rows_of_its_clearing_institution(window: Window) -> None:
    local, hebei = _visit(window, "110000"), _visit(window, HEBEI)
    _as(window, "110000")
    lines = "".join("\t".join([r["setl_id"], r["mdtrt_id"], r["psn_no"],
                               render(r["medfee_sumamt"]), render(r["fund_pay_sumamt"]),
                               render(r["acct_pay"]), "0"]) + "\n" for r in (local, hebei))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("detail.txt", lines)
    uploaded = window.client.upload_file("detail.zip", buffer.getvalue()).output
    info = window.client.call("3202", {"data": {
        "setl_optins": HEBEI, "file_qury_no": uploaded["file_qury_no"],
        "stmt_begndate": DAY, "stmt_enddate": DAY, "medfee_sumamt": "0", "fund_pay_sumamt": "0",
        "cash_payamt": "0", "fixmedins_setl_cnt": 2, "clr_type": "11"}}).output["fileinfo"]
    content = window.client.download_file(info["file_qury_no"], info["filename"])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        result = archive.read("result.txt").decode("utf-8").splitlines()
    by_setl = {line.split("\t")[2]: line.split("\t")[4] for line in result}
    assert by_setl == {hebei["setl_id"]: "0", local["setl_id"]: "2"}


@pytest.mark.parametrize(("insured", "treated", "code"), [
    ("110000", "110105", "2"), ("130100", "130200", "3"), ("130100", "110105", "4"),
    ("130000", "130100", "2")])
def test_pay_loc(insured: str, treated: str, code: str) -> None:
    assert pay_loc(insured, treated) == code


def test_the_map_names_packaged_profiles_only() -> None:
    from mock_insurer.policy import ProfileError

    with pytest.raises(ProfileError, match=r"provinces\.44: unknown profile 'guangdong'"):
        HomeSchemes.from_mapping({"default": "national", "provinces": {"44": "guangdong"}},
                                 source="test")
