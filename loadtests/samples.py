"""Raw response times of chosen request names, kept by every locust process and written when
it quits, so that the report can give the window model a ``latency_ms`` file of real samples
(locust's CSVs hold percentiles only).

Enabled by ``CARDSETTLE_LOAD_SAMPLES`` = a directory (``cardsettle load`` sets it); each process
writes ``samples-<pid>.csv`` with the columns ``name`` and ``latency_ms`` (wall-clock ms).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.output import atomic_write

if TYPE_CHECKING:
    from locust.env import Environment

__all__ = ["SAMPLES_ENV", "read_samples", "record_samples"]

SAMPLES_ENV = "CARDSETTLE_LOAD_SAMPLES"


def record_samples(environment: Environment, names: Iterable[str]) -> None:
    """Keep the successful response times of *names* and write them at test stop and quit."""
    directory = os.environ.get(SAMPLES_ENV)
    if not directory:
        return
    wanted = set(names)
    kept: list[tuple[str, float]] = []
    target = Path(directory) / f"samples-{os.getpid()}.csv"

    def on_request(name: str, response_time: float, exception: Any = None,
                   **_: Any) -> None:
        if exception is None and name in wanted:
            kept.append((name, float(response_time)))

    def write(**_: Any) -> None:
        if not kept:
            return
        text = io.StringIO(newline="")
        out = csv.writer(text)
        out.writerow(["name", "latency_ms"])
        out.writerows((name, f"{ms:.3f}") for name, ms in kept)
        atomic_write(target, text.getvalue())

    environment.events.request.add_listener(on_request)
    environment.events.test_stop.add_listener(write)
    environment.events.quitting.add_listener(write)


def read_samples(directory: Path) -> dict[str, list[float]]:
    """Every process's samples in *directory*, by request name."""
    found: dict[str, list[float]] = {}
    for path in sorted(directory.glob("samples-*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                found.setdefault(row["name"], []).append(float(row["latency_ms"]))
    return found
