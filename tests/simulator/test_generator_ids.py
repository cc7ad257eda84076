"""Resident ID numbers (GB 11643): the check character, gender parity, valid birth dates and known
division codes, for the ID module and for every generated person."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import divisions
from simulator.ids import CHECK_CHARS, WEIGHTS, check_char, make_certno, parse_certno
from simulator.persons import Layout, PopulationSpec, generate_chunk
from simulator.population import iter_persons

COUNTIES = divisions.county_codes()


def test_weights_and_the_standard_example() -> None:
    assert WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    # The example number of GB 11643-1999 itself.
    assert check_char("11010519491231002") == "X"
    assert parse_certno("11010519491231002X").gend == "2"


@settings(max_examples=300, deadline=None)
@given(
    area=st.sampled_from(COUNTIES),
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)),
    seq=st.integers(min_value=1, max_value=999),
)
def test_made_numbers_check_and_parse_back(area: str, birth: dt.date, seq: int) -> None:
    certno = make_certno(area, birth, seq)
    assert len(certno) == 18 and certno[:17].isdigit()
    # ISO 7064 MOD 11-2: the weighted sum including the check value is 1 mod 11.
    value = 10 if certno[17] == "X" else int(certno[17])
    assert (sum(int(d) * w for d, w in zip(certno[:17], WEIGHTS, strict=True)) + value) % 11 == 1
    parts = parse_certno(certno)
    assert (parts.area, parts.birth, parts.seq) == (area, birth, seq)
    assert parts.gend == ("1" if seq % 2 else "2")


@settings(max_examples=200, deadline=None)
@given(first17=st.text(alphabet="0123456789", min_size=17, max_size=17), wrong=st.sampled_from(CHECK_CHARS))
def test_a_wrong_check_character_is_refused(first17: str, wrong: str) -> None:
    if wrong == check_char(first17):
        return
    with pytest.raises(ValueError):
        parse_certno(first17 + wrong)


def _check_person_certno(person: dict[str, Any], ref_date: dt.date) -> None:
    parts = parse_certno(person["certno"])  # raises on a bad check character or date
    assert divisions.is_known(parts.area) and not parts.area.endswith("00"), person["certno"]
    assert parts.birth.isoformat() == person["brdy"]
    assert parts.birth < ref_date
    assert parts.gend == person["gend"]
    assert 0 < parts.seq < 1000


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**63),
    count=st.integers(min_value=1, max_value=400),
    ref_date=st.dates(min_value=dt.date(2017, 1, 1), max_value=dt.date(2060, 12, 31)),
    admdvs=st.sampled_from(["110000", "310000", "440300", "650000", "110105"]),
)
def test_every_generated_certno_is_valid(seed: int, count: int, ref_date: dt.date, admdvs: str) -> None:
    persons = list(iter_persons(count, seed=seed, ref_date=ref_date, admdvs=admdvs,
                                edge_rates={"certno_lowercase_x": 0.3, "twin": 0.2}))
    assert len(persons) == count
    for person in persons:
        _check_person_certno(person, ref_date)
    assert len({p["certno"] for p in persons}) == count


def test_certno_of_a_large_sample(default_persons: list[dict[str, Any]]) -> None:
    for person in default_persons:
        _check_person_certno(person, dt.date(2026, 1, 1))


def test_the_narrowest_sequence_groups_still_give_valid_unique_numbers() -> None:
    """In the largest populations a chunk owns only 16 sequence numbers per gender (31 groups),
    so some check characters have no number left and many persons draw again one at a time:
    the numbers stay valid, unique, and X wherever the label says so."""
    spec = PopulationSpec(count=64 * 3_900, seed=13,
                          edge_rates={"certno_lowercase_x": 0.5, "twin": 0.3, "typed_spaces": 0.0})
    layout = Layout.for_count(spec.count, chunk_size=64)
    assert layout.groups == 31 and layout.id_slot(3_899).width == 16
    persons = [orjson.loads(line) for chunk in range(3_840, 3_900) for line in generate_chunk(spec, layout, chunk)]
    for person in persons:
        _check_person_certno(person, spec.ref_date)
        if "certno_lowercase_x" in person["edge_cases"]:
            assert person["certno"].endswith("X") and person["typed"]["certno"].endswith("x")
    assert len({p["certno"] for p in persons}) == len(persons)
    assert sum("certno_lowercase_x" in p["edge_cases"] for p in persons) > 0.3 * len(persons)
