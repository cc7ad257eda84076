"""2201's ``ipt_otp_no`` is unique within the hospital (院内唯一流水, fact sheet §3 2201): a
second registration with a number one of the institution's open visits holds is refused with
the visit to use instead, on SQLite and on PostgreSQL, and under two windows at once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from mock_insurer.client import InsurerClient, InsurerRefusal
from mock_insurer.gateway import Insurer
from mock_insurer.ledger import Ledger
from mock_insurer.ledger.statements import SELECTS
from mock_insurer.server import RunningServer
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import START, make_client
from tests.mock_insurer.gateway.driver import NOW

INDEX = "ix_visits_outpatient_no"


def registration(n: int, number: str) -> dict[str, Any]:
    person = dataset.PERSONS[n - 1]
    return {"data": {
        "psn_no": person["psn_no"], "insutype": person["insuinfo"][0]["insutype"],
        "begntime": NOW, "mdtrt_cert_type": "02", "mdtrt_cert_no": person["certno"],
        "ipt_otp_no": number, "atddr_no": "D001", "dr_name": "李医生", "dept_code": "A01",
        "dept_name": "内科", "caty": "A03"}}


def register(client: InsurerClient, n: int, number: str) -> str:
    return str(client.call("2201", registration(n, number)).output["data"]["mdtrt_id"])


def cancel(client: InsurerClient, n: int, mdtrt_id: str, number: str) -> None:
    client.call("2202", {"data": {"psn_no": dataset.PERSONS[n - 1]["psn_no"],
                                  "mdtrt_id": mdtrt_id, "ipt_otp_no": number}})


def visits(insurer: Insurer) -> int:
    with insurer.ledger.read() as tx:
        return tx.count("visits")


def signed_in(server: RunningServer, code: str, minutes: int) -> InsurerClient:
    """A client of ``code`` whose msgids start ``minutes`` after START (clients of one
    institution must not share msgids)."""
    client = make_client(server.url, code, start=START + timedelta(minutes=minutes))
    client.sign_in(opter_no="C01", mac="m", ip="i")
    return client


def test_a_number_in_use_is_refused_naming_the_open_visit(client: InsurerClient,
                                                         insurer: Insurer) -> None:
    first = register(client, 1, "MZ0001")
    with pytest.raises(InsurerRefusal) as caught:
        register(client, 1, "MZ0001")  # the HIS re-registered after a timeout, new msgid
    assert caught.value.err_msg == (
        f"FSI-门诊号MZ0001已用于就诊{first}，请使用该就诊或先撤销挂号(2202)[data.ipt_otp_no]")
    with insurer.ledger.read() as tx:
        assert tx.messages(limit=1000)[-1]["rejection_code"] == "ipt_otp_no_in_use"
    assert visits(insurer) == 1  # nothing written
    with pytest.raises(InsurerRefusal):  # another patient with that number: the same
        register(client, 2, "MZ0001")
    assert visits(insurer) == 1
    assert register(client, 1, "MZ0002") != first  # another number registers


def test_a_cancelled_visits_number_registers_again(client: InsurerClient,
                                                   insurer: Insurer) -> None:
    first = register(client, 1, "MZ0001")
    cancel(client, 1, first, "MZ0001")  # cancel and re-register with the right insutype
    second = register(client, 1, "MZ0001")
    assert second != first
    with pytest.raises(InsurerRefusal) as caught:
        register(client, 1, "MZ0001")
    assert f"已用于就诊{second}" in caught.value.err_msg


def test_another_institution_may_use_the_same_number(client: InsurerClient,
                                                     server: RunningServer,
                                                     insurer: Insurer) -> None:
    register(client, 1, "MZ0001")
    community = signed_in(server, dataset.COMMUNITY, 1)
    try:
        register(community, 1, "MZ0001")
    finally:
        community.close()
    assert visits(insurer) == 2


def test_a_replay_of_the_first_registration_answers_it_again(client: InsurerClient,
                                                              insurer: Insurer) -> None:
    first = client.call("2201", registration(1, "MZ0001"))
    envelope = client.last_request
    assert envelope is not None
    with pytest.raises(InsurerRefusal):
        register(client, 1, "MZ0001")
    again = client.send_raw(envelope)  # the same msgid and body: idempotent, not refused
    assert again.infcode == 0
    assert again.output == first.output
    assert visits(insurer) == 1


ROUNDS = 5


def test_two_windows_registering_one_number_at_once_open_one_visit(
        server: RunningServer, insurer: Insurer) -> None:
    clients = [signed_in(server, dataset.HOSPITAL, 10 * k) for k in (1, 2)]
    barrier = threading.Barrier(2)
    outcomes: list[tuple[int, str, str]] = []  # (round, "ok" | refusal code, mdtrt_id / err)
    errors: list[BaseException] = []

    def window(client: InsurerClient, n: int) -> None:
        try:
            for r in range(ROUNDS):
                barrier.wait(10)
                try:
                    outcomes.append((r, "ok", register(client, n, f"RACE{r}")))
                except InsurerRefusal as refused:
                    outcomes.append((r, "refused", refused.err_msg))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=window, args=(c, n)) for c, n in zip(clients, (1, 2), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for client in clients:
        client.close()
    assert not errors, errors
    for r in range(ROUNDS):
        got = sorted((kind, value) for n, kind, value in outcomes if n == r)
        assert [kind for kind, _ in got] == ["ok", "refused"], got
        assert f"门诊号RACE{r}已用于就诊{got[0][1]}" in got[1][1]
    assert visits(insurer) == ROUNDS


def _plan(ledger: Ledger) -> str:
    statement = ledger.statements["open_visits_by_number"]
    values = {"fixmedins_code": dataset.HOSPITAL, "ipt_otp_no": "MZ0001"}
    with ledger.engine.connect() as conn:
        if ledger.dialect == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.sql,
                                        tuple(statement.params(values))).all()
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + statement.sql,
                                        statement.params(values)).all()
    return " ".join(str(row[-1]) for row in rows)


def _visit(mdtrt_id: str, number: str) -> dict[str, Any]:
    person = dataset.PERSONS[0]
    return {"mdtrt_id": mdtrt_id, "psn_no": person["psn_no"],
            "fixmedins_code": dataset.HOSPITAL, "insutype": "310", "ipt_otp_no": number,
            "mdtrt_cert_type": "02", "mdtrt_cert_no": person["certno"], "begntime": NOW,
            "dept_code": "A01", "dept_name": "内科", "atddr_no": "D001", "dr_name": "李医生",
            "caty": "A03", "med_type": None, "dise_codg": None, "diagnoses": [],
            "status": "open", "created_msgid": f"M{mdtrt_id}", "biz_time": NOW}


def test_the_lookup_uses_its_index_and_an_older_ledger_gains_it_when_opened(
        backend_url: str) -> None:
    """A ledger made before the rule (no index, and two open visits sharing a number, as a
    load tester's ledger may hold) still opens, gains the index, and its 2201 look-up is
    planned on it (not a scan of the visits)."""
    assert "open_visits_by_number" in SELECTS
    first = Ledger(backend_url)
    first.create()
    try:
        assert INDEX in _plan(first)
        with first.write() as tx:
            tx.add_visit(_visit("300000000001", "MZ0001"))
            tx.add_visit(_visit("300000000002", "MZ0001"))  # allowed before the rule
        with first.engine.begin() as conn:  # as a ledger made before the index was
            conn.execute(text(f"DROP INDEX {INDEX}"))
        assert INDEX not in _plan(first)
    finally:
        first.dispose()
    again = Ledger(backend_url)
    try:
        again.create()
        assert INDEX in _plan(again)
        with again.write() as tx:
            assert tx.lock_outpatient_number(dataset.HOSPITAL, "MZ0001") == "300000000001"
            assert tx.lock_outpatient_number(dataset.HOSPITAL, "MZ0002") is None
            assert tx.lock_outpatient_number(dataset.COMMUNITY, "MZ0001") is None
            tx.update_visit("300000000001", status="cancelled")
            assert tx.lock_outpatient_number(dataset.HOSPITAL, "MZ0001") == "300000000002"
        again.create()  # and opening it once more changes nothing
    finally:
        again.dispose()
