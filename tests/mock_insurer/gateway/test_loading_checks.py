"""The data-file loaders the insurer starts with (``cardsettle insurer serve --population``):
a value the insurer could not use later is refused at load, naming the file, line and field,
and nothing is written."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.gateway.loading import DataFileError, load_institutions, load_population

from . import dataset
from .conftest import START


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    return path


def _open(tmp_path: Path, **files: Path) -> Insurer:
    paths = {**dataset.write(tmp_path), **files}
    return Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{tmp_path}/l.db", population=paths["population"],
        catalogue=paths["catalogue"], institutions=paths["institutions"], wall=FixedClock(START)))


def test_a_start_with_an_impossible_birthday_is_refused_naming_line_and_field(
        tmp_path: Path) -> None:
    people = [*dataset.PERSONS[:2], {**dataset.PERSONS[2], "brdy": "2026-02-30"}]
    bad = _write(tmp_path / "bad-persons.jsonl", people)
    with pytest.raises(DataFileError) as caught:
        _open(tmp_path, population=bad)
    assert str(caught.value) == (f"{bad}:3: brdy: must be a real date YYYY-MM-DD "
                                 f"(got '2026-02-30')")


@pytest.mark.parametrize("balc", ["1e400", "-0.01", "NaN", 1e300])
def test_a_reload_with_bad_money_writes_nothing(tmp_path: Path, balc: Any) -> None:
    insurer = _open(tmp_path)
    try:
        bad = _write(tmp_path / "bad.jsonl", [{**dataset.PERSONS[0], "balc": "1.00"},
                                              {**dataset.PERSONS[1], "balc": balc}])
        with pytest.raises(DataFileError, match=r"bad\.jsonl:2: balc"):
            load_population(insurer.ledger, bad)
        assert insurer.counts()["persons"] == len(dataset.PERSONS)
        with insurer.ledger.read() as tx:
            assert tx.balance(dataset.PERSONS[0]["psn_no"]) == Decimal("1378.15")
    finally:
        insurer.close()


def test_an_institution_with_a_misshapen_code_is_refused(tmp_path: Path) -> None:
    insurer = _open(tmp_path)
    try:
        bad = _write(tmp_path / "bad.jsonl", [{**dataset.INSTITUTIONS[0], "admdvs": 110105}])
        with pytest.raises(DataFileError, match=r"bad\.jsonl:1: admdvs: must be 6 digits"):
            load_institutions(insurer.ledger, bad)
        assert insurer.counts()["institutions"] == len(dataset.INSTITUTIONS)
    finally:
        insurer.close()
