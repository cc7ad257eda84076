"""Benchmark of the population generator (issue 2, "Speed").

Prints, in one run:
- persons/s for 1,000,000 persons written as JSONL (``write_population``, default workers),
- the same for 100,000 persons, to show that peak memory does not grow with the count,
- the baseline: calling Faker (zh_CN) once per record for a name and an ID number,
- the ratio of the two rates, peak RSS, and the machine.

Each generation runs in a fresh subprocess so that its peak RSS is its own. Files go to a
temporary directory that is removed at the end: nothing permanent is written.

    python benchmarks/generate.py                # the full run (about a minute on 2 cores)
    python benchmarks/generate.py --count 200000 --baseline-count 5000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _child(count: int, workers: int | None, out_dir: str) -> None:
    """Generate ``count`` persons and print one JSON line of measurements."""
    from simulator.population import write_population

    path = Path(out_dir) / f"persons_{count}.jsonl"
    started = time.perf_counter()
    written = write_population(path, count, seed=1, workers=workers)
    seconds = time.perf_counter() - started
    size = path.stat().st_size
    path.unlink()
    print(json.dumps({
        "count": written,
        "seconds": seconds,
        "rate": written / seconds,
        "bytes": size,
        "rss_main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }))


def _run_child(count: int, workers: int | None, out_dir: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", str(count), "--out-dir", out_dir]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    measured: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def _faker_baseline(count: int) -> float:
    """Records/s of calling Faker once per record for a name and an ID number (one process)."""
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(1)
    started = time.perf_counter()
    for _ in range(count):
        fake.name()
        fake.ssn()  # reads today's date: fine for a baseline, never used by the generator
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000, help="persons in the main run")
    parser.add_argument("--small", type=int, default=100_000, help="persons in the memory comparison run")
    parser.add_argument("--baseline-count", type=int, default=20_000, help="records for the Faker baseline")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: the cores)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child, args.workers, args.out_dir)
        return

    print(f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="cardsettle-bench-") as out_dir:
        small = _run_child(args.small, args.workers, out_dir)
        big = _run_child(args.count, args.workers, out_dir)
    baseline = _faker_baseline(args.baseline_count)
    for label, m in (("small", small), ("main", big)):
        print(
            f"{label:>5}: {int(m['count']):>9,} persons in {m['seconds']:6.2f} s = {m['rate']:>9,.0f} persons/s; "
            f"{m['bytes'] / m['count']:.0f} bytes/person; peak RSS main {m['rss_main_mib']:.0f} MiB, "
            f"largest worker {m['rss_worker_mib']:.0f} MiB"
        )
    print(f"Faker baseline (name + ssn per record, one process, {args.baseline_count:,} records): "
          f"{baseline:,.0f} records/s")
    print(f"ratio: {big['rate'] / baseline:.1f}x the Faker-per-record rate")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
