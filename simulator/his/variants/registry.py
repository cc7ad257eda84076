"""The registry of deliberately broken HIS variants: each is the reference HIS with exactly one
defect a real HIS has been seen to have, named for the CLI and the reports
(docs/his-variants.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simulator.his.app import ReferenceHis
from simulator.his.errors import HisConfigError
from simulator.his.variants.bills import BillIgnoresAccountHis
from simulator.his.variants.dayend import DayEndNoCorrectionHis
from simulator.his.variants.identity import GbkNameHis, RegisterTypedIdentityHis, TypedCertnoHis
from simulator.his.variants.recovery import BlindResendHis, ForgetLostHis
from simulator.his.variants.refunds import RefundDropsRestHis
from simulator.his.variants.refusals import NoSigninRenewalHis, OrphanOnRefusalHis
from simulator.his.variants.rulecheck import IgnoresRuleCheckHis

__all__ = ["CONCERNS", "VARIANTS", "Concern", "Variant", "variant"]

Concern = Literal["data-consistency", "rejection-handling", "outage-recovery",
                  "reconciliation", "refunds"]
CONCERNS: tuple[Concern, ...] = ("data-consistency", "rejection-handling", "outage-recovery",
                                 "reconciliation", "refunds")


@dataclass(frozen=True)
class Variant:
    """One broken HIS: ``name`` (kebab-case, stable: used on the CLI and in reports),
    ``title`` ("中文 / English", what is broken), ``concern`` (which of the harness's concerns it
    tests), ``breaks`` (what a checker observes) and ``his_class`` (build it like
    :class:`ReferenceHis`, from a :class:`~simulator.his.config.HisConfig`)."""

    name: str
    title: str
    concern: Concern
    breaks: str
    his_class: type[ReferenceHis]


_ALL = (
    Variant("typed-certno",
            "证件号码按录入原样上传 / the certificate number is sent as typed",
            "data-consistency",
            "1101 is refused for a person whose number was typed with full-width digits, "
            "spaces or a lower-case x; the cashier sees the insurer's identity refusal",
            TypedCertnoHis),
    Variant("register-typed-identity",
            "挂号上传录入的证件号而非医保返回的 / 2201 carries the typed number, not the "
            "insurer's certno",
            "data-consistency",
            "1101 succeeds but 2201 carries the typed form and is refused; no visit is "
            "registered for a person whose number was typed differently",
            RegisterTypedIdentityHis),
    Variant("name-gbk",
            "姓名存于GBK五字字段 / names kept in a 5-character GBK field",
            "data-consistency",
            "a typed name longer than five characters or outside GBK is sent cut (or with '?') "
            "and 1101 is refused for identity mismatch; the identity and bill show the cut name",
            GbkNameHis),
    Variant("orphan-on-refusal",
            "拒付后未撤销挂号和明细 / a refusal leaves the registration and details open",
            "rejection-handling",
            "after a refused 2203/2204/2206/2207 an open registration (and its unsettled "
            "details) is left at the insurer",
            OrphanOnRefusalHis),
    Variant("ignores-rule-check",
            "不调用规则审核(3101/3102) / never asks the insurer's rule check",
            "rejection-handling",
            "no 3101 when orders are saved and no 3102 before settling: no warning is shown, "
            "an over-prescribed line is uploaded as it is and the insurer refuses it in real "
            "time; no visit is stopped for a severe warning",
            IgnoresRuleCheckHis),
    Variant("no-signin-renewal",
            "签到失效后不重新签到 / never signs in again after the sign-in is invalidated",
            "outage-recovery",
            "after the insurer invalidates the sign-in, every later message of that operator "
            "that day is refused for sign-in and the cashier sees it",
            NoSigninRenewalHis),
    Variant("blind-resend",
            "结算应答丢失后直接重发 / a lost 2207 answer is resent without query or reversal",
            "outage-recovery",
            "when the lost 2207 had been committed, two settlements are in effect at the "
            "insurer for one visit (no 5203, no 2601 was sent)",
            BlindResendHis),
    Variant("forget-lost",
            "结算应答丢失后当作失败并遗忘 / a lost 2207 answer is forgotten as a failure",
            "outage-recovery",
            "the cashier is told the settlement failed while the insurer holds it; it is "
            "missing from the HIS's ledger and day-end stays unbalanced",
            ForgetLostHis),
    Variant("refund-drops-rest",
            "部分退费后未重新结算保留项目 / a partial refund never settles the kept items",
            "refunds",
            "after a partial refund the insurer holds no settlement for the items the patient "
            "kept; their registration is left open and no new bill is printed",
            RefundDropsRestHis),
    Variant("bill-ignores-account",
            "发票现金=总额−统筹，忽略个人账户 / the bill's cash ignores the personal account",
            "reconciliation",
            "the bill's psn_cash_pay (and the cash charged) is medfee − fund: it differs from "
            "the insurer's settlement whenever the personal account paid",
            BillIgnoresAccountHis),
    Variant("dayend-no-correction",
            "日终对账不平不处理 / day-end reports a mismatch but never corrects it",
            "reconciliation",
            "day-end answers balanced false after a mismatch the reference HIS corrects; no "
            "9101/3202/9102 is sent",
            DayEndNoCorrectionHis),
)

VARIANTS: dict[str, Variant] = {v.name: v for v in _ALL}
"""Every variant by name, in a stable order."""


def variant(name: str) -> Variant:
    """The variant called ``name``; :class:`HisConfigError` listing the names otherwise."""
    found = VARIANTS.get(name)
    if found is None:
        raise HisConfigError(f"--variant: no HIS variant {name!r}; the variants are: "
                             f"{', '.join(VARIANTS)}")
    return found
