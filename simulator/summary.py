"""Counting what a generated population, institution list and catalogue hold (for ``cardsettle
demo`` and for anyone checking a file). Pure functions over records; money is Decimal (yuan)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mock_insurer.money import parse_decimal
from simulator.catalogue import NO_PRICE_CAP

__all__ = [
    "CatalogueSummary",
    "PopulationSummary",
    "quartiles",
    "summarize_catalogue",
    "summarize_institutions",
    "summarize_population",
]


def quartiles(values: list[Decimal]) -> tuple[Decimal, Decimal, Decimal] | None:
    """The 25th, 50th and 75th percentiles (nearest rank) of ``values``; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    return tuple(ordered[max(0, -(-n * q // 4) - 1)] for q in (1, 2, 3))  # type: ignore[return-value]


@dataclass
class PopulationSummary:
    """Counts over persons. ``insutype``/``psn_type``/``status`` are of the main (first)
    insuinfo row; balance quartiles are over persons whose main scheme is 310 (with an account)."""

    count: int = 0
    insutype: Counter[str] = field(default_factory=Counter)
    psn_type: Counter[str] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)
    card_status: Counter[str] = field(default_factory=Counter)
    edge_cases: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    balance_quartiles: tuple[Decimal, Decimal, Decimal] | None = None
    account_holders: int = 0


def summarize_population(persons: Iterable[Mapping[str, Any]], home_admdvs: str = "110000") -> PopulationSummary:
    summary = PopulationSummary()
    balances: list[Decimal] = []
    for person in persons:
        summary.count += 1
        main = person["insuinfo"][0]
        summary.insutype[main["insutype"]] += 1
        summary.psn_type[main["psn_type"]] += 1
        summary.status[main["psn_insu_stas"]] += 1
        summary.card_status.update(card["status"] for card in person["cards"])
        summary.edge_cases.update(person["edge_cases"])
        for flag in ("maf_eligible", "deceased", "blacklisted"):
            summary.flags[flag] += bool(person[flag])
        summary.flags["insured_elsewhere"] += person["insuplc_admdvs"] != home_admdvs
        if main["insutype"] == "310":
            balances.append(parse_decimal(person["balc"]))
    summary.balance_quartiles = quartiles(balances)
    summary.account_holders = len(balances)
    return summary


def summarize_institutions(institutions: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Institutions by tier."""
    return Counter(str(inst["tier"]) for inst in institutions)


@dataclass
class CatalogueSummary:
    """Counts over a catalogue file's records."""

    items_by_level_and_type: Counter[tuple[str, str]] = field(default_factory=Counter)
    diagnoses: int = 0
    mappings: Counter[str] = field(default_factory=Counter)
    over_cap: int = 0  # mappings whose hospital price is above the item's cap

    @property
    def items(self) -> int:
        return sum(self.items_by_level_and_type.values())


def summarize_catalogue(records: Iterable[Mapping[str, Any]]) -> CatalogueSummary:
    summary = CatalogueSummary()
    caps: dict[str, Decimal] = {}
    for record in records:
        kind = record["kind"]
        if kind == "item":
            summary.items_by_level_and_type[(record["chrgitm_lv"], record["list_type"])] += 1
            if record["pric_uplmt_amt"] != NO_PRICE_CAP:
                caps[record["med_list_codg"]] = parse_decimal(record["pric_uplmt_amt"])
        elif kind == "diagnosis":
            summary.diagnoses += 1
        elif kind == "mapping":
            summary.mappings[record["mapping"]] += 1
            cap = caps.get(record["intended_med_list_codg"])
            if cap is not None and parse_decimal(record["hosp_pric"]) > cap:
                summary.over_cap += 1
    return summary
