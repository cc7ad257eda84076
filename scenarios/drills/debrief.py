"""The debrief of a drill: what happened in each phase, and what was lost, left open or left
unreconciled — from the insurer's record alone (every message of the drill, the settlements
they made, the visits still open), and compared with the HIS's own ledger when the HIS has the
driver API.

Money at risk (yuan) is the sum of: settlements made twice (the extra ones), settlements the
insurer has and the HIS does not know of (the fund paid, nobody collected or claimed), rows the
HIS believes in that the insurer does not (collected from the patient, never repaid), and fee
details uploaded and never settled nor cancelled.

Each phase counts its messages as the console does (docs/console.md): ``settled`` is every
settlement the insurer made (2207 answered ``infcode`` 0 — its answer lost or not: the money
moved), ``answer_lost`` those of them whose answer never reached the HIS; ``refused`` only the
refusals a cashier sees (:data:`CASHIER_INFNOS`), ``other_refused`` the rest (a query that
found nothing, a refused reversal, the late answer to a message already reversed). Reversal
tombstones are not messages. ``lost_answers`` says of every settlement or refund whose answer
was lost whether the HIS found out: by a 5203 query, a reversal (2601), its own ledger, or not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mock_insurer.money import ZERO, parse_decimal, render
from mock_insurer.refusals import CASHIER_INFNOS, LATE_REFUSALS
from scenarios.drills.runner import DrillRun

__all__ = ["CASHIER_INFNOS", "NO_ANSWER_EFFECTS", "Debrief", "answer_lost", "debrief",
           "outcome_of"]

NO_ANSWER_EFFECTS = frozenset({"refuse", "close", "lose_answer", "http_error", "malformed"})
"""Fault effects after which the HIS had no usable answer."""

SETTLING = frozenset({"2207", "2207A"})
MADE = frozenset({"answered", "reversed"})
"""Statuses of a message that took effect (a settlement reversed later still counts)."""

INFNO_NAMES = {
    "9001": "签到 sign-in", "1101": "读卡 identify", "2201": "挂号 register",
    "2202": "撤销挂号 cancel registration", "2203": "就诊信息 visit info",
    "2204": "明细上传 upload details", "2205": "撤销明细 cancel details",
    "2206": "预结算 pre-settle", "2207": "结算 settle", "2208": "撤销结算 cancel settlement",
    "2601": "冲正 reversal", "5203": "结算查询 query", "3201": "对总账 reconcile totals",
    "3202": "对明细 reconcile details", "9101": "上传文件 upload file",
    "9102": "下载文件 download file",
}


def outcome_of(message: Mapping[str, Any]) -> str:
    """``ok``, ``refused`` (a refusal the cashier saw), ``other_refused`` (a refusal of a query,
    a reversal, a late message: :data:`CASHIER_INFNOS`, :data:`LATE_REFUSALS`) or ``failed``
    (no usable answer reached the HIS)."""
    fault = message.get("fault") or {}
    if message.get("status") == "faulted" or fault.get("effect") in NO_ANSWER_EFFECTS:
        return "failed"
    if message.get("infcode") == 0:
        return "ok"
    if str(message.get("infno")) in CASHIER_INFNOS \
            and message.get("rejection_code") not in LATE_REFUSALS:
        return "refused"
    return "other_refused"


def _made(message: Mapping[str, Any]) -> bool:
    """The message took effect at the insurer (its answer lost or not)."""
    return message.get("infcode") == 0 and message.get("status") in MADE


def answer_lost(message: Mapping[str, Any]) -> bool:
    """The insurer committed the message, and its answer never reached the HIS."""
    fault = message.get("fault") or {}
    return _made(message) and fault.get("effect") in NO_ANSWER_EFFECTS


def _messages(run: DrillRun) -> list[dict[str, Any]]:
    """The drill's messages, reversal tombstones left out (they are not messages)."""
    return [m for m in run.messages if m.get("status") != "tombstone"]


def _money(value: Any) -> Decimal:
    return ZERO if value in (None, "") else parse_decimal(str(value))


@dataclass
class Debrief:
    drill: str
    title: str
    accelerate: float
    started: str
    insurer_url: str
    his_url: str | None
    institution: str | None
    phases: list[dict[str, Any]]
    totals: dict[str, int]
    doubles: list[dict[str, Any]] = field(default_factory=list)
    insurer_only: list[dict[str, Any]] = field(default_factory=list)
    his_only: list[dict[str, Any]] = field(default_factory=list)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    orphans: list[dict[str, Any]] = field(default_factory=list)
    reversals: list[dict[str, Any]] = field(default_factory=list)
    lost_answers: list[dict[str, Any]] = field(default_factory=list)
    recovery: list[dict[str, Any]] = field(default_factory=list)
    day_end: dict[str, Any] = field(default_factory=dict)
    money_at_risk: dict[str, str] = field(default_factory=dict)
    compared_with_his: bool = False

    @property
    def clean(self) -> bool:
        """Nothing lost, settled twice, left open or unreconciled."""
        return not (self.doubles or self.insurer_only or self.his_only or self.disagreements
                    or self.orphans) and self.day_end.get("balanced", True) is not False

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["clean"] = self.clean
        return data


