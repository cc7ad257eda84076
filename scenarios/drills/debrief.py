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

The counts above are the insurer's side: a message the insurer answered (late) counts as
``ok`` although the HIS had stopped waiting for it. Each phase therefore also has the
patients' side and the HIS's side, from the runner's record of the patients the drill injected
(every step the HIS answered, and why it refused), joined with the insurer's record by msgid:

- ``patients``: the injected patients who arrived in the phase — ``came``, ``settled`` (settled,
  refunded or partly refunded; ``recovered`` of them after their settlement's answer was lost or
  late, ``came_back`` of them only after trying again or coming back later), ``walked_away`` (left unsettled as planned: ``mix: walk_away``) and ``turned_away``
  (left without a settlement: refused, outcome unknown, a HIS error, or not finished), with
  ``reasons`` (:data:`REASONS`: the HIS timed out, the insurer was down, refused …, at which
  step and transaction).
- ``his``: the messages of the HIS the HIS got no usable answer to during the phase, each
  msgid once (``no_answer``, with ``why``: ``timed_out`` — the insurer answered, after the HIS
  had stopped waiting —, ``insurer_down``, ``unreachable``, ``answer_lost``, ``gateway``,
  ``broken_answer``): the insurer's ``failed`` messages, and those the insurer answered that the
  HIS answered a patient's step "no answer" to, reversed (2601) or recovered by a query; and
  ``reversals``, the 2601s the HIS sent (as the insurer received them).

Without injected patients (a drill the staff serve at their windows, on an insurer alone) there
is no record of either side: ``patients_recorded`` is false and both are ``None``, never zeros.
The HIS's own message log is not read (it is the HIS's, and not recorded by the runner): a
timeout the HIS recovered from without a query or a reversal is not counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from mock_insurer.money import ZERO, parse_decimal, render
from mock_insurer.refusals import CASHIER_INFNOS, LATE_REFUSALS
from mock_insurer.schemas.catalog import TRANSACTIONS
from scenarios.drills.runner import DrillRun
from scenarios.records import VisitRecord

__all__ = ["CASHIER_INFNOS", "INFNO_NAMES", "NO_ANSWER_EFFECTS", "REASONS", "Debrief",
           "answer_lost", "debrief", "infno_name", "outcome_of"]

NO_ANSWER_EFFECTS = frozenset({"refuse", "close", "lose_answer", "http_error", "malformed"})
"""Fault effects after which the HIS had no usable answer."""

SETTLING = frozenset({"2207", "2207A"})
MADE = frozenset({"answered", "reversed"})
"""Statuses of a message that took effect (a settlement reversed later still counts)."""

INFNO_NAMES = {t.infno: f"{t.name_zh} {t.name_en}" for t in TRANSACTIONS}
"""Each transaction's Chinese and English name, as the console shows them (one table:
:data:`mock_insurer.schemas.catalog.TRANSACTIONS`, served as ``/console/transactions.json``)."""


def infno_name(infno: str) -> str:
    """``"人员信息获取 Person information"``; a variant (``2207A``) by its base's name; the
    number itself when unknown."""
    if infno in INFNO_NAMES:
        return INFNO_NAMES[infno]
    base = infno.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return f"{INFNO_NAMES[base]} ({infno})" if base in INFNO_NAMES else infno


SETTLED_OUTCOMES = frozenset({"settled", "refunded", "partly_refunded"})
"""A patient's visit outcome (:class:`scenarios.records.VisitRecord`) that settled."""

NO_ANSWER_CODES = frozenset({"insurer_no_answer", "insurer_unavailable", "insurer_gateway"})
"""The HIS's refusal codes for a message it got no usable answer to (simulator/his/desk.py)."""

REASONS = ("timed_out", "insurer_down", "unreachable", "answer_lost", "gateway",
           "broken_answer", "insurer_refused", "outcome_unknown", "settle_reversed",
           "his_refused", "his_error", "not_finished")
"""Why a patient left unsettled (``patients.reasons[].reason``), and why the HIS had no answer
(``his.why``, the first six): ``timed_out`` the HIS stopped waiting, the insurer answered later;
``insurer_down`` the insurer refused or closed the connection; ``unreachable`` the message
never reached the insurer; ``answer_lost`` the insurer acted and its answer was lost;
``gateway`` an HTTP error; ``broken_answer`` an answer the HIS could not read;
``insurer_refused`` a business refusal; ``outcome_unknown`` the HIS could not find out whether
its settlement or refund took effect; ``settle_reversed`` two settlements without an answer,
both reversed (the HIS cancelled the visit); ``his_refused`` the HIS refused by itself;
``his_error`` the HIS's driver API failed; ``not_finished`` the visit was still going on."""


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
    patients_recorded: bool = False
    patients: list[dict[str, Any]] = field(default_factory=list)

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
            "fault_details": _fault_details(run, n),
            "start": phase.planned_start.isoformat(sep=" "),
            "messages": len(inside),
            "ok": sum(c["ok"] for c in by_infno.values()),
            "refused": sum(c["refused"] for c in by_infno.values()),
            "other_refused": sum(c["other_refused"] for c in by_infno.values()),
            "failed": sum(c["failed"] for c in by_infno.values()),
            "settled": len(settled),
            "answer_lost": sum(1 for m in settled if answer_lost(m)),
            "by_infno": {infno: {"name": infno_name(infno), **dict(c)}
                         for infno, c in sorted(by_infno.items())}})
    return shown


