"""Judging a run: what must be true of the HIS's ledger, its bills, the insurer's ledger and the
reconciliation at the end — the invariants every run is held to, plus the scenario's own
expectations (docs/scenarios.md, "Expectations").

Each check is a plain function ``(Judge) -> CheckResult`` registered under its name. A failed
check carries its evidence: the rows, visits or day-ends that break it. The insurer's side is
read through its admin API, the HIS's through the driver API — nothing of either is trusted to
judge itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from scenarios.harness import Harness
from scenarios.model import OUTCOMES, CheckSpec, Scenario
from scenarios.records import CheckResult, RunResult, VisitRecord
from simulator.his.errors import DriverError, DriverInputError

__all__ = ["ALWAYS", "CHECKS", "Judge", "run_checks"]

ALWAYS = ("answers", "no_orphans", "exactly_once", "ledgers_agree", "bills_match",
          "day_end_balanced")
"""The invariants every run is held to (day_end_balanced only when day-ends ran)."""

COMPARED = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")
CENT = Decimal("0.01")
EVIDENCE_LIMIT = 20
KNOWN_OUTCOMES = ("settled", "partly_refunded", "refunded", "cancelled", "refused")
"""Outcomes the cashier was told for sure (exactly_once compares them with the insurer)."""
IDS_SHOWN = 20
"""Visit ids listed in one piece of evidence (the rest are counted)."""


def amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        return None


@dataclass
class Judge:
    """What the checks look at, read once."""

    scenario: Scenario
    result: RunResult
    harness: Harness
    days: Sequence[date]
    notes: list[str] = field(default_factory=list)
    warnings: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    """The rule-check warnings the HIS answered, by scenario visit id."""

    @cached_property
    def insurer_rows(self) -> list[dict[str, Any]]:
        if not self.days:
            return []
        return self.harness.admin.settlements(self.harness.fixmedins_code, self.days[0],
                                              self.days[-1])

    @cached_property
    def by_setl_id(self) -> dict[str, dict[str, Any]]:
        return {str(row["setl_id"]): row for row in self.insurer_rows}

    @cached_property
    def in_effect(self) -> list[dict[str, Any]]:
        """The insurer's rows that count (a 2601 reversal and what it reversed do not)."""
        kept = []
        for row in self.insurer_rows:
            if row["made_by_infno"] == "2601":
                continue
            by = self.by_setl_id.get(str(row["cancelled_by"])) if row["cancelled_by"] else None
            if by is not None and by["made_by_infno"] == "2601":
                continue
            kept.append(row)
        return kept

    @cached_property
    def live(self) -> dict[str, list[dict[str, Any]]]:
        """Settlements in effect and not cancelled, by ``mdtrt_id``."""
        found: dict[str, list[dict[str, Any]]] = {}
        for row in self.in_effect:
            if row["refd_setl_flag"] == "0" and not row["cancelled_by"]:
                found.setdefault(str(row["mdtrt_id"]), []).append(row)
        return found

    @cached_property
    def his_ledger(self) -> list[dict[str, Any]]:
        try:
            outcome = self.harness.his.ledger()
        except (DriverError, DriverInputError) as exc:
            self.notes.append(f"未能读取 HIS 的台账 / the HIS's ledger could not be read: {exc}")
            return []
        return list(outcome.body.get("settlements") or [])

    @cached_property
    def visit_of_mdtrt(self) -> dict[str, VisitRecord]:
        """The scenario's visit of each of the insurer's ``mdtrt_id`` (through the HIS's
        visit id)."""
        mdtrt = self.mdtrt_of_visit
        return {mdtrt[v.his_visit_id]: v for v in self.result.visits
                if v.his_visit_id and v.his_visit_id in mdtrt}

    @cached_property
    def visit_of_his_visit(self) -> dict[str, str]:
        """The scenario's visit id of each HIS visit id."""
        return {v.his_visit_id: v.id for v in self.result.visits if v.his_visit_id}

    @cached_property
    def mdtrt_of_visit(self) -> dict[str, str]:
        """The insurer's ``mdtrt_id`` of each HIS visit (its ``ipt_otp_no``)."""
        return {str(v["ipt_otp_no"]): str(v["mdtrt_id"])
                for v in self.harness.admin.visits(self.harness.fixmedins_code)}


