"""The SimPy model: bookkeeping (Little's law), staffing, balking, reneging, faults, seeds."""

from __future__ import annotations

import math
from typing import Any

import pytest

from simulator.windows.model import (
    BALKED,
    FLAG_LATER_CLAIM,
    RENEGED,
    SERVED,
    UNSERVED,
    simulate_day,
)
from simulator.windows.reduce import reduce_day
from simulator.windows.results import summarize
from simulator.windows.runs import run_replications
from simulator.windows.scenario import Scenario, load_scenario
from tests.simulator.windows.conftest import DATA


def _tiny(**overrides: Any) -> Scenario:
    """One kind, one fixed-length step, a short morning: easy to reason about."""
    data: dict[str, Any] = {
        "name": "tiny",
        "extends": "none",
        "arrivals": {"per_hour": {"08": 120, "09": 120}},
        "kinds": {"p": {"share": 1, "steps": ["s"]}},
        "steps": {"s": {"time": {"dist": "fixed", "value": 1, "unit": "min"}}},
        "staffing": {"hours": {"08": 2, "09": 2}},
    }
    data.update(overrides)
    from simulator.windows.scenario import compile_scenario

    return compile_scenario(data)


@pytest.mark.parametrize("name", ["default", "small"])
def test_littles_law_holds(name: str) -> None:
    scenario = load_scenario() if name == "default" else load_scenario(DATA / "small.yaml")
    report = summarize(scenario, run_replications(scenario, 3, 4, workers=1), 3)
    for part in ("queue", "system"):
        law = report["littles_law"][part]
        assert law["L"] == pytest.approx(law["lambda_W"], rel=1e-6)
        assert law["relative_error"] < 1e-6


def test_the_record_is_consistent() -> None:
    scenario = load_scenario(DATA / "small.yaml")
    record = simulate_day(scenario, 1, 0)
    n = len(record.arrival)
    assert n > 100
    assert list(record.arrival) == sorted(record.arrival)
    for i in range(n):
        if record.outcome[i] == SERVED:
            assert record.service[i] > 0 and record.wait[i] >= 0
        elif record.outcome[i] == BALKED:
            assert record.wait[i] == 0 and record.service[i] == 0
        else:
            assert record.service[i] == 0
    assert record.end >= max(a + w + s for a, w, s in zip(record.arrival, record.wait, record.service, strict=True)) - 1e-9


def test_busy_windows_never_exceed_open_windows() -> None:
    scenario = load_scenario()
    report = summarize(scenario, run_replications(scenario, 5, 3, workers=1), 5)
    for row in report["per_hour"]:
        assert row["utilization"] is None or row["utilization"] <= 1.0 + 1e-9
    series = report["series"]
    # when windows close at the full hour, a busy cashier finishes the patient first: the
    # window counts as open until then
    for busy, opened in zip(series["busy_mean"], series["open_mean"], strict=True):
        assert busy <= opened + 1e-3


def test_same_seed_same_report_whatever_the_workers() -> None:
    scenario = load_scenario(DATA / "small.yaml")
    one = summarize(scenario, run_replications(scenario, 11, 4, workers=1), 11)
    two = summarize(scenario, run_replications(scenario, 11, 4, workers=2), 11)
    assert one == two
    other = summarize(scenario, run_replications(scenario, 12, 4, workers=1), 12)
    assert other != one


def test_fixed_service_and_enough_windows_means_no_wait() -> None:
    scenario = _tiny(staffing={"hours": {"08": 20, "09": 20}})
    record = simulate_day(scenario, 1)
    assert max(record.wait) == 0
    assert set(record.service) == {1.0}


def test_closed_hours_make_patients_wait_for_the_next_opening() -> None:
    scenario = _tiny(staffing={"hours": {"08": 0, "09": 3}})
    record = simulate_day(scenario, 1)
    early = [w for a, w in zip(record.arrival, record.wait, strict=True) if a < 9 * 60]
    assert early and all(a + w >= 9 * 60 - 1e-9 for a, w in zip(record.arrival, early, strict=False))


def test_staffing_drop_lets_a_busy_cashier_finish() -> None:
    scenario = _tiny(
        steps={"s": {"time": {"dist": "fixed", "value": 30, "unit": "min"}}},
        arrivals={"per_hour": {"08": 4}},
        staffing={"hours": {"08": 4, "09": 0, "10": 1}},
    )
    record = simulate_day(scenario, 2)
    for a, w, s in zip(record.arrival, record.wait, record.service, strict=True):
        start = a + w
        assert start < 9 * 60 or start >= 10 * 60  # nobody starts while no window is open
        assert s == 30


def test_patience_runs_out_exactly() -> None:
    scenario = _tiny(
        staffing={"hours": {"08": 1, "09": 1}},
        patients={"patience": {"dist": "fixed", "value": 5, "unit": "min"}},
    )
    record = simulate_day(scenario, 3)
    reneged = [w for w, o in zip(record.wait, record.outcome, strict=True) if o == RENEGED]
    served = [w for w, o in zip(record.wait, record.outcome, strict=True) if o == SERVED]
    assert reneged and all(w == pytest.approx(5) for w in reneged)
    assert all(w <= 5 + 1e-9 for w in served)
    assert UNSERVED not in record.outcome


def test_balking_caps_the_queue() -> None:
    scenario = _tiny(staffing={"hours": {"08": 1, "09": 1}}, patients={"balking": [{"queue_at_least": 10, "probability": 1}]})
    record = simulate_day(scenario, 4)
    assert BALKED in record.outcome
    assert max(record.max_queue.values()) <= 10


