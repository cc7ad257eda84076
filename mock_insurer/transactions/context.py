"""What a transaction handler receives and returns.

A handler is a plain function ``handle(call: Call, tx: LedgerTx) -> Outcome``. It reads the
message from ``call``, the state from ``tx``, and returns an :class:`Answered` (the ``output``
node), a :class:`FileAnswer` (9102 answers a file, not an envelope) or a
:class:`~mock_insurer.refusals.Refusal`. A refusal's writes are rolled back by the gateway, so a
refused message never leaves a half-written ledger row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mock_insurer.ledger import Institution, LedgerTx
from mock_insurer.policy import CatalogueEntry, Profile
from mock_insurer.policy.home_schemes import HomeSchemes
from mock_insurer.refusals import Refusal
from mock_insurer.wire.envelope import Deviation, RequestEnvelope
from mock_insurer.wire.fields import Reader
from mock_insurer.wire.outcomes import FieldProblem

__all__ = [
    "Answered",
    "Call",
    "FileAnswer",
    "Handler",
    "Outcome",
    "Reference",
    "Settings",
]


@dataclass(frozen=True, slots=True)
class Settings:
    """The insurer's switches (reference README, "Wire" and "Business rules")."""

    mode: Literal["strict", "tolerant"] = "strict"
    require_signin: bool = True
    amounts_check: Literal["refuse", "warn"] = "refuse"  # 2207's four amounts vs computation
    reversal_window_days: int = 0  # 0 = the same business day
    infcode_as_string: bool = False
    file_ttl_hours: int = 24
    max_body_bytes: int = 2_000_000
    tif_skew_seconds: int = 300


@dataclass(frozen=True, slots=True)
class Reference:
    """Reference data held in memory: the catalogue, diagnosis names, the policy profile (the
    treatment place's), and the map to the home schemes of patients insured elsewhere."""

    catalogue: Mapping[str, CatalogueEntry]
    catalogue_records: Mapping[str, Mapping[str, Any]]
    diagnoses: Mapping[str, str]
    profile: Profile
    home_schemes: HomeSchemes = field(default_factory=HomeSchemes.packaged, repr=False)

    def benefits_profile(self, insured_place: str, treatment_area: str) -> Profile:
        """The profile whose benefits pay a patient insured in ``insured_place`` treated in
        ``treatment_area`` (both admdvs): :attr:`profile` for a local patient, the home
        scheme's otherwise (docs/policy.md "Patients insured elsewhere")."""
        return self.home_schemes.profile_for(insured_place, treatment_area, self.profile)


@dataclass(slots=True)
class Call:
    """One message being handled."""

    envelope: RequestEnvelope
    institution: Institution
    now: datetime  # the insurer's business clock
    settings: Settings
    reference: Reference
    deviations: list[Deviation] = field(default_factory=list)
    biz_time: str = field(init=False)  # ``now`` as ``YYYY-MM-DD HH:MM:SS``
    biz_date: str = field(init=False)  # ``now`` as ``YYYY-MM-DD``

    def __post_init__(self) -> None:
        self.biz_time = (self.now.isoformat(" ", "seconds") if self.now.tzinfo is None
                         else self.now.strftime("%Y-%m-%d %H:%M:%S"))
        self.biz_date = self.biz_time[:10]

    @property
    def strict(self) -> bool:
        return self.settings.mode == "strict"

    def reader(self) -> Reader:
        """A reader of ``input`` whose deviations (tolerant mode) go to :attr:`deviations`,
        and so into the message's record."""
        return Reader(self.envelope.input, strict=self.strict, deviations=self.deviations)

    def node(self, name: str) -> Reader:
        """A reader of the input node ``name`` (``data``, ``mdtrtinfo``, ``signIn``, ...)."""
        return self.reader().node(name)

    def rows(self, name: str, *, required: bool = True) -> tuple[Reader, list[Reader]]:
        """The root reader (for its ``problem``) and one reader per row of the list ``name``."""
        root = self.reader()
        return root, root.rows(name, required=required)


@dataclass(frozen=True, slots=True)
class Answered:
    """A successful answer: the envelope's ``output`` node, and what the message made."""

    output: Any
    warn_msg: str = ""
    effect_ref: str | None = None  # setl_id / mdtrt_id / sign_no the message created
    psn_no: str | None = None


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """9102 answers the file itself (application/octet-stream)."""

    content: bytes
    filename: str


Outcome = Answered | FileAnswer | Refusal | FieldProblem
Handler = Callable[[Call, LedgerTx], Outcome]
