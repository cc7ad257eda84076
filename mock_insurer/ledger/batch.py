"""Writing from the event loop: many messages' work in one transaction (group commit).

A message's work is a function ``work(tx) -> result`` that does everything the message does to
the ledger. :meth:`Writer.run` awaits its result, which is returned only once the transaction
that holds the work has committed: an answer built from it is never sent before its writes are
durable.

- SQLite (:class:`GroupCommit`): works arriving while a commit is on its way wait for it (and
  a drain gives the loop ``GATHER_ROUNDS`` turns before it takes a batch, so that requests
  already read join it), then run one after another on the event loop in one
  ``BEGIN IMMEDIATE`` transaction, each inside its own savepoint (an exception rolls back that
  work only and goes to its caller), and commit together. The commit — the sync of the
  write-ahead log with ``durability=full`` — runs in a worker thread while the loop goes on
  reading requests; ``synchronous=FULL`` costs one sync per batch instead of one per message.
  SQLite has a single writer anyway, so nothing is lost by running the works one by one, and
  each work sees the writes of those before it exactly as if they had committed one by one in
  that order.
- PostgreSQL (:class:`ThreadWriter`): each work in a transaction of its own in a worker thread
  (several at once; the database serializes writers on one person by row locks).

See docs/adr/0009-insurer-throughput.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from sqlalchemy import Connection

from mock_insurer.ledger.store import Ledger, LedgerTx

__all__ = ["GATHER_ROUNDS", "MAX_BATCH", "GroupCommit", "ThreadWriter", "Writer", "writer_for"]

T = TypeVar("T")
Work = Callable[[LedgerTx], T]
MAX_BATCH = 64  # messages per transaction at most (bounds the wait of the last one)
# Turns of the event loop a drain gives before it takes a batch: requests whose bytes have
# arrived are parsed and queued meanwhile, so batches are larger (fewer commits per message)
# at the cost of a few loop turns (microseconds) of latency.
GATHER_ROUNDS = 2


class Writer(Protocol):
    async def run(self, work: Callable[[LedgerTx], T]) -> T: ...


class ThreadWriter:
    """One transaction per work, in a worker thread."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def _one(self, work: Callable[[LedgerTx], T]) -> T:
        with self.ledger.write() as tx:
            return work(tx)

    async def run(self, work: Callable[[LedgerTx], T]) -> T:
        return await anyio.to_thread.run_sync(self._one, work)


class GroupCommit:
    """Batches of works in one SQLite transaction each, committed off the event loop.

    Use from one event loop (``writer_for`` keeps one per loop). Writes made elsewhere through
    ``Ledger.write()`` (the admin API, in worker threads) take the same lock, so they run
    between batches."""

    def __init__(self, ledger: Ledger, *, max_batch: int = MAX_BATCH) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self._pending: list[tuple[Callable[[LedgerTx], Any], asyncio.Future[Any]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None  # the drain running now (kept alive)
        self._thread: ThreadPoolExecutor | None = None  # waits on locks and syncs
        self.batches = 0  # statistics: transactions committed, works in them
        self.works = 0

    async def run(self, work: Callable[[LedgerTx], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((work, future))
        if not self._draining:
            self._draining = True
            self._task = loop.create_task(self._drain())
        return await future

    async def _in_thread(self, call: Callable[[], object]) -> None:
        """Run ``call`` in the writer's thread. If the loop is being stopped meanwhile, wait
        for it all the same (a commit or a lock must not be left half-done), then let the
        cancellation go on."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="ledger-writer")
        done = self._thread.submit(call)
        try:
            await asyncio.wrap_future(done)
        except asyncio.CancelledError:
            done.result()
            raise

    async def _drain(self) -> None:
        conn: Connection | None = None
        try:
            while self._pending:
                for _ in range(GATHER_ROUNDS):  # let requests already read join the batch
                    if len(self._pending) >= self.max_batch:
                        break
                    await asyncio.sleep(0)
                batch = self._pending[:self.max_batch]
                del self._pending[:self.max_batch]
                try:
                    if conn is None:  # one connection for the whole drain: a warm cache
                        conn = self.ledger.engine.connect()
                except Exception as exc:  # the database cannot be opened: tell the callers
                    _deliver(batch, [(False, exc)] * len(batch))
                    continue
                if not await self._run_batch(conn, batch):
                    conn.invalidate()
                    conn = None
        finally:
            self._draining = False
            if conn is not None:
                conn.close()

    async def _run_batch(self, conn: Connection,
                         batch: list[tuple[Callable[[LedgerTx], Any], asyncio.Future[Any]]]
                         ) -> bool:
        """Run and commit one batch; False when the transaction failed (nothing committed,
        every caller gets the exception)."""
        lock = self.ledger.write_lock
        assert lock is not None
        if not lock.acquire(blocking=False):  # another thread writes (the admin API)
            try:
                await self._in_thread(lock.acquire)
            except asyncio.CancelledError:
                lock.release()
                raise
        outcomes: list[tuple[bool, Any]] = []
        committed = False
        stopping: asyncio.CancelledError | None = None
        try:
            transaction = conn.begin()
            try:
                tx = self.ledger.tx(conn)
                for work, _future in batch:
                    try:
                        with tx.savepoint():
                            outcomes.append((True, work(tx)))
                    except Exception as exc:  # the work's own failure: its caller's
                        outcomes.append((False, exc))
                if self.ledger.durability == "full":  # the sync: off the loop
                    try:
                        await self._in_thread(transaction.commit)
                    except asyncio.CancelledError as cancelled:  # committed all the same
                        stopping = cancelled
                else:  # a write to the OS cache: cheaper than a thread hop
                    transaction.commit()
                committed = True
            finally:
                if not committed:
                    transaction.rollback()
        except Exception as exc:  # the transaction failed: nothing of the batch committed
            outcomes = [(False, exc)] * len(batch)
        finally:
            lock.release()
        if committed:
            self.ledger.committed()
        self.batches += 1
        self.works += len(batch)
        _deliver(batch, outcomes)
        if stopping is not None:
            raise stopping
        return committed


def _deliver(batch: list[tuple[Callable[[LedgerTx], Any], asyncio.Future[Any]]],
             outcomes: list[tuple[bool, Any]]) -> None:
    for (_work, future), (ok, value) in zip(batch, outcomes, strict=True):
        if future.done():  # the caller went away; a work that committed stays committed
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def writer_for(ledger: Ledger) -> Writer:
    """The writer that suits the ledger's database."""
    if ledger.dialect == "sqlite":
        return GroupCommit(ledger)
    return ThreadWriter(ledger)
