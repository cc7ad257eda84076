"""The ledger's statements run on the driver connection: money stays exact in cents, flags come
back as booleans, a NUL character in a text never fails a message, and savepoints roll back
exactly what was written inside them (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mock_insurer.ledger import DuplicateMessage, Ledger, SignIn
from tests.mock_insurer.ledger.conftest import PSN_NO, message

D = Decimal


def test_money_moves_exactly(ledger: Ledger) -> None:
    with ledger.write() as tx:
        assert tx.lock_person(PSN_NO) == D("100.00")
        after = tx.move_account(PSN_NO, D("-12.34"), "S1", "2026-03-02 08:00:00")
        tx.move_cum(PSN_NO, 2026, "310", {"dedc_used": D("10.05"), "hifp_paid": D("0")}, "S1")
        tx.move_cum(PSN_NO, 2026, "310", {"dedc_used": D("10.05")}, "S2")
    assert str(after) == "87.66"
    with ledger.read() as tx:
        assert str(tx.balance(PSN_NO)) == "87.66"
        assert {k: str(v) for k, v in tx.ytd(PSN_NO, 2026, "310").items()} == {
            "dedc_used": "20.10"}
        entries = tx.conn.exec_driver_sql("SELECT COUNT(*) FROM cum_entries").scalar()
    assert entries == 2  # a zero delta moves nothing and leaves no entry


def test_flags_are_booleans(ledger: Ledger) -> None:
    with ledger.write() as tx:
        tx.add_signin(SignIn("S" * 30, "H11010500003", "C01", "2026-03-02", True),
                      "2026-03-02 08:00:00")
    with ledger.read() as tx:
        person = tx.person(PSN_NO)
        sign = tx.signin("S" * 30)
    assert person is not None and person.deceased is False and person.blacklisted is True
    assert sign is not None and sign.valid is True


def test_a_nul_character_finds_nothing_and_is_recorded(ledger: Ledger) -> None:
    with ledger.write() as tx:
        assert tx.persons_by_certno("1101\x00") == []
        assert tx.visit("30\x00") is None
        tx.add_message(message("M1", keyed=False, err_msg="FSI-坏\x00值"))
    with ledger.read() as tx:
        recorded = tx.messages()[0]["err_msg"]
    # PostgreSQL text cannot hold NUL: it stores U+FFFD in its place
    assert recorded == ("FSI-坏\x00值" if ledger.dialect == "sqlite" else "FSI-坏\ufffd值")


def test_savepoint_rolls_back_only_what_was_inside(ledger: Ledger) -> None:
    with ledger.write() as tx:
        tx.add_message(message("M1"))
        with pytest.raises(ZeroDivisionError), tx.savepoint():
            tx.add_message(message("M2"))
            tx.move_account(PSN_NO, D("-1.00"), "S1", "2026-03-02 08:00:00")
            _ = 1 / 0
        tx.add_message(message("M3"))
    with ledger.read() as tx:
        assert [m["msgid"] for m in tx.messages()] == ["M1", "M3"]
        assert tx.balance(PSN_NO) == D("100.00")


def test_nested_savepoints_roll_back_only_their_own_writes(ledger: Ledger) -> None:
    # a message opens a savepoint (the batch's) and at once another (the gateway's); on
    # SQLite the inner one stands in for the outer while nothing was written in between
    with ledger.write() as tx:
        with tx.savepoint():
            with pytest.raises(ZeroDivisionError), tx.savepoint():  # nothing written before
                tx.add_message(message("M1"))
                _ = 1 / 0
            with tx.savepoint():  # again right after the rollback: still nothing written
                tx.add_message(message("M2"))
            with pytest.raises(ZeroDivisionError), tx.savepoint():  # after M2: M2 stays
                tx.add_message(message("M3"))
                _ = 1 / 0
            tx.add_message(message("M4"))
        with pytest.raises(ZeroDivisionError), tx.savepoint():
            with tx.savepoint():
                tx.add_message(message("M5"))
            _ = 1 / 0  # the outer fails after the inner succeeded: both roll back
        with tx.savepoint(), pytest.raises(DuplicateMessage), tx.savepoint():
            tx.move_account(PSN_NO, D("-1.00"), "S1", "2026-03-02 08:00:00")
            tx.add_message(message("M2"))  # the duplicate rolls the money back too
    with ledger.read() as tx:
        assert [m["msgid"] for m in tx.messages()] == ["M2", "M4"]
        assert tx.balance(PSN_NO) == D("100.00")


def test_a_keyed_msgid_twice_is_a_duplicate_and_the_transaction_goes_on(
        ledger: Ledger) -> None:
    with ledger.write() as tx:
        tx.add_message(message("M1"))
        with pytest.raises(DuplicateMessage), tx.savepoint():
            tx.add_message(message("M1"))
        tx.add_message(message("M1", keyed=False))  # a replay's record is not keyed
        found = tx.keyed_message("H11010500003", "M1")
    assert found is not None and found["keyed"] is True and found["request"] == b"{}"
    with ledger.read() as tx:
        assert len(tx.messages()) == 2


def test_sequences_count_from_one(ledger: Ledger) -> None:
    with ledger.write() as tx:
        assert [tx.next_seq("setl_id") for _ in range(3)] == [1, 2, 3]
        assert tx.next_seq("mdtrt_id") == 1
    with ledger.write() as tx:
        assert tx.next_seq("setl_id") == 4
