"""What the fault layer costs a message when no fault matches (goal: < 0.5 ms at p50).

Measures ``FaultEngine.match()`` per call, timeit-style (best of several repeats of many
calls, then per-call percentiles over single timed calls):

- with no plan (the gateway's fast path: ``has_active`` is False);
- with a plan of 10 active faults, none of which matches the message (every selector kind,
  so each fault is looked at in full).

Run: ``python benchmarks/fault_overhead.py [--number 100000]``. Wall-clock figures; they vary
by machine. Record results in docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import timeit
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure this checkout, whatever is installed

from mock_insurer.faults import FaultEngine, FaultPlan, MessageFacts  # noqa: E402

TEN_NON_MATCHING = """
seed: 1
faults:
  - {id: a, match: {infno: ["2208"]}, effect: {kind: lose_answer}}
  - {id: b, match: {fixmedins_code: [H99999999999]}, effect: refuse}
  - {id: c, match: {psn_no: ["nobody"]}, effect: close}
  - {id: d, match: {window: {start: "2030-01-01 00:00:00"}}, effect: {kind: delay, ms: 10}}
  - {id: e, match: {infno: ["2207"], probability: 0.0}, effect: {kind: http_error}}
  - {id: f, match: {infno: ["2207"], fixmedins_code: [H1], psn_no: [x]}, effect: refuse}
  - {id: g, match: {infno: ["1101", "2201", "2203", "2204", "2206"]}, effect: close}
  - {id: h, match: {window: {end: "2020-01-01 00:00:00"}}, effect: {kind: clock_skew, seconds: 5}}
  - {id: i, match: {infno: ["2207"], probability: 0.0, first: 3}, effect: {kind: business_error}}
  - {id: j, active: false, effect: refuse}
"""

FACTS = MessageFacts(
    infno="2207",
    fixmedins_code="H11010500001",
    psn_no="11000000000000000001",
    msgid="H11010500001202603020830000001",
    business_time=datetime(2026, 3, 2, 8, 30),
)


def measure(label: str, engine: FaultEngine, number: int, *, show: bool = True) -> float:
    """``engine.match`` per call; prints a line (unless ``show`` is False) and returns the
    p50 in microseconds."""
    assert engine.match(FACTS) is None, "the benchmark plan must not match"
    best = min(timeit.repeat(lambda: engine.match(FACTS), number=number, repeat=5)) / number
    singles = []
    clock = time.perf_counter_ns
    for _ in range(min(number, 20_000)):
        start = clock()
        engine.match(FACTS)
        singles.append(clock() - start)
    singles.sort()
    p50 = statistics.median(singles) / 1000
    p99 = singles[int(len(singles) * 0.99)] / 1000
    if show:
        print(
            f"{label:<34} mean {best * 1e6:7.3f} µs/call   p50 {p50:7.3f} µs   "
            f"p99 {p99:7.3f} µs   (goal p50 < 500 µs)"
        )
    return p50


def ten_faults_p50_us(number: int = 20_000) -> float:
    """p50 of ``match`` with the plan of 10 faults that match nothing, in microseconds (for
    insurer_throughput.py's summary)."""
    return measure("", FaultEngine(FaultPlan.from_yaml(TEN_NON_MATCHING)), number, show=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100_000, help="calls per repeat")
    args = parser.parse_args()
    measure("match(), no plan", FaultEngine(), args.number)
    plan = FaultPlan.from_yaml(TEN_NON_MATCHING)
    measure("match(), 10 faults, none matching", FaultEngine(plan), args.number)


if __name__ == "__main__":
    main()
