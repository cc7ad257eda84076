"""The review's arithmetic, free of the ledger: declared against uploaded totals, and the
deductions (拒付) of a period's claims. Pure functions over plain data (tested by property).

Money is Decimal yuan. Per settlement the hospital claims ``fund_pay_sumamt + acct_pay`` (what
it advanced at the window on the insurer's behalf). Deductions refuse part of the *fund's*
share only (the personal account is the insured's own money, already spent):

- a rule finding on a fee row refuses ``round_money(finding.amount × fund_pay_sumamt /
  inscp_scp_amt)`` of its settlement (the fund's share of the row's in-scope amount);
- a sampled settlement (manual review, 抽查) may be found to have one of the data's findings
  (``review.yaml``), refusing ``round_money(share × fund_pay_sumamt)``;
- never more than what is left of the settlement's fund share, and a fee row once, however
  many rules it breaks (under the first rule id);
- declared fund + account totals above the uploaded ones refuse the excess, as a row with no
  settlement (``setl_id ""``).

Invariants: per settlement 0 ≤ deducted ≤ max(fund_pay_sumamt, 0), at most one rule
deduction per fee row; Σ deductions = deducted; accepted
= claimed − deducted; the same seed gives the same deductions.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from mock_insurer.money import ZERO, render, round_money
from mock_insurer.review.config import ReviewConfig

__all__ = [
    "TOTAL_FIELDS",
    "Claim",
    "Deduction",
    "FindingLike",
    "Ordering",
    "Outcome",
    "Totals",
    "mismatch",
    "review_claims",
    "review_rng",
]

TOTAL_FIELDS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "setl_cnt")


@dataclass(frozen=True, slots=True)
class Totals:
    """A period's totals as 3201 counts them: net sums (yuan) and the number of rows."""

    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    setl_cnt: int

    def to_json(self) -> dict[str, Any]:
        return {"medfee_sumamt": render(self.medfee_sumamt),
                "fund_pay_sumamt": render(self.fund_pay_sumamt),
                "acct_pay": render(self.acct_pay), "setl_cnt": self.setl_cnt}

    @property
    def claimable(self) -> Decimal:
        """Fund plus personal account: what the hospital is owed for these rows."""
        return self.fund_pay_sumamt + self.acct_pay


def mismatch(declared: Totals, uploaded: Totals) -> list[dict[str, Any]]:
    """``[{"field", "declared", "uploaded"}]`` for each of the four figures that differ."""
    found = []
    for name in TOTAL_FIELDS:
        left, right = getattr(declared, name), getattr(uploaded, name)
        if left != right:
            show = (lambda v: v) if name == "setl_cnt" else render
            found.append({"field": name, "declared": show(left), "uploaded": show(right)})
    return found


@dataclass(frozen=True, slots=True)
class Ordering:
    """Who ordered: the department and doctor a refusal is charged back to."""

    dept_code: str = ""
    dept_name: str = ""
    dr_code: str = ""
    dr_name: str = ""


@dataclass(frozen=True, slots=True)
class Claim:
    """One settlement claimed in a period. ``rows``: the ordering department and doctor per
    fee row (``feedetl_sn``); ``visit``: the visit's, for rows without their own and for
    sampled findings. ``reviewable`` is false for a cancellation of an earlier period's
    settlement (a negative claim: it is netted, not reviewed)."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    settled_on: str
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    inscp_scp_amt: Decimal
    visit: Ordering = Ordering()
    rows: Mapping[str, Ordering] = field(default_factory=dict)
    reviewable: bool = True

    @property
    def claimed(self) -> Decimal:
        return self.fund_pay_sumamt + self.acct_pay


class FindingLike(Protocol):
    """A rule finding on one charged row (``mock_insurer.policy.history.Finding``)."""

    @property
    def rule_id(self) -> str: ...
    @property
    def setl_id(self) -> str: ...
    @property
    def feedetl_sn(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def vola_cont(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Deduction:
    """One refused amount (yuan, ≥ 0) with its reason and who ordered it."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    feedetl_sn: str | None
    rule_id: str | None
    category: str
    reason: str
    reason_en: str
    amount: Decimal
    dept_code: str
    dept_name: str
    dr_code: str
    dr_name: str
    settled_on: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """A period's review: what was claimed and what was refused (yuan)."""

    claimed: Decimal
    deductions: tuple[Deduction, ...]

    @property
    def deducted(self) -> Decimal:
        return sum((d.amount for d in self.deductions), ZERO)

    @property
    def accepted(self) -> Decimal:
        return self.claimed - self.deducted

    def deducted_of(self, setl_id: str) -> Decimal:
        return sum((d.amount for d in self.deductions if d.setl_id == setl_id), ZERO)