Check = Callable[[Judge, Any], CheckResult]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[name] = function
        return function
    return register


def _result(name: str, evidence: list[Any], ok_text: str, bad_text: str) -> CheckResult:
    """``bad_text`` says ``{n}`` where the number of pieces of evidence goes. Both texts are
    "中文 / English": the page's readers read Chinese first, the vendors English."""
    if evidence:
        return CheckResult(name, False, bad_text.replace("{n}", str(len(evidence))),
                           evidence[:EVIDENCE_LIMIT])
    return CheckResult(name, True, ok_text)


@check("answers")
def answers(judge: Judge, _params: Any) -> CheckResult:
    bad = [{"visit": v.id, "his_visit_id": v.his_visit_id, "error": v.error}
           for v in judge.result.visits if v.outcome == "error"]
    return _result("answers", bad, "每次驱动接口调用都有应答 / every driver-API call got an answer",
                   "{n} 个就诊的驱动接口调用没有应答（HTTP 错误、非 JSON 或无应答） / "
                   "{n} visit(s) got no driver-API answer (HTTP error, not JSON, or no answer)")


@check("no_orphans")
def no_orphans(judge: Judge, _params: Any) -> CheckResult:
    admin = judge.harness.admin
    found = []
    for visit in admin.visits(judge.harness.fixmedins_code, status="open"):
        mdtrt_id = str(visit["mdtrt_id"])
        detail = admin.visit(mdtrt_id)
        unsettled = [row["feedetl_sn"] for row in detail.get("fee_details", [])
                     if row["status"] == "uploaded"]
        if not judge.live.get(mdtrt_id) or unsettled:
            found.append({"mdtrt_id": mdtrt_id, "his_visit_id": visit["ipt_otp_no"],
                          "psn_no": visit["psn_no"], "registered": visit["begntime"],
                          "unsettled_details": unsettled,
                          "settled": bool(judge.live.get(mdtrt_id))})
    return _result("no_orphans", found,
                   "医保中心没有遗留：每个挂号、每条上传的明细都已结算或撤销 / "
                   "nothing is left open at the insurer: every registration is settled or "
                   "cancelled, every uploaded detail settled or cancelled",
                   "{n} 个挂号遗留在医保中心：没有结算，或上传的明细既未结算也未撤销（缺少 "
                   "2205/2202） / "
                   "{n} registration(s) left open at the insurer without a settlement, or with "
                   "uploaded details never settled nor cancelled (2205/2202 missing)")


