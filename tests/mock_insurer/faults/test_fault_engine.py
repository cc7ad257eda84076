"""The fault engine: each selector, plan order, inactive faults, seeded draws, statistics."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from mock_insurer.faults import Delay, FaultEngine, FaultPlan, MessageFacts

MORNING = datetime(2026, 3, 2, 8, 30)


def facts(
    infno: str = "2207",
    fixmedins_code: str = "H11010500001",
    psn_no: str | None = "P1",
    at: datetime = MORNING,
    msgid: str = "H11010500001202603020830000001",
) -> MessageFacts:
    return MessageFacts(infno, fixmedins_code, psn_no, msgid, at)


def engine(text: str) -> FaultEngine:
    return FaultEngine(FaultPlan.from_yaml(text))


def hit_id(eng: FaultEngine, message: MessageFacts) -> str | None:
    hit = eng.match(message)
    return None if hit is None else hit.fault_id


def test_no_plan_matches_nothing_and_is_not_active() -> None:
    eng = FaultEngine()
    assert not eng.has_active
    assert eng.match(facts()) is None
    assert eng.stats() == {}
    assert eng.plan() == FaultPlan()


def test_a_fault_without_selectors_hits_every_message() -> None:
    eng = engine("faults: [{id: all, name: 全部, effect: refuse}]")
    assert eng.has_active
    hit = eng.match(facts(infno="1101", psn_no=None))
    assert hit is not None
    assert (hit.fault_id, hit.fault_name, hit.effect.kind, hit.delay_ms) == (
        "all",
        "全部",
        "refuse",
        None,
    )


def test_infno_selector() -> None:
    eng = engine("faults: [{id: s, match: {infno: ['2207', '2208']}, effect: close}]")
    assert hit_id(eng, facts(infno="2207")) == "s"
    assert hit_id(eng, facts(infno="2208")) == "s"
    assert hit_id(eng, facts(infno="2206")) is None
    assert hit_id(eng, facts(infno="2207A")) is None


def test_institution_selector() -> None:
    eng = engine("faults: [{id: h, match: {fixmedins_code: H11010500001}, effect: close}]")
    assert hit_id(eng, facts(fixmedins_code="H11010500001")) == "h"
    assert hit_id(eng, facts(fixmedins_code="H11010500002")) is None


def test_person_selector() -> None:
    eng = engine("faults: [{id: p, match: {psn_no: [P1, P2]}, effect: close}]")
    assert hit_id(eng, facts(psn_no="P2")) == "p"
    assert hit_id(eng, facts(psn_no="P3")) is None
    assert hit_id(eng, facts(psn_no=None)) is None  # 9001 has no person: never selected


def test_all_given_selectors_must_match() -> None:
    eng = engine("faults: [{id: both, match: {infno: '2207', fixmedins_code: H1}, effect: close}]")
    assert hit_id(eng, facts(infno="2207", fixmedins_code="H1")) == "both"
    assert hit_id(eng, facts(infno="2207", fixmedins_code="H2")) is None
    assert hit_id(eng, facts(infno="2206", fixmedins_code="H1")) is None


def test_window_start_is_inclusive_and_end_exclusive() -> None:
    eng = engine(
        """
        faults:
          - id: w
            match: {window: {start: "2026-03-02 08:00:00", end: "2026-03-02 09:00:00"}}
            effect: close
        """
    )
    start, end = datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 9)
    assert hit_id(eng, facts(at=start - timedelta(seconds=1))) is None
    assert hit_id(eng, facts(at=start)) == "w"
    assert hit_id(eng, facts(at=end - timedelta(microseconds=1))) == "w"
    assert hit_id(eng, facts(at=end)) is None


def test_open_ended_windows() -> None:
    eng = engine(
        """
        faults:
          - {id: from9, match: {window: {start: "2026-03-02 09:00:00"}}, effect: close}
          - {id: until8, match: {window: {end: "2026-03-02 08:00:00"}}, effect: close}
        """
    )
    assert hit_id(eng, facts(at=datetime(2030, 1, 1))) == "from9"
    assert hit_id(eng, facts(at=datetime(2020, 1, 1))) == "until8"
    assert hit_id(eng, facts(at=datetime(2026, 3, 2, 8, 30))) is None


def test_first_n_counts_only_messages_that_matched_the_other_selectors() -> None:
    eng = engine("faults: [{id: once2, match: {infno: '2207', first: 2}, effect: close}]")
    assert hit_id(eng, facts(infno="2206")) is None  # not counted
    assert hit_id(eng, facts(infno="2207")) == "once2"
    assert hit_id(eng, facts(infno="2201")) is None  # not counted
    assert hit_id(eng, facts(infno="2207")) == "once2"
    assert hit_id(eng, facts(infno="2207")) is None  # the first 2 are spent
    assert eng.stats() == {"once2": 2}


def test_first_n_with_probability_caps_the_hits() -> None:
    eng = engine("seed: 1\nfaults: [{id: c, match: {probability: 0.5, first: 3}, effect: close}]")
    hits = [hit_id(eng, facts()) for _ in range(200)]
    assert hits.count("c") == 3


def test_probability_is_seeded_same_seed_same_hits() -> None:
    text = "seed: {seed}\nfaults: [{{id: p, match: {{probability: 0.3}}, effect: close}}]"

    def pattern(seed: int) -> list[bool]:
        eng = engine(text.format(seed=seed))
        return [eng.match(facts()) is not None for _ in range(1000)]

    first, again, other = pattern(7), pattern(7), pattern(8)
    assert first == again
    assert first != other
    assert 230 < sum(first) < 370  # about 30 %


def test_probability_edges() -> None:
    eng = engine(
        """
        faults:
          - {id: never, match: {probability: 0}, effect: close}
          - {id: always, match: {probability: 1}, effect: refuse}
        """
    )
    assert all(hit_id(eng, facts()) == "always" for _ in range(100))


def test_draws_of_one_fault_do_not_depend_on_the_others() -> None:
    """Adding a fault in front that never matches leaves the later fault's hits unchanged."""
    base = "seed: 5\nfaults: [{id: p, match: {probability: 0.5}, effect: close}]"
    extended = (
        "seed: 5\nfaults: [{id: other, match: {infno: '9999', probability: 0.5}, effect: refuse},"
        " {id: p, match: {probability: 0.5}, effect: close}]"
    )
    one, two = engine(base), engine(extended)
    assert [hit_id(one, facts()) for _ in range(200)] == [hit_id(two, facts()) for _ in range(200)]