def _in_effect(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {str(r["setl_id"]): r for r in rows}
    kept = []
    for row in rows:
        if row.get("made_by_infno") == "2601":
            continue
        by = by_id.get(str(row.get("cancelled_by"))) if row.get("cancelled_by") else None
        if by is not None and by.get("made_by_infno") == "2601":
            continue
        kept.append(row)
    return kept


def _phases(run: DrillRun) -> list[dict[str, Any]]:
    bounds = [p.first_message_id for p in run.phases] + [10**18]
    messages = _messages(run)
    shown = []
    for n, phase in enumerate(run.phases):
        inside = [m for m in messages if bounds[n] < int(m["id"]) <= bounds[n + 1]]
        by_infno: dict[str, Counter[str]] = {}
        for message in inside:
            by_infno.setdefault(str(message["infno"]), Counter())[outcome_of(message)] += 1
        settled = [m for m in inside if str(m["infno"]) in SETTLING and _made(m)]
        shown.append({
            "name": phase.name, "instructions": phase.instructions, "faults": phase.faults,
            "start": phase.planned_start.isoformat(sep=" "),
            "messages": len(inside),
            "ok": sum(c["ok"] for c in by_infno.values()),
            "refused": sum(c["refused"] for c in by_infno.values()),
            "other_refused": sum(c["other_refused"] for c in by_infno.values()),
            "failed": sum(c["failed"] for c in by_infno.values()),
            "settled": len(settled),
            "answer_lost": sum(1 for m in settled if answer_lost(m)),
            "by_infno": {infno: {"name": INFNO_NAMES.get(infno, infno), **dict(c)}
                         for infno, c in sorted(by_infno.items())}})
    return shown


def _recovery(run: DrillRun) -> list[dict[str, Any]]:
    found = []
    for n, phase in enumerate(run.phases):
        if not phase.faults:
            continue
        ended = run.phases[n + 1].started_epoch if n + 1 < len(run.phases) else run.ended_epoch
        good = [int(m["received_ms"]) / 1000 for m in run.messages
                if m["infno"] == "2207" and outcome_of(m) == "ok"
                and int(m["received_ms"]) / 1000 >= ended]
        first = min(good) if good else None
        found.append({"phase": phase.name, "faults": phase.faults,
                      "seconds_to_first_settlement": None if first is None
                      else round((first - ended) * run.accelerate, 1),
                      "note": "drill time (wall seconds × accelerate)" if run.accelerate != 1
                      else "seconds"})
    return found


def _lost_answers(run: DrillRun, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every settlement (2207) or refund (2208) the insurer committed whose answer was lost,
    and how the HIS found out: ``5203`` (a later query answered with it), ``2601`` (it was
    reversed), ``ledger`` (the HIS's ledger has it, found some other way), or ``no``."""
    ledger = {str(r.get("setl_id")) for r in run.his_ledger or [] if r.get("setl_id")}
    found = []
    for lost in messages:
        if str(lost["infno"]) not in (*SETTLING, "2208") or not answer_lost(lost):
            continue
        msgid, setl_id = str(lost["msgid"]), str(lost.get("effect_ref") or "")
        how = "no"
        if lost.get("status") == "reversed" or any(
                m["infno"] == "2601" and m.get("infcode") == 0
                and str(_data(m.get("request")).get("omsgid")) == msgid for m in messages):
            how = "2601"
        elif any(m["infno"] == "5203" and m.get("infcode") == 0 and int(m["id"]) > int(lost["id"])
                 and any(str(row.get("medins_setl_id")) == msgid
                         or (setl_id and str(row.get("setl_id")) == setl_id)
                         for row in _setl_rows(m)) for m in messages):
            how = "5203"
        elif setl_id and setl_id in ledger:
            how = "ledger"
        found.append({"msgid": msgid, "infno": lost["infno"], "psn_no": lost.get("psn_no"),
                      "setl_id": setl_id or None, "found": how})
    return found


def _data(envelope: Any) -> dict[str, Any]:
    """``content.input.data`` of a logged request (empty when absent)."""
    content = (envelope or {}).get("content") or {}
    data = (content.get("input") or {}).get("data") if isinstance(content, dict) else None
    return data if isinstance(data, dict) else {}


def _setl_rows(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The settlement rows of a 5203 answer (``setlinfo``: one row or a list)."""
    content = (message.get("answer") or {}).get("content") or {}
    rows = (content.get("output") or {}).get("setlinfo") if isinstance(content, dict) else None
    rows = rows if isinstance(rows, list) else [rows]
    return [row for row in rows if isinstance(row, dict)]


def _day_end(run: DrillRun) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    unbalanced = 0
    for message in _messages(run):
        if message["infno"] != "3201" or outcome_of(message) != "ok":
            continue
        request = ((message.get("request") or {}).get("content") or {}).get("input") or {}
        data = request.get("data") or {}
        answer = ((message.get("answer") or {}).get("content") or {}).get("output") or {}
        info = answer.get("stmtinfo") or {}
        key = f"{data.get('insutype')}/{data.get('clr_type')}/{data.get('setl_optins')}"
        results[key] = {"stmt_rslt": info.get("stmt_rslt"),
                        "stmt_rslt_dscr": info.get("stmt_rslt_dscr")}
        unbalanced += str(info.get("stmt_rslt")) != "0"
    his = [{"date": d.date, "balanced": d.balanced, "corrections": d.corrections}
           for d in run.day_ends]
    balanced: bool | None
    if his:
        balanced = all(d["balanced"] for d in his)
    elif results:
        balanced = all(r["stmt_rslt"] == "0" for r in results.values())
    else:
        balanced = None
    return {"ran": bool(results or his), "balanced": balanced,
            "unbalanced_3201": unbalanced, "insurer_3201": results, "his": his}


def _rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"setl_id": r.get("setl_id"), "mdtrt_id": r.get("mdtrt_id"),
             "psn_no": r.get("psn_no"), "msgid": r.get("medins_setl_id") or r.get("msgid"),
             "medfee_sumamt": render(_money(r.get("medfee_sumamt"))),
             "setl_time": r.get("setl_time")} for r in rows]


def debrief(run: DrillRun) -> Debrief:
    messages = _messages(run)
    effect = _in_effect(run.settlements)
    live: dict[str, list[dict[str, Any]]] = {}
    for row in effect:
        if row.get("refd_setl_flag") == "0" and not row.get("cancelled_by"):
            live.setdefault(str(row["mdtrt_id"]), []).append(row)
    doubles = [{"mdtrt_id": mdtrt, "settlements": _rows(rows),
                "extra_yuan": render(sum((_money(r["medfee_sumamt"]) for r in rows[1:]), ZERO))}
               for mdtrt, rows in live.items() if len(rows) > 1]
    orphans = []
    for visit in run.open_visits:
        unsettled = [d for d in visit.get("fee_details", []) if d.get("status") == "uploaded"]
        if live.get(str(visit["mdtrt_id"])) and not unsettled:
            continue
        orphans.append({"mdtrt_id": visit["mdtrt_id"], "his_visit_id": visit.get("ipt_otp_no"),
                        "psn_no": visit.get("psn_no"), "registered": visit.get("begntime"),
                        "unsettled_details": len(unsettled),
                        "unsettled_yuan": render(sum((_money(d.get("det_item_fee_sumamt"))
                                                      for d in unsettled), ZERO))})
    result = Debrief(
        drill=run.drill.id, title=run.drill.title, accelerate=run.accelerate,
        started=run.started.isoformat(sep=" "), insurer_url=run.insurer_url,
        his_url=run.his_url, institution=run.institution, phases=_phases(run),
        totals=dict(Counter(outcome_of(m) for m in messages)), doubles=doubles,
        orphans=orphans,
        reversals=[{"msgid": m["msgid"], "psn_no": m.get("psn_no"), "outcome": outcome_of(m),
                    "omsgid": _data(m.get("request")).get("omsgid")}
                   for m in messages if m["infno"] == "2601"],
        lost_answers=_lost_answers(run, messages), recovery=_recovery(run),
        day_end=_day_end(run))
    at_risk = {"settled_twice": sum((_money(d["extra_yuan"]) for d in doubles), ZERO),
               "unsettled_details": sum((_money(o["unsettled_yuan"]) for o in orphans), ZERO)}
    if run.his_ledger is not None:
        result.compared_with_his = True
        his = {str(r["setl_id"]): r for r in run.his_ledger
               if r.get("status") in ("settled", "cancelled", "refund") and r.get("setl_id")}
        insurer = {str(r["setl_id"]): r for r in effect}
        result.insurer_only = _rows(r for k, r in insurer.items() if k not in his)
        result.his_only = [{"setl_id": k, "visit_id": r.get("visit_id"), "status": r.get("status"),
                            "medfee_sumamt": r.get("medfee_sumamt")}
                           for k, r in his.items() if k not in insurer]
        result.disagreements = [
            {"setl_id": k, "his": his[k].get("medfee_sumamt"),
             "insurer": render(_money(r["medfee_sumamt"]))}
            for k, r in insurer.items()
            if k in his and _money(his[k].get("medfee_sumamt")) != _money(r["medfee_sumamt"])]
        at_risk["insurer_only"] = sum((_money(r["medfee_sumamt"]) for r in result.insurer_only),
                                      ZERO)
        at_risk["his_only"] = sum((abs(_money(r["medfee_sumamt"])) for r in result.his_only),
                                  ZERO)
    result.money_at_risk = {**{k: render(v) for k, v in at_risk.items()},
                            "total": render(sum(at_risk.values(), ZERO))}
    return result
