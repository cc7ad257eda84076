"""The per-visit split (费用分解) of a settlement over the funds, the account and cash.

Input: the row splits of the batch (:func:`split_row`), the settlement's facts (who, where,
when, year-to-date counters, account balance) and the parameters in force on the business day.
Output: every money field of 2207 ``setlinfo``, the ``setldetail`` fund rows, and how each
year-to-date counter moves. Money in yuan; steps in order (``docs/policy.md`` has a worked
example; ``R4``-``R8`` are the only rounding points, half-up to the cent):

1. Totals: the four row amounts summed; ``inscp`` = the rows' in-scope total.
2. Registration payment: when due, the pooled fund pays ``registration_payment`` out of
   ``inscp`` (at most ``inscp`` and the cap left); it does not count toward the deductible.
3. Deductible: the rest of ``inscp`` meets what is left of the year's deductible first
   (``act_pay_dedc``).
4. Pooled fund: ``round(above × ratio)`` R4, limited by the cap left; the part cut off by the
   cap is ``cut``. ``hifp_pay`` = registration payment + this.
5. Large-amount fund (``hifob_pay``): ``round(cut × share)`` R5, within its own annual cap.
6.-8. The payer chain (:class:`~mock_insurer.policy.parameters.Payer`, its order is the
   profile's ``payer_chain``): each payer that covers the person (by flag or enrolment) and the
   med type pays marginal brackets of its base — the in-scope self-pay left, or the person's
   whole part left — accumulated over the year above its threshold, within its annual cap,
   R6-R8; its amount is added to its setlinfo field. Beijing's chain: serious illness
   (``hifmi_pay``), civil-servant subsidy (``cvlserv_pay``, a share of the in-scope self-pay
   left), medical assistance (``maf_pay``), veterans' second compensation (``maf_pay``,
   610200), a commercial insurer through the one-stop platform (``oth_pay``, 999997).
9. The person's part = medfee − funds − hospital part (0); the account pays what
   ``account.may_pay`` allows up to the balance (when ``acct_used_flag``); the rest is cash.

Every fund pays only out of what the person still bears (the in-scope amount, unless a
payer's base is ``psn_part``), so no amount can turn negative; the invariants of the reference ("Settlement arithmetic") are property-tested.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal

from mock_insurer.money import ZERO, render, round_money, round_ratio
from mock_insurer.policy.kinds import Bracket
from mock_insurer.policy.parameters import (
    PAYER_WIRE_FIELDS,
    Fund,
    Parameters,
    Payer,
    PoolRates,
    ShareRates,
)
from mock_insurer.policy.rows import RowSplit

__all__ = [
    "COUNTERS",
    "MONEY_FIELDS",
    "Decomposition",
    "FundRow",
    "SettlementFacts",
    "YearToDate",
    "decompose",
]

#: The year-to-date counters (names as in the ledger), per person, year and insutype (yuan).
#: New counters are appended (the ledger keeps counters by name; the order is the API's).
COUNTERS = ("dedc_used", "hifp_paid", "hifob_paid", "hifmi_paid", "cvlserv_paid", "maf_paid",
            "hifmi_base_used", "veterans_paid", "commercial_paid", "commercial_base_used")


@dataclass(frozen=True, slots=True)
class YearToDate:
    """The person's counters for the settlement's calendar year and insutype (yuan).

    ``hifmi_base_used`` is the in-scope self-pay accumulated toward the serious-illness
    threshold (moves only in settlements that fund covers); ``commercial_base_used`` likewise
    the base accumulated toward the commercial insurer's deductible."""

    dedc_used: Decimal = ZERO
    hifp_paid: Decimal = ZERO
    hifob_paid: Decimal = ZERO
    hifmi_paid: Decimal = ZERO
    cvlserv_paid: Decimal = ZERO
    maf_paid: Decimal = ZERO
    hifmi_base_used: Decimal = ZERO
    veterans_paid: Decimal = ZERO
    commercial_paid: Decimal = ZERO
    commercial_base_used: Decimal = ZERO

    @classmethod
    def from_mapping(cls, values: Mapping[str, Decimal]) -> YearToDate:
        """From ``{counter name: yuan}`` (the ledger's form); missing counters are 0."""
        return cls(*(values.get(name, ZERO) for name in COUNTERS))

    def as_mapping(self) -> dict[str, Decimal]:
        return {name: getattr(self, name) for name in COUNTERS}

    def get(self, name: str) -> Decimal:
        """One counter by its ledger name."""
        value: Decimal = getattr(self, name)
        return value

    def plus(self, deltas: Mapping[str, Decimal]) -> YearToDate:
        """These counters moved by ``deltas`` (a :attr:`Decomposition.counter_deltas`)."""
        return YearToDate(*(getattr(self, n) + deltas.get(n, ZERO) for n in COUNTERS))


