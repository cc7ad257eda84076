"""Two windows settling the same person at the same moment are serialized: the deductible is
never counted twice, the account never goes below zero, and every counter equals the sum of the
settlements (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from mock_insurer.gateway import Insurer
from mock_insurer.server import RunningServer
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import make_client
from tests.mock_insurer.gateway.driver import Window

D = Decimal
VISITS_PER_WINDOW = 6


def test_two_windows_one_person(server: RunningServer, insurer: Insurer) -> None:
    person = dataset.PERSONS[0]
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def window_work(code: str) -> None:
        try:
            client = make_client(server.url, code=code)
            client.sign_in(opter_no="C01", mac="m", ip="i")
            window = Window(client)
            prepared = []
            for _ in range(VISITS_PER_WINDOW):
                mdtrt_id = window.register(1)
                window.diagnose(1, mdtrt_id)
                window.upload([window.row(1, mdtrt_id, "002203000010000", "1"),
                               window.row(1, mdtrt_id, "001102000010000", "1")])
                prepared.append(mdtrt_id)
            barrier.wait()
            for mdtrt_id in prepared:
                results.append(window.settle(1, mdtrt_id, D("3030.00")).output["setlinfo"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=window_work, args=(code,))
               for code in (dataset.HOSPITAL, dataset.COMMUNITY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(results) == 2 * VISITS_PER_WINDOW
    psn_no = person["psn_no"]
    with insurer.ledger.read() as tx:
        balance = tx.balance(psn_no)
        ytd = tx.ytd(psn_no, 2026, "310")
    assert sum(r["act_pay_dedc"] for r in results) == D("1800.00") == ytd["dedc_used"]
    assert sum(r["hifp_pay"] for r in results) == ytd["hifp_paid"]
    assert balance == D(person["balc"]) - sum(r["acct_pay"] for r in results)
    assert balance >= 0
    # the balance each answer reports is a real point in one serial order
    assert sorted(r["balc"] for r in results)[0] == balance