def test_new_cashiers_are_slower() -> None:
    trained = _tiny(staffing={"skill": {"new": 2}, "hours": {"08": 20, "09": 20}})
    new = _tiny(staffing={"skill": {"new": 2}, "hours": {"08": {"windows": 20, "new": 20}, "09": {"windows": 20, "new": 20}}})
    assert set(simulate_day(trained, 1).service) == {1.0}
    assert set(simulate_day(new, 1).service) == {2.0}


def _outage(mode: str, **extra: Any) -> Scenario:
    return _tiny(
        steps={"s": {"time": 30, "insurer_calls": ["2207"]}, "cash": {"time": 120}},
        fallback={"steps": ["cash"]},
        insurer={"latency": {"dist": "fixed", "value": 500, "unit": "ms"}},
        staffing={"hours": {"08": 6, "09": 6}},
        faults=[{"kind": "outage", "start": "08:30", "end": "08:50", "mode": mode, **extra}],
    )


def test_outage_stall_holds_the_window_until_the_insurer_is_back() -> None:
    record = simulate_day(_outage("stall"), 5)
    for a, w, s, f in zip(record.arrival, record.wait, record.service, record.flags, strict=True):
        call = a + w + 0.5  # the step's 30 s of cashier work come first
        assert not f & FLAG_LATER_CLAIM
        if 8.5 * 60 <= call < 8 * 60 + 50:
            assert a + w + s == pytest.approx(8 * 60 + 50 + 500 / 60_000)
        else:
            assert s == pytest.approx(0.5 + 500 / 60_000)


def test_outage_self_pay_switches_and_counts_later_claims() -> None:
    scenario = _outage("self_pay")
    record = simulate_day(scenario, 5)
    switched = [(a + w, s) for a, w, s, f in zip(record.arrival, record.wait, record.service, record.flags, strict=True) if f & FLAG_LATER_CLAIM]
    assert switched
    for start, service in switched:
        assert 8.5 * 60 <= start + 0.5 < 8 * 60 + 50
        assert service == pytest.approx(0.5 + 2.0)
    report = summarize(scenario, [reduce_day(record, scenario)], 5)
    assert report["counts"]["later_claims"] == len(switched)
    assert report["by_kind"]["p"]["later_claims"] == len(switched)


def test_stall_then_switch_after_minutes() -> None:
    record = simulate_day(_outage("stall", switch_to_self_pay_after=5), 6)
    for a, w, s, f in zip(record.arrival, record.wait, record.service, record.flags, strict=True):
        call = a + w + 0.5
        if 8.5 * 60 <= call < 8.5 * 60 + 5:
            assert f & FLAG_LATER_CLAIM and a + w + s == pytest.approx(8.5 * 60 + 5 + 2.0)
        elif 8.5 * 60 + 5 <= call < 8 * 60 + 50:
            assert f & FLAG_LATER_CLAIM and s == pytest.approx(2.5)


def test_slow_period_multiplies_latency() -> None:
    scenario = _tiny(
        steps={"s": {"time": 0, "insurer_calls": ["1101", "2207"]}},
        insurer={"latency": {"dist": "fixed", "value": 1, "unit": "s"}},
        staffing={"hours": {"08": 20, "09": 20}},
        faults=[{"kind": "slow", "start": "09:00", "end": "10:00", "factor": 10, "add_ms": 1000}],
    )
    record = simulate_day(scenario, 7)
    for a, s in zip(record.arrival, record.service, strict=True):
        # the second round trip starts 11 s after the first: slow too unless past 10:00
        second = 11 if a + 11 / 60 < 10 * 60 else 1
        assert s == pytest.approx((11 + second if a >= 9 * 60 else 2) / 60)


def test_card_settlement_lengthens_service() -> None:
    scenario = load_scenario()
    with_card = summarize(scenario, run_replications(scenario, 1, 3, workers=1), 1)
    without = scenario.with_card_settlement(False)
    no_card = summarize(without, run_replications(without, 1, 3, workers=1), 1)
    assert with_card["service_minutes"]["mean"] > no_card["service_minutes"]["mean"] * 1.2
    assert with_card["wait_minutes"]["mean"] > no_card["wait_minutes"]["mean"]
    assert with_card["counts"]["referred"] > 0 and no_card["counts"]["referred"] == 0


def test_warmup_leaves_early_patients_out() -> None:
    scenario = _tiny(warmup_minutes=9 * 60)
    report = summarize(scenario, run_replications(scenario, 1, 2, workers=1), 1)
    assert report["per_hour"][0]["arrived"] == 0
    assert report["counts"]["arrived"] == pytest.approx(240, rel=0.2)
    assert not math.isnan(report["littles_law"]["queue"]["L"])


def test_service_times_have_the_scenario_mean() -> None:
    """The fast lognormal path draws from the same distributions as the stated ones."""
    scenario = load_scenario(overrides={"staffing": {"windows": 20}, "patients": {"balking": [], "patience": None}})
    report = summarize(scenario, run_replications(scenario, 8, 10, workers=1), 8)
    assert report["service_minutes"]["mean"] == pytest.approx(scenario.mean_service(), rel=0.02)
    for kind in scenario.kinds:
        steps = [scenario.steps[name] for name in scenario.path_of(kind)]
        expected = sum(step.time.mean + step.calls * scenario.latency.mean for step in steps)
        assert report["by_kind"][kind.name]["service_mean"] == pytest.approx(expected, rel=0.06), kind.name