def test_first_matching_fault_in_plan_order_wins() -> None:
    eng = engine(
        """
        faults:
          - {id: narrow, match: {infno: '2207'}, effect: {kind: http_error, status: 503}}
          - {id: broad, effect: {kind: business_error}}
        """
    )
    assert hit_id(eng, facts(infno="2207")) == "narrow"
    assert hit_id(eng, facts(infno="2206")) == "broad"
    assert eng.stats() == {"narrow": 1, "broad": 1}


def test_inactive_faults_are_skipped_and_can_be_armed_live() -> None:
    eng = engine(
        """
        faults:
          - {id: spare, active: false, effect: refuse}
          - {id: once, match: {first: 1}, effect: close}
        """
    )
    assert hit_id(eng, facts()) == "once"
    assert hit_id(eng, facts()) is None
    assert eng.set_active("once", False)
    assert not eng.has_active
    assert eng.match(facts()) is None
    assert eng.set_active("spare", True)
    assert eng.has_active
    assert hit_id(eng, facts()) == "spare"
    assert [(f.id, f.active) for f in eng.plan().faults] == [("spare", True), ("once", False)]
    assert eng.set_active("missing", True) is False


def test_rearming_keeps_counters_setting_a_plan_resets_them() -> None:
    text = "faults: [{id: once, match: {first: 1}, effect: close}]"
    eng = engine(text)
    assert hit_id(eng, facts()) == "once"
    eng.set_active("once", False)
    eng.set_active("once", True)
    assert hit_id(eng, facts()) is None  # still spent
    eng.set_plan(FaultPlan.from_yaml(text))
    assert eng.stats() == {"once": 0}
    assert hit_id(eng, facts()) == "once"


def test_clear() -> None:
    eng = engine("faults: [{id: a, effect: close}]")
    eng.clear()
    assert not eng.has_active
    assert eng.match(facts()) is None
    assert eng.stats() == {}


def test_fixed_delay_is_reported_with_the_hit() -> None:
    eng = engine("faults: [{id: d, effect: {kind: delay, ms: 1500}}]")
    hit = eng.match(facts())
    assert hit is not None and hit.delay_ms == 1500.0
    assert isinstance(hit.effect, Delay)


@pytest.mark.parametrize(
    ("dist", "low", "high"),
    [
        ("{kind: uniform, low: 100, high: 200}", 100, 200),
        ("{kind: lognormal, median: 500, sigma: 0.5, max: 900}", 0, 900),
        ("{kind: exponential, mean: 50}", 0, float("inf")),
        ("{kind: normal, mean: 10, sd: 50}", 0, float("inf")),  # negative draws become 0
    ],
)
def test_drawn_delays_are_seeded_and_in_range(dist: str, low: float, high: float) -> None:
    text = f"seed: 11\nfaults: [{{id: d, effect: {{kind: delay, dist: {dist}}}}}]"

    def draws() -> list[float]:
        eng = engine(text)
        out = []
        for _ in range(300):
            hit = eng.match(facts())
            assert hit is not None and hit.delay_ms is not None
            out.append(hit.delay_ms)
        return out

    first = draws()
    assert first == draws()
    assert all(low <= value <= high for value in first)
    assert len(set(first)) > 100  # really drawn


def test_lognormal_median_is_about_right() -> None:
    eng = engine(
        "seed: 2\nfaults: [{id: d, effect: {kind: delay, dist: {kind: lognormal, median: 800,"
        " sigma: 0.6}}}]"
    )
    values = []
    for _ in range(2001):
        hit = eng.match(facts())
        assert hit is not None and hit.delay_ms is not None
        values.append(hit.delay_ms)
    assert 700 < sorted(values)[1000] < 900


def test_matching_is_thread_safe_first_n_is_exact() -> None:
    eng = engine("faults: [{id: n, match: {first: 500}, effect: close}]")
    hits: list[int] = []

    def worker() -> None:
        hits.append(sum(eng.match(facts()) is not None for _ in range(1000)))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(hits) == 500
    assert eng.stats() == {"n": 500}
