"""After the window: the reference HIS's receivables ledger, the month's declaration (申报) and
the matching of the insurer's payments (回款) to settlements — the hospital insurance office's
side of docs/finance.md, "A month from window to repayment".

The hospital advances the fund's share at the window; per settlement it claims from the insurer
``claimed = fund_pay_sumamt + acct_pay`` (yuan) and is repaid ``paid = claimed − deducted``
after the insurer's review (issue 9; the insurer's side: the declaration contract, served by
the mock insurer's admin API as the "settlement portal", :attr:`HisConfig.portal_url`).

- A receivable is one settlement in effect (a 2207 row the HIS holds ``settled``); a settlement
  cancelled by a refund (2208) is claimed by neither it nor its cancellation, so refunds net
  out — unless the refund came after the settlement's month ended: the settlement stays a
  receivable of its month, and its cancellation is one of the refund's month, claiming back
  (negative) what the insurer accepted for it (claim less the review's deductions on it), which
  the insurer nets from that month's payment. Its ``status``: ``outstanding`` (something still
  to be paid, or for a negative claim to be netted), ``paid`` (all of it paid),
  ``part-deducted`` (paid less a deduction), ``deducted`` (all of it refused).
  ``paid + deducted + outstanding = claimed`` always. A deduction of the month as a whole
  (category ``declaration``: declared above the uploaded totals, ``setl_id`` "") is booked at
  the month level: ``months`` of :meth:`Receivables.receivables` sets each month declared
  beside the insurer's figures (``reconciled``).
- :meth:`Receivables.declare` totals the HIS's ledger for the month (dates are the insurer's
  settlement dates, inclusive), FIRST checks every group (insutype, clr_type, setl_optins) with
  3201 over the whole month (national interface, fact sheet §3), and declares only when every
  group balances (or ``force``: the office decides to declare a known difference).
- :meth:`Receivables.collect_payments` reads the portal's declarations (their deductions) and
  payments and matches every payment item to its settlement by ``setl_id``; an item the HIS has
  no receivable for is reported, never dropped.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
import requests

from mock_insurer.client import ClientError
from mock_insurer.client.bounded import (
    DEFAULT_MAX_ANSWER_BYTES,
    AnswerTooLarge,
    DeadlinePassed,
    cap_text,
    read_bounded,
)
from mock_insurer.money import ZERO, parse_decimal, render
from simulator.his import answers
from simulator.his.desk import Desk, his_refusal, refusal_of
from simulator.his.errors import DriverInputError
from simulator.his.operations import Outcome, json_type
from simulator.his.store import COUNTED, HisStore

__all__ = ["STATUSES", "Portal", "PortalProblem", "Receivables", "month_bounds",
           "receivable_status"]

STATUSES = ("outstanding", "paid", "part-deducted", "deducted")
_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_CENTER = re.compile(r"医保中心：医疗费总额(-?[\d.]+) 基金支付(-?[\d.]+) 个人账户(-?[\d.]+) "
                     r"笔数(-?\d+)")
Key = tuple[str, str, str]


def month_bounds(period: str) -> tuple[date, date]:
    """The first and last day (inclusive) of ``period`` (``YYYY-MM``);
    :class:`DriverInputError` on ``period`` otherwise."""
    found = _PERIOD.fullmatch(period or "")
    if found is None:
        raise DriverInputError("period", f"must be a month YYYY-MM, got {period!r}")
    year, month = int(found.group(1)), int(found.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def receivable_status(claimed: Decimal, paid: Decimal, deducted: Decimal) -> str:
    """One of :data:`STATUSES` for a receivable's amounts (yuan). A negative claim (the
    cancellation of an earlier month's settlement) is ``outstanding`` until the insurer has
    netted it back."""
    if claimed - paid - deducted != 0:
        return "outstanding"
    if deducted <= 0:
        return "paid"
    return "deducted" if paid <= 0 else "part-deducted"


class PortalProblem(Exception):
    """The portal could not be used (internal to this module: becomes a refusal)."""

    def __init__(self, code: str, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Portal:
    """The insurer's settlement portal (the mock's admin API): bearer token, JSON, money as
    text (yuan). ``timeout`` (seconds) bounds each wait for data and the whole exchange;
    ``max_bytes`` the answer read (larger: ``portal_answer_unusable``)."""

    def __init__(self, url: str, token: str, timeout: float, *,
                 max_bytes: int = DEFAULT_MAX_ANSWER_BYTES) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, *, body: Any = None,
             params: Mapping[str, str] | None = None) -> dict[str, Any]:
        where = f"{method} {path}"
        deadline = time.monotonic() + self.timeout
        try:
            response = requests.request(method, self.url + path, json=body, params=params,
                                        headers=self.headers, timeout=self.timeout,
                                        stream=True)
        except requests.RequestException as exc:
            raise PortalProblem("portal_unavailable",
                                f"医保结算平台连接失败 / cannot reach the insurer's portal "
                                f"({where}: {cap_text(str(exc), 300)})") from exc
        try:
            content = read_bounded(response, deadline=deadline, timer=time.monotonic,
                                   per_read=self.timeout, max_bytes=self.max_bytes)
        except DeadlinePassed as exc:
            raise PortalProblem("portal_unavailable",
                                f"医保结算平台应答超时 / the insurer's portal did not answer "
                                f"{where} within {self.timeout} s") from exc
        except AnswerTooLarge as exc:
            raise PortalProblem("portal_answer_unusable",
                                f"医保结算平台应答过大 / the insurer's portal answer to {where} is "
                                f"{exc}", response.status_code) from exc
        except requests.RequestException as exc:
            raise PortalProblem("portal_unavailable",
                                f"医保结算平台应答中断 / the insurer's portal answer to {where} "
                                f"did not arrive whole ({cap_text(str(exc), 300)})") from exc
        finally:
            response.close()
        try:
            payload = orjson.loads(content) if content else {}
        except orjson.JSONDecodeError:
            payload = None
        if response.status_code >= 300:
            error = payload.get("error") if isinstance(payload, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            text = (message if isinstance(message, str)
                    else content[:200].decode("utf-8", "replace"))
            raise PortalProblem("portal_refused",
                                f"医保结算平台拒绝 / the insurer's portal refused {where} "
                                f"(HTTP {response.status_code}): {cap_text(text)}",
                                response.status_code)
        if not isinstance(payload, dict):
            raise _unusable("(body)", "is not a JSON object" if payload is not None
                            else "is not JSON")
        return payload


# -- the portal's answers, checked before anything of them is used or kept -------------------
def _unusable(path: str, why: str) -> PortalProblem:
    return PortalProblem("portal_answer_unusable",
                         f"医保结算平台应答内容无法使用({path} {why}) / the insurer's portal "
                         f"answer cannot be used: {path} {why}")


def _p_node(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _unusable(path, "is missing" if value is None
                        else f"must be an object, got {json_type(value)}")
    return value


def _p_rows(value: Any, path: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _unusable(path, f"must be an array, got {json_type(value)}")
    return [_p_node(row, f"{path}[{n}]") for n, row in enumerate(value)]


def _p_text(node: Mapping[str, Any], name: str, path: str, *, max_len: int = 64,
            required: bool = False) -> str | None:
    value = node.get(name)
    if value is None or value == "":
        if required:
            raise _unusable(f"{path}.{name}", "is missing")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _unusable(f"{path}.{name}", f"must be text, got {json_type(value)}")
    if len(value) > max_len:
        raise _unusable(f"{path}.{name}", f"is longer than {max_len} characters")
    return value


def _p_amount(node: Mapping[str, Any], name: str, path: str) -> Decimal:
    """Yuan (null: 0), at most two places, within ±MAX_MONEY."""
    value = node.get(name)
    if value is None or value == "":
        return ZERO
    try:
        return answers.yuan(value)
    except ValueError as problem:
        raise _unusable(f"{path}.{name}", str(problem)) from None


MONTH_CATEGORY = "declaration"
"""The category of a deduction of the month as a whole (no settlement: ``setl_id`` "")."""

_DECLARATION_TEXTS = {"dcla_id": 64, "fixmedins_code": 30, "period": 7, "status": 30,
                      "declared_on": 30, "reviewed_on": 30, "due_date": 30, "paid_date": 30}
_DEDUCTION_TEXTS = {"setl_id": 30, "mdtrt_id": 30, "psn_no": 30, "feedetl_sn": 64,
                    "rule_id": 64, "category": 64, "reason": 1000, "reason_en": 1000,
                    "dept_code": 64, "dept_name": 200, "dr_code": 64, "dr_name": 200,
                    "settled_on": 30}


def _declaration(value: Any, path: str) -> dict[str, Any]:
    """A declaration as the portal answers it, its fields the HIS keeps checked."""
    record = _p_node(value, path)
    clean: dict[str, Any] = dict(record)
    for name, longest in _DECLARATION_TEXTS.items():
        clean[name] = _p_text(record, name, path, max_len=longest)
    if clean["period"] is not None and not _PERIOD.fullmatch(clean["period"]):
        raise _unusable(f"{path}.period", "is not a month YYYY-MM")
    for name in ("claimed", "deducted", "accepted"):
        if record.get(name) is not None:
            clean[name] = render(_p_amount(record, name, path))
    deductions = []
    for n, ded in enumerate(_p_rows(record.get("deductions"), f"{path}.deductions")):
        where = f"{path}.deductions[{n}]"
        row: dict[str, Any] = {"ded_id": _p_text(ded, "ded_id", where, required=True)}
        # a declaration deduction (declared above uploaded) refuses part of the month, not of
        # a settlement: its setl_id is "" (docs/review.md), booked at the month level
        month_level = _p_text(ded, "category", where, max_len=64) == MONTH_CATEGORY
        for name, longest in _DEDUCTION_TEXTS.items():
            row[name] = _p_text(ded, name, where, max_len=longest,
                                required=name == "setl_id" and not month_level)
        if month_level:
            row["setl_id"] = row["setl_id"] or ""
        row["amount"] = render(_p_amount(ded, "amount", where))
        deductions.append(row)
    clean["deductions"] = deductions
    return clean


def _payment(value: Any, path: str) -> dict[str, Any]:
    """A payment as the portal answers it, checked: ``pay_id``, amounts, items."""
    payment = _p_node(value, path)
    clean: dict[str, Any] = {
        "pay_id": _p_text(payment, "pay_id", path, required=True),
        "fixmedins_code": _p_text(payment, "fixmedins_code", path, max_len=30),
        "kind": _p_text(payment, "kind", path, max_len=30),
        "dcla_id": _p_text(payment, "dcla_id", path),
        "amount": render(_p_amount(payment, "amount", path)),
        "paid_date": _p_text(payment, "paid_date", path, max_len=30)}
    items = []
    for n, item in enumerate(_p_rows(payment.get("items"), f"{path}.items")):
        where = f"{path}.items[{n}]"
        items.append({"setl_id": _p_text(item, "setl_id", where, max_len=30, required=True),
                      **{name: render(_p_amount(item, name, where))
                         for name in ("claimed", "deducted", "paid")}})
    clean["items"] = items
    return clean


def _listed(answer: Mapping[str, Any], name: str, read: Any) -> list[dict[str, Any]]:
    value = answer.get(name)
    if value is None:
        raise _unusable(name, "is missing")
    if not isinstance(value, list):
        raise _unusable(name, f"must be an array, got {json_type(value)}")
    return [read(row, f"{name}[{n}]") for n, row in enumerate(value)]


def _money(value: Any) -> Decimal:
    return ZERO if value in (None, "") else parse_decimal(value)


def _totals(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    rows = list(entries)
    return {"medfee_sumamt": sum((e["medfee_sumamt"] or ZERO for e in rows), ZERO),
            "fund_pay_sumamt": sum((e["fund_pay_sumamt"] or ZERO for e in rows), ZERO),
            "acct_pay": sum((e["acct_pay"] or ZERO for e in rows), ZERO),
            "count": len(rows)}


def _shown(totals: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, int) else render(v) for k, v in totals.items()}


def _difference(text: str, his: Mapping[str, Any]) -> dict[str, str] | None:
    """center − HIS per figure, when the 3201 description carries the center's figures (the
    mock insurer's wording); None otherwise."""
    found = _CENTER.search(text)
    if found is None:
        return None
    medfee, fund, acct, count = found.groups()
    return {"medfee_sumamt": render(parse_decimal(medfee) - his["medfee_sumamt"]),
            "fund_pay_sumamt": render(parse_decimal(fund) - his["fund_pay_sumamt"]),
            "acct_pay": render(parse_decimal(acct) - his["acct_pay"]),
            "count": str(int(count) - his["count"])}