def review_rng(seed: int, fixmedins_code: str, period: str) -> random.Random:
    """The review's random source: one per (seed, institution, period)."""
    return random.Random(f"{seed}:{fixmedins_code}:{period}")


def _deduction(claim: Claim, amount: Decimal, *, category: str, reason: str,
               reason_en: str, feedetl_sn: str | None = None,
               rule_id: str | None = None) -> Deduction:
    row = claim.rows.get(feedetl_sn) if feedetl_sn is not None else None
    who = row if row is not None and (row.dept_code or row.dr_code) else claim.visit
    return Deduction(claim.setl_id, claim.mdtrt_id, claim.psn_no, feedetl_sn, rule_id,
                     category, reason, reason_en, amount, who.dept_code, who.dept_name,
                     who.dr_code, who.dr_name, claim.settled_on)


def _rule_deductions(claim: Claim, findings: Sequence[FindingLike], config: ReviewConfig,
                     left: Decimal) -> list[Deduction]:
    made = []
    for finding in findings:
        if left <= 0 or claim.inscp_scp_amt <= 0:
            break
        amount = min(round_money(finding.amount * claim.fund_pay_sumamt
                                 / claim.inscp_scp_amt), left)
        if amount <= 0:
            continue
        reason = config.rule_reason(finding.rule_id)
        text = f"{reason.reason}：{finding.vola_cont}" if finding.vola_cont else reason.reason
        made.append(_deduction(claim, amount, category=reason.category, reason=text,
                               reason_en=reason.reason_en, feedetl_sn=finding.feedetl_sn,
                               rule_id=finding.rule_id))
        left -= amount
    return made


def review_claims(claims: Iterable[Claim], findings: Iterable[FindingLike],
                  config: ReviewConfig, *, rng: random.Random, sampling_rate: Decimal,
                  excess: Decimal = ZERO) -> Outcome:
    """Deductions of ``claims`` (in the order given) from rule ``findings`` and a seeded
    sample; ``excess`` (declared above uploaded, yuan) refused as a settlement-less row.

    ``rng`` draws two numbers per reviewable claim, whatever the findings, so that the sample
    depends only on the seed and the claims."""
    by_setl: dict[str, list[FindingLike]] = {}
    for finding in findings:
        by_setl.setdefault(finding.setl_id, []).append(finding)
    for setl_id, listed in by_setl.items():
        listed.sort(key=lambda f: (f.feedetl_sn, f.rule_id, f.amount))
        # a row broken by several rules is deducted once: under the first rule id
        by_setl[setl_id] = [f for i, f in enumerate(listed)
                            if i == 0 or f.feedetl_sn != listed[i - 1].feedetl_sn]
    deductions: list[Deduction] = []
    claimed = ZERO
    for claim in claims:
        claimed += claim.claimed
        if not claim.reviewable:
            continue
        draw, pick = Decimal(rng.random()), Decimal(rng.random())
        left = max(claim.fund_pay_sumamt, ZERO)  # the account's part is the insured's own
        made = _rule_deductions(claim, by_setl.get(claim.setl_id, []), config, left)
        left -= sum((d.amount for d in made), ZERO)
        if draw < sampling_rate and left > 0:
            reached = Decimal(0)
            for sampled in config.sampled:
                reached += sampled.probability
                if pick < reached:
                    amount = min(round_money(sampled.share * claim.fund_pay_sumamt), left)
                    if amount > 0:
                        made.append(_deduction(
                            claim, amount, category=sampled.reason.category,
                            reason=sampled.reason.reason, reason_en=sampled.reason.reason_en))
                    break
        deductions.extend(made)
    if excess > 0:
        claimed += excess
        why = config.declaration
        deductions.append(Deduction("", "", "", None, None, why.category, why.reason,
                                    why.reason_en, round_money(excess), "", "", "", "", ""))
    return Outcome(claimed, tuple(deductions))
