"""The steps of a patient's time at the cashier window, and the insurer's latency.

A **step** is one thing the cashier does (read the card, look the person up with 1101, upload
the fee details, pre-settle with 2206, take the payment, print), with

- ``time``: the cashier's own work in the step, a distribution (default unit: seconds) at the
  skill of a trained cashier (multiplier 1.0); a new cashier's time is multiplied by the
  staffing's skill multiplier;
- ``insurer_calls``: the transactions (``infno``) the step sends to the insurer, one round trip
  each. Each round trip takes the insurer's latency, which the cashier's skill does not change.

The **insurer latency** (default unit: milliseconds) is a distribution, or what a load test
measured, read from a CSV file by :func:`load_latency_csv`. Formats accepted:

1. A column ``latency_ms`` (any other columns are ignored): one measured latency per row in
   milliseconds; the model resamples these values.
2. Locust's ``<prefix>_stats_history.csv`` or ``<prefix>_stats.csv`` (written by
   ``locust --csv <prefix>``): the rows of one request ``Name`` (default ``Aggregated``) with
   the percentile columns ``50%``, ``66%``, ... ``100%`` in milliseconds. The model samples
   from the piecewise-linear quantile function through (0, min), the percentiles and (1, max).
   The ``Aggregated`` rows of a history file are cumulative, so its last row (the whole run)
   is used; rows of a single request in a ``--csv-full-history`` file describe the latest
   seconds only, so they are mixed, weighted by their ``Requests/s``. Rows whose percentiles
   are ``N/A`` (no requests yet) are skipped.
"""

from __future__ import annotations

import csv
import math
import random
import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.windows.distributions import UNITS, Distribution, Empirical, Quantiles
from simulator.windows.errors import LatencyFileError

__all__ = ["AGGREGATED", "Mixture", "Step", "load_latency_csv"]

#: Locust's name for the row of all requests together.
AGGREGATED = "Aggregated"

_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s*$")


@dataclass(frozen=True, slots=True)
class Step:
    """One step at the window: the cashier's work (minutes at skill 1.0) and insurer round trips."""

    name: str
    label: str
    time: Distribution
    insurer_calls: tuple[str, ...] = ()
    source: str = "assumption"

    @property
    def calls(self) -> int:
        return len(self.insurer_calls)


@dataclass(frozen=True, slots=True)
class Mixture(Distribution):
    """Draw a component by weight, then a value from it (minutes)."""

    components: tuple[Distribution, ...]
    cumulative: tuple[float, ...]
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mean(self) -> float:
        total = self.cumulative[-1]
        previous = 0.0
        result = 0.0
        for component, upto in zip(self.components, self.cumulative, strict=True):
            result += (upto - previous) / total * component.mean
            previous = upto
        return result

    def sample(self, rng: random.Random) -> float:
        index = bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.components[min(index, len(self.components) - 1)].sample(rng)


