"""Building the in-memory reference data (catalogue, diagnoses, policy) from the ledger."""

from __future__ import annotations

from mock_insurer.ledger import Ledger
from mock_insurer.policy import CatalogueEntry, Profile, load_profile
from mock_insurer.transactions import Reference

__all__ = ["build_reference"]


def build_reference(ledger: Ledger, profile: str | Profile) -> Reference:
    """The catalogue and diagnoses as loaded in the ledger, with the policy profile (loaded
    already, or named: ``beijing`` or a YAML file)."""
    with ledger.read() as tx:
        records = tx.catalogue_records()
        diagnoses = tx.diagnosis_names()
    by_code = {str(rec["med_list_codg"]): rec for rec in records}
    return Reference(
        catalogue={code: CatalogueEntry.from_record(rec) for code, rec in by_code.items()},
        catalogue_records=by_code,
        diagnoses=diagnoses,
        profile=profile if isinstance(profile, Profile) else load_profile(profile),
    )