@dataclass(frozen=True, slots=True)
class SettlementFacts:
    """What the split needs to know besides the rows. ``setl_date`` is the business date that
    picks the dated parameters; ``tier`` is the institution's ("community"|"1"|"2"|"3");
    ``balc`` the personal-account balance before (yuan); ``registration_payment_due`` True
    for the first settlement of a visit; ``enrolments`` the ids of the payers the person is
    enrolled with (payers of eligibility ``enrolment``, e.g. ``veterans``)."""

    setl_date: dt.date
    insutype: str
    psn_type: str
    retired: bool
    cvlserv_flag: str
    maf_eligible: bool
    tier: str
    med_type: str
    acct_used_flag: bool
    balc: Decimal
    registration_payment_due: bool
    ytd: YearToDate
    enrolments: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FundRow:
    """One ``setldetail`` row. ``inscp_scp_amt`` repeats the settlement's in-scope amount;
    ``crt_payb_lmt_amt`` is what the fund could pay this time (the annual cap left, the account
    balance, or the payment itself when nothing limits it); ``setl_proc_info`` says how the
    amount was computed, in Chinese."""

    fund_pay_type: str
    fund_pay_type_name: str
    inscp_scp_amt: Decimal
    crt_payb_lmt_amt: Decimal
    fund_payamt: Decimal
    setl_proc_info: str

    def negated(self) -> FundRow:
        return replace(self, inscp_scp_amt=_neg(self.inscp_scp_amt),
                       crt_payb_lmt_amt=_neg(self.crt_payb_lmt_amt),
                       fund_payamt=_neg(self.fund_payamt))


@dataclass(frozen=True, slots=True)
class Decomposition:
    """Every money field of 2207 ``setlinfo`` (yuan; ``pool_prop_selfpay`` a ratio), the fund
    rows, and the counter deltas. ``balc`` is the account balance after.

    ``counter_deltas`` maps every name of :data:`COUNTERS` to how much it moves (>= 0 for a
    settlement); it is a plain dict (easy to store as JSON) that nobody should mutate.
    ``pool_prop_selfpay`` is the pooled fund's ratio that applied above the deductible, 0 when
    nothing lay above it (the national samples show 0; HIS do not rely on it)."""

    medfee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_selfpay: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    act_pay_dedc: Decimal
    hifp_pay: Decimal
    pool_prop_selfpay: Decimal
    cvlserv_pay: Decimal
    hifes_pay: Decimal
    hifmi_pay: Decimal
    hifob_pay: Decimal
    maf_pay: Decimal
    oth_pay: Decimal
    fund_pay_sumamt: Decimal
    psn_part_amt: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal
    hosp_part_amt: Decimal
    acct_mulaid_pay: Decimal
    balc: Decimal
    fund_rows: tuple[FundRow, ...]
    counter_deltas: Mapping[str, Decimal]

    def negated(self, balc_after: Decimal) -> Decomposition:
        """The cancellation (2208) of this settlement: every amount, fund row and counter delta
        negated; ``balc`` = ``balc_after`` (the balance after the refund, which the ledger
        knows); ``pool_prop_selfpay`` (a ratio, not an amount) unchanged."""
        negated: dict[str, Decimal] = {name: _neg(getattr(self, name)) for name in MONEY_FIELDS}
        return replace(
            self,
            **negated,
            balc=balc_after,
            fund_rows=tuple(row.negated() for row in self.fund_rows),
            counter_deltas={k: _neg(v) for k, v in self.counter_deltas.items()},
        )

    def as_setlinfo(self) -> dict[str, Decimal]:
        """The setlinfo amounts by their national field names (money, the ratio and balc)."""
        return {name: getattr(self, name) for name in _SETLINFO_FIELDS}


