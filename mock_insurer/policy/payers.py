"""The supplementary payers of the chain after basic insurance (docs/policy.md "Several payers
(one-stop settlement)"): which payers a profile may describe, the year-to-date counters each
moves, and the typed :class:`Payer` the split uses. The numbers are in the profiles
(:mod:`mock_insurer.policy.parameters` reads them); this module holds the names only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mock_insurer.policy.kinds import Bracket

__all__ = ["PAYER_BASES", "PAYER_COUNTERS", "PAYER_ELIGIBILITY", "PAYER_WIRE_FIELDS", "Fund",
           "Payer"]

#: The supplementary payers a profile may put in its chain (``payer_chain``), each with the
#: year-to-date counters it moves: what it paid, and (for a payer with a threshold) the base
#: accumulated toward it. The formula is the same for all (:class:`Payer`); the counter names
#: are the ledger's (``cum.name``), so a new payer needs a new line here, never a new table.
PAYER_COUNTERS: dict[str, tuple[str, str | None]] = {
    "serious_illness": ("hifmi_paid", "hifmi_base_used"),
    "civil_servant": ("cvlserv_paid", None),
    "assistance": ("maf_paid", None),
    "veterans": ("veterans_paid", None),
    "commercial": ("commercial_paid", "commercial_base_used"),
}
#: Who a payer covers: everyone of the scheme, persons with ``cvlserv_flag`` 1, persons
#: eligible for medical assistance, or persons enrolled with the payer (its id).
PAYER_ELIGIBILITY = ("everyone", "cvlserv_flag", "maf_eligible", "enrolment")
#: What a payer pays from: the in-scope amount the person still bears (``inscp_selfpay``), or
#: the person's whole part still left, self-pay items included (``psn_part``).
PAYER_BASES = ("inscp_selfpay", "psn_part")
#: The 2207 setlinfo fields a payer's amount is added to (fact sheet §3, 2207 output).
PAYER_WIRE_FIELDS = ("hifmi_pay", "cvlserv_pay", "maf_pay", "hifes_pay", "oth_pay")


@dataclass(frozen=True, slots=True)
class Fund:
    """A fund's code in the national table (基金支付类型, fact sheet §4.1) and its name."""

    fund_pay_type: str
    name: str


@dataclass(frozen=True, slots=True)
class Payer:
    """A supplementary payer of the chain after basic insurance (docs/policy.md "Several
    payers"). For a person it covers (``eligibility``) and a medical type in ``med_types``, it
    pays marginal ``brackets`` of its ``base`` accumulated over the calendar year above
    ``threshold`` (yuan/year; 0 = from the first yuan), within ``annual_cap`` (None = none).
    A plain share is one bracket from 0. ``wire_field`` is the setlinfo field its amount is
    added to; ``paid_counter`` / ``base_counter`` its year-to-date counters."""

    id: str
    fund: Fund
    name_en: str
    wire_field: str
    eligibility: str
    base: str
    med_types: frozenset[str]
    threshold: Decimal
    brackets: tuple[Bracket, ...]
    annual_cap: Decimal | None
    paid_counter: str
    base_counter: str | None

    @property
    def share(self) -> Decimal:
        """The share of the base paid above the threshold (the first bracket's rate)."""
        return self.brackets[0].rate