@check("exactly_once")
def exactly_once(judge: Judge, _params: Any) -> CheckResult:
    """Every visit, whatever the cashier was told, against what the insurer holds for it: a
    visit told settled has exactly one settlement in effect; a visit told refused (or failed),
    refunded or walked away has none; nothing is settled twice. A visit whose outcome is not
    known (``unresolved``, no answer) is left to nothing_unresolved and ledgers_agree."""
    visit_of = judge.visit_of_mdtrt
    twice: list[dict[str, Any]] = []
    for mdtrt_id, rows in judge.live.items():
        if len(rows) > 1:
            visit = visit_of.get(mdtrt_id)
            twice.append({"visit": visit.id if visit else None,
                          "his_visit_id": visit.his_visit_id if visit else None,
                          "mdtrt_id": mdtrt_id, "psn_no": rows[0]["psn_no"],
                          "outcome at the window": visit.outcome if visit else None,
                          "settlements": [{"setl_id": r["setl_id"], "msgid": r["medins_setl_id"],
                                           "medfee_sumamt": str(r["medfee_sumamt"]),
                                           "setl_time": r["setl_time"]} for r in rows]})
    reported = {item["mdtrt_id"] for item in twice}
    differ: list[dict[str, Any]] = []
    for visit in judge.result.visits:
        if visit.outcome not in KNOWN_OUTCOMES:
            continue
        found = judge.mdtrt_of_visit.get(visit.his_visit_id or "")
        if found in reported:
            continue  # settled twice: said once, above
        live = judge.live.get(found or "", [])
        wanted = 1 if visit.outcome in ("settled", "partly_refunded") else 0
        if len(live) == wanted:
            continue
        refusal = visit.refusal or {}
        item: dict[str, Any] = {"visit": visit.id, "his_visit_id": visit.his_visit_id,
                                "mdtrt_id": found, "outcome at the window": visit.outcome}
        if refusal:
            item["refusal"] = refusal_code(visit)
            item["step"] = refusal.get("step")
        item["settlements in effect at the insurer"] = [str(r["setl_id"]) for r in live]
        differ.append(item)
    told_not = sum(1 for item in differ if item["settlements in effect at the insurer"])
    parts = ([(f"{len(twice)} 个就诊在医保中心重复结算",
               f"{len(twice)} visit(s) settled twice at the insurer")] if twice else []) + (
        [(f"{told_not} 个就诊收费员得知未结算（拒绝、故障、退费或离开），医保中心却已结算",
          f"{told_not} visit(s) the cashier was told were not settled (refused, failed, "
          "refunded or walked away) but settled at the insurer")] if told_not else []) + (
        [(f"{len(differ) - told_not} 个就诊收费员得知已结算，医保中心却未结算",
          f"{len(differ) - told_not} visit(s) the cashier was told were settled but not "
          "settled at the insurer")] if len(differ) > told_not else [])
    return _result("exactly_once", twice + differ,
                   "每个就诊至多结算一次，医保中心与收费员得知的一致 / "
                   "every visit is settled at most once, and the insurer agrees with what the "
                   "cashier was told", "；".join(zh for zh, _en in parts) + " / "
                   + "; ".join(en for _zh, en in parts))


def printed(visit: VisitRecord) -> list[tuple[str, Mapping[str, Any]]]:
    """Every bill and refund slip the visit printed, in order (``printed``); for a record
    without that list, its last bill and refund slip."""
    if visit.printed:
        return [(("bill after the refund" if doc.get("kind") == "bill"
                  and doc.get("step") == "refund" else str(doc.get("kind"))), doc["document"])
                for doc in visit.printed if doc.get("document")]
    return [(kind, doc) for kind, doc in (("bill", visit.bill), ("refund slip", visit.refund))
            if doc]


def _his_counted(judge: Judge) -> dict[str, dict[str, Any]]:
    return {str(row["setl_id"]): row for row in judge.his_ledger
            if row.get("status") in ("settled", "cancelled", "refund") and row.get("setl_id")}


