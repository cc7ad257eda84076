"""3101 明细审核事前分析 and 3102 明细审核事中分析: the insurer's rule check before settlement
(fact sheet §3, "3101 / 3102"; issue 10).

The HIS sends its patients, their encounters and each encounter's orders
(``data.patient_dtos[].fsi_encounter_dtos[].fsi_order_dtos[]``); the insurer answers one
``result`` row per violation found by the rule library (:mod:`mock_insurer.policy.rules`),
``result: []`` when there is none. 3101 is asked when the orders are saved (事前), 3102 before
settlement (事中); the mock checks both the same way. Nothing is written to the ledger but the
message record.

Our choices where the specification is silent or elided ("…"): an order may carry
``prd_days`` (周期天数, as 2204 does) for the days rule; ``gend``/``brdy`` of the patient are
used when sent, otherwise the insured person ``patn_id`` (= ``psn_no``) of the ledger; an
order whose ``hilist_code`` is not in the catalogue is refused like in 2204
(``item_not_mapped``); ``rule_ids`` (a list or comma-separated text) narrows the rules, and an
unknown id is refused; ``vola_amt`` is the order's ``sumamt`` (yuan), ``vola_amt_stas`` null
(meaning not in the sources), ``vola_evid`` the rule's source, ``vola_bhvr_type`` the kind the
rule inspects, ``task_id`` the request's msgid, ``jr_id`` msgid + ``-`` + the row number.

Rules across visits read the ledger: ``cumulative_over_supply`` counts the person's supplied days
exactly as 2204 does (settled rows in the window, plus the earlier orders of the same item in
this request), so 3101 warns R-CUM-001 exactly when 2204 would refuse the line; the review rules
(same item twice a day, exclusive services, frequency limits) run
:func:`~mock_insurer.policy.history.review_findings` — the after-the-fact review's own function —
over the person's charged rows (uploaded or settled, not cancelled; the rows of the encounters
asked about are left out, the orders stand for them) plus the orders, dated the business day, and
answer the findings on the orders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from mock_insurer.ledger import LedgerTx
from mock_insurer.money import ZERO
from mock_insurer.policy import FeeLine, PersonFacts, split_row
from mock_insurer.policy.checks import supply_window_start
from mock_insurer.policy.history import ChargedRow, review_findings
from mock_insurer.policy.rules import Rule, Violation, apply_rules, default_rules
from mock_insurer.refusals import Refusal, refuse
from mock_insurer.transactions.context import Answered, Call, Outcome
from mock_insurer.transactions.person import age_on
from mock_insurer.transactions.settle import parameters_on

__all__ = ["handle_3101", "handle_3102", "violation_row"]

_GENDERS = ("0", "1", "2", "9")


def handle_3101(call: Call, tx: LedgerTx) -> Outcome:
    """明细审核事前分析: check the orders as they are saved."""
    return _rule_check(call, tx)


def handle_3102(call: Call, tx: LedgerTx) -> Outcome:
    """明细审核事中分析: check the orders before settlement (same rules as 3101)."""
    return _rule_check(call, tx)


def violation_row(violation: Violation, *, jr_id: str, task_id: str, patn_id: str,
                  mdtrt_id: str, rx_id: str, sumamt: Any) -> dict[str, Any]:
    """One 3101/3102 ``result`` row (fact sheet §3); ``sumamt`` in yuan."""
    rule = violation.rule
    return {
        "jr_id": jr_id, "rule_id": rule.rule_id, "rule_name": rule.name_zh,
        "vola_cont": violation.detail, "patn_id": patn_id, "mdtrt_id": mdtrt_id,
        "judge_result_detail_dtos": [{
            "jrd_id": f"{jr_id}-1", "patn_id": patn_id, "mdtrt_id": mdtrt_id, "rx_id": rx_id,
            "vola_item_type": "1", "vola_amt": sumamt,
        }],
        "vola_amt": sumamt, "vola_amt_stas": None, "sev_deg": str(rule.sev_deg),
        "vola_evid": rule.source, "vola_bhvr_type": rule.inspects, "task_id": task_id,
    }


def _rule_check(call: Call, tx: LedgerTx) -> Outcome:
    data = call.node("data")
    data.text("syscode", max_len=30, required=False)
    data.text("trig_scen", max_len=30, required=False)
    rules = _chosen_rules(data.data.get("rule_ids"))
    patients = data.rows("patient_dtos")
    if data.problem:
        return data.problem
    if isinstance(rules, Refusal):
        return rules
    today = call.now.date()
    params = parameters_on(call, today)
    if isinstance(params, Refusal):
        return params
    results: list[dict[str, Any]] = []
    task_id = call.envelope.msgid
    first_psn: str | None = None
    line_rules = [rule for rule in rules if rule.enforced != "review"]
    review_rules = [rule for rule in rules if rule.enforced == "review"]
    window_start = f"{supply_window_start(today, params).isoformat()} 00:00:00"
    for p_index, patient in enumerate(patients):
        p_where = f"data.patient_dtos[{p_index}]"
        patn_id = patient.text("patn_id", max_len=30)
        gend = patient.code("gend", _GENDERS, required=False)
        brdy = patient.date("brdy", required=False)
        encounters = patient.rows("fsi_encounter_dtos")
        if data.problem:
            return data.problem
        person = tx.person(patn_id)
        if person is not None and first_psn is None:
            first_psn = patn_id
        facts: PersonFacts | None = None
        if gend and brdy:
            facts = PersonFacts(gend=gend, age=age_on(brdy.isoformat(), today), psn_no=patn_id)
        elif person is not None:
            facts = PersonFacts(gend=gend or person.gend,
                                age=age_on(brdy.isoformat() if brdy else person.brdy, today),
                                psn_no=patn_id)
        pending_days: dict[str, Decimal] = {}
        asked: dict[tuple[str, str], tuple[str, Any]] = {}  # (mdtrt_id, rx_id) -> order
        ordered: list[ChargedRow] = []
        for e_index, encounter in enumerate(encounters):
            e_where = f"{p_where}.fsi_encounter_dtos[{e_index}]"
            mdtrt_id = encounter.text("mdtrt_id", max_len=30)
            diagnoses = [d.text("dise_codg", max_len=30)
                         for d in encounter.rows("fsi_diagnose_dtos", required=False)]
            main = encounter.text("dscg_main_dise_codg", max_len=30, required=False)
            orders = encounter.rows("fsi_order_dtos")
            if data.problem:
                return data.problem
            codes = [*diagnoses, *([main] if main else [])]
            for o_index, order in enumerate(orders):
                o_where = f"{e_where}.fsi_order_dtos[{o_index}]"
                rx_id = order.text("rx_id", max_len=30)
                code = order.text("hilist_code", max_len=50)
                cnt = order.qty("cnt")
                pric = order.price("pric")
                sumamt = order.money("sumamt")
                prd_days = order.decimal("prd_days", places=2, digits=4, required=False)
                if data.problem:
                    return data.problem
                item = call.reference.catalogue.get(code)
                if item is None:
                    return refuse("item_not_mapped", f"{o_where}.hilist_code", code=code)
                line = FeeLine(feedetl_sn=rx_id, med_list_codg=code, cnt=cnt, pric=pric,
                               prd_days=prd_days, hosp_appr_flag="1")
                supplied = pending_days.get(code)
                if supplied is None:
                    supplied = tx.supplied_days(patn_id, code, window_start)
                pending_days[code] = supplied + (prd_days or ZERO)
                for violation in apply_rules(line_rules, line, item, facts, codes, params,
                                             supplied_days=supplied):
                    results.append(violation_row(
                        violation, jr_id=f"{task_id}-{len(results) + 1}", task_id=task_id,
                        patn_id=patn_id, mdtrt_id=mdtrt_id, rx_id=rx_id, sumamt=sumamt))
                asked.setdefault((mdtrt_id, rx_id), (rx_id, sumamt))
                split = split_row(line, item)
                ordered.append(ChargedRow(
                    setl_id="", mdtrt_id=mdtrt_id, psn_no=patn_id, feedetl_sn=rx_id, day=today,
                    med_list_codg=code, cnt=cnt, prd_days=prd_days,
                    det_item_fee_sumamt=split.det_item_fee_sumamt,
                    inscp_scp_amt=split.inscp_scp_amt))
        if not review_rules or not ordered:
            continue
        history = _history(tx, patn_id, today, review_rules,
                           {row.mdtrt_id for row in ordered})
        for finding in review_findings([*history, *ordered], call.reference.catalogue,
                                       review_rules):
            found = asked.get((finding.mdtrt_id, finding.feedetl_sn))
            if found is None:
                continue  # a charge of the history: not what this request asks about
            rule = next(r for r in review_rules if r.rule_id == finding.rule_id)
            rx_id, sumamt = found
            results.append(violation_row(
                Violation(rule, finding.vola_cont), jr_id=f"{task_id}-{len(results) + 1}",
                task_id=task_id, patn_id=patn_id, mdtrt_id=finding.mdtrt_id, rx_id=rx_id,
                sumamt=sumamt))
    return Answered({"result": results}, psn_no=first_psn)


def _history(tx: LedgerTx, psn_no: str, today: dt.date, rules: Sequence[Rule],
             asked_visits: set[str]) -> list[ChargedRow]:
    """The person's charged rows the review rules look back on (the longest frequency window,
    at least the day itself), without the rows of the encounters asked about."""
    days = max([limit.days for rule in rules for limit in rule.limits] or [1])
    since = today - dt.timedelta(days=days - 1)
    rows = tx.charged_rows(psn_no, f"{since.isoformat()} 00:00:00",
                           f"{today.isoformat()} 23:59:59")
    return [_charged(row) for row in rows if row["mdtrt_id"] not in asked_visits]


def _charged(row: Mapping[str, Any]) -> ChargedRow:
    return ChargedRow(
        setl_id=row["setl_id"] or "", mdtrt_id=row["mdtrt_id"], psn_no=row["psn_no"],
        feedetl_sn=row["feedetl_sn"], day=dt.date.fromisoformat(row["fee_ocur_time"][:10]),
        med_list_codg=row["med_list_codg"], cnt=row["cnt"], prd_days=row["prd_days"],
        det_item_fee_sumamt=row["det_item_fee_sumamt"], inscp_scp_amt=row["inscp_scp_amt"])


def _chosen_rules(value: Any) -> Sequence[Rule] | Refusal:
    """The rules named by ``rule_ids`` (a list, or text separated by commas), or all."""
    library = default_rules()
    if value is None or value == "" or value == []:
        return library
    if isinstance(value, str):
        wanted = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        wanted = [part.strip() for part in value if part.strip()]
    else:
        return refuse("input_invalid", "data.rule_ids",
                      detail="规则标识集合(rule_ids)应为规则标识的列表或以逗号分隔的文本")
    by_id = {rule.rule_id: rule for rule in library}
    unknown = [rule_id for rule_id in wanted if rule_id not in by_id]
    if unknown:
        return refuse("input_invalid", "data.rule_ids",
                      detail=f"规则标识{unknown[0]}不存在（可用：{'、'.join(by_id)}）")
    return [by_id[rule_id] for rule_id in wanted] or library
