"""Benchmark of the conformance suite (issue 5, "Speed").

Prints, in one run:
- the wall time of ``cardsettle certify`` against the embedded reference HIS (the whole
  catalogue; goal: <= 60 s on 2 cores), in a subprocess as a vendor runs it;
- the baseline: the same scenarios run one after another with ``run_scenario`` in this process
  (no pytest, no report) — what the suite costs over the scenario runs themselves;
- per scenario, the suite's own timing (from report.json).

    python benchmarks/certify.py [--only GROUP ...]

``--only`` (repeatable, a requirement group such as RULE) measures part of the catalogue, as
``cardsettle certify --only`` runs it; the goal is for the whole catalogue. About 90 s in all
on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance.target import Target, profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="GROUP",
                        help="only this requirement group (repeatable); default: all")
    args = parser.parse_args()
    only = [part for group in args.only for part in ("--only", group)]
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "certify"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "cardsettle.cli", "certify", "--report",
                               str(report), *only], capture_output=True, text=True,
                              check=False)
        suite = time.perf_counter() - started
        lines = done.stdout.splitlines()
        print(lines[0] if lines else done.stderr[-500:])  # the verdict line
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
    scope = f"--only {' '.join(args.only)}" if args.only else "whole catalogue"
    print(f"cardsettle certify, {scope} ({len(data['requirements'])} requirements, "
          f"{len(data['tests'])} tests, {len(names)} scenarios): {suite:.1f} s"
          + ("" if args.only else " (goal <= 60 s)"))
    print(f"baseline, the same {len(names)} scenario runs without the suite: {baseline:.1f} s; "
          f"the suite adds {suite - baseline:.1f} s (process start, pytest, reports)")
    for name in names:
        print(f"  {name:24} {timings[name]:5.1f} s")


if __name__ == "__main__":
    main()