@check("ledgers_agree")
def ledgers_agree(judge: Judge, _params: Any) -> CheckResult:
    his = _his_counted(judge)
    insurer = {str(row["setl_id"]): row for row in judge.in_effect}
    bad: list[dict[str, Any]] = []

    def visit_of(row: Mapping[str, Any]) -> str | None:
        visit = judge.visit_of_mdtrt.get(str(row["mdtrt_id"]))
        return visit.id if visit is not None else None

    for setl_id, row in insurer.items():
        if setl_id not in his:
            bad.append({"visit": visit_of(row), "setl_id": setl_id,
                        "problem": "at the insurer, not in the HIS's ledger",
                        "mdtrt_id": row["mdtrt_id"], "psn_no": row["psn_no"],
                        "refd_setl_flag": row["refd_setl_flag"],
                        "medfee_sumamt": str(row["medfee_sumamt"])})
            continue
        differ = {key: {"his": his[setl_id].get(key), "insurer": str(row[key])}
                  for key in COMPARED if amount(his[setl_id].get(key)) != amount(row[key])}
        if differ:
            bad.append({"visit": visit_of(row), "setl_id": setl_id, "problem": "amounts differ",
                        "amounts": differ})
        cancelled = bool(row["cancelled_by"]) and row["refd_setl_flag"] == "0"
        status = his[setl_id].get("status")
        expected = "refund" if row["refd_setl_flag"] == "1" else (
            "cancelled" if cancelled else "settled")
        if status != expected:
            bad.append({"visit": visit_of(row), "setl_id": setl_id,
                        "problem": f"the HIS says {status}, the insurer {expected}"})
    for setl_id, row in his.items():
        if setl_id not in insurer:
            bad.append({"visit": judge.visit_of_his_visit.get(str(row.get("visit_id"))),
                        "setl_id": setl_id,
                        "problem": "in the HIS's ledger, not in effect at the insurer",
                        "status": row.get("status"), "visit_id": row.get("visit_id")})
    pending = [row for row in judge.his_ledger if row.get("status") == "pending"]
    for row in pending:
        bad.append({"visit": judge.visit_of_his_visit.get(str(row.get("visit_id"))),
                    "msgid": row.get("msgid"), "visit_id": row.get("visit_id"),
                    "problem": "still pending in the HIS's ledger (outcome never resolved)"})
    return _result("ledgers_agree", bad,
                   f"HIS 台账与医保中心逐行一致（{len(insurer)} 条结算记录） / "
                   f"the HIS's ledger and the insurer's agree row by row "
                   f"({len(insurer)} settlement rows)",
                   "HIS 台账与医保中心有 {n} 处不一致 / "
                   "{n} difference(s) between the HIS's ledger and the insurer's")


@check("bills_match")
def bills_match(judge: Judge, _params: Any) -> CheckResult:
    bad = []
    for visit in judge.result.visits:
        for kind, bill in printed(visit):
            row = judge.by_setl_id.get(str(bill.get("setl_id")))
            if row is None:
                bad.append({"visit": visit.id, "kind": kind, "setl_id": bill.get("setl_id"),
                            "problem": "the insurer has no such settlement"})
                continue
            info = row.get("setlinfo") or {}
            shown = bill.get("amounts") or {}
            differ = {key: {"bill": value, "insurer": str(info[key])}
                      for key, value in shown.items()
                      if key in info and key != "balc" and amount(value) != amount(info[key])}
            charged = bill.get("charged") or {}
            for key, field_name in (("cash", "psn_cash_pay"), ("account", "acct_pay")):
                if key in charged and amount(charged[key]) != amount(row[field_name]):
                    differ[f"charged.{key}"] = {"bill": charged[key],
                                                "insurer": str(row[field_name])}
            if differ:
                bad.append({"visit": visit.id, "kind": kind, "setl_id": bill.get("setl_id"),
                            "differ": differ})
    return _result("bills_match", bad,
                   "每张票据和退费单都显示医保中心的金额，向患者收取的即医保中心结算的 / "
                   "every bill and refund slip shows the insurer's amounts and charged the "
                   "patient what the insurer settled",
                   "{n} 张票据或退费单与医保中心的结算不符 / "
                   "{n} bill(s) or refund slip(s) differ from the insurer's settlement")


def _group_balanced(group: Mapping[str, Any]) -> bool:
    return str((group.get("final") or {}).get("stmt_rslt")) == "0"


