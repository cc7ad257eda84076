"""What the insurer's rule check (3101/3102, issue 10) adds to a visit at the window.

Runs the library scenario ``morning-peak`` (300 patients, the embedded insurer and HIS, visits
one at a time in business time) with the reference HIS — 3101 when orders are saved, 3102
before settling — and, in the same run, with the ``ignores-rule-check`` variant (the same HIS
without the rule check) as the baseline; alternated, ``--rounds`` times each. Prints, per HIS,
the HIS + insurer wall time per settled visit (median, 95th percentile; the scenario's own step
timings) and the insurer's messages per visit by transaction.

    python benchmarks/rule_check.py [--rounds 2]

Add the difference to the cashier's minutes per visit when planning windows (cardsettle plan
windows): it is the wait the rule check puts on every patient.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
from collections import Counter
from pathlib import Path

from scenarios.harness import Harness
from scenarios.library import library_path
from scenarios.loading import load_scenario
from scenarios.records import RunResult
from scenarios.runner import run_scenario
from simulator.his.app import ReferenceHis
from simulator.his.variants import variant


def _run(his_class: type[ReferenceHis], directory: Path) -> tuple[list[float], Counter[str], int]:
    path = library_path("morning-peak")
    assert path is not None
    scenario = load_scenario(path)
    sent: Counter[str] = Counter()

    def count(harness: Harness, _result: RunResult) -> None:
        sent.update(str(m.get("infno")) for m in harness.admin.messages())

    result = run_scenario(scenario, directory, his_class=his_class, on_finish=count)
    settled = [v for v in result.visits if v.outcome in ("settled", "refunded", "partly_refunded")]
    return [v.system_ms for v in settled], sent, len(result.visits)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    hises: dict[str, type[ReferenceHis]] = {
             "reference HIS (3101 + 3102)": ReferenceHis,
             "ignores-rule-check (baseline)": variant("ignores-rule-check").his_class}
    times: dict[str, list[float]] = {name: [] for name in hises}
    sent: dict[str, Counter[str]] = {name: Counter() for name in hises}
    visits: dict[str, int] = dict.fromkeys(hises, 0)
    with tempfile.TemporaryDirectory() as scratch:
        for round_no in range(args.rounds):
            for n, (name, his_class) in enumerate(hises.items()):
                ms, counted, count = _run(his_class, Path(scratch) / f"{round_no}-{n}")
                times[name] += ms
                sent[name] += counted
                visits[name] += count
    for name in hises:
        ms = times[name]
        per_visit = ", ".join(f"{infno} {sent[name][infno] / visits[name]:.2f}"
                              for infno in sorted(sent[name]) if infno.startswith(("2", "3")))
        print(f"{name}: {len(ms)} settled visits; HIS + insurer per visit median "
              f"{statistics.median(ms):.1f} ms, 95 % {_p95(ms):.1f} ms")
        print(f"  messages per visit: {per_visit}")
    names = list(hises)
    extra = statistics.median(times[names[0]]) - statistics.median(times[names[1]])
    print(f"the rule check adds {extra:.1f} ms per visit at the median")


if __name__ == "__main__":
    main()
