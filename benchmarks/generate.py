"""Benchmark of the population generator (issue 2, "Speed").

Prints, in one run:
- persons/s for 1,000,000 persons written as JSONL (``write_population``, default workers),
- the same for 100,000 persons, to show that peak memory does not grow with the count,
- the baseline: calling Faker (zh_CN) once per record for a name and an ID number, measured
  before and after the generation (half the records each time; the machine's load drifts),
- the ratio of the rates (the goal: >= 20x), and the same for CPU time per record (user +
  system time of every process, which depends much less on what else the machine runs),
- peak RSS, the machine and its load average.

Each generation runs in a fresh subprocess so that its peak RSS and CPU time are its own. Files
go to a temporary directory that is removed at the end: nothing permanent is written. The
generator is imported from this checkout, whatever ``pip install -e`` points at.

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure the code of this checkout


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_seconds() -> float:
    """User + system time of this process and its waited-for children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _child(count: int, workers: int | None, out_dir: str) -> None:
    """Generate ``count`` persons and print one JSON line of measurements."""
    from simulator.population import write_population

    path = Path(out_dir) / f"persons_{count}.jsonl"
    cpu = _cpu_seconds()
    started = time.perf_counter()
    written = write_population(path, count, seed=1, workers=workers)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu  # the workers are waited for when the pool closes
    size = path.stat().st_size
    path.unlink()
    print(json.dumps({
        "count": written,
        "seconds": seconds,
        "rate": written / seconds,
        "cpu_per_record": cpu / written,
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


def _faker_baseline(count: int) -> tuple[float, float]:
    """(records/s, CPU seconds per record) of calling Faker once per record for a name and an
    ID number (one process, this one)."""
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(1)
    fake.name()  # the first call loads the provider
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        fake.name()
        fake.ssn()  # reads today's date: fine for a baseline, never used by the generator
    return count / (time.perf_counter() - started), (time.process_time() - cpu) / count


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
    half = max(1, args.baseline_count // 2)
    before = _faker_baseline(half)
    with tempfile.TemporaryDirectory(prefix="cardsettle-bench-") as out_dir:
        small = _run_child(args.small, args.workers, out_dir)
        big = _run_child(args.count, args.workers, out_dir)
    after = _faker_baseline(half)
    baseline = 2 / (1 / before[0] + 1 / after[0])  # the rate of the whole baseline
    baseline_cpu = (before[1] + after[1]) / 2
    for label, m in (("small", small), ("main", big)):
        print(
            f"{label:>5}: {int(m['count']):>9,} persons in {m['seconds']:6.2f} s = {m['rate']:>9,.0f} persons/s; "
            f"{m['cpu_per_record'] * 1e6:.2f} us CPU/person; {m['bytes'] / m['count']:.0f} bytes/person; "
            f"peak RSS main {m['rss_main_mib']:.0f} MiB, largest worker {m['rss_worker_mib']:.0f} MiB"
        )
    print(f"Faker baseline (name + ssn per record, one process, {half:,} records before and {half:,} after): "
          f"{before[0]:,.0f} and {after[0]:,.0f} = {baseline:,.0f} records/s; {baseline_cpu * 1e6:.1f} us CPU/record")
    print(f"ratio: {big['rate'] / baseline:.1f}x the Faker-per-record rate (goal: 20x); "
          f"CPU time per record: {baseline_cpu / big['cpu_per_record']:.1f}x less than Faker's")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