@check("day_end_balanced")
def day_end_balanced(judge: Judge, _params: Any) -> CheckResult:
    days = judge.result.day_ends
    if not days:
        return CheckResult("day_end_balanced", False,
                           "没有运行日终对账（day_end: false?） / no day-end ran (day_end: false?)")
    bad = []
    for d in days:
        if d.ok and d.balanced:
            continue
        groups = [{k: g.get(k) for k in ("insutype", "clr_type", "setl_optins", "final",
                                         "first")} for g in d.body.get("groups") or []]
        item: dict[str, Any] = {"date": d.date, "ok": d.ok, "balanced": d.balanced}
        if d.body.get("refusal") or d.body.get("error"):
            item.update(refusal=d.body.get("refusal"), error=d.body.get("error"))
        # the failing parts first (the printed evidence is cut): the groups that did not
        # balance, what the HIS left open (a pending settlement it could not resolve),
        # the corrections; then the groups that balanced
        item["unbalanced groups"] = [g for g in groups if not _group_balanced(g)]
        item["unresolved"] = d.body.get("unresolved") or []
        item["corrections"] = d.body.get("corrections") or []
        item["balanced groups"] = [g for g in groups if _group_balanced(g)]
        bad.append(item)
    return _result("day_end_balanced", bad,
                   f"日终对账（3201）{len(days)} 天均已对平 / "
                   f"day-end reconciliation (3201) balanced on {len(days)} day(s)",
                   "{n} 天日终对账未对平 / {n} day-end(s) did not balance")


@check("nothing_unresolved")
def nothing_unresolved(judge: Judge, _params: Any) -> CheckResult:
    bad = [{"visit": v.id, "outcome": v.outcome, "refusal": v.refusal}
           for v in judge.result.visits if v.outcome in ("unresolved", "error")]
    return _result("nothing_unresolved", bad, "每个就诊的结果都已知 / every visit's outcome is known",
                   "{n} 个就诊结果未知 / {n} visit(s) left with an unknown outcome")


def _count_ok(actual: int, wanted: Any) -> bool:
    if isinstance(wanted, int):
        return actual == wanted
    return bool(wanted.get("min", 0) <= actual <= wanted.get("max", 10**9))


def _wanted(wanted: Any) -> str:
    if isinstance(wanted, int):
        return str(wanted)
    return " and ".join(f"{'≥' if k == 'min' else '≤'} {v}" for k, v in wanted.items())


def _ids(found: Any) -> Any:
    """At most :data:`IDS_SHOWN` visit ids (a list, or a mapping id → outcome) and how many
    more there are."""
    if len(found) <= IDS_SHOWN:
        return found
    if isinstance(found, dict):
        shown: Any = dict(list(found.items())[:IDS_SHOWN])
        shown["..."] = f"{len(found) - IDS_SHOWN} more"
        return shown
    return [*found[:IDS_SHOWN], f"... {len(found) - IDS_SHOWN} more"]


@check("outcomes")
def outcomes(judge: Judge, params: Any) -> CheckResult:
    counts = judge.result.outcome_counts()
    bad = []
    for name, wanted in params.items():
        actual = counts.get(name, 0)
        if _count_ok(actual, wanted):
            continue
        item: dict[str, Any] = {"outcome": name, "visits": actual, "expected": _wanted(wanted)}
        low = wanted if isinstance(wanted, int) else wanted.get("min", 0)
        if actual < low:  # too few: the visits that ended otherwise, with how they ended
            item["other outcomes"] = _ids({v.id: v.outcome for v in judge.result.visits
                                           if v.outcome != name})
        else:  # too many: the visits that ended so
            item["visits with this outcome"] = _ids(
                [v.id for v in judge.result.visits if v.outcome == name])
        bad.append(item)
    shown = ", ".join(f"{n} {counts.get(n, 0)}" for n in OUTCOMES if counts.get(n))
    return _result("outcomes", bad, f"就诊结果符合预期（{shown}） / visits ended as expected ({shown})",
                   f"{{n}} 项结果数量与预期不符（{shown}） / {{n}} outcome count(s) differ ({shown})")


def refusal_code(visit: VisitRecord) -> str | None:
    if not visit.refusal:
        return None
    return str(visit.refusal.get("rejection_code") or visit.refusal.get("code"))