def receivable_json(row: Mapping[str, Any]) -> dict[str, Any]:
    shown = {key: row[key] for key in (
        "setl_id", "period", "setl_date", "visit_id", "mdtrt_id", "psn_no", "insutype",
        "dept_code", "dept_name", "dr_code", "dr_name", "status", "dcla_id", "pay_id",
        "paid_date")}
    for key in ("fund_claimed", "acct_claimed", "claimed", "paid", "deducted"):
        shown[key] = render(row[key] or ZERO)
    shown["outstanding"] = render((row["claimed"] or ZERO) - (row["paid"] or ZERO)
                                  - (row["deducted"] or ZERO))
    return shown


class Receivables:
    """The after-the-window operations of the reference HIS (one at a time: the caller holds
    a lock)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.store: HisStore = desk.store

    # -- the ledger → receivables --------------------------------------------------------
    def in_period(self, period: str) -> list[dict[str, Any]]:
        """The HIS's counted ledger rows whose insurer settlement date is in ``period``."""
        return [e for e in self.store.entries(statuses=COUNTED)
                if (e["setl_date"] or "").startswith(period + "-")]

    def sync(self, period: str | None = None) -> None:
        """Bring the receivables in line with the ledger: one per settlement in effect; a
        settlement cancelled (or voided) since is dropped unless money was already booked.

        A settlement cancelled (2208) after its month ended stays a receivable of its month
        (the insurer claimed, reviewed and pays it with that month), and its cancellation is
        one of the cancellation's month: a negative claim of what the insurer accepted for the
        settlement (its claim less the review's deductions on it, as far as the HIS knows
        them), which the insurer nets back from that month's payment (docs/review.md)."""
        visits: dict[str, dict[str, Any] | None] = {}
        refunds = {e["orig_setl_id"]: e for e in self.store.entries(statuses=("refund",))
                   if e["orig_setl_id"] and e["setl_id"] and len(e["setl_date"] or "") >= 7}
        deducted_on: dict[str, Decimal] = {}
        for ded in self.store.rows("deductions"):
            if ded["setl_id"]:
                deducted_on[ded["setl_id"]] = (deducted_on.get(ded["setl_id"], ZERO)
                                               + (ded["amount"] or ZERO))
        live: set[str] = set()

        def keep(entry: Mapping[str, Any], setl_id: str, day: str, fund: Decimal,
                 acct: Decimal) -> None:
            if period is not None and day[:7] != period:
                return
            live.add(setl_id)
            visit_id = entry["visit_id"] or ""
            if visit_id not in visits:
                visits[visit_id] = self.store.visit(visit_id) if visit_id else None
            visit = visits[visit_id] or {}
            old = (self.store.rows("receivables", setl_id=setl_id) or [{}])[0]
            paid, deducted = old.get("paid") or ZERO, old.get("deducted") or ZERO
            self.store.save_row("receivables", {
                "setl_id": setl_id, "period": day[:7], "setl_date": day,
                "visit_id": entry["visit_id"], "mdtrt_id": entry["mdtrt_id"],
                "psn_no": entry["psn_no"], "insutype": entry["insutype"],
                "dept_code": visit.get("dept_code"), "dept_name": visit.get("dept_name"),
                "dr_code": visit.get("doctor_code"), "dr_name": visit.get("doctor_name"),
                "fund_claimed": fund, "acct_claimed": acct, "claimed": fund + acct,
                "paid": paid, "deducted": deducted,
                "status": receivable_status(fund + acct, paid, deducted),
                "dcla_id": old.get("dcla_id"), "pay_id": old.get("pay_id"),
                "paid_date": old.get("paid_date")})

        for entry in self.store.entries(statuses=("settled", "cancelled")):
            setl_id, day = entry["setl_id"], entry["setl_date"] or ""
            if not setl_id or entry["refd_setl_flag"] == "1" or len(day) < 7:
                continue
            fund, acct = entry["fund_pay_sumamt"] or ZERO, entry["acct_pay"] or ZERO
            refund = refunds.get(setl_id) if entry["status"] == "cancelled" else None
            if entry["status"] == "cancelled" and (
                    refund is None or refund["setl_date"][:7] <= day[:7]):
                continue  # cancelled within its month: claimed by neither
            keep(entry, setl_id, day, fund, acct)
            if refund is not None:  # its cancellation nets back what was accepted for it
                keep(refund, refund["setl_id"], refund["setl_date"],
                     -(fund - deducted_on.get(setl_id, ZERO)), -acct)
        for row in self.store.rows("receivables", **({} if period is None else
                                                     {"period": period})):
            booked = (row["paid"] or ZERO) + (row["deducted"] or ZERO)
            if row["setl_id"] not in live and booked == 0:
                self.store.delete_row("receivables", row["setl_id"])

    def receivables(self, period: str | None = None) -> Outcome:
        if period is not None:
            month_bounds(period)
        self.sync(period)
        rows = self.store.rows("receivables", **({} if period is None else {"period": period}))
        totals = {key: sum((r[key] or ZERO for r in rows), ZERO)
                  for key in ("claimed", "paid", "deducted")}
        totals["outstanding"] = totals["claimed"] - totals["paid"] - totals["deducted"]
        by_status = {status: sum(1 for r in rows if r["status"] == status)
                     for status in STATUSES}
        months = self._months(period)
        dcla_ids = {m["dcla_id"] for m in months}
        deductions = [self._deduction_json(d) for d in self.store.rows("deductions")
                      if period is None or any(r["setl_id"] == d["setl_id"] for r in rows)
                      or (not d["setl_id"] and d["dcla_id"] in dcla_ids)]
        month_deducted = sum((Decimal(m["month_deducted"]) for m in months), ZERO)
        return Outcome.success(
            period=period, receivables=[receivable_json(r) for r in rows],
            totals={**{k: render(v) for k, v in totals.items()}, "count": len(rows),
                    "by_status": by_status, "month_deducted": render(month_deducted)},
            deductions=deductions, months=months)

    def _months(self, period: str | None) -> list[dict[str, Any]]:
        """Per month declared: the insurer's figures beside the HIS's receivables of the month
        and its month-level deductions (declared above uploaded: no settlement), and whether
        they reconcile — Σ settlements claimed + month-level deducted = the insurer's claimed,
        Σ settlements deducted + month-level deducted = its deducted, and, once paid, Σ paid
        = its accepted (null until reviewed)."""
        found = []
        receivables = self.store.rows("receivables")
        deductions = self.store.rows("deductions")
        for decl in self.store.rows("declarations", **({} if period is None
                                                        else {"period": period})):
            record = decl["record"] if isinstance(decl["record"], Mapping) else {}
            rows = [r for r in receivables if r["period"] == decl["period"]]
            claimed = sum((r["claimed"] or ZERO for r in rows), ZERO)
            paid = sum((r["paid"] or ZERO for r in rows), ZERO)
            deducted = sum((r["deducted"] or ZERO for r in rows), ZERO)
            month = sum((d["amount"] or ZERO for d in deductions
                         if not d["setl_id"] and d["dcla_id"] == decl["dcla_id"]), ZERO)
            accepted = record.get("accepted")
            reconciled = None
            if accepted is not None and decl["status"] in ("reviewed", "paid"):
                reconciled = (claimed + month == _money(record.get("claimed"))
                              and deducted + month == _money(record.get("deducted"))
                              and (decl["status"] != "paid" or paid == _money(accepted)))
            found.append({
                "period": decl["period"], "dcla_id": decl["dcla_id"], "status": decl["status"],
                "claimed": record.get("claimed"), "deducted": record.get("deducted"),
                "accepted": accepted, "settlements_claimed": render(claimed),
                "settlements_deducted": render(deducted), "month_deducted": render(month),
                "paid": render(paid), "outstanding": render(claimed - paid - deducted),
                "reconciled": reconciled})
        return found

    # -- declaring -----------------------------------------------------------------------
    def groups(self, period: str) -> dict[Key, dict[str, Any]]:
        """The month's totals per 3201 group of the HIS's ledger, and a zero group for every
        group of a visit registered in the month (so a settlement only the center has is
        found)."""
        by_key: dict[Key, list[dict[str, Any]]] = {}
        for entry in self.in_period(period):
            key = (entry["insutype"] or "", entry["clr_type"] or "11", entry["clr_optins"] or "")
            by_key.setdefault(key, []).append(entry)
        for visit in self.store.visits():
            if visit["mdtrt_id"] and (visit["reg_date"] or "").startswith(period + "-"):
                by_key.setdefault((visit["insutype"] or "", "11",
                                   visit["insuplc_admdvs"] or ""), [])
        return {key: _totals(rows) for key, rows in sorted(by_key.items())}

    def check(self, period: str, operator: str) -> list[dict[str, Any]]:
        """3201 for every group over the whole month: each group with the HIS's totals, the
        insurer's result and, when unbalanced, the difference (center − HIS)."""
        first, last = month_bounds(period)
        results = []
        for key, totals in self.groups(period).items():
            answer = self.desk.link.call(operator, "3201", {"data": {
                "insutype": key[0], "clr_type": key[1], "setl_optins": key[2],
                "stmt_begndate": first.isoformat(), "stmt_enddate": last.isoformat(),
                "medfee_sumamt": totals["medfee_sumamt"],
                "fund_pay_sumamt": totals["fund_pay_sumamt"], "acct_pay": totals["acct_pay"],
                "fixmedins_setl_cnt": totals["count"]}}, resend=True)
            rslt, text = answers.statement(answer)
            results.append({"insutype": key[0], "clr_type": key[1], "setl_optins": key[2],
                            "his": _shown(totals), "stmt_rslt": rslt, "stmt_rslt_dscr": text,
                            "difference": None if rslt == "0" else _difference(text, totals)})
        return results

    def declared_totals(self, period: str) -> dict[str, Any]:
        """What the HIS declares for ``period``: its totals as 3201 counts them — the net sums
        of its counted ledger rows (a settlement and its cancellation cancel out) and the
        number of rows (settlements and cancellations each count one)."""
        totals = _totals(self.in_period(period))
        return {"medfee_sumamt": render(totals["medfee_sumamt"]),
                "fund_pay_sumamt": render(totals["fund_pay_sumamt"]),
                "acct_pay": render(totals["acct_pay"]), "setl_cnt": totals["count"]}

    def declare(self, period: str, force: bool, operator: str) -> Outcome:
        month_bounds(period)
        portal = self._portal()
        if isinstance(portal, Outcome):
            return portal
        operator = self.desk.operator(operator)
        self.sync(period)
        try:
            groups = self.check(period, operator)
        except ClientError as error:  # refused, no answer, or one that cannot be used
            return Outcome.refused(refusal_of(error), period=period, declared=False)
        unbalanced = [g for g in groups if g["stmt_rslt"] != "0"]
        if unbalanced and not force:
            return Outcome.refused(his_refusal("month_unbalanced", _unbalanced_text(
                period, unbalanced)), period=period, declared=False, groups=groups,
                unbalanced=unbalanced)
        body = {"fixmedins_code": self.desk.config.fixmedins_code, "period": period,
                "declared": self.declared_totals(period)}
        try:
            answer = portal.call("POST", "/admin/declarations", body=body)
            record = _declaration(answer.get("declaration"), "declaration")
        except PortalProblem as problem:
            return Outcome.refused(his_refusal(problem.code, problem.message), period=period,
                                   declared=False, groups=groups, request=body)
        self._keep_declaration(record)
        for row in self.store.rows("receivables", period=period):
            self.store.save_row("receivables", {**row, "dcla_id": record.get("dcla_id")})
        return Outcome.success(period=period, declared=True, forced=bool(unbalanced),
                               groups=groups, request=body, declaration=record)

    # -- payments ------------------------------------------------------------------------
    def collect_payments(self) -> Outcome:
        portal = self._portal()
        if isinstance(portal, Outcome):
            return portal
        code = self.desk.config.fixmedins_code
        try:  # both answers checked whole before anything of them is kept
            declared = _listed(portal.call("GET", "/admin/declarations",
                                           params={"fixmedins_code": code}),
                               "declarations", _declaration)
            paid = _listed(portal.call("GET", "/admin/payments",
                                       params={"fixmedins_code": code}),
                           "payments", _payment)
        except PortalProblem as problem:
            return Outcome.refused(his_refusal(problem.code, problem.message))
        for record in declared:
            self._keep_declaration(record)
        self.sync()  # after the deductions: a cancellation nets back what was accepted
        deducted: dict[str, Decimal] = {}
        for ded in self.store.rows("deductions"):
            if ded["setl_id"]:  # a month-level deduction is booked with its month (_months)
                deducted[ded["setl_id"]] = (deducted.get(ded["setl_id"], ZERO)
                                            + (ded["amount"] or ZERO))
        receivables = {r["setl_id"]: r for r in self.store.rows("receivables")}
        for setl_id, amount in deducted.items():  # reviewed: the deduction is known
            row = receivables.get(setl_id)
            if row is not None and row["pay_id"] is None:
                receivables[setl_id] = self._book(row, row["paid"] or ZERO, amount, {})
        unmatched: list[dict[str, Any]] = []
        disagreements: list[dict[str, Any]] = []
        matched = 0
        for payment in paid:
            self.store.save_row("payments", {
                "pay_id": payment.get("pay_id"), "kind": payment.get("kind"),
                "dcla_id": payment.get("dcla_id"), "amount": _money(payment.get("amount")),
                "paid_date": payment.get("paid_date"), "record": payment})
            for item in payment.get("items") or []:
                setl_id = str(item.get("setl_id", ""))
                row = receivables.get(setl_id)
                shown = {"pay_id": payment.get("pay_id"), "setl_id": setl_id,
                         "claimed": item.get("claimed"), "deducted": item.get("deducted"),
                         "paid": item.get("paid")}
                if row is None:
                    unmatched.append({**shown, "reason": "no receivable for this settlement "
                                                         "in the HIS / 院内无此结算应收"})
                    continue
                matched += 1
                if _money(item.get("claimed")) != row["claimed"]:
                    disagreements.append({**shown, "his_claimed": render(row["claimed"])})
                receivables[setl_id] = self._book(row, _money(item.get("paid")),
                                                  _money(item.get("deducted")), payment)
        ledger = self.receivables().body
        totals = ledger["totals"]
        return Outcome.success(
            declarations=[{k: d.get(k) for k in ("dcla_id", "period", "status", "claimed",
                                                 "deducted", "accepted", "due_date",
                                                 "paid_date")} for d in declared],
            payments=[{k: p.get(k) for k in ("pay_id", "kind", "dcla_id", "amount",
                                             "paid_date")} for p in paid],
            matched=matched, unmatched=unmatched, disagreements=disagreements, totals=totals,
            months=ledger["months"])

    # -- helpers -------------------------------------------------------------------------
    def _portal(self) -> Portal | Outcome:
        cfg = self.desk.config
        if not cfg.portal_url:
            return Outcome.refused(his_refusal(
                "portal_not_configured", "未配置医保结算平台 / the HIS has no insurer portal "
                "configured (portal_url)"))
        return Portal(cfg.portal_url, cfg.portal_token, cfg.timeout)

    def _book(self, row: Mapping[str, Any], paid: Decimal, deducted: Decimal,
              payment: Mapping[str, Any]) -> dict[str, Any]:
        claimed = row["claimed"] or ZERO
        values = {**row, "paid": paid, "deducted": deducted,
                  "status": receivable_status(claimed, paid, deducted)}
        if payment:
            values.update(pay_id=payment.get("pay_id"), paid_date=payment.get("paid_date"),
                          dcla_id=payment.get("dcla_id") or row["dcla_id"])
        self.store.save_row("receivables", values)
        return values

    def _keep_declaration(self, record: Mapping[str, Any]) -> None:
        if not record.get("period"):
            return
        kept = self.store.rows("declarations", period=record["period"])
        if (record.get("status") == "withdrawn" and kept
                and kept[0]["dcla_id"] != record.get("dcla_id")
                and kept[0]["status"] != "withdrawn"):
            return  # the month was declared again: the withdrawn one is history
        self.store.save_row("declarations", {
            "period": record["period"], "dcla_id": record.get("dcla_id"),
            "status": record.get("status"), "declared_on": record.get("declared_on"),
            "record": dict(record)})
        for ded in record.get("deductions") or []:
            self.store.save_row("deductions", {
                "ded_id": str(ded.get("ded_id")), "dcla_id": record.get("dcla_id"),
                "setl_id": ded.get("setl_id"), "feedetl_sn": ded.get("feedetl_sn"),
                "rule_id": ded.get("rule_id"), "category": ded.get("category"),
                "reason": ded.get("reason"), "reason_en": ded.get("reason_en"),
                "amount": _money(ded.get("amount")), "dept_code": ded.get("dept_code"),
                "dept_name": ded.get("dept_name"), "dr_code": ded.get("dr_code"),
                "dr_name": ded.get("dr_name")})

    @staticmethod
    def _deduction_json(row: Mapping[str, Any]) -> dict[str, Any]:
        return {**{str(k): v for k, v in row.items() if k != "amount"},
                "amount": render(row["amount"] or ZERO)}


def _unbalanced_text(period: str, groups: list[dict[str, Any]]) -> str:
    parts = []
    for group in groups:
        name = f"insutype {group['insutype']} clr_type {group['clr_type']} " \
               f"setl_optins {group['setl_optins'] or '-'}"
        diff = group["difference"]
        shown = ", ".join(f"{k} {v}" for k, v in diff.items()) if diff else \
            group["stmt_rslt_dscr"]
        parts.append(f"{name}: {shown}")
    return (f"{period} 月度对账不平，未申报 / the month does not balance with the insurer (3201), "
            f"not declared — center − HIS: " + "; ".join(parts))