def _float(text: str | None, path: Path, line: int, column: str) -> float | None:
    """A cell as a number, ``None`` for N/A or empty; raises on anything else."""
    if text is None or text.strip() in ("", "N/A"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise LatencyFileError(f"{path}: line {line}, column {column!r}: not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise LatencyFileError(f"{path}: line {line}, column {column!r}: not a latency: {text!r}")
    return value


MAX_LATENCY_MS = 3_600_000.0
"""One round trip of more than an hour is not a latency the window model can use (the value
is in the wrong unit, or the measurement is broken): refused."""


def _latency_ms(text: str | None, path: Path, line: int, column: str) -> float | None:
    """A latency cell in milliseconds (:func:`_float`), at most :data:`MAX_LATENCY_MS`."""
    value = _float(text, path, line, column)
    if value is not None and value > MAX_LATENCY_MS:
        raise LatencyFileError(
            f"{path}: line {line}, column {column!r}: {text.strip() if text else text} ms is more "
            f"than an hour for one round trip (at most {MAX_LATENCY_MS:,.0f} ms; is it in ms?)"
        )
    return value


REQUEST_COLUMN = "request"
"""An optional column of a ``latency_ms`` file: the request name each value timed
(``cardsettle load`` writes ``2207 settle`` or ``visit``)."""


def _raw_samples(rows: list[dict[str, str]], column: str, path: Path,
                 request_column: str | None = None) -> Distribution:
    scale = UNITS["ms"]
    values = []
    requests: set[str] = set()
    for line, row in enumerate(rows, start=2):
        value = _latency_ms(row.get(column), path, line, column)
        if value is not None:
            values.append(value * scale)
            if request_column is not None and (row.get(request_column) or "").strip():
                requests.add((row.get(request_column) or "").strip())
    if not values:
        raise LatencyFileError(f"{path}: no latencies in column {column!r}")
    spec: dict[str, Any] = {"csv": str(path), "column": column, "samples": len(values)}
    if requests:
        spec["request"] = ", ".join(sorted(requests))
    return Empirical(tuple(values), spec)


def _quantile_row(
    row: dict[str, str], percentiles: list[tuple[float, str]], min_column: str | None, path: Path, line: int
) -> Quantiles | None:
    points: list[tuple[float, float]] = []
    for prob, column in percentiles:
        value = _latency_ms(row.get(column), path, line, column)
        if value is None:
            return None
        points.append((prob, value))
    low = _latency_ms(row.get(min_column), path, line, min_column) if min_column else None
    first = points[0][1]
    low = first if low is None else min(low, first)
    if points[0][0] > 0:
        points.insert(0, (0.0, low))
    if points[-1][0] < 1:
        points.append((1.0, points[-1][1]))
    scale = UNITS["ms"]
    values: list[float] = []
    for _, value in points:  # locust rounds its percentiles; keep the function non-decreasing
        values.append(max(value * scale, values[-1] if values else 0.0))
    return Quantiles(tuple(p for p, _ in points), tuple(values))


def _locust(rows: list[dict[str, str]], header: list[str], name: str, path: Path) -> Distribution:
    percentiles = sorted(
        (float(match.group(1)) / 100, column)
        for column in header
        if (match := _PERCENTILE.match(column)) is not None
    )
    history = "Timestamp" in header
    min_column = next((c for c in ("Total Min Response Time", "Min Response Time") if c in header), None)
    chosen: list[tuple[Quantiles, float]] = []
    for line, row in enumerate(rows, start=2):
        if (row.get("Name") or "") != name:
            continue
        table = _quantile_row(row, percentiles, min_column, path, line)
        if table is None:
            continue
        rate = _float(row.get("Requests/s"), path, line, "Requests/s") or 0.0
        chosen.append((table, rate))
    if not chosen:
        names = sorted({row.get("Name") or "" for row in rows})
        raise LatencyFileError(
            f"{path}: no rows with percentiles for Name {name!r} (names in the file: {', '.join(names) or 'none'})"
        )
    spec = {"csv": str(path), "name": name, "rows": len(chosen)}
    if not history or name == AGGREGATED or len(chosen) == 1:
        last = chosen[-1][0]
        return Quantiles(last.probs, last.values, spec)
    weights = [rate if rate > 0 else 0.0 for _, rate in chosen]
    if sum(weights) <= 0:
        weights = [1.0] * len(chosen)
    cumulative: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return Mixture(tuple(table for table, _ in chosen), tuple(cumulative), spec)


def load_latency_csv(path: str | Path, name: str | None = None) -> Distribution:
    """The insurer latency (minutes) measured by a load test, from a CSV file.

    ``name`` picks the request name in a locust file (default ``Aggregated``); it is ignored
    for a ``latency_ms`` file. Raises :class:`LatencyFileError` if the file cannot be read, has
    neither format, or holds no latencies.
    """
    source = Path(path)
    try:
        with source.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [column.strip() for column in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = list(reader)
    except OSError as exc:
        raise LatencyFileError(f"cannot read latency file {source}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise LatencyFileError(f"{source}: not a CSV text file (not UTF-8 text)") from exc
    except csv.Error as exc:
        raise LatencyFileError(f"{source}: not a CSV text file ({exc})") from exc
    lowered = {column.lower(): column for column in header}
    if "latency_ms" in lowered:
        return _raw_samples(rows, lowered["latency_ms"], source, lowered.get(REQUEST_COLUMN))
    if any(_PERCENTILE.match(column) for column in header) and "Name" in header:
        return _locust(rows, header, name or AGGREGATED, source)
    raise LatencyFileError(
        f"{source}: expected a 'latency_ms' column or locust's stats CSV (Name, 50%, ..., 100%); "
        f"found columns: {', '.join(header) or 'none'}"
    )
