"""Running replications, in worker processes when there are several.

Replication ``r`` of seed ``s`` uses the random streams named ``(s, "windows", r, name)``
(``name`` from :data:`~simulator.windows.model.STREAMS`), so the
results are the same whatever the number of worker processes and whichever finishes first;
they are returned in replication order. Each worker reduces its replication to a
:class:`~simulator.windows.reduce.DaySummary`, so only the summary crosses between processes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait

from simulator.errors import InvalidArgumentError
from simulator.windows.model import simulate_day
from simulator.windows.reduce import DaySummary, reduce_day
from simulator.windows.scenario import Scenario

__all__ = ["default_workers", "run_replications", "worker_pool"]


def _one(scenario: Scenario, seed: int, replication: int) -> DaySummary:
    return reduce_day(simulate_day(scenario, seed, replication), scenario)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_replications(
    scenario: Scenario,
    seed: int,
    replications: int,
    workers: int | None = None,
    on_progress: Callable[[float], None] | None = None,
    pool: Executor | None = None,
) -> list[DaySummary]:
    """Run ``replications`` independent replications (days, or long runs) of ``scenario``.

    ``workers``: processes to use (default: the cores available, at most one per
    replication; 1 = in this process). ``on_progress`` is called with the fraction done.
    ``pool``: an executor to reuse (from :func:`worker_pool`; a planner runs many batches).
    """
    if replications < 1:
        raise InvalidArgumentError(f"replications must be >= 1, got {replications}")
    if workers is not None and workers < 1:
        raise InvalidArgumentError(f"workers must be >= 1, got {workers}")
    count = min(workers or default_workers(), replications)
    if pool is not None and replications > 1:
        return _in_pool(pool, scenario, seed, replications, on_progress)
    if count == 1:
        results = []
        for r in range(replications):
            if on_progress is not None and replications == 1:
                results.append(reduce_day(simulate_day(scenario, seed, r, on_progress), scenario))
            else:
                results.append(_one(scenario, seed, r))
            if on_progress is not None:
                on_progress((r + 1) / replications)
        return results
    with worker_pool(count) as own:
        return _in_pool(own, scenario, seed, replications, on_progress)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool for replications (forked workers where the platform has fork)."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _in_pool(
    pool: Executor, scenario: Scenario, seed: int, replications: int, on_progress: Callable[[float], None] | None
) -> list[DaySummary]:
    done: dict[int, DaySummary] = {}
    pending: dict[Future[DaySummary], int] = {pool.submit(_one, scenario, seed, r): r for r in range(replications)}
    while pending:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            done[pending.pop(future)] = future.result()
        if on_progress is not None:
            on_progress(len(done) / replications)
    return [done[r] for r in range(replications)]
