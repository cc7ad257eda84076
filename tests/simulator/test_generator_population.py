"""What a user of the population would notice: unique identifiers, consistent dates and
schemes, the insured place, and shares close to the distributions of data/population.yaml."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from mock_insurer.money import parse_decimal
from simulator import divisions
from simulator.errors import InvalidArgumentError
from simulator.population import iter_persons

REF = dt.date(2026, 1, 1)
LAST = REF - dt.timedelta(days=1)  # ages hold on the day before the reference date


def _age(brdy: str, ref: dt.date = LAST) -> int:
    born = dt.date.fromisoformat(brdy)
    return ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))


def test_identifiers_are_unique(default_persons: list[dict[str, Any]]) -> None:
    n = len(default_persons)
    for field in ("psn_no", "certno", "ec_token"):
        assert len({p[field] for p in default_persons}) == n, field
    cards = [c for p in default_persons for c in p["cards"]]
    assert len({c["card_no"] for c in cards}) == len(cards)
    assert len({c["card_sn"] for c in cards}) == len(cards)


def test_places_prefix_the_identifiers(default_persons: list[dict[str, Any]]) -> None:
    areas = {a for p in divisions.province_codes() for a in divisions.pooling_areas(p)}
    elsewhere = 0
    for p in default_persons:
        place = p["insuplc_admdvs"]
        assert p["psn_no"].startswith(place) and len(p["psn_no"]) == 20
        assert p["ec_token"].startswith(place + "ec")
        assert all(c["card_sn"].startswith(place + "D156000005") for c in p["cards"])
        if place != "110000":
            elsewhere += 1
            assert place in areas, place  # a pooling area: a prefecture or a municipality
    assert 0.03 < elsewhere / len(default_persons) < 0.07


def test_schemes_fit_age_and_dates(default_persons: list[dict[str, Any]]) -> None:
    for p in default_persons:
        age, brdy = _age(p["brdy"]), p["brdy"]
        main = p["insuinfo"][0]
        kind = main["psn_type"]
        if kind in ("1401", "1402", "1403", "1405"):
            assert age < 18, p
        if kind == "1404":
            assert 18 <= age <= 22
        if kind == "1401":
            assert age == 0
        if kind.startswith("12"):
            assert age >= 50
        if kind in ("1101", "1102", "1103") and main["insutype"] == "310":
            assert 18 <= age <= 62
        for row in p["insuinfo"]:
            assert brdy <= row["psn_insu_date"] < REF.isoformat()
            if row["psn_insu_stas"] == "1":
                assert row["paus_insu_date"] is None
            else:
                assert row["psn_insu_date"] <= row["paus_insu_date"] < REF.isoformat()
        if main["insutype"] == "310":
            assert _age(brdy, dt.date.fromisoformat(main["psn_insu_date"])) >= 18
        extra_types = [row["insutype"] for row in p["insuinfo"][1:]]
        if extra_types:
            assert main["insutype"] == "310"
        if main["psn_type"] in ("1102", "1202"):
            assert "320" in extra_types and all(row["cvlserv_flag"] == "1" for row in p["insuinfo"])
        else:
            assert all(row["cvlserv_flag"] == "0" for row in p["insuinfo"])
        for row in p["insuinfo"][1:]:
            if row["insutype"] == "390":  # a residents' scheme left for employment
                assert row["psn_insu_stas"] == "4" and row["paus_insu_date"] == main["psn_insu_date"]
                assert row["emp_name"] is None
        for card in p["cards"]:
            assert main["psn_insu_date"] <= card["issued"] < REF.isoformat()


def test_accounts_and_year_to_date(default_persons: list[dict[str, Any]]) -> None:
    for p in default_persons:
        main = p["insuinfo"][0]
        balance = parse_decimal(p["balc"])
        assert balance >= 0 and p["balc"] == f"{balance:.2f}"
        if main["insutype"] != "310":
            assert p["balc"] == "0.00"
        assert p["cum"] == [{"year": 2026, "insutype": main["insutype"], "dedc_used": "0.00", "hifp_paid": "0.00"}]
    employees = sorted(parse_decimal(p["balc"]) for p in default_persons if p["insuinfo"][0]["insutype"] == "310")
    assert Decimal("500") < employees[len(employees) // 2] < Decimal("3000")


def test_year_to_date_grows_through_the_year() -> None:
    persons = list(iter_persons(3_000, seed=4, ref_date=dt.date(2026, 10, 1)))
    used = [parse_decimal(p["cum"][0]["dedc_used"]) for p in persons]
    active = sum(1 for u in used if u > 0)
    assert 0.3 < active / len(persons) < 0.6  # 0.60 x 273/365 = 0.45
    assert all(p["cum"][0]["year"] == 2026 for p in persons)


def test_shares_are_plausible(default_persons: list[dict[str, Any]]) -> None:
    n = len(default_persons)
    main = Counter(p["insuinfo"][0]["insutype"] for p in default_persons)
    assert (main["310"] + main["390"]) / n > 0.97
    assert 0.45 < main["310"] / n < 0.7
    assert {"340", "350", "399"} <= set(main)
    naty = Counter(p["naty"] for p in default_persons)
    assert 0.88 < naty["01"] / n < 0.94
    gend = Counter(p["gend"] for p in default_persons)
    assert 0.49 < gend["1"] / n < 0.535
    status = Counter(p["insuinfo"][0]["psn_insu_stas"] for p in default_persons)
    assert 0.95 < status["1"] / n < 0.98 and status["2"] and status["4"]
    for flag, share in (("maf_eligible", 0.025), ("deceased", 0.002), ("blacklisted", 0.001)):
        got = sum(p[flag] for p in default_persons) / n
        assert abs(got - share) < 5 * math.sqrt(share * (1 - share) / n), flag
    ages = [_age(p["brdy"]) for p in default_persons]
    assert 0.15 < sum(a >= 60 for a in ages) / n < 0.24  # census 2020: 18.7 %
    assert max(ages) <= 101 and min(ages) >= 0


def test_persons_elsewhere_are_insured_in_prefectures_of_other_provinces(
        default_persons: list[dict[str, Any]]) -> None:
    places = {p["insuplc_admdvs"] for p in default_persons} - {"110000"}
    assert any(not place.endswith("0000") for place in places)  # e.g. 130100 石家庄
    assert all(not place.startswith("11") for place in places)


def test_a_prefecture_population_has_persons_from_its_provinces_other_prefectures() -> None:
    persons = list(iter_persons(4000, seed=3, admdvs="130100"))
    places = {p["insuplc_admdvs"] for p in persons}
    assert "130100" in places
    assert {place for place in places if place.startswith("13")} - {"130100"}, \
        "another city of the same province (省内异地)"


def test_another_insured_place() -> None:
    persons = list(iter_persons(500, seed=2, admdvs="440300"))
    home = [p for p in persons if p["insuplc_admdvs"] == "440300"]
    assert len(home) > 400
    born_in_guangdong = sum(p["certno"].startswith("44") for p in home)
    assert born_in_guangdong / len(home) > 0.6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"count": 0}, "positive"),
        ({"count": -3}, "positive"),
        ({"count": 10, "admdvs": "999999"}, "unknown division code"),
        ({"count": 10, "admdvs": "11"}, "6-digit"),
        ({"count": 10, "edge_rates": {"twin": 2}}, "0..1"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        list(iter_persons(**kwargs))