_SETLINFO_FIELDS = tuple(f.name for f in fields(Decomposition)
                         if f.name not in ("fund_rows", "counter_deltas"))
#: The money fields of :class:`Decomposition` that a cancellation negates.
MONEY_FIELDS = tuple(n for n in _SETLINFO_FIELDS if n not in ("pool_prop_selfpay", "balc"))


def decompose(rows: Sequence[RowSplit], facts: SettlementFacts,
              params: Parameters) -> Decomposition:
    """Split a settlement of ``rows`` over the funds, the account and cash (module docstring).

    Raises :class:`SchemeNotConfigured` for an insutype the profile does not cover."""
    rates = params.rates(facts.insutype, facts.tier, facts.retired)
    ytd = facts.ytd
    medfee = _sum(r.det_item_fee_sumamt for r in rows)
    fulamt = _sum(r.fulamt_ownpay_amt for r in rows)
    overlmt = _sum(r.overlmt_amt for r in rows)
    preselfpay = _sum(r.preselfpay_amt for r in rows)
    inscp = _sum(r.inscp_scp_amt for r in rows)
    book = _FundBook(inscp)

    pool = _pool(rates.pool, inscp, facts)
    book.add(rates.pool.fund, pool.hifp, pool.limit, pool.info)

    hifob = ZERO
    if pool.cut > 0:
        hifob = _share(rates.large_amount, True, pool.cut, ytd.hifob_paid, facts, book,
                       f"封顶线以上统筹应付 {render(pool.cut)}")

    selfpay = inscp - pool.hifp - hifob  # in-scope amount the person would bear so far
    outside = medfee - inscp  # self-pay items, over-limit and first self-pay (no fund pays)
    wire = dict.fromkeys(PAYER_WIRE_FIELDS, ZERO)
    deltas = dict.fromkeys(COUNTERS, ZERO)
    for payer in rates.payers:
        paid = _chain_payer(payer, selfpay, outside, facts, book, deltas)
        wire[payer.wire_field] += paid
        from_scope = min(paid, selfpay)
        selfpay -= from_scope
        outside -= paid - from_scope

    hosp_part = ZERO  # not modelled (docs/policy.md)
    fund_sum = pool.hifp + hifob + sum(wire.values(), ZERO)
    psn_part = medfee - fund_sum - hosp_part
    acct = ZERO
    balc_before = max(ZERO, facts.balc)
    account = rates.account
    if facts.acct_used_flag and account is not None:
        payable = {"psn_part": psn_part, "inscp_selfpay": selfpay}.get(account.may_pay, ZERO)
        acct = min(balc_before, payable)
        book.add(account.fund, acct, balc_before,
                 f"个人负担 {render(psn_part)}，账户可支付 {render(payable)}，"
                 f"余额 {render(balc_before)}")
    book.add(params.hospital_fund, hosp_part, hosp_part, "医院负担")

    result = Decomposition(
        medfee_sumamt=medfee,
        fulamt_ownpay_amt=fulamt,
        overlmt_selfpay=overlmt,
        preselfpay_amt=preselfpay,
        inscp_scp_amt=inscp,
        act_pay_dedc=pool.act_pay_dedc,
        hifp_pay=pool.hifp,
        pool_prop_selfpay=round_ratio(rates.pool.ratio if pool.above > 0 else ZERO),
        cvlserv_pay=wire["cvlserv_pay"],
        hifes_pay=wire["hifes_pay"],
        hifmi_pay=wire["hifmi_pay"],
        hifob_pay=hifob,
        maf_pay=wire["maf_pay"],
        oth_pay=wire["oth_pay"],
        fund_pay_sumamt=fund_sum,
        psn_part_amt=psn_part,
        acct_pay=acct,
        psn_cash_pay=psn_part - acct,
        hosp_part_amt=hosp_part,
        acct_mulaid_pay=ZERO,
        balc=facts.balc - acct,
        fund_rows=tuple(book.rows),
        counter_deltas={**deltas, "dedc_used": pool.act_pay_dedc, "hifp_paid": pool.hifp,
                        "hifob_paid": hifob},
    )
    _check(result)
    return result


