"""One handler per transaction number (infno): plain functions ``(Call, LedgerTx) -> Outcome``.

``HANDLERS`` is the dispatch table the gateway uses; ``SIGNIN_EXEMPT`` are the transactions that
do not need a valid ``sign_no``.
"""

from mock_insurer.transactions.context import (
    Answered,
    Call,
    FileAnswer,
    Handler,
    Outcome,
    Reference,
    Settings,
)
from mock_insurer.transactions.fees import handle_2204, handle_2205
from mock_insurer.transactions.files import handle_9101, handle_9102
from mock_insurer.transactions.person import handle_1101
from mock_insurer.transactions.queries import handle_5203, handle_5206
from mock_insurer.transactions.reconcile import handle_3201, handle_3202
from mock_insurer.transactions.reversal import handle_2601
from mock_insurer.transactions.rules import handle_3101, handle_3102
from mock_insurer.transactions.settle import handle_2206, handle_2207, handle_2208
from mock_insurer.transactions.signin import handle_9001, handle_9002
from mock_insurer.transactions.visits import handle_2201, handle_2202, handle_2203

__all__ = [
    "HANDLERS",
    "SIGNIN_EXEMPT",
    "Answered",
    "Call",
    "FileAnswer",
    "Handler",
    "Outcome",
    "Reference",
    "Settings",
]

HANDLERS: dict[str, Handler] = {
    "9001": handle_9001,
    "9002": handle_9002,
    "1101": handle_1101,
    "2201": handle_2201,
    "2202": handle_2202,
    "2203": handle_2203,
    "2203A": handle_2203,
    "2204": handle_2204,
    "2205": handle_2205,
    "2206": handle_2206,
    "2206A": handle_2206,
    "2207": handle_2207,
    "2207A": handle_2207,
    "2208": handle_2208,
    "2601": handle_2601,
    "5203": handle_5203,
    "5206": handle_5206,
    "3101": handle_3101,
    "3102": handle_3102,
    "3201": handle_3201,
    "3202": handle_3202,
    "9101": handle_9101,
    "9102": handle_9102,
}

SIGNIN_EXEMPT = frozenset({"9001"})