def _fault_details(run: DrillRun, n: int) -> list[dict[str, Any]]:
    """The faults of phase ``n`` as the drill file names them: ``{"id", "name", "effect"}``
    (``name`` None when the file gives none; ``effect`` the effect's kind)."""
    phases = run.drill.phases
    faults = phases[n].faults if n < len(phases) else ()
    details = []
    for i, fault in enumerate(faults):
        effect = fault.get("effect")
        kind = effect.get("kind") if isinstance(effect, Mapping) else effect
        details.append({"id": str(fault.get("id", f"f{i + 1}")),
                        "name": None if fault.get("name") is None else str(fault["name"]),
                        "effect": None if kind is None else str(kind)})
    return details


def _recovery(run: DrillRun) -> list[dict[str, Any]]:
    """For each phase with faults, the drill seconds from its end to the first good
    settlement; ``ended_during_fault`` when it is the last phase (the drill ended with the
    fault on: there was no later phase to recover in)."""
    found = []
    for n, phase in enumerate(run.phases):
        if not phase.faults:
            continue
        last = n + 1 >= len(run.phases)
        ended = run.ended_epoch if last else run.phases[n + 1].started_epoch
        good = [int(m["received_ms"]) / 1000 for m in run.messages
                if m["infno"] == "2207" and outcome_of(m) == "ok"
                and int(m["received_ms"]) / 1000 >= ended]
        first = min(good) if good else None
        found.append({"phase": phase.name, "faults": phase.faults,
                      "fault_details": _fault_details(run, n),
                      "seconds_to_first_settlement": None if first is None
                      else round((first - ended) * run.accelerate, 1),
                      "ended_during_fault": last,
                      "note": "drill time (wall seconds × accelerate)" if run.accelerate != 1
                      else "seconds"})
    return found


# -- the patients' side and the HIS's side ------------------------------------------------
def _phase_at(run: DrillRun, moment: datetime) -> int:
    """The phase under way at drill time ``moment`` (before the first: the first)."""
    found = 0
    for n, phase in enumerate(run.phases):
        if phase.planned_start <= moment:
            found = n
    return found


def _why_no_answer(sent: list[dict[str, Any]]) -> str:
    """Why the HIS had no usable answer to a message, from the insurer's record of it (every
    entry of its msgid: a resend is logged again)."""
    if not sent:
        return "unreachable"
    effects = {(m.get("fault") or {}).get("effect") for m in sent}
    if "lose_answer" in effects:
        return "answer_lost"
    if effects & {"refuse", "close"} or all(m.get("status") == "faulted" for m in sent):
        return "insurer_down"
    if "http_error" in effects:
        return "gateway"
    if "malformed" in effects:
        return "broken_answer"
    return "timed_out"


