"""9001 sign-in and 9002 sign-out (fact sheet §3).

9001 issues ``sign_no`` = area(6) + yyyyMMddHHmmss + 10-digit sequence (30 chars) for the
institution and operator, valid for the business day; 9002 ends it. Business transactions need a
valid same-day ``sign_no`` of the same institution (a switch; the gateway checks it).
"""

from __future__ import annotations

from mock_insurer.ledger import LedgerTx, SignIn
from mock_insurer.refusals import refuse
from mock_insurer.transactions.context import Answered, Call, Outcome
from mock_insurer.wire.outcomes import Deviation

__all__ = ["handle_9001", "handle_9002"]


def handle_9001(call: Call, tx: LedgerTx) -> Outcome:
    """Strict mode asks for ``signIn`` with ``opter_no`` and ``ip`` (both "Y"; ``mac`` is "Y"
    only in Shenzhen). Tolerant mode also takes the fields unwrapped in ``input`` (Jiangxi's
    client) and an absent ``ip``, each recorded as a deviation."""
    unwrapped = call.envelope.input.get("signIn") is None and "opter_no" in call.envelope.input
    if unwrapped and not call.strict:
        r = call.reader()
        call.deviations.append(Deviation("node_unwrapped", "signIn",
                                         "the sign-in fields sent in input, not in signIn"))
    else:
        r = call.node("signIn")
    opter_no = r.text("opter_no", max_len=30)
    r.text("mac", max_len=20, required=False)
    ip = r.text("ip", max_len=20, required=call.strict)
    if r.problem:
        return r.problem
    if ip is None:
        call.deviations.append(Deviation("field_missing", "ip" if unwrapped else "signIn.ip",
                                         "签到IP地址(ip) is required by the specification"))
    seq = tx.next_seq("sign_no")
    sign_no = f"{call.institution.admdvs[:6]:0<6}{call.now:%Y%m%d%H%M%S}{seq:010d}"
    tx.add_signin(SignIn(sign_no, call.institution.fixmedins_code, opter_no, call.biz_date, True),
                  call.biz_time)
    return Answered({"signinoutb": {"sign_time": call.biz_time, "sign_no": sign_no}},
                    effect_ref=sign_no)


def handle_9002(call: Call, tx: LedgerTx) -> Outcome:
    r = call.node("signOut")
    sign_no = r.text("sign_no", max_len=30)
    r.text("opter_no", max_len=30)
    if r.problem:
        return r.problem
    sign = tx.signin(sign_no)
    if sign is None or sign.fixmedins_code != call.institution.fixmedins_code or not sign.valid:
        return refuse("no_signin", "signOut.sign_no")
    tx.sign_out(sign_no, call.biz_time)
    return Answered({"signoutoutb": {"sign_time": call.biz_time}}, effect_ref=sign_no)
