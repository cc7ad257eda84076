"""Common outpatient diagnoses: ICD-10 codes in the national medical-insurance edition's style
(``J06.900``) with their Chinese names, from ``data/diagnoses.tsv`` (sources in its header)."""

from __future__ import annotations

from functools import cache
from typing import Any

from simulator.data import read_tsv

__all__ = ["DIAGNOSIS_FIELDS", "diagnosis_codes", "load_diagnoses"]

DIAGNOSIS_FIELDS: tuple[str, ...] = ("kind", "diag_code", "diag_name")


def load_diagnoses() -> list[dict[str, Any]]:
    """The diagnosis records (``kind`` "diagnosis"), in file order."""
    return [{"kind": "diagnosis", "diag_code": code, "diag_name": name} for code, name in read_tsv("diagnoses.tsv")]


@cache
def diagnosis_codes() -> frozenset[str]:
    """Every diagnosis code the catalogue knows."""
    return frozenset(row[0] for row in read_tsv("diagnoses.tsv"))
