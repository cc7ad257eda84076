"""The end of a load test's day: day-end reconciliation (3201) of what the windows were told,
per institution and group, against the insurer's ledger — as each hospital does at night. A
group that does not balance means a settlement the windows were told of and the ledger does
not hold (or the reverse): something was lost or made twice under load.

Run against an insurer whose ledger held nothing of those institutions on that day before the
load test (the embedded insurer always; a given one only if fresh), or the totals differ by the
earlier business.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from mock_insurer.client import ClientError, InsurerClient
from mock_insurer.money import render

__all__ = ["next_second", "reconcile"]


def next_second(clock: Callable[[], datetime], *, longest: float = 1.2) -> None:
    """Wait until ``clock`` shows a later whole second than now (at most ``longest`` real
    seconds: a clock that does not move is not waited for)."""
    first = clock().replace(microsecond=0)
    deadline = time.monotonic() + longest
    while clock().replace(microsecond=0) <= first and time.monotonic() < deadline:
        time.sleep(0.02)


def reconcile(url: str, groups: Sequence[Mapping[str, Any]],
              institutions: Sequence[Mapping[str, Any]],
              clock: Callable[[], datetime]) -> list[dict[str, Any]]:
    """Send 9001 then one 3201 per group; answer each group with the insurer's result
    (``stmt_rslt`` "0" = balanced) and the round trip's wall-clock milliseconds.

    Begins in the second after the call: the windows may have sent messages in this very
    second, and a msgid is the institution, the second and a sequence number of the sender's
    own, so a day-end message in the same second could carry one of theirs (the insurer
    refuses a repeated msgid with other content)."""
    next_second(clock)
    names = {str(i["fixmedins_code"]): i for i in institutions}
    clients: dict[str, InsurerClient] = {}
    results = []
    try:
        for group in groups:
            code = str(group["fixmedins_code"])
            client = clients.get(code)
            if client is None:
                record = names.get(code, {})
                client = clients[code] = InsurerClient(
                    url, fixmedins_code=code,
                    fixmedins_name=str(record.get("fixmedins_name") or code),
                    mdtrtarea_admvs=str(record.get("admdvs") or "110000"), opter="DAYEND",
                    opter_name="day-end", clock=clock, timeout=60.0)
                client.sign_in(opter_no="DAYEND", mac="00-00-00-00-00-00", ip="127.0.0.1")
            started = clock()
            try:
                answer = client.call("3201", {"data": {
                    "insutype": group["insutype"], "clr_type": group["clr_type"],
                    "setl_optins": group["setl_optins"], "stmt_begndate": group["day"],
                    "stmt_enddate": group["day"], "medfee_sumamt": group["medfee_sumamt"],
                    "fund_pay_sumamt": group["fund_pay_sumamt"], "acct_pay": group["acct_pay"],
                    "fixmedins_setl_cnt": group["count"]}})
                info = answer.output.get("stmtinfo") or {}
                result = {"stmt_rslt": str(info.get("stmt_rslt", "")),
                          "stmt_rslt_dscr": str(info.get("stmt_rslt_dscr", ""))}
            except ClientError as exc:
                result = {"stmt_rslt": "error", "stmt_rslt_dscr": str(exc)}
            elapsed = (clock() - started).total_seconds() * 1000
            results.append({**{k: str(group[k]) for k in ("fixmedins_code", "day", "insutype",
                                                          "clr_type", "setl_optins")},
                            "count": int(group["count"]),
                            "medfee_sumamt": render(group["medfee_sumamt"]),
                            **result, "ms": round(elapsed, 1)})
    finally:
        for client in clients.values():
            client.close()
    return results