@check("refusals")
def refusals(judge: Judge, params: Any) -> CheckResult:
    counts: dict[str, int] = {}
    for visit in judge.result.visits:
        code = refusal_code(visit)
        if code:
            counts[code] = counts.get(code, 0) + 1
    bad = [{"refusal": code, "visits": counts.get(code, 0), "expected": _wanted(wanted)}
           for code, wanted in params.items() if not _count_ok(counts.get(code, 0), wanted)]
    seen = ", ".join(f"{code} {n}" for code, n in counts.items()) or "none"
    return _result("refusals", bad, f"拒绝符合预期（{seen}） / refusals as expected ({seen})",
                   "{n} 项拒绝数量与预期不符（实际 " + seen + "） / "
                   "{n} refusal count(s) differ (seen: " + seen + ")")


@check("day_end_corrections")
def day_end_corrections(judge: Judge, params: Any) -> CheckResult:
    total = sum(d.corrections for d in judge.result.day_ends)
    bad = [] if _count_ok(total, params) else [{"corrections": total, "expected": _wanted(params)}]
    return _result("day_end_corrections", bad,
                   f"日终更正 {total} 笔，符合预期 / day-end made {total} correction(s), as expected",
                   f"日终更正 {total} 笔，预期 {_wanted(params)} / "
                   f"day-end made {total} correction(s), expected {_wanted(params)}")


@check("recovered")
def recovered(judge: Judge, params: Any) -> CheckResult:
    total = sum(1 for v in judge.result.visits if v.recovered)
    bad = [] if _count_ok(total, params) else [{"recovered": total, "expected": _wanted(params)}]
    return _result("recovered", bad,
                   f"{total} 张票据由恢复的结算打印 / {total} bill(s) printed from a recovered "
                   "settlement",
                   f"恢复的票据 {total} 张，预期 {_wanted(params)} / "
                   f"{total} recovered bill(s), expected {_wanted(params)}")


def _visit_failures(judge: Judge, visit: VisitRecord) -> list[str]:
    expect: Mapping[str, Any] = visit.expect
    failures = []
    if "outcome" in expect and visit.outcome != expect["outcome"]:
        failures.append(f"结果 {visit.outcome}，预期 {expect['outcome']} / "
                        f"outcome {visit.outcome}, expected {expect['outcome']}")
    refusal = visit.refusal or {}
    if "refusal" in expect and expect["refusal"] not in (refusal.get("rejection_code"),
                                                          refusal.get("code")):
        failures.append(f"拒绝 {refusal_code(visit)}，预期 {expect['refusal']} / "
                        f"refusal {refusal_code(visit)}, expected {expect['refusal']}")
    if "step" in expect and refusal.get("step") != expect["step"]:
        failures.append(f"拒绝于 {refusal.get('step')}，预期于 {expect['step']} / "
                        f"refused at {refusal.get('step')}, expected at {expect['step']}")
    if "message_contains" in expect and expect["message_contains"] not in str(
            refusal.get("message", "")):
        failures.append(f"收费员看到的提示 {refusal.get('message')!r} 不含 "
                        f"{expect['message_contains']!r} / "
                        f"the cashier saw {refusal.get('message')!r}, which does not contain "
                        f"{expect['message_contains']!r}")
    if "warnings" in expect:
        seen = list(dict.fromkeys(str(w.get("rule_id")) for w in judge.warnings.get(visit.id, ())))
        wanted = list(expect["warnings"])
        missing = [rule_id for rule_id in wanted if rule_id not in seen]
        if missing or (not wanted and seen):
            # English first here: the conformance suite (RULE-002) finds this failure by
            # its "warnings" prefix
            failures.append(f"warnings {seen}, expected {wanted} (rule check 3101/3102) / "
                            f"规则审核警告 {seen}，预期 {wanted}")
    if "recovered" in expect and visit.recovered != expect["recovered"]:
        failures.append(f"恢复 {visit.recovered}，预期 {expect['recovered']} / "
                        f"recovered {visit.recovered}, expected {expect['recovered']}")
    amounts = (visit.bill or {}).get("amounts") or {}
    for key, value in (expect.get("bill") or {}).items():
        if amount(amounts.get(key)) != amount(value):
            failures.append(f"票据 {key} {amounts.get(key)}，预期 {value} / "
                            f"bill {key} {amounts.get(key)}, expected {value}")
    row = judge.by_setl_id.get(str((visit.bill or {}).get("setl_id")), {})
    info = row.get("setlinfo") or {}
    for key, value in (expect.get("insurer") or {}).items():
        if amount(info.get(key)) != amount(value):
            failures.append(f"医保中心 {key} {info.get(key)}，预期 {value} / "
                            f"insurer's {key} {info.get(key)}, expected {value}")
    failures += _payer_failures(judge, expect.get("payers") or [], visit.bill or visit.refund or {})
    return failures