# -- the steps -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Pool:
    hifp: Decimal           # registration payment + ratio payment
    act_pay_dedc: Decimal
    above: Decimal          # in-scope amount above the deductible
    cut: Decimal            # the ratio payment the annual cap cut off
    limit: Decimal | None   # the cap left before this settlement
    info: str


def _pool(pool: PoolRates, inscp: Decimal, facts: SettlementFacts) -> _Pool:
    ytd = facts.ytd
    limit = _cap_left(pool.annual_cap, ytd.hifp_paid)
    cap_left = limit
    registration = ZERO
    if facts.registration_payment_due:
        registration = min(pool.registration_payment, inscp)
        if cap_left is not None:
            registration = min(registration, cap_left)
            cap_left -= registration
    deductible_left = max(ZERO, pool.deductible - ytd.dedc_used)
    act_pay_dedc = min(inscp - registration, deductible_left)
    above = inscp - registration - act_pay_dedc
    due = round_money(above * pool.ratio)  # R4
    paid = due if cap_left is None else min(due, cap_left)
    parts = [f"符合范围 {render(inscp)}"]
    if registration > 0:
        parts.append(f"挂号定额支付 {render(registration)}（不计入起付线）")
    parts.append(f"起付线 {render(pool.deductible)}，本年已计 {render(ytd.dedc_used)}，"
                 f"本次计入 {render(act_pay_dedc)}")
    parts.append(f"起付线以上 {render(above)} × {_percent(pool.ratio)} = {render(due)}"
                 f"{_cap_text(pool.annual_cap, ytd.hifp_paid)}")
    if due > paid:
        parts.append(f"超出年度封顶 {render(due - paid)} 统筹不予支付")
    return _Pool(registration + paid, act_pay_dedc, above, due - paid, limit, "；".join(parts))


def _share(fund: ShareRates | None, eligible: bool, base: Decimal, paid_ytd: Decimal,
           facts: SettlementFacts, book: _FundBook, base_text: str) -> Decimal:
    """A fund paying ``share`` of ``base`` within its annual cap, if it applies."""
    if fund is None or not eligible or facts.med_type not in fund.med_types or base <= 0:
        return ZERO
    due = round_money(base * fund.share)  # R5, R7, R8
    limit = _cap_left(fund.annual_cap, paid_ytd)
    pay = due if limit is None else min(due, limit)
    book.add(fund.fund, pay, limit, f"{base_text} × {_percent(fund.share)} = {render(due)}"
                                    f"{_cap_text(fund.annual_cap, paid_ytd)}")
    return pay


def _covers(payer: Payer, facts: SettlementFacts) -> bool:
    if facts.med_type not in payer.med_types:
        return False
    return {"everyone": True, "cvlserv_flag": facts.cvlserv_flag == "1",
            "maf_eligible": facts.maf_eligible,
            "enrolment": payer.id in facts.enrolments}.get(payer.eligibility, False)


