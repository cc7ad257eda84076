"""Rules across charges (issue 10): the same item twice on one day, mutually exclusive services
on one day, and frequency limits — checked over a person's charged rows of many visits.

These are the rules of the library (:mod:`mock_insurer.policy.rules`) with ``enforced: review``:
2204 accepts each line (a line alone breaks nothing), the insurer's after-the-fact review
(审核 → 拒付) deducts the violating rows, and 3101/3102 warn about them beforehand by calling
:func:`review_findings` on the ledger's history plus the orders asked about. So what a HIS
could have caught before is exactly what is deducted after.

The *first* charge of a violation is legitimate; the later row(s) are flagged:

- ``same_day_duplicate``: an item whose ``med_chrgitm_type`` is one of the rule's
  ``item_types``, charged again to the same person on the same day (every row after the first
  of that person, day and item).
- ``exclusive_same_day``: for each of the rule's groups, the first row of the person's day that
  is in the group fixes its code; a later row of another code of the group is flagged (a
  repeat of the same code is the duplicate rule's business).
- ``frequency``: for each limit (``codes`` counted together), a row is flagged when the
  quantity (``cnt``) charged to the person in the ``days`` days ending on the row's day
  (inclusive), earlier rows and this one, is more than ``times``.

Rows are taken in the order given within one day (pass them in charge order: the ledger's
upload order); days by date. Amounts are yuan.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from mock_insurer.policy.catalogue import CatalogueEntry
from mock_insurer.policy.rules import ExclusiveGroup, FrequencyLimit, Rule

__all__ = ["ChargedRow", "Finding", "review_findings"]


@dataclass(frozen=True, slots=True)
class ChargedRow:
    """One charged fee row as the review reads it from the ledger (a settled row; 3101/3102
    also pass uploaded rows and the orders asked about, with ``setl_id`` "" when not settled).
    ``day`` is the fee's business date (``fee_ocur_time``'s date); money in yuan."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    feedetl_sn: str
    day: datetime.date
    med_list_codg: str
    cnt: Decimal
    prd_days: Decimal | None
    det_item_fee_sumamt: Decimal
    inscp_scp_amt: Decimal


@dataclass(frozen=True, slots=True)
class Finding:
    """A row that breaks a review rule. ``amount`` is the row's in-scope amount (yuan,
    ``inscp_scp_amt``) concerned; ``vola_cont`` the Chinese text naming the item, the other
    charge (date and visit) and the limit."""

    rule_id: str
    setl_id: str
    mdtrt_id: str
    feedetl_sn: str
    amount: Decimal
    vola_cont: str


def review_findings(rows: Sequence[ChargedRow], items: Mapping[str, CatalogueEntry],
                    rules: Sequence[Rule]) -> list[Finding]:
    """The findings of the ``enforced: review`` rules of *rules* over *rows*.

    Pure and deterministic: findings come in row order (by person, then day, then the order
    given), and for one row in the order of *rules*. *items* names the items (a code missing
    from it is named by its code, and counts as no ``item_types`` match)."""
    ordered = sorted(enumerate(rows), key=lambda pair: (pair[1].psn_no, pair[1].day, pair[0]))
    found: dict[int, list[Finding]] = defaultdict(list)
    for rule in rules:
        if rule.enforced != "review":
            continue
        if rule.inspects == "same_day_duplicate":
            hits = _duplicates(rule, ordered, items)
        elif rule.inspects == "exclusive_same_day":
            hits = _exclusive(rule, ordered, items)
        elif rule.inspects == "frequency":
            hits = _frequency(rule, ordered, items)
        else:
            continue
        for row_index, text in hits:
            row = rows[row_index]
            found[row_index].append(Finding(rule.rule_id, row.setl_id, row.mdtrt_id,
                                            row.feedetl_sn, row.inscp_scp_amt, text))
    rank = {rule.rule_id: index for index, rule in enumerate(rules)}
    return [finding for index, _row in ordered
            for finding in sorted(found.get(index, []), key=lambda f: rank[f.rule_id])]


_Hit = tuple[int, str]


def _name(items: Mapping[str, CatalogueEntry], code: str) -> str:
    item = items.get(code)
    return item.med_list_name if item is not None else code