class _Sides:
    """The runner's record of the injected patients, joined with the insurer's messages."""

    def __init__(self, run: DrillRun, messages: list[dict[str, Any]]) -> None:
        self.run = run
        self.by_msgid: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            self.by_msgid.setdefault(str(message["msgid"]), []).append(message)
        self.bounds = [p.first_message_id for p in run.phases] + [10**18]
        self.no_answer: dict[str, tuple[int, str]] = {}  # msgid -> (phase, why)
        self.reversals = [0] * len(run.phases)
        for message in messages:
            if str(message["infno"]) == "2601":
                self.reversals[self._phase_of_id(int(message["id"]))] += 1
                omsgid = _data(message.get("request")).get("omsgid")
                if omsgid:
                    self._no_answer(str(omsgid), self._phase_of_id(int(message["id"])))
            elif answer_lost(message) or outcome_of(message) == "failed":
                self._no_answer(str(message["msgid"]), self._phase_of_id(int(message["id"])))
        by_setl = {str(m.get("effect_ref")): m for m in messages
                   if str(m["infno"]) in (*SETTLING, "2208") and m.get("effect_ref")}
        for visit in run.visits:
            for step in visit.steps:
                refusal = step.refusal or {}
                if refusal.get("code") in NO_ANSWER_CODES and refusal.get("msgid"):
                    self._no_answer(str(refusal["msgid"]),
                                    _phase_at(run, datetime.fromisoformat(step.at)))
            for printed in visit.printed:  # a settlement or refund the HIS found by a query
                document = printed.get("document") or {}
                made = by_setl.get(str(document.get("setl_id")))
                if document.get("recovered") and made is not None:
                    self._no_answer(str(made["msgid"]), self._phase_of_id(int(made["id"])))

    def _phase_of_id(self, message_id: int) -> int:
        for n in range(len(self.run.phases)):
            if self.bounds[n] < message_id <= self.bounds[n + 1]:
                return n
        return 0

    def _no_answer(self, msgid: str, phase: int) -> None:
        """A message of the HIS without a usable answer, counted in the phase the insurer
        logged it in (else the phase the HIS said so in)."""
        if msgid in self.no_answer:
            return
        sent = self.by_msgid.get(msgid, [])
        where = self._phase_of_id(min(int(m["id"]) for m in sent)) if sent else phase
        self.no_answer[msgid] = (where, _why_no_answer(sent))

    def reason(self, visit: VisitRecord) -> str:
        """Why a patient left without a settlement (:data:`REASONS`)."""
        if visit.outcome == "error":
            return "his_error"
        if visit.outcome == "pending":
            return "not_finished"
        refusal = visit.refusal or {}
        code = refusal.get("code")
        if code in NO_ANSWER_CODES:
            if code == "insurer_gateway":
                return "gateway"
            return _why_no_answer(self.by_msgid.get(str(refusal.get("msgid")), [])) \
                if refusal.get("msgid") else "unreachable"
        if code == "insurer_refused":
            return "insurer_refused"
        if code in ("settlement_unknown", "refund_unknown"):
            return "outcome_unknown"
        if code == "settlement_failed":
            return "settle_reversed"
        return "his_refused"

    def patient(self, visit: VisitRecord) -> dict[str, Any]:
        """One injected patient, as ``debrief.json`` lists them."""
        refusal = visit.refusal or {}
        settled = visit.outcome in SETTLED_OUTCOMES
        left = not settled and visit.outcome != "cancelled"
        n = _phase_at(self.run, visit.at)
        return {"id": visit.id, "phase_no": n + 1, "phase": self.run.phases[n].name,
                "window": visit.operator, "arrived": visit.at.strftime("%Y-%m-%d %H:%M:%S"),
                "psn_no": visit.psn_no, "his_visit_id": visit.his_visit_id,
                "outcome": visit.outcome, "recovered": visit.recovered,
                "retries": visit.retries,
                "reason": self.reason(visit) if left else None,
                "step": refusal.get("step") if left else None,
                "infno": refusal.get("infno") if left else None,
                "code": refusal.get("code") if left else None,
                "message": (refusal.get("message") or visit.error) if left else None}

    def phase(self, n: int, patients: list[dict[str, Any]]) -> tuple[dict[str, Any],
                                                                     dict[str, Any]]:
        """Phase ``n``'s ``patients`` and ``his``."""
        came = [p for p in patients if p["phase_no"] == n + 1]
        reasons: Counter[tuple[str, str | None, str | None]] = Counter(
            (p["reason"], p["step"], p["infno"]) for p in came if p["reason"] is not None)
        order = {reason: i for i, reason in enumerate(REASONS)}
        side = {
            "injected": n < len(self.run.drill.phases)
            and self.run.drill.phases[n].patients is not None,
            "came": len(came),
            "settled": sum(1 for p in came if p["outcome"] in SETTLED_OUTCOMES),
            "recovered": sum(1 for p in came if p["outcome"] in SETTLED_OUTCOMES
                             and p["recovered"]),
            "came_back": sum(1 for p in came if p["outcome"] in SETTLED_OUTCOMES
                             and p["retries"]),
            "walked_away": sum(1 for p in came if p["outcome"] == "cancelled"),
            "turned_away": sum(reasons.values()),
            "reasons": [{"reason": reason, "step": step, "infno": infno, "patients": count}
                        for (reason, step, infno), count in sorted(
                            reasons.items(), key=lambda kv: (order.get(kv[0][0], 99),
                                                             str(kv[0][1]), str(kv[0][2])))]}
        why = Counter(w for where, w in self.no_answer.values() if where == n)
        his = {"no_answer": sum(why.values()),
               "why": {w: why[w] for w in REASONS if why[w]},
               "reversals": self.reversals[n]}
        return side, his


def _sides(run: DrillRun, messages: list[dict[str, Any]],
           phases: list[dict[str, Any]]) -> tuple[bool, list[dict[str, Any]]]:
    """Add ``patients`` and ``his`` to each phase (None: not recorded); whether they are
    recorded, and the injected patients one by one."""
    recorded = bool(run.visits) or any(p.patients is not None for p in run.drill.phases)
    if not recorded:
        for shown in phases:
            shown["patients"] = shown["his"] = None
        return False, []
    sides = _Sides(run, messages)
    patients = [sides.patient(visit) for visit in run.visits]
    for n, shown in enumerate(phases):
        shown["patients"], shown["his"] = sides.phase(n, patients)
    return True, patients


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
    result.patients_recorded, result.patients = _sides(run, messages, result.phases)
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