def _chain_payer(payer: Payer, selfpay: Decimal, outside: Decimal, facts: SettlementFacts,
                 book: _FundBook, deltas: dict[str, Decimal]) -> Decimal:
    """What one payer of the chain pays (its fund row added to ``book``, its counters set in
    ``deltas``): marginal brackets of its base accumulated above its threshold, R6-R8."""
    base = selfpay if payer.base == "inscp_selfpay" else selfpay + outside
    if not _covers(payer, facts) or base <= 0:
        return ZERO
    paid_before = facts.ytd.get(payer.paid_counter)
    base_before = ZERO if payer.base_counter is None else facts.ytd.get(payer.base_counter)
    due = _marginal(payer.brackets, base_before - payer.threshold, base)
    limit = _cap_left(payer.annual_cap, paid_before)
    pay = due if limit is None else min(due, limit)
    what = "符合范围个人负担" if payer.base == "inscp_selfpay" else "个人负担"
    if payer.base_counter is None and len(payer.brackets) == 1:
        info = f"{what} {render(base)} × {_percent(payer.share)} = {render(due)}"
    else:
        accumulated = "合规自付" if payer.base == "inscp_selfpay" else "个人负担"
        info = (f"本年累计{accumulated} {render(base_before)} + 本次 {render(base)}，"
                f"起付线 {render(payer.threshold)}，分段支付 {render(due)}")
    book.add(payer.fund, pay, limit, info + _cap_text(payer.annual_cap, paid_before))
    deltas[payer.paid_counter] = pay
    if payer.base_counter is not None:
        deltas[payer.base_counter] = base
    return pay


def _marginal(brackets: Sequence[Bracket], excess_before: Decimal, amount: Decimal) -> Decimal:
    """What marginal ``brackets`` pay on ``amount`` added to an accumulated base that stood
    ``excess_before`` above the threshold (negative: still below it). R6."""
    low = max(ZERO, excess_before)
    high = max(ZERO, excess_before + amount)
    total = Decimal(0)
    for index, band in enumerate(brackets):
        top = brackets[index + 1].above if index + 1 < len(brackets) else None
        start = max(low, band.above)
        end = high if top is None else min(high, top)
        if end > start:
            total += (end - start) * band.rate
    return round_money(total)


class _FundBook:
    """Collects the setldetail rows of the funds that paid."""

    def __init__(self, inscp: Decimal) -> None:
        self.inscp = inscp
        self.rows: list[FundRow] = []

    def add(self, fund: Fund, amount: Decimal, limit: Decimal | None, info: str) -> None:
        if amount > 0:
            self.rows.append(FundRow(fund.fund_pay_type, fund.name, self.inscp,
                                     amount if limit is None else limit, amount, info))


def _cap_left(cap: Decimal | None, paid: Decimal) -> Decimal | None:
    return None if cap is None else max(ZERO, cap - paid)


def _cap_text(cap: Decimal | None, paid: Decimal) -> str:
    if cap is None:
        return "；无年度封顶"
    return f"；年度封顶 {render(cap)}，本年已支付 {render(paid)}"


def _percent(ratio: Decimal) -> str:
    text = f"{(ratio * 100).quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def _neg(value: Decimal) -> Decimal:
    return ZERO - value  # 0.00 stays 0.00 (not -0.00)


def _check(d: Decomposition) -> None:
    """The identities every split must satisfy; failing one is a bug (or rows not made by
    :func:`split_row`, e.g. a negative quantity the gateway should have refused)."""
    broken = [name for name in (*MONEY_FIELDS, "balc") if getattr(d, name) < 0]
    if d.psn_part_amt != d.acct_pay + d.psn_cash_pay:
        broken.append("psn_part_amt != acct_pay + psn_cash_pay")
    if d.inscp_scp_amt != (d.medfee_sumamt - d.fulamt_ownpay_amt - d.overlmt_selfpay
                           - d.preselfpay_amt):
        broken.append("inscp_scp_amt != medfee − fulamt − overlmt − preselfpay")
    if broken:
        raise ValueError(f"settlement split is inconsistent ({', '.join(broken)}): {d}")
