"""Real-time checks of one fee line against its catalogue item and the person (2204/2207).

A line is either *refused* (the message is refused with a code and a text a cashier can act on;
DESIGN.md "Rejections") or accepted, in scope or not. The refusals, in the order checked:

=========================  ========================================================
code                       when
=========================  ========================================================
``gender_restricted``      the item is limited to one gender and the person is not
``age_restricted``         the person's age is outside the item's [age_min, age_max]
``over_quantity``          ``cnt`` above the item's per-prescription quantity limit
``over_days``              ``prd_days`` above the item's per-prescription days limit
``cumulative_over_supply`` days already supplied in the window + this line's days
                           exceed the window's length + the tolerance (parameters
                           ``checks.supply_window_days``/``supply_tolerance_days``)
=========================  ========================================================

An accepted line is out of scope (full self-pay, not a refusal) when the item is limited to
indications none of the visit's diagnoses meets, or when it is a restricted-use item
(``lmt_used_flag`` 1) whose hospital approval was refused (``hosp_appr_flag`` 2): the same
drug is reimbursed or not depending on the diagnosis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from mock_insurer.policy.catalogue import CatalogueEntry
from mock_insurer.policy.parameters import Parameters
from mock_insurer.policy.rows import FeeLine

__all__ = ["REFUSAL_CODES", "LineCheck", "PersonFacts", "check_line", "indication_met",
           "supply_window_start"]

REFUSAL_CODES = (
    "gender_restricted",
    "age_restricted",
    "over_quantity",
    "over_days",
    "cumulative_over_supply",
)

_GENDER_NAMES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """Who the line is for: ``gend`` (1 male, 2 female, 0/9 unknown), ``age`` in whole years on
    the business day."""

    gend: str
    age: int
    psn_no: str


@dataclass(frozen=True, slots=True)
class LineCheck:
    """The outcome of checking one line. ``refusal`` is a code of :data:`REFUSAL_CODES` or None;
    ``detail`` the Chinese text for the cashier; ``in_scope`` False makes the row full
    self-pay (pass it and ``memo`` on to :func:`split_row`)."""

    feedetl_sn: str
    refusal: str | None
    detail: str
    in_scope: bool
    memo: str


def check_line(
    line: FeeLine,
    item: CatalogueEntry,
    person: PersonFacts,
    diagnoses: Sequence[str],
    supplied_days_in_window: Decimal,
    params: Parameters,
) -> LineCheck:
    """Check one fee line.

    ``diagnoses`` are the visit's diagnosis codes plus the row's ``dise_codg``.
    ``supplied_days_in_window`` is the days of this item already supplied to this person in the
    ``params.checks.supply_window_days`` days up to and including the business day (the
    ledger counts it; this line not included).
    """
    name = item.med_list_name

    def refuse(code: str, detail: str) -> LineCheck:
        return LineCheck(line.feedetl_sn, code, detail, False, "")

    if item.gend_limit is not None and person.gend != item.gend_limit:
        return refuse("gender_restricted",
                      f"{name} 限{_GENDER_NAMES[item.gend_limit]}性使用，患者性别为"
                      f"{_GENDER_NAMES.get(person.gend, person.gend)}")
    too_young = item.age_min is not None and person.age < item.age_min
    too_old = item.age_max is not None and person.age > item.age_max
    if too_young or too_old:
        return refuse("age_restricted",
                      f"{name} 限{_age_range(item.age_min, item.age_max)}使用，"
                      f"患者年龄 {person.age} 岁")
    if item.max_cnt_per_rx is not None and line.cnt > item.max_cnt_per_rx:
        return refuse("over_quantity",
                      f"{name} 单张处方数量 {_num(line.cnt)} 超过限量 {_num(item.max_cnt_per_rx)}")
    days = line.prd_days
    if item.max_days_per_rx is not None and days is not None and days > item.max_days_per_rx:
        return refuse("over_days",
                      f"{name} 单张处方用药天数 {_num(days)} 天，超过限定 "
                      f"{_num(item.max_days_per_rx)} 天")
    window = params.checks.supply_window_days
    allowed = window + params.checks.supply_tolerance_days
    if days is not None and days > 0 and supplied_days_in_window + days > allowed:
        return refuse("cumulative_over_supply",
                      f"{name} 近 {window} 天内已开具 {_num(supplied_days_in_window)} 天，"
                      f"本次 {_num(days)} 天，合计超过可开具的 {_num(allowed)} 天")
    if item.lmt_used_flag == "1" and line.hosp_appr_flag == "2":
        return LineCheck(line.feedetl_sn, None, "", False,
                         f"{name} 为限制使用项目，医院审批不通过，按全自费")
    if item.indications and not indication_met(item.indications, diagnoses):
        shown = "、".join(d for d in diagnoses if d.strip()) or "无"
        return LineCheck(line.feedetl_sn, None, "", False,
                         f"{name} 限适应症（{'、'.join(item.indications)}）使用，"
                         f"本次诊断（{shown}）不符，按全自费")
    return LineCheck(line.feedetl_sn, None, "", True, "")


def supply_window_start(day: dt.date, params: Parameters) -> dt.date:
    """The first day of the over-supply window ending on business day *day* (inclusive): the
    ledger's supplied days are counted from this day's 00:00:00 on (2204 and 3101/3102 alike)."""
    return day - dt.timedelta(days=params.checks.supply_window_days - 1)


def indication_met(indications: Sequence[str], diagnoses: Sequence[str]) -> bool:
    """True when a diagnosis equals an indication code or starts with it (an indication
    ``"J06"`` covers ``"J06.900"``); compared without surrounding spaces, case-insensitively."""
    wanted = [code.strip().upper() for code in indications if code.strip()]
    return any(
        diagnosis.strip().upper().startswith(code)
        for diagnosis in diagnoses if diagnosis.strip()
        for code in wanted
    )


def _num(value: Decimal) -> str:
    """A quantity without trailing zeros: 30.0000 -> "30", 7.50 -> "7.5"."""
    return f"{value.normalize():f}"


def _age_range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" {low}–{high} 岁"
    if low is not None:
        return f" {low} 岁及以上"
    return f" {high} 岁及以下"
