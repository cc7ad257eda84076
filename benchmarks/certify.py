"""Benchmark of the conformance suite (issue 5, "Speed").

Prints, in one run:
- the wall time of ``cardsettle certify`` against the embedded reference HIS (the whole
  catalogue; goal: <= 60 s on 2 cores), in a subprocess as a vendor runs it;
- the baseline: the same scenarios run one after another with ``run_scenario`` in this process
  (no pytest, no report) — what the suite costs over the scenario runs themselves;
- per scenario, the suite's own timing (from report.json).

    python benchmarks/certify.py
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance.target import Target, profile


def main() -> None:
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "certify"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "cardsettle.cli", "certify", "--report",
                               str(report)], capture_output=True, text=True, check=False)
        suite = time.perf_counter() - started
        verdict = [line for line in done.stdout.splitlines() if "CERTIFIED" in line]
        print(verdict[0] if verdict else done.stderr[-500:])
        data = json.loads((report / "report.json").read_text("utf-8"))
        names = list(data["scenarios"])
        target = Target(Path(scratch) / "baseline", profile=profile("default"))
        started = time.perf_counter()
        timings = {}
        for name in names:
            began = time.perf_counter()
            scenario, _, auth = name.partition("@")  # "refunds@tif": under TIF authentication
            target.run(scenario, auth=auth or "none")
            timings[name] = time.perf_counter() - began
        baseline = time.perf_counter() - started
    print(f"cardsettle certify, whole catalogue ({len(data['requirements'])} requirements, "
          f"{len(data['tests'])} tests, {len(names)} scenarios): {suite:.1f} s (goal <= 60 s)")
    print(f"baseline, the same {len(names)} scenario runs without the suite: {baseline:.1f} s; "
          f"the suite adds {suite - baseline:.1f} s (process start, pytest, reports)")
    for name in names:
        print(f"  {name:24} {timings[name]:5.1f} s")


if __name__ == "__main__":
    main()