def _where(row: ChargedRow, other: ChargedRow) -> str:
    """The other charge, as a cashier reads it: its date and visit."""
    visit = "本次就诊" if other.mdtrt_id == row.mdtrt_id else f"就诊 {other.mdtrt_id}"
    return f"{other.day.isoformat()} {visit}"


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _duplicates(rule: Rule, ordered: Sequence[tuple[int, ChargedRow]],
                items: Mapping[str, CatalogueEntry]) -> list[_Hit]:
    types = set(rule.item_types)
    first: dict[tuple[str, datetime.date, str], ChargedRow] = {}
    hits: list[_Hit] = []
    for index, row in ordered:
        item = items.get(row.med_list_codg)
        if item is None or item.med_chrgitm_type not in types:
            continue
        key = (row.psn_no, row.day, row.med_list_codg)
        earlier = first.setdefault(key, row)
        if earlier is not row:
            hits.append((index, f"{item.med_list_name} 同日重复收费：{_where(row, earlier)}"
                                f"已收取，每人每日限收 1 次"))
    return hits


def _exclusive(rule: Rule, ordered: Sequence[tuple[int, ChargedRow]],
               items: Mapping[str, CatalogueEntry]) -> list[_Hit]:
    hits: list[_Hit] = []
    for group in rule.groups:
        hits.extend(_exclusive_group(group, ordered, items))
    return _once_per_row(hits, ordered)


def _exclusive_group(group: ExclusiveGroup, ordered: Sequence[tuple[int, ChargedRow]],
                     items: Mapping[str, CatalogueEntry]) -> list[_Hit]:
    codes = set(group.codes)
    first: dict[tuple[str, datetime.date], ChargedRow] = {}
    hits: list[_Hit] = []
    for index, row in ordered:
        if row.med_list_codg not in codes:
            continue
        earlier = first.setdefault((row.psn_no, row.day), row)
        if earlier.med_list_codg != row.med_list_codg:
            hits.append((index, f"{_name(items, row.med_list_codg)} 与 "
                                f"{_name(items, earlier.med_list_codg)} 为互斥项目"
                                f"（{group.name}）：{_where(row, earlier)}已收取 "
                                f"{_name(items, earlier.med_list_codg)}"))
    return hits


def _frequency(rule: Rule, ordered: Sequence[tuple[int, ChargedRow]],
               items: Mapping[str, CatalogueEntry]) -> list[_Hit]:
    hits: list[_Hit] = []
    for limit in rule.limits:
        hits.extend(_frequency_limit(limit, ordered, items))
    return _once_per_row(hits, ordered)


def _once_per_row(hits: Sequence[_Hit], ordered: Sequence[tuple[int, ChargedRow]]) -> list[_Hit]:
    """One hit per row (a row may break several groups or limits of one rule: the first
    group's or limit's text is kept), in row order."""
    first: dict[int, str] = {}
    for index, text in hits:
        first.setdefault(index, text)
    return [(index, first[index]) for index, _row in ordered if index in first]


def _frequency_limit(limit: FrequencyLimit, ordered: Sequence[tuple[int, ChargedRow]],
                     items: Mapping[str, CatalogueEntry]) -> list[_Hit]:
    codes = set(limit.codes)
    by_person: dict[str, list[ChargedRow]] = defaultdict(list)
    hits: list[_Hit] = []
    times = Decimal(limit.times)
    for index, row in ordered:
        if row.med_list_codg not in codes:
            continue
        earlier = by_person[row.psn_no]
        first_day = row.day - datetime.timedelta(days=limit.days - 1)
        in_window = [other for other in earlier if other.day >= first_day]
        total = sum((other.cnt for other in in_window), row.cnt)
        if total > times:
            shown = "、".join(_where(row, other) for other in in_window[:3])
            more = " 等" if len(in_window) > 3 else ""
            prior = f"此前 {shown}{more}已收取，" if in_window else ""
            hits.append((index, f"{_name(items, row.med_list_codg)} 超频次：{prior}"
                                f"{limit.days} 天内累计 {_num(total)} 次，限 {limit.times} 次"))
        earlier.append(row)
    return hits
