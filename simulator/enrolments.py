"""Enrolment post-pass: enrol a seeded share of a generated population with the supplementary
payers that cover persons by enrolment (veterans' second compensation, a commercial insurer
through the one-stop platform), as the optional ``enrolments`` list of a person record.

The generator itself (:mod:`simulator.persons`) writes no enrolments; this pass reads a
population JSONL file and writes a copy in which each person is enrolled with each payer of
``data/enrolments.yaml`` with that payer's share. The draw for a person depends only on the
seed, the payer and the ``psn_no``, so it does not depend on the order of the file. The insurer
reads the list when the population is loaded (``mock_insurer/gateway/loading.py``);
docs/policy.md "Several payers (one-stop settlement)".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import yaml

from simulator.errors import InvalidArgumentError
from simulator.output import atomic_output

__all__ = ["DEFAULT_SHARES", "enrol_persons", "load_shares", "write_enrolled"]


def load_shares() -> dict[str, float]:
    """The enrolment share of each payer id from ``data/enrolments.yaml``."""
    text = (resources.files("simulator") / "data" / "enrolments.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {str(payer): float(entry["share"]) for payer, entry in data.items()}


DEFAULT_SHARES = load_shares()


def _draw(seed: int, payer: str, psn_no: str) -> float:
    """A number in [0, 1) fixed by the seed, the payer and the person."""
    digest = hashlib.sha256(f"{seed}:{payer}:{psn_no}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def enrol_persons(persons: Iterable[dict[str, Any]], seed: int,
                  shares: Mapping[str, float] | None = None) -> Iterator[dict[str, Any]]:
    """Each person with ``enrolments`` set: the payers drawn for them (possibly none), in the
    order of ``shares``. A record that already has a list keeps it."""
    wanted = dict(DEFAULT_SHARES if shares is None else shares)
    for payer, share in wanted.items():
        if not 0.0 <= share <= 1.0:
            raise InvalidArgumentError(f"enrolment share of {payer!r} must be in 0..1, "
                                       f"got {share}")
    for person in persons:
        if "enrolments" not in person:
            person = {**person, "enrolments": [
                payer for payer, share in wanted.items()
                if _draw(seed, payer, str(person["psn_no"])) < share]}
        yield person


def write_enrolled(source: str | Path, target: str | Path, seed: int,
                   shares: Mapping[str, float] | None = None) -> int:
    """Copy the population JSONL ``source`` to ``target`` with enrolments; return the count."""
    try:
        lines = Path(source).read_bytes().splitlines()
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read the population {source}: {exc}") from exc
    persons = (orjson.loads(line) for line in lines if line.strip())
    count = 0
    with atomic_output(target) as out:
        for person in enrol_persons(persons, seed, shares):
            out.write(orjson.dumps(person) + b"\n")
            count += 1
    return count
