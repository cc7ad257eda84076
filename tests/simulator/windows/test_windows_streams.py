"""Like-for-like comparisons: arrivals and the patients' attributes have their own random
streams, so a drill, or card settlement on or off, does not change who arrives when."""

from __future__ import annotations

from typing import Any

from simulator.windows.model import DayRecord, simulate_day
from simulator.windows.results import summarize
from simulator.windows.runs import run_replications
from simulator.windows.scenario import Scenario, load_scenario

SEED = 11


def _day(faults: list[dict[str, Any]] | None = None, card: bool = True) -> Scenario:
    overrides: dict[str, Any] = {"faults": faults} if faults else {}
    scenario = load_scenario(overrides=overrides)
    return scenario if card else scenario.with_card_settlement(False)


def _patients(record: DayRecord) -> tuple[list[float], list[int]]:
    return list(record.arrival), list(record.kind)


def _per_hour(scenario: Scenario) -> list[dict[str, Any]]:
    report = summarize(scenario, run_replications(scenario, SEED, 2, workers=1), SEED)
    assert report["per_hour"] is not None
    return list(report["per_hour"])


def test_a_do_nothing_fault_changes_nothing() -> None:
    plain = _day()
    drill = _day([{"kind": "slow", "start": "23:00", "end": "23:30", "factor": 1}])
    assert not drill.faults.empty
    a, b = simulate_day(plain, SEED), simulate_day(drill, SEED)
    assert _patients(a) == _patients(b)
    assert list(a.wait) == list(b.wait) and list(a.service) == list(b.service)
    assert list(a.outcome) == list(b.outcome)
    assert _per_hour(plain) == _per_hour(drill)


def test_an_outage_leaves_the_arrivals_and_the_hours_before_it_alone() -> None:
    plain = _day()
    drill = _day([{"kind": "outage", "start": "09:00", "end": "09:30", "mode": "stall"}])
    a, b = simulate_day(plain, SEED), simulate_day(drill, SEED)
    assert _patients(a) == _patients(b)
    start = 9 * 60
    done_before = [
        i for i in range(len(a.arrival)) if a.arrival[i] + a.wait[i] + a.service[i] < start
    ]
    assert len(done_before) > 500
    for i in done_before:
        assert (a.wait[i], a.service[i], a.outcome[i]) == (b.wait[i], b.service[i], b.outcome[i])
    assert list(a.service) != list(b.service)  # the outage did something
    hours_a, hours_b = _per_hour(plain), _per_hour(drill)
    for row_a, row_b in zip(hours_a, hours_b, strict=True):
        assert row_a["arrived"] == row_b["arrived"]  # arrivals per hour: identical all day
    # 07:00: everybody of the hour is served long before 09:00
    assert hours_a[0]["hour"] == "07:00" and hours_a[0] == hours_b[0]


def test_card_settlement_on_or_off_has_the_same_patients() -> None:
    a = simulate_day(_day(), SEED)
    b = simulate_day(_day(card=False), SEED)
    assert _patients(a) == _patients(b)
    assert list(a.service) != list(b.service)


def test_patients_leaving_or_not_has_the_same_patients() -> None:
    scenario = _day()
    calm = load_scenario(replace={"patients": {"balking": [], "patience": None}})
    assert calm.patience is None
    assert _patients(simulate_day(scenario, SEED)) == _patients(simulate_day(calm, SEED))


def test_the_streams_depend_on_seed_and_replication() -> None:
    scenario = _day()
    assert _patients(simulate_day(scenario, SEED, 0)) == _patients(simulate_day(scenario, SEED, 0))
    assert _patients(simulate_day(scenario, SEED, 0)) != _patients(simulate_day(scenario, SEED, 1))
    assert _patients(simulate_day(scenario, SEED, 0)) != _patients(simulate_day(scenario, SEED + 1, 0))
