"""The registry of conformance mutants: the HIS variants the conformance suite proves itself on
(issue 5, item 4). Each is the reference HIS with one realistic defect, and names the
requirements (conformance/requirements.yaml) the suite must fail for it — the first is the one
its defect is about. Eleven are the HIS variants of :mod:`simulator.his.variants` (reused); the
others live in this package."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.mutants.dayend import DayEndSkipsRefundsHis, DayEndWrongFieldHis
from conformance.mutants.declaration import DeclaresWithoutCheckHis
from conformance.mutants.messages import ReusesMsgidHis
from conformance.mutants.out_of_area import DayEndOneGroupHis, LocalInsuplcHis
from conformance.mutants.payers import BillDropsPayersHis
from conformance.mutants.recovery import BadReversalHis
from conformance.mutants.refunds import RefundWithout2208His, StaleResettleHis
from conformance.mutants.rejections import BillDespiteRefusalHis, HidesRefusalReasonHis
from conformance.mutants.security import TifMillisHis
from conformance.mutants.split import ChargesTotalHis, MedfeeMismatchHis, RoundsPerItemHis
from simulator.his.app import ReferenceHis
from simulator.his.errors import HisConfigError
from simulator.his.variants import VARIANTS

__all__ = ["MUTANTS", "Mutant", "mutant"]


@dataclass(frozen=True)
class Mutant:
    """One broken HIS: ``name`` (kebab-case, stable: used in reports and on the command line),
    ``title`` ("中文 / English", what is wrong), ``defect`` (what this HIS does wrong, as a vendor
    would recognise it), ``fails`` (the requirement IDs the suite must fail for it; the first is
    the main one) and ``his_class`` (build it like :class:`ReferenceHis`, from a
    :class:`~simulator.his.config.HisConfig`)."""

    name: str
    title: str
    defect: str
    fails: tuple[str, ...]
    his_class: type[ReferenceHis]


def _variant(name: str, defect: str, *fails: str) -> Mutant:
    found = VARIANTS[name]
    return Mutant(name, found.title, defect, fails, found.his_class)


_ALL = (
    # -- ID: identity consistency -----------------------------------------------------------
    _variant("typed-certno",
             "1101 carries the certificate number exactly as typed: full-width digits, spaces "
             "and a lower-case final x are not normalised, so the person is not found.",
             "ID-001"),
    _variant("register-typed-identity",
             "1101 is normalised, but the patient record keeps the number as typed and 2201 "
             "carries it instead of the insurer's certno, so registration is refused.",
             "ID-003"),
    _variant("name-gbk",
             "Names are kept in a five-character GBK field: longer names are cut and characters "
             "outside GBK become '?', on 1101, on the patient and on the bill.",
             "ID-002"),
    Mutant("local-insuplc",
           "参保地统一传本院区划 / the hospital's area sent as everyone's insured place",
           "Every message carries the hospital's own area (mdtrtarea_admvs) as insuplc_admdvs "
           "instead of the insured place 1101 returned: local patients settle, a patient "
           "insured elsewhere is refused at registration (insuplc_mismatch).",
           ("ID-005",), LocalInsuplcHis),
    # -- SPLIT: split and bill correctness ---------------------------------------------------
    Mutant("charges-total",
           "按总额向患者收现金 / the patient is charged the whole total in cash",
           "The bill shows the insurer's amounts, but the till charges the patient the whole "
           "medfee_sumamt in cash (bill charged.cash), ignoring the fund's and the account's "
           "share.",
           ("SPLIT-002",), ChargesTotalHis),
    _variant("bill-ignores-account",
             "The bill's psn_cash_pay (and the cash charged) is medfee_sumamt − fund_pay_sumamt, "
             "as if the personal account had paid nothing.",
             "SPLIT-002", "SPLIT-001"),
    Mutant("rounds-per-item",
           "总额按未舍入明细合计后舍入 / the total is rounded once, the lines each",
           "Each line is sent rounded to the cent, but medfee_sumamt is the rounded sum of the "
           "unrounded line amounts (qty × price to 4 places): with two or more lines ending in "
           "half a cent (e.g. 0.125 × 4.52 twice) the insurer refuses medfee_mismatch.",
           ("SPLIT-003",), RoundsPerItemHis),
    Mutant("medfee-mismatch",
           "医疗费总额含已退明细 / medfee_sumamt includes refunded lines",
           "2206/2207 send as medfee_sumamt the total of every line on the visit's screen, "
           "refunded and cancelled ones included, not of the batch uploaded: after a partial "
           "refund the re-settlement of the kept items is refused medfee_mismatch.",
           ("SPLIT-003", "REF-002"), MedfeeMismatchHis),
    Mutant("bill-drops-payers",
           "票据只列基本医保 / the bill leaves off the supplementary payers",
           "The bill and the refund slip print only the basic funds (pooled fund, personal "
           "account): the setldetail lines of serious illness, civil-servant subsidy, medical "
           "assistance, veterans' compensation and a commercial insurer are left off.",
           ("SPLIT-004", "SPLIT-005"), BillDropsPayersHis),
    # -- REJ: rejection handling ---------------------------------------------------------------
    Mutant("bill-despite-refusal",
           "结算被拒仍按预结算出票 / a refused settlement still gets a bill",
           "When 2207 is refused, the HIS prints a bill from the 2206 estimate anyway, answers "
           "ok and shows the visit as settled; the cashier never sees the refusal.",
           ("REJ-001", "REJ-002", "REJ-004"), BillDespiteRefusalHis),
    Mutant("hides-refusal-reason",
           "拒付原因不显示 / the insurer's reason is hidden from the cashier",
           "Every insurer refusal reaches the cashier as one generic text (\"the insurance "
           "transaction failed; call the IT desk\") instead of the insurer's err_msg.",
           ("REJ-002", "REJ-004"), HidesRefusalReasonHis),
    _variant("orphan-on-refusal",
             "After a refusal inside a visit (2203/2204/2206/2207) the visit is closed in the "
             "HIS only: no 2205, no 2202; the registration and details stay open at the insurer.",
             "REJ-003"),
    # -- RULE: the insurer's rule check (3101/3102) ------------------------------------------
    _variant("ignores-rule-check",
             "Orders are never checked against the insurer's rule library: no 3101 when they "
             "are saved, no 3102 before settling; no warning reaches the cashier and an "
             "over-prescribed line is refused by the insurer at 2204 instead.",
             "RULE-001", "RULE-002", "RULE-003"),
    # -- OUT: outage recovery ----------------------------------------------------------------
    _variant("blind-resend",
             "A lost 2207 answer is taken for a failure: details uploaded again and 2207 sent "
             "under a new msgid, without 5203 or 2601 — a committed settlement is doubled.",
             "OUT-001", "OUT-007"),
    _variant("forget-lost",
             "A lost 2207 answer deletes the pending ledger row and the cashier is told the "
             "settlement failed; day-end ignores the settlement only the center has.",
             "OUT-001", "DAY-002", "DAY-001", "DAY-003", "OUT-007"),
    Mutant("bad-reversal",
           "冲正报文ID错误 / the reversal names the wrong message",
           "2601 reverses the window's last message: its omsgid is the msgid of the 5203 query "
           "just sent (oinfno 2207), not of the lost 2207, so the insurer refuses it and the "
           "lost settlement is never reversed.",
           ("OUT-003", "OUT-002"), BadReversalHis),
    _variant("no-signin-renewal",
             "When the insurer refuses for a stale sign-in, the HIS never signs in again: every "
             "later message of that operator that day is refused.",
             "OUT-005"),
    # -- REF: refunds ----------------------------------------------------------------------------
    Mutant("refund-without-2208",
           "退费不发2208 / a refund without 2208",
           "A refund never sends 2208: a 2205 for the settled batch (refused details_settled) is "
           "ignored and the cancellation is booked in the HIS's own ledger only; the insurer's "
           "settlement stays in effect.",
           ("REF-001", "DAY-003", "REF-002"), RefundWithout2208His),
    _variant("refund-drops-rest",
             "A partial refund cancels the settlement and the details (2208, 2205) but never "
             "uploads and settles the items the patient keeps.",
             "REF-002"),
    Mutant("stale-resettle",
           "部分退费后用旧预结算金额重结 / re-settles the kept items with stale amounts",
           "After a partial refund the 2207 of the kept items carries the four pre-settled "
           "amounts of the visit's first settlement, so the insurer refuses it "
           "(amounts_mismatch) and the kept items stay unsettled.",
           ("REF-002",), StaleResettleHis),
    # -- DAY: day-end reconciliation ---------------------------------------------------------
    Mutant("dayend-skips-refunds",
           "日终对账漏计退费 / day-end totals leave out refunds",
           "3201's totals are summed from the day's settlement rows only, without the refund "
           "(cancellation) rows; the detail comparison finds nothing to correct and day-end "
           "stays unbalanced on any day with a refund.",
           ("DAY-001",), DayEndSkipsRefundsHis),
    Mutant("dayend-wrong-field",
           "日终对账字段取错 / day-end sums the wrong field",
           "3201's acct_pay is the day's cash total (psn_cash_pay) instead of the account "
           "total: unbalanced on any day where account and cash payments differ.",
           ("DAY-001", "DAY-002", "DAY-004", "DAY-005"), DayEndWrongFieldHis),
    _variant("dayend-no-correction",
             "Day-end runs 3201 and reports a mismatch but never uploads details "
             "(9101/3202/9102) nor corrects its ledger.",
             "DAY-002", "DAY-003"),
    Mutant("dayend-one-group",
           "日终对账不分清算机构 / day-end lumps every clearing institution together",
           "3201 is sent once per insutype and clearing type, named with the hospital's own "
           "clearing institution, with the totals of every settlement of the day: the "
           "out-of-area settlements never get a 3201 of their own and the group stays "
           "unbalanced.",
           ("DAY-005", "DAY-002"), DayEndOneGroupHis),
    # -- DECL: declaration and repayment -----------------------------------------------------
    Mutant("declares-without-check",
           "申报前不对账 / the month is declared without checking it",
           "The month's totals are declared from the HIS's ledger as they stand, with no 3201 "
           "over the month first: a month in which the HIS lost a settlement the center has is "
           "declared with totals that differ from the uploaded ones.",
           ("DECL-001", "DECL-002"), DeclaresWithoutCheckHis),
    # -- SEC: security -------------------------------------------------------------------------
    Mutant("reuses-msgid",
           "报文ID按就诊计数重复使用 / msgids reused from a per-visit counter",
           "A visit's msgids are the institution code, the visit's registration time and a "
           "per-visit counter that a refund restarts: the messages after a refund reuse earlier "
           "msgids with other bodies and the insurer refuses them (duplicate_msgid).",
           ("SEC-001", "MSG-003"), ReusesMsgidHis),
    Mutant("tif-millis",
           "网关签名时间戳用毫秒 / the TIF timestamp in milliseconds",
           "The HIS stamps x-tif-timestamp in milliseconds (and signs that): with TIF gateway "
           "authentication the gateway refuses every message.",
           ("SEC-002",), TifMillisHis),
)

MUTANTS: dict[str, Mutant] = {m.name: m for m in _ALL}
"""Every mutant by name, in a stable order (by the requirement group of its main ID)."""


def mutant(name: str) -> Mutant:
    """The mutant called ``name``; :class:`HisConfigError` listing the names otherwise."""
    found = MUTANTS.get(name)
    if found is None:
        raise HisConfigError(f"no conformance mutant {name!r}; the mutants are: "
                             f"{', '.join(MUTANTS)}")
    return found