def _payer_failures(judge: Judge, wanted: Sequence[str], bill: Mapping[str, Any]) -> list[str]:
    """Each payer (fund_pay_type) in ``wanted`` paid (or, on the refund slip of a whole refund,
    was paid back), and the bill shows the amount of the insurer's setldetail row
    (docs/policy.md "Several payers")."""
    row = judge.by_setl_id.get(str(bill.get("setl_id")), {})
    shown = {str(p.get("fund_pay_type")): p.get("amount") for p in bill.get("payers") or []}
    answered = {str(r.get("fund_pay_type")): r.get("fund_payamt")
                for r in row.get("setldetail") or []}
    failures = []
    for code in wanted:
        paid = amount(answered.get(code))
        if not paid:
            failures.append(f"支付方 {code} 未支付（医保中心 setldetail） / "
                            f"payer {code} paid nothing (insurer's setldetail)")
        elif amount(shown.get(code)) != paid:
            failures.append(f"票据显示支付方 {code} {shown.get(code)}，医保中心支付 {paid} / "
                            f"bill shows payer {code} {shown.get(code)}, the insurer paid {paid}")
    return failures


def _lookup_rejections(judge: Judge) -> None:
    """Put the insurer's stable ``rejection_code`` on each refusal the insurer gave."""
    for visit in judge.result.visits:
        refusal = visit.refusal
        if not refusal or not refusal.get("msgid") or refusal.get("source") != "insurer":
            continue
        for message in judge.harness.admin.messages(msgid=str(refusal["msgid"])):
            if message.get("rejection_code"):
                refusal["rejection_code"] = message["rejection_code"]
                break


def run_checks(scenario: Scenario, result: RunResult, harness: Harness,
               days: Sequence[date],
               warnings: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
               ) -> list[CheckResult]:
    """The invariants, then the scenario's checks, then the visits' own expectations
    (``warnings``: the rule-check warnings the HIS answered, by visit id)."""
    judge = Judge(scenario, result, harness, days, warnings=warnings or {})
    _lookup_rejections(judge)
    wanted = [CheckSpec(name) for name in ALWAYS
              if name != "day_end_balanced" or scenario.day_end]
    wanted += [spec for spec in scenario.expect if spec.name not in ALWAYS]
    results = [CHECKS[spec.name](judge, spec.params) for spec in wanted]
    failing = []
    for visit in result.visits:
        if visit.expect:
            visit.failures = _visit_failures(judge, visit)
            if visit.failures:
                failing.append({"visit": visit.id, "failures": visit.failures,
                                "refusal": visit.refusal, "his_visit_id": visit.his_visit_id})
    if any(visit.expect for visit in result.visits):
        expected = sum(1 for visit in result.visits if visit.expect)
        results.append(_result("visits", failing,
                               f"{expected} 个就诊均按各自预期结束 / "
                               f"{expected} visit(s) ended as each expected",
                               "{n} 个就诊未按预期结束 / {n} visit(s) did not end as expected"))
    for note in judge.notes:
        results.append(CheckResult("harness", False, note))
    return results
