"""Identity edge cases: each label occurs at its configured rate, and the typed form differs from
the record exactly as the labels say (and equals it where no label says otherwise)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from simulator.edge_cases import (
    DEFAULT_EDGE_RATES,
    EDGE_CASE_LABELS,
    NAME_KINDS,
    resolve_edge_rates,
    to_fullwidth_digits,
    untype_certno,
)
from simulator.errors import InvalidArgumentError
from simulator.names import MIDDLE_DOT, name_pools
from simulator.population import iter_persons

from .conftest import HIGH_RATES

COMPOUND = frozenset(name_pools(1).compound)


def _gbk(text: str) -> bool:
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def _tolerance(rate: float, n: int) -> float:
    """Five standard deviations of a binomial share (the samples are seeded: no flakiness, but
    a real bias of a fraction of the rate is still caught at these sizes)."""
    return 5 * math.sqrt(rate * (1 - rate) / n) + 2 / n


def check_person(person: dict[str, Any]) -> None:
    """Assert that the labels describe exactly how the name, the cards and the typed form look."""
    labels = set(person["edge_cases"])
    assert len(labels) == len(person["edge_cases"]), "a label twice"
    assert list(person["edge_cases"]) == [x for x in EDGE_CASE_LABELS if x in labels], "label order"
    name, certno, typed = person["psn_name"], person["certno"], person["typed"]

    # name kinds: each label if and only if the property
    assert ("name_outside_gbk" in labels) == (not _gbk(name)), name
    assert ("name_middle_dot" in labels) == (MIDDLE_DOT in name), name
    assert ("name_long" in labels) == (len(name) >= 6 and MIDDLE_DOT not in name), name
    assert ("compound_surname" in labels) == (name[:2] in COMPOUND), name
    assert sum(kind in labels for kind in NAME_KINDS) <= 1
    if MIDDLE_DOT in name:
        assert name.count(MIDDLE_DOT) == 1 and not name.startswith(MIDDLE_DOT) and not name.endswith(MIDDLE_DOT)
    if not labels & set(NAME_KINDS):
        assert 2 <= len(name) <= 3, name

    # the typed name: padded with spaces iff typed_spaces, otherwise the record exactly
    if "typed_spaces" in labels:
        assert typed["psn_name"] != name and typed["psn_name"].strip(" ") == name
        assert typed["certno"] != typed["certno"].strip(" ")
    else:
        assert typed["psn_name"] == name
        assert typed["certno"] == typed["certno"].strip(" ")

    # the typed ID number: rebuild it from the record and the labels
    expected = certno
    if "certno_lowercase_x" in labels:
        assert certno.endswith("X")
        expected = certno[:17] + "x"
    if "fullwidth_digits" in labels:
        expected = to_fullwidth_digits(expected)
    assert typed["certno"].strip(" ") == expected
    assert untype_certno(typed["certno"]) == certno

    # cards: the typed card number is the active card's; replaced_card iff an old card too
    active = [c for c in person["cards"] if c["status"] == "active"]
    assert len(active) == 1 and person["cards"][-1] is active[0]
    assert typed["card_no"] == active[0]["card_no"]
    if "replaced_card" in labels:
        old = person["cards"][0]
        assert len(person["cards"]) == 2 and old["status"] in ("lost", "replaced")
        assert old["issued"] <= active[0]["issued"] and old["card_no"] != active[0]["card_no"]
    else:
        assert len(person["cards"]) == 1


def check_twins(persons: list[dict[str, Any]]) -> None:
    """Every person labelled twin has a partner labelled twin next to it: same name, birthday
    and gender, another ID number."""
    for i, person in enumerate(persons):
        if "twin" not in person["edge_cases"]:
            continue
        partners = [
            other for other in persons[max(0, i - 1): i + 2]
            if other is not person and "twin" in other["edge_cases"]
            and (other["psn_name"], other["brdy"], other["gend"]) == (person["psn_name"], person["brdy"], person["gend"])
        ]
        assert partners, person["certno"]
        assert all(p["certno"] != person["certno"] and p["psn_no"] != person["psn_no"] for p in partners)


def check_rates(persons: list[dict[str, Any]], rates: dict[str, float]) -> None:
    counts = Counter(label for p in persons for label in p["edge_cases"])
    n = len(persons)
    for label in EDGE_CASE_LABELS:
        share = counts[label] / n
        assert abs(share - rates[label]) <= _tolerance(rates[label], n), (label, share, rates[label])


def test_labels_describe_the_records_exactly_at_high_rates(high_rate_persons: list[dict[str, Any]]) -> None:
    for person in high_rate_persons:
        check_person(person)
    check_twins(high_rate_persons)


def test_each_label_at_its_configured_rate(high_rate_persons: list[dict[str, Any]]) -> None:
    check_rates(high_rate_persons, HIGH_RATES)


def test_default_rates(default_persons: list[dict[str, Any]]) -> None:
    for person in default_persons:
        check_person(person)
    check_twins(default_persons)
    check_rates(default_persons, dict(DEFAULT_EDGE_RATES))
    assert all(rate > 0 for rate in DEFAULT_EDGE_RATES.values())


@pytest.mark.parametrize(
    "rates",
    [
        dict.fromkeys(EDGE_CASE_LABELS, 0.0),
        {"compound_surname": 1.0, "name_outside_gbk": 0.0, "name_middle_dot": 0.0, "name_long": 0.0,
         "certno_lowercase_x": 1.0, "fullwidth_digits": 1.0, "typed_spaces": 1.0, "replaced_card": 1.0,
         "twin": 0.5},
        {"name_middle_dot": 0.5, "name_long": 0.5, "name_outside_gbk": 0.0, "compound_surname": 0.0,
         "twin": 0.0, "certno_lowercase_x": 0.5},
        {"name_outside_gbk": 0.25, "name_middle_dot": 0.25, "name_long": 0.25, "compound_surname": 0.25},
    ],
)
def test_extreme_rates(rates: dict[str, float]) -> None:
    persons = list(iter_persons(4_000, seed=21, edge_rates=rates))
    full = resolve_edge_rates(rates)
    for person in persons:
        check_person(person)
    check_twins(persons)
    check_rates(persons, full)


def test_rate_validation() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown edge-case label"):
        resolve_edge_rates({"twins": 0.1})
    with pytest.raises(InvalidArgumentError, match=r"0\.\.1"):
        resolve_edge_rates({"twin": 1.5})
    with pytest.raises(InvalidArgumentError, match=r"0\.\.1"):
        resolve_edge_rates({"twin": -0.1})
    with pytest.raises(InvalidArgumentError, match="at most 1"):
        resolve_edge_rates({"name_long": 0.6, "name_middle_dot": 0.6})
