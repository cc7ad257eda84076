"""The SLA as data (YAML beside this module: sla_insurer.yaml, sla_his.yaml) and its
evaluation from locust's ``<prefix>_stats.csv``.

An SLA file holds ``p95_ms`` (request name -> limit in milliseconds, locust's ``95%`` column;
``visit`` is the whole visit) and ``max_error_rate`` (a share 0..1 of failed requests over every
request name except ``visit``). The outcome is one line per limit: the value measured, the
limit and pass/fail. Times are wall-clock milliseconds as locust measured them.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from loadtests.errors import LoadTestError

__all__ = ["DEFAULT_SLA", "Sla", "SlaError", "SlaLine", "evaluate", "load_sla", "read_stats"]

DEFAULT_SLA = {"insurer": Path(__file__).with_name("sla_insurer.yaml"),
               "his": Path(__file__).with_name("sla_his.yaml")}
AGGREGATED = "Aggregated"
VISIT = "visit"


class SlaError(LoadTestError):
    """An SLA file or a stats CSV that cannot be used."""


@dataclass(frozen=True)
class Sla:
    p95_ms: Mapping[str, float]
    max_error_rate: float


@dataclass(frozen=True)
class SlaLine:
    """One limit's outcome: ``value`` None when the run has no request of that name."""

    name: str
    metric: str          # "p95_ms" or "error_rate"
    value: float | None
    limit: float
    passed: bool
    requests: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _read_yaml(path: Path) -> Any:
    """The YAML document of an SLA file; :class:`SlaError` (one line, naming the file and, for
    broken YAML, the line and column) when it cannot be read."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SlaError(f"cannot read the SLA file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise SlaError(f"the SLA file {path}: not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SlaError(f"the SLA file {path}: not valid YAML{at}: {problem}") from None


def load_sla(path: Path) -> Sla:
    """Read an SLA YAML file; raises :class:`SlaError` saying what is wrong and where."""
    doc = _read_yaml(path)
    if not isinstance(doc, dict):
        raise SlaError(f"{path}: expected a mapping with p95_ms and max_error_rate")
    unknown = set(doc) - {"p95_ms", "max_error_rate"}
    if unknown:
        raise SlaError(f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                       "(expected p95_ms, max_error_rate)")
    p95 = doc.get("p95_ms") or {}
    if not isinstance(p95, dict):
        raise SlaError(f"{path}: p95_ms must map request names to milliseconds")
    limits: dict[str, float] = {}
    for name, value in p95.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise SlaError(f"{path}: p95_ms.{name} must be a number of milliseconds > 0, "
                           f"got {value!r}")
        limits[str(name)] = float(value)
    rate = doc.get("max_error_rate", 0.01)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise SlaError(f"{path}: max_error_rate must be a share between 0 and 1, got {rate!r}")
    return Sla(limits, float(rate))


NUMERIC = ("Request Count", "Failure Count", "Median Response Time", "Average Response Time",
           "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s",
           "Failures/s", "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%",
           "99.99%", "100%")
"""The columns of locust's stats CSV that hold numbers (or ``N/A``)."""


def read_stats(path: Path) -> list[dict[str, str]]:
    """The rows of locust's ``<prefix>_stats.csv``; :class:`SlaError` (one line naming the file
    and, for a bad cell, the line and column) when it cannot be used."""
    try:
        with Path(path).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise SlaError(f"cannot read locust's stats {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise SlaError(f"{path}: not a UTF-8 text file") from None
    except csv.Error as exc:
        raise SlaError(f"{path}: not a CSV file ({exc})") from None
    if not rows or "Name" not in rows[0] or "95%" not in rows[0]:
        raise SlaError(f"{path}: not locust's stats CSV (Name, Request Count, 95%, ...)")
    for line, row in enumerate(rows, start=2):
        for column in NUMERIC:
            text = row.get(column)
            if text is None or text.strip() in ("", "N/A"):
                continue
            try:
                float(text)
            except ValueError:
                raise SlaError(f"{path} line {line}: {column} is not a number ({text!r})") from None
    return rows


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "", "N/A") else None
    except ValueError:
        return None


def evaluate(rows: Sequence[Mapping[str, str]], sla: Sla) -> list[SlaLine]:
    """The SLA's lines against the stats *rows* (:func:`read_stats`)."""
    by_name = {row["Name"]: row for row in rows if row.get("Name") != AGGREGATED}
    lines: list[SlaLine] = []
    for name, limit in sla.p95_ms.items():
        row = by_name.get(name)
        count = int(_number(row.get("Request Count")) or 0) if row else 0
        value = _number(row.get("95%")) if row and count else None
        lines.append(SlaLine(name, "p95_ms", value, limit,
                             value is not None and value <= limit, count))
    requests = failures = 0
    for name, row in by_name.items():
        if name == VISIT:
            continue
        requests += int(_number(row.get("Request Count")) or 0)
        failures += int(_number(row.get("Failure Count")) or 0)
    rate = failures / requests if requests else None
    lines.append(SlaLine("all requests", "error_rate", rate, sla.max_error_rate,
                         rate is not None and rate <= sla.max_error_rate, requests))
    return lines
