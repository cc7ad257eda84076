"""Writing from the event loop: on SQLite many messages' work shares one transaction (group
commit) and each caller gets its own result only once it is committed; a failing work takes
only its own writes with it; on PostgreSQL each work has a transaction of its own."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mock_insurer.ledger import Ledger, LedgerTx
from mock_insurer.ledger.batch import GroupCommit, ThreadWriter, writer_for
from tests.mock_insurer.ledger.conftest import message
from tests.support.postgres import TempPostgres


def recorded(ledger: Ledger) -> list[str]:
    """The msgids a fresh reader sees (committed only)."""
    with ledger.read() as tx:
        return [str(m["msgid"]) for m in tx.messages(limit=1000)]


def record(msgid: str) -> Callable[[LedgerTx], str]:
    """A work that records one message and answers its msgid."""
    def work(tx: LedgerTx) -> str:
        tx.add_message(message(msgid))
        return msgid
    return work


@pytest.mark.parametrize("durability", ["full", "normal"])
def test_many_works_share_few_commits(tmp_path: Path, durability: str) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path}/ledger.db", durability=durability)
    ledger.create()
    writer = writer_for(ledger)
    assert isinstance(writer, GroupCommit)
    committed_before_answer = []

    async def one(n: int) -> str:
        result = await writer.run(record(f"M{n:03d}"))
        committed_before_answer.append(result in recorded(ledger))
        return result

    async def main() -> list[str]:
        return await asyncio.gather(*(one(n) for n in range(40)))

    results = asyncio.run(main())
    assert results == [f"M{n:03d}" for n in range(40)]
    assert all(committed_before_answer)
    assert sorted(recorded(ledger)) == results
    assert writer.works == 40 and writer.batches < 40  # the first alone, the rest together
    ledger.dispose()


def test_a_failing_work_loses_only_its_own_writes(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path}/ledger.db")
    ledger.create()
    writer = writer_for(ledger)

    def broken(tx: LedgerTx) -> str:
        tx.add_message(message("BROKEN"))
        raise RuntimeError("a bug in a handler")

    async def main() -> list[object]:
        return await asyncio.gather(writer.run(record("A")), writer.run(broken),
                                    writer.run(record("B")), return_exceptions=True)

    first, failure, last = asyncio.run(main())
    assert (first, last) == ("A", "B")
    assert isinstance(failure, RuntimeError)
    assert sorted(recorded(ledger)) == ["A", "B"]
    ledger.dispose()


def test_the_loop_goes_on_while_another_thread_writes(tmp_path: Path) -> None:
    """The admin API writes through ``Ledger.write()`` in worker threads: a batch waits for
    that write to finish without blocking the event loop."""
    ledger = Ledger(f"sqlite:///{tmp_path}/ledger.db")
    ledger.create()
    writer = writer_for(ledger)
    holding = threading.Event()

    def admin_write() -> None:
        with ledger.write() as tx:
            tx.add_message(message("ADMIN"))
            holding.set()
            time.sleep(0.3)

    async def main() -> tuple[str, int]:
        thread = threading.Thread(target=admin_write)
        thread.start()
        await asyncio.to_thread(holding.wait)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        result = await writer.run(record("AFTER"))
        ticker.cancel()
        thread.join()
        return result, ticks

    result, ticks = asyncio.run(main())
    assert result == "AFTER"
    assert ticks >= 10  # the loop kept running while the batch waited for the lock
    assert recorded(ledger) == ["ADMIN", "AFTER"]
    ledger.dispose()


@pytest.mark.postgres
def test_postgresql_runs_each_work_in_its_own_transaction(postgres: TempPostgres) -> None:
    ledger = Ledger(str(postgres.new_database()))
    ledger.create()
    writer = writer_for(ledger)
    assert isinstance(writer, ThreadWriter)

    async def main() -> list[str]:
        return await asyncio.gather(*(writer.run(record(f"P{n}")) for n in range(10)))

    assert asyncio.run(main()) == [f"P{n}" for n in range(10)]
    assert sorted(recorded(ledger)) == [f"P{n}" for n in range(10)]
    ledger.dispose()
