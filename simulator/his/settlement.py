"""Pre-settlement, settlement and refund at the reference HIS, and the recovery of a settlement
or cancellation whose answer was lost.

Exactly once (reference README, rule 7; fact sheet §7 "Timeouts and retries"; docs/faults.md):

1. Before a 2207 or 2208 is sent, a ``pending`` row is written to the HIS's ledger under the
   msgid about to be sent (write-ahead: a crash or a lost answer leaves a trace).
2. An answer: the row becomes ``settled`` (2207) or ``refund`` (2208). A refusal (nothing
   happened): the row is deleted and the cashier sees the insurer's text.
3. No answer (timeout, connection lost, 5xx, a mangled answer, a success whose content cannot
   be used — :mod:`simulator.his.answers` — all ``effect`` unknown): ask 5203
   by ``mdtrt_id`` what the visit's newest settlement row is; if its ``medins_setl_id`` is this
   msgid, the message took effect: learn it (the bill is printed from it). Otherwise reverse the
   msgid with 2601 — a message still on its way can then never take effect, one that took
   effect meanwhile is undone — mark the row ``void`` and send once more under a new msgid.
   Never a second 2207 while the first may still count.
4. If the insurer cannot be reached for 3., the row stays ``pending`` and the visit
   ``settling``/``refunding``; the next operation on the visit, or day-end, resolves it first.

A refund is 2208 (the whole settlement is cancelled) → 2205 (its details, unsettled again, are
cancelled) → the remaining items uploaded as a new batch → 2206/2207 again.

Before 2206/2207 the visit's orders are checked once more by the insurer's rule library (3102
事中). A severe warning — from 3102, or the 3101 that blocked a line at charge — refuses the
pre-settlement and the settlement (``rule_check_severe``, nothing sent to 2206/2207) unless the
request carries an override: it is recorded, the blocked lines are uploaded (2204) and the visit
settles — or the insurer refuses it for the same rule, and the visit is closed there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from mock_insurer.client import ClientError, InsurerRefusal
from mock_insurer.money import ZERO, render
from simulator.his import answers
from simulator.his.answers import AnswerUnusable
from simulator.his.cashier import SEVERE, UNAVAILABLE, Cashier
from simulator.his.desk import Desk, his_refusal, refusal_of
from simulator.his.errors import DriverInputError
from simulator.his.operations import Outcome, Override, RefundInput, Refusal, SettleInput
from simulator.his.store import LEDGER_MONEY
from simulator.his.views import BILL_AMOUNTS, amounts_of, line_json, payers_of

__all__ = ["Resolution", "Settlements"]

SETTLE_ATTEMPTS = 2


@dataclass(frozen=True, slots=True)
class Resolution:
    """What became of a message whose answer was lost: ``committed`` (``row`` is the
    insurer's record of it), ``reversed`` (it never counts), or ``unresolved`` (the insurer
    could not be asked)."""

    kind: Literal["committed", "reversed", "unresolved"]
    row: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Sent:
    kind: Literal["done", "refused", "reversed", "unresolved"]
    info: Mapping[str, Any] | None = None
    entry_id: int | None = None
    error: ClientError | None = None
    recovered: bool = False


def _unresolved(infno: str, error: ClientError | None = None) -> Refusal:
    """``settlement_unknown`` / ``refund_unknown``; when the answer came but could not be used,
    the message names the field."""
    why_zh = why_en = ""
    if isinstance(error, AnswerUnusable):
        why_zh = f"(应答内容无法使用：{error.field} {error.why})"
        why_en = f" (its answer could not be used: {error.field} {error.why})"
    return his_refusal(
        "settlement_unknown" if infno == "2207" else "refund_unknown",
        f"{infno}结果未知{why_zh}且医保中心暂时无法查询，HIS将先查询或冲正再继续，请勿重复收费 / the "
        f"outcome of {infno} is unknown{why_en} and the insurer cannot be asked now; the HIS "
        "will query or reverse it before anything else — do not charge the patient again")


class Settlements:
    """2206, 2207, 2208 and their recovery."""

    def __init__(self, desk: Desk, cashier: Cashier) -> None:
        self.desk = desk
        self.cashier = cashier
        self.store = desk.store
        # visit id -> (the orders 3102 last checked, its warnings): settle after pre_settle
        # with the same orders does not ask again (one 事中 check per settlement)
        self._checked: dict[str, tuple[tuple[Any, ...], list[dict[str, Any]]]] = {}

    # -- the operations ------------------------------------------------------------------
    def pre_settle(self, visit_id: str, request: SettleInput) -> Outcome:
        desk = self.desk
        with desk.visit_lock(visit_id):
            operator = desk.operator(request.operator)
            blocked = self.resolve_pending(visit_id, operator)
            if blocked is not None:
                return blocked
            visit = desk.visit(visit_id)
            if visit["status"] != "charged":
                return self.cashier.wrong_state(visit, "预结算", "be pre-settled")
            warnings, stopped = self.rule_gate(visit, "pre_settle", request.override, operator)
            if stopped is not None:
                return stopped
            visit = desk.visit(visit_id)
            try:
                answer = desk.link.call(operator, "2206", self._settle_input(visit,
                                        request.acct_used), insuplc_admdvs=visit["insuplc_admdvs"],
                                        visit_id=visit_id, resend=True)
                estimate = answers.settlement(answer)
            except ClientError as error:
                desk.after_failure(visit, operator, error)
                return Outcome.refused(refusal_of(error), visit=self.cashier.visit_view(visit_id),
                                       warnings=warnings)
            amounts = amounts_of(estimate)
            return Outcome.success(estimate={k: render(v) for k, v in amounts.items()},
                                   visit=self.cashier.visit_view(visit_id), warnings=warnings)

    def settle(self, visit_id: str, request: SettleInput) -> Outcome:
        desk = self.desk
        with desk.visit_lock(visit_id):
            operator = desk.operator(request.operator)
            blocked = self.resolve_pending(visit_id, operator)
            if blocked is not None:
                return blocked
            visit = desk.visit(visit_id)
            if visit["status"] == "settled":  # done already (perhaps just now, recovered):
                return self.cashier.bill(visit_id)  # answer its bill, never settle twice
            if visit["status"] != "charged":
                return self.cashier.wrong_state(visit, "结算", "be settled")
            warnings, stopped = self.rule_gate(visit, "settle", request.override, operator)
            if stopped is not None:
                return stopped
            settled = self._settle_batch(desk.visit(visit_id), request.acct_used, operator)
            return Outcome(settled.ok, {**settled.body, "warnings": warnings})

    # -- rule check (3102) ---------------------------------------------------------------
    def rule_gate(self, visit: dict[str, Any], operation: str, override: Override | None,
                  operator: str) -> tuple[list[dict[str, Any]], Outcome | None]:
        """3102 for the visit's orders before ``operation`` (pre_settle or settle): the
        warnings, and the outcome to answer instead when a severe warning stops the visit.
        Severe: a 3102 warning of ``sev_deg`` 1, or a line 3101 blocked at charge. With an
        ``override`` (recorded) the blocked lines are uploaded now; a refused upload is
        answered (the visit is then closed at the insurer)."""
        visit_id = visit["visit_id"]
        orders = self.store.lines(visit_id, statuses=("uploaded", "blocked"))
        asked = tuple((line["id"], line["status"], line.get("qty"), line.get("days"),
                       line.get("amount"))
                      for line in orders)
        known = self._checked.get(visit_id)
        if known is not None and known[0] == asked:
            warnings = known[1]
        else:
            warnings = self.cashier.rule_check(visit, "3102", operator, orders)
            if all(w["rule_id"] != UNAVAILABLE for w in warnings):
                self._checked[visit_id] = (asked, warnings)
        blocked = self.store.lines(visit_id, statuses=("blocked",))
        held = {line["feedetl_sn"] for line in blocked}
        severe: dict[str, str] = {w["rule_id"]: w["rule_name"] for w in warnings
                                  if w["sev_deg"] == SEVERE}
        for check in self.store.rule_checks(visit_id):
            for w in check["warnings"] or []:
                if w.get("sev_deg") == SEVERE and held.intersection(w.get("lines") or []):
                    severe.setdefault(str(w["rule_id"]), str(w.get("rule_name") or ""))
        if not severe and not blocked:
            return warnings, None
        if override is None:
            named = "、".join(f"{rid} {name}".strip() for rid, name in sorted(severe.items()))
            return warnings, Outcome.refused(his_refusal(
                "rule_check_severe", f"医保规则审核严重违规：{named}；须经办人确认(override)后方可"
                f"结算 / severe rule-check warning {', '.join(sorted(severe))}: the visit "
                "cannot be settled without a recorded override"),
                visit=self.cashier.visit_view(visit_id), warnings=warnings)
        self.cashier.record_override(visit_id, operation, override, sorted(severe))
        if blocked:
            self.store.set_lines([line["id"] for line in blocked], status="sending")
            uploaded = self.cashier.upload(self.desk.visit(visit_id), operator)
            if not uploaded.ok:
                return warnings, Outcome(False, {**uploaded.body, "warnings": warnings})
        return warnings, None

    def refund(self, visit_id: str, request: RefundInput) -> Outcome:
        desk = self.desk
        with desk.visit_lock(visit_id):
            operator = desk.operator(request.operator)
            blocked = self.resolve_pending(visit_id, operator)
            if blocked is not None:
                return blocked
            visit = desk.visit(visit_id)
            entry = self.store.entry_by_setl_id(visit["setl_id"] or "")
            if visit["status"] != "settled" or entry is None or entry["status"] != "settled":
                return self.cashier.wrong_state(visit, "退费", "be refunded")
            settled = self.store.lines(visit_id, statuses=("settled",))
            _refunded, remaining = self._split_refund(settled, request.items)
            acct_used = (request.acct_used if request.acct_used is not None
                         else visit["acct_used"] == "1")
            return self._refund(visit, entry, settled, remaining, acct_used, operator)

    # -- settlement ----------------------------------------------------------------------
    def _settle_input(self, visit: Mapping[str, Any], acct_used: bool) -> dict[str, Any]:
        batch = visit["batch_no"]
        medfee = sum((line["amount"] for line in self.store.lines(
            visit["visit_id"], statuses=("uploaded",), batch=batch)), ZERO)
        return {"data": {
            "psn_no": visit["psn_no"], "mdtrt_cert_type": visit["cert_type"],
            "mdtrt_cert_no": visit["cert_no"], "med_type": visit["med_type"],
            "medfee_sumamt": medfee, "psn_setlway": "01", "mdtrt_id": visit["mdtrt_id"],
            "chrg_bchno": batch, "acct_used_flag": "1" if acct_used else "0",
            "insutype": visit["insutype"], "exp_content": ""}}

    def _settle_batch(self, visit: dict[str, Any], acct_used: bool, operator: str) -> Outcome:
        desk = self.desk
        visit_id = visit["visit_id"]
        self.store.update_visit(visit_id, acct_used="1" if acct_used else "0")
        settle_input = self._settle_input(visit, acct_used)
        try:
            pre = desk.link.call(operator, "2206", settle_input,
                                 insuplc_admdvs=visit["insuplc_admdvs"], visit_id=visit_id,
                                 resend=True)
            estimate = amounts_of(answers.settlement(pre))
        except ClientError as error:
            desk.after_failure(visit, operator, error)
            return Outcome.refused(refusal_of(error), visit=self.cashier.visit_view(visit_id))
        data = dict(settle_input["data"])
        for key in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"):
            data[key] = estimate[key]
        self.store.update_visit(visit_id, status="settling")
        for _attempt in range(SETTLE_ATTEMPTS):
            sent = self._send(visit, "2207", {"data": data}, operator, refd="0", orig=None)
            if sent.kind == "done":
                assert sent.info is not None and sent.entry_id is not None
                bill = self._record(sent.entry_id, sent.info, recovered=sent.recovered)
                return Outcome.success(bill=bill, visit=self.cashier.visit_view(visit_id))
            if sent.kind == "refused":
                assert sent.error is not None
                self.store.update_visit(visit_id, status="charged")
                desk.after_failure(visit, operator, sent.error)
                return Outcome.refused(refusal_of(sent.error),
                                       visit=self.cashier.visit_view(visit_id))
            if sent.kind == "unresolved":
                return Outcome.refused(_unresolved("2207", sent.error),
                                       visit=self.cashier.visit_view(visit_id))
        self.store.update_visit(visit_id, status="charged")
        desk.close_at_insurer(visit, operator)
        return Outcome.refused(his_refusal(
            "settlement_failed", "结算两次无应答均已冲正，本次就诊已撤销，请重新挂号或按自费结算 "
            "/ two settlements got no answer and were reversed; the visit was cancelled"),
            visit=self.cashier.visit_view(visit_id))

    def _send(self, visit: Mapping[str, Any], infno: str, message: Mapping[str, Any],
              operator: str, *, refd: str, orig: str | None) -> _Sent:
        """Send a 2207/2208 with its ledger row written ahead; resolve a lost answer."""
        entry_ids: list[int] = []

        def write_ahead(msgid: str) -> None:
            if entry_ids:
                self.store.update_entry(entry_ids[0], msgid=msgid)
                return
            entry_ids.append(self.store.add_entry({
                "msgid": msgid, "infno": infno, "visit_id": visit["visit_id"],
                "mdtrt_id": visit["mdtrt_id"], "psn_no": visit["psn_no"],
                "refd_setl_flag": refd, "orig_setl_id": orig, "insutype": visit["insutype"],
                "status": "pending", "created_at": self.desk.stamp()}))

        try:
            answer = self.desk.link.call(operator, infno, message,
                                         insuplc_admdvs=visit["insuplc_admdvs"],
                                         visit_id=visit["visit_id"], before_send=write_ahead)
            # an answer that cannot be used is an answer lost: the settlement may stand
            info = answers.settlement(answer)
        except ClientError as error:
            if not entry_ids:
                return _Sent("refused", error=error)
            entry = self.store.entry(entry_ids[0])
            assert entry is not None
            if not error.effect_unknown:
                self.store.delete_entry(entry_ids[0])
                return _Sent("refused", error=error)
            resolution = self.recover(entry, operator)
            if resolution.kind == "committed":
                return _Sent("done", resolution.row, entry_ids[0], recovered=True)
            return _Sent(resolution.kind, entry_id=entry_ids[0], error=error)
        return _Sent("done", info, entry_ids[0])

    def recover(self, entry: Mapping[str, Any], operator: str) -> Resolution:
        """Resolve a ``pending`` ledger row: query (5203), else reverse (2601). A reversed row
        becomes ``void``; a committed one is left for the caller to record."""
        desk = self.desk
        visit = desk.visit(entry["visit_id"])
        area = visit["insuplc_admdvs"]
        found = self._query(entry, operator, area)
        if found is None:
            return Resolution("unresolved")
        if found:
            return Resolution("committed", found)
        try:
            desk.link.call(operator, "2601", {"data": {
                "psn_no": entry["psn_no"], "omsgid": entry["msgid"], "oinfno": entry["infno"]}},
                insuplc_admdvs=area, visit_id=entry["visit_id"], resend=True)
        except InsurerRefusal as refused:
            if refused.effect != "none":
                return Resolution("unresolved")
            again = self._query(entry, operator, area)  # too late to reverse: look once more
            if again is None:
                return Resolution("unresolved")
            if again:
                return Resolution("committed", again)
        except ClientError:
            return Resolution("unresolved")
        self.store.update_entry(entry["id"], status="void",
                                note=f"reversed by 2601 (no answer to {entry['infno']})")
        return Resolution("reversed")

    def _query(self, entry: Mapping[str, Any], operator: str,
               area: str) -> Mapping[str, Any] | Literal[False] | None:
        """The insurer's newest settlement row of the visit if it is this entry's message;
        ``False`` when it is not; ``None`` when the insurer cannot be asked."""
        try:
            answer = self.desk.link.call(operator, "5203", {"data": {
                "psn_no": entry["psn_no"], "setl_id": "", "mdtrt_id": entry["mdtrt_id"]}},
                insuplc_admdvs=area, visit_id=entry["visit_id"], resend=True)
            row = answers.settlement_row(answer)  # with the payers, for the bill
        except InsurerRefusal as refused:
            return False if refused.effect == "none" else None
        except ClientError:  # no answer, or one that cannot be used: ask again later
            return None
        if row is not None and row.get("medins_setl_id") == entry["msgid"]:
            return row
        return False

    def resolve_pending(self, visit_id: str, operator: str) -> Outcome | None:
        """Resolve the visit's ``pending`` rows before anything else is done to it; an
        outcome to answer when one cannot be resolved now."""
        for entry in self.store.entries(visit_id=visit_id, statuses=("pending",)):
            resolution = self.recover(entry, operator)
            if resolution.kind == "unresolved":
                return Outcome.refused(_unresolved(str(entry["infno"])),
                                       visit=self.cashier.visit_view(visit_id))
            if resolution.kind == "committed":
                assert resolution.row is not None
                self._record(entry["id"], resolution.row, recovered=True)
            elif entry["infno"] == "2207":
                self.store.update_visit(visit_id, status="charged")
            else:
                self.store.update_visit(visit_id, status="settled")
            if resolution.kind == "committed" and entry["infno"] == "2208":
                # the refund took effect but the rest of it was never done: the details are
                # unsettled at the insurer again, ready to be settled or cancelled
                settled = self.store.lines(visit_id, statuses=("settled",))
                self.store.set_lines([line["id"] for line in settled], status="uploaded")
                self.store.update_visit(visit_id, status="charged", setl_id=None)
        return None

    # -- recording -----------------------------------------------------------------------
    def _record(self, entry_id: int, info: Mapping[str, Any], *,
                recovered: bool) -> dict[str, Any]:
        """A 2207/2208 that took effect: its ledger row, the visit, the lines, the bill."""
        entry = self.store.entry(entry_id)
        assert entry is not None
        amounts = amounts_of(info)
        setl_time = str(info.get("setl_time") or self.desk.stamp())
        refund = entry["infno"] == "2208"
        values: dict[str, Any] = {key: amounts[key] for key in LEDGER_MONEY}
        self.store.update_entry(
            entry_id, setl_id=str(info.get("setl_id") or ""), setl_time=setl_time,
            setl_date=setl_time[:10], clr_type=str(info.get("clr_type") or "11"),
            clr_optins=str(info.get("clr_optins") or ""), setlinfo=dict(info),
            status="refund" if refund else "settled",
            note="learned by 5203 after a lost answer" if recovered else None, **values)
        visit_id = entry["visit_id"]
        visit = self.desk.visit(visit_id)
        if refund:
            original = self.store.entry_by_setl_id(entry["orig_setl_id"] or "")
            if original is not None:
                self.store.update_entry(original["id"], status="cancelled")
            shown = self.store.lines(visit_id, statuses=("settled",))
        else:
            shown = self.store.lines(visit_id, statuses=("uploaded",), batch=visit["batch_no"])
            self.store.set_lines([line["id"] for line in shown], status="settled")
            self.store.update_visit(visit_id, status="settled", setl_id=info.get("setl_id"))
            shown = self.store.lines(visit_id, statuses=("settled",))
        return self._print(visit, "refund" if refund else "settlement", info, amounts, shown,
                           setl_time, recovered)

    def _print(self, visit: Mapping[str, Any], kind: str, info: Mapping[str, Any],
               amounts: Mapping[str, Decimal], shown: list[dict[str, Any]], setl_time: str,
               recovered: bool) -> dict[str, Any]:
        now = self.desk.now()
        bill_no = f"FP{now:%Y%m%d}{self.store.next_number('bill'):06d}"
        patient = self.store.patient(int(visit["patient_id"])) or {}
        content = {
            "bill_no": bill_no, "kind": kind, "visit_id": visit["visit_id"],
            "mdtrt_id": visit["mdtrt_id"], "setl_id": str(info.get("setl_id") or ""),
            "psn_no": visit["psn_no"], "psn_name": patient.get("psn_name"),
            "insutype": visit["insutype"], "setl_time": setl_time,
            "printed_at": now.strftime("%Y-%m-%d %H:%M:%S"),
            "lines": [line_json(line) for line in shown],
            "amounts": {key: render(amounts[key]) for key in BILL_AMOUNTS},
            "charged": {key: render(value)
                        for key, value in self.charged(kind, amounts).items()},
            "payers": payers_of(info), "recovered": recovered}
        self.store.add_bill({"bill_no": bill_no, "visit_id": visit["visit_id"],
                             "setl_id": content["setl_id"], "kind": kind,
                             "printed_at": content["printed_at"], "content": content})
        return content

    def charged(self, kind: str, amounts: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """What the patient pays (``settlement``) or gets back (``refund``), in yuan: ``cash``
        is the settlement's ``psn_cash_pay``, ``account`` its ``acct_pay`` (the person's part
        is account + cash; DESIGN.md "The settlement split")."""
        return {"cash": amounts["psn_cash_pay"], "account": amounts["acct_pay"]}

    # -- refund --------------------------------------------------------------------------
    def _split_refund(self, settled: list[dict[str, Any]], items: tuple[str, ...] | None
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if items is None:
            return settled, []
        codes = {line["code"] for line in settled}
        for index, code in enumerate(items):
            if code not in codes:
                raise DriverInputError(f"items[{index}]", f"item {code!r} is not on the "
                                                          "visit's settled bill")
        wanted = set(items)
        return ([line for line in settled if line["code"] in wanted],
                [line for line in settled if line["code"] not in wanted])

    def _refund(self, visit: dict[str, Any], entry: Mapping[str, Any],
                settled: list[dict[str, Any]], remaining: list[dict[str, Any]],
                acct_used: bool, operator: str) -> Outcome:
        desk = self.desk
        visit_id = visit["visit_id"]
        message = {"data": {"setl_id": entry["setl_id"], "mdtrt_id": visit["mdtrt_id"],
                            "psn_no": visit["psn_no"], "exp_content": ""}}
        slip: dict[str, Any] | None = None
        for _attempt in range(SETTLE_ATTEMPTS):
            sent = self._send(visit, "2208", message, operator, refd="1",
                              orig=entry["setl_id"])
            if sent.kind == "done":
                assert sent.info is not None and sent.entry_id is not None
                slip = self._record(sent.entry_id, sent.info, recovered=sent.recovered)
                break
            if sent.kind == "refused":
                assert sent.error is not None
                return Outcome.refused(refusal_of(sent.error),
                                       visit=self.cashier.visit_view(visit_id))
            if sent.kind == "unresolved":
                self.store.update_visit(visit_id, status="refunding")
                return Outcome.refused(_unresolved("2208", sent.error),
                                       visit=self.cashier.visit_view(visit_id))
        if slip is None:
            return Outcome.refused(his_refusal(
                "refund_failed", "撤销结算两次无应答均已冲正，结算仍有效 / two cancellations got "
                "no answer and were reversed; the settlement stands"),
                visit=self.cashier.visit_view(visit_id))
        kept = {line["id"] for line in remaining}
        for line in settled:
            self.store.set_lines([line["id"]], status="superseded" if line["id"] in kept
                                 else "refunded")
        self.store.update_visit(visit_id, status="charged", setl_id=None, batch_no=None)
        visit = desk.visit(visit_id)
        if not remaining:
            status = desk.close_at_insurer(visit, operator)
            if status == "cancelled":
                self.store.update_visit(visit_id, status="refunded")
            return Outcome.success(refund=slip, bill=None, visit=self.cashier.visit_view(visit_id))
        return self._settle_rest(visit, remaining, slip, acct_used, operator)

    def _settle_rest(self, visit: dict[str, Any], remaining: list[dict[str, Any]],
                     slip: dict[str, Any], acct_used: bool, operator: str) -> Outcome:
        """After a partial refund: cancel the unsettled details (2205), upload the rest as a
        new batch and settle it."""
        desk = self.desk
        visit_id = visit["visit_id"]
        try:
            desk.link.call(operator, "2205", {"data": {
                "mdtrt_id": visit["mdtrt_id"], "chrg_bchno": "0000", "psn_no": visit["psn_no"],
                "exp_content": ""}}, insuplc_admdvs=visit["insuplc_admdvs"], visit_id=visit_id,
                resend=True)
        except ClientError as error:
            desk.close_at_insurer(visit, operator)  # the rest cannot be settled: no orphans
            return Outcome.refused(refusal_of(error), refund=slip,
                                   visit=self.cashier.visit_view(visit_id))
        cycle = int(visit["cycle"]) + 1
        batch = f"{visit_id}B{cycle}"
        first = 1 + max((line["line_no"] for line in self.store.lines(visit_id)), default=0)
        self.store.add_lines([{
            "visit_id": visit_id, "line_no": first + n, "feedetl_sn": f"{visit_id}{first + n:04d}",
            "chrg_bchno": batch, "code": line["code"], "name": line["name"],
            "national_code": line["national_code"], "qty": line["qty"], "price": line["price"],
            "amount": line["amount"], "days": line["days"], "status": "sending",
            "result": None} for n, line in enumerate(remaining)])
        self.store.update_visit(visit_id, cycle=cycle, batch_no=batch)
        uploaded = self.cashier.upload(desk.visit(visit_id), operator)
        if not uploaded.ok:
            return Outcome(False, {**uploaded.body, "refund": slip})
        settled = self._settle_batch(desk.visit(visit_id), acct_used, operator)
        return Outcome(settled.ok, {**settled.body, "refund": slip})
