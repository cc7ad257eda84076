"""What the simulated windows send: persons, institutions and mapped items, read from the
insurer's data files (the ones ``cardsettle insurer serve`` generates into its data directory:
``institutions-SEED.jsonl``, ``catalogue-SEED.jsonl``, ``persons-SEED-COUNT.jsonl``).

The directory comes from the environment variable ``CARDSETTLE_LOAD_DATA`` (default
``.cardsettle``, the insurer's default ``--data-dir``), the seed from ``CARDSETTLE_LOAD_SEED``
(default 1). The files must be those the insurer under test holds, or every 1101 is refused.
Money is Decimal (yuan, two places).
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from loadtests.errors import LoadTestError
from mock_insurer.money import parse_decimal, round_money

__all__ = ["DATA_ENV", "SEED_ENV", "LoadData", "PlannedItem", "load_data", "load_data_from_env", "shared_data"]

DATA_ENV = "CARDSETTLE_LOAD_DATA"
SEED_ENV = "CARDSETTLE_LOAD_SEED"
INSURED = ("310", "390")  # employees' and residents' basic medical insurance


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """One prescribed line: the hospital's code, the national code, price and quantity."""

    hospital_code: str
    national_code: str
    price: Decimal
    cnt: Decimal

    @property
    def amount(self) -> Decimal:
        return round_money(self.price * self.cnt)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    except (OSError, orjson.JSONDecodeError) as exc:
        raise LoadTestError(f"cannot read {path}: {exc}") from exc


def _one(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    if not found:
        raise LoadTestError(f"{directory}: no {pattern} (start the insurer once with "
                            f"--data-dir {directory}, or set {DATA_ENV} to its data directory)")
    return found[0]


@dataclass
class LoadData:
    """Persons who settle normally, persons whose card is refused, and per institution the
    plain mapped items (no gender, age, indication or quantity limit: nothing refused)."""

    persons: list[dict[str, Any]]
    refused: list[dict[str, Any]]
    institutions: list[dict[str, Any]]
    items: dict[str, list[PlannedItem]]

    def institution(self, index: int) -> dict[str, Any]:
        """The *index*-th institution (round robin) that has items."""
        usable = [i for i in self.institutions if self.items.get(i["fixmedins_code"])]
        return usable[index % len(usable)]

    def person(self, rng: random.Random) -> dict[str, Any]:
        return rng.choice(self.persons)

    def refused_card(self, rng: random.Random) -> tuple[str, str]:
        """A card the insurer refuses at 1101: a lost or replaced person's old card, or (when
        the population has none) a card number nobody holds."""
        if self.refused:
            card = rng.choice(self.refused)["cards"][0]
            return str(card["card_no"]), str(card["card_sn"])
        return f"Z{rng.randrange(10**8):08d}X", "110000D0000000000000000000000000"

    def prescription(self, code: str, rng: random.Random, lines: int = 3) -> list[PlannedItem]:
        items = self.items[code]
        return rng.sample(items, min(lines, len(items)))


def _plain(item: Mapping[str, Any]) -> bool:
    return not (item.get("indications") or item.get("gend_limit")
                or item.get("age_min") is not None or item.get("age_max") is not None
                or item.get("max_cnt_per_rx") is not None
                or item.get("max_days_per_rx") is not None)


def load_data(directory: Path, seed: int = 1) -> LoadData:
    """Read the insurer's data files of *seed* in *directory*."""
    persons = _jsonl(_one(directory, f"persons-{seed}-*.jsonl"))
    institutions = [r for r in _jsonl(_one(directory, f"institutions-{seed}.jsonl"))
                    if not r.get("blacklisted")]
    catalogue = _jsonl(_one(directory, f"catalogue-{seed}.jsonl"))
    national = {r["med_list_codg"]: r for r in catalogue if r.get("kind") == "item"}
    items: dict[str, list[PlannedItem]] = {}
    for rec in catalogue:
        if rec.get("kind") != "mapping" or rec.get("mapping") != "ok":
            continue
        item = national.get(rec["med_list_codg"])
        if item is None or not _plain(item):
            continue
        items.setdefault(rec["fixmedins_code"], []).append(PlannedItem(
            str(rec["medins_list_codg"]), str(rec["med_list_codg"]),
            parse_decimal(str(rec["hosp_pric"])), Decimal(1)))
    ok = [p for p in persons
          if p["insuinfo"][0]["psn_insu_stas"] == "1" and not p.get("deceased")
          and not p.get("blacklisted") and p["insuinfo"][0]["insutype"] in INSURED
          and not p.get("edge_cases")]
    refused = [p for p in persons if len(p.get("cards") or []) > 1
               and p["cards"][0].get("status") in ("lost", "replaced")]
    if not ok or not items:
        raise LoadTestError(f"{directory}: no insured person or no mapped item to load-test with")
    return LoadData(ok, refused, institutions, items)


def load_data_from_env(environ: Mapping[str, str] | None = None) -> LoadData:
    """:func:`load_data` of the directory and seed named by the environment."""
    env = os.environ if environ is None else environ
    try:
        seed = int(env.get(SEED_ENV, "1"))
    except ValueError as exc:
        raise LoadTestError(f"{SEED_ENV} must be an integer, got {env.get(SEED_ENV)!r}") from exc
    return load_data(Path(env.get(DATA_ENV, ".cardsettle")), seed)


_SHARED: dict[str, LoadData] = {}
_SHARED_LOCK = threading.Lock()


def shared_data() -> LoadData:
    """:func:`load_data_from_env`, read once per process (every window of a locust process
    shares it)."""
    with _SHARED_LOCK:
        if "data" not in _SHARED:
            _SHARED["data"] = load_data_from_env()
        return _SHARED["data"]
