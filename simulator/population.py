"""A whole population: streamed chunk by chunk, in order, from one process or several.

Memory stays flat in the number of persons: a few chunks per worker (a few MB each) are in
flight at a time (being generated, waiting to be appended, being appended), and appended chunks
are dropped. The output is byte-identical for
any number of workers, because each chunk is seeded from (seed, chunk index) alone and chunks
are written in order.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

import orjson

from simulator.appending import OrderedAppender, Turn
from simulator.edge_cases import DEFAULT_EDGE_RATES
from simulator.errors import InvalidArgumentError
from simulator.output import atomic_output, check_format, csv_header, csv_rows
from simulator.person_tables import person_tables
from simulator.persons import (
    DEFAULT_ADMDVS,
    DEFAULT_REF_DATE,
    PERSON_FIELDS,
    Layout,
    PopulationSpec,
    render_chunk,
)

__all__ = [
    "PopulationSpec",
    "default_workers",
    "iter_person_chunks",
    "iter_persons",
    "write_population",
]

#: Called after each chunk with the number of persons written so far.
ProgressCallback = Callable[[int], None]


def default_workers() -> int:
    """The number of CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _check_workers(workers: int | None) -> int:
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidArgumentError(f"workers must be a whole number >= 1, got {workers!r}")
    return workers


def _chunk_pieces(spec: PopulationSpec, layout: Layout, chunk: int, fmt: str) -> list[memoryview]:
    """The encoded chunk, in pieces to write in order."""
    pieces = render_chunk(spec, layout, chunk)
    if fmt == "csv":
        lines = b"".join(pieces).splitlines()
        return [memoryview(csv_rows((orjson.loads(line) for line in lines), PERSON_FIELDS))]
    return pieces


def _chunk_bytes(spec: PopulationSpec, layout: Layout, chunk: int, fmt: str) -> bytes:
    return b"".join(_chunk_pieces(spec, layout, chunk, fmt))


def iter_person_chunks(
    spec: PopulationSpec, *, fmt: str = "jsonl", workers: int | None = None
) -> Generator[tuple[int, bytes], None, None]:
    """Yield ``(persons in chunk, encoded chunk)`` in order; ``workers`` processes (default: the
    cores available; 1 = in this process)."""
    check_format(fmt)
    layout = Layout.for_count(spec.count)
    workers = min(_check_workers(workers), layout.n_chunks)
    if workers == 1:
        for chunk in range(layout.n_chunks):
            yield layout.bounds(chunk)[1], _chunk_bytes(spec, layout, chunk, fmt)
        return
    person_tables(spec.seed, spec.ref_date, spec.admdvs)  # built once here: forked workers inherit
    with multiprocessing.get_context().Pool(workers) as pool:
        pending: deque[tuple[int, AsyncResult[bytes]]] = deque()
        next_chunk = 0
        window = 2 * workers + 2
        while next_chunk < layout.n_chunks or pending:
            while next_chunk < layout.n_chunks and len(pending) < window:
                result = pool.apply_async(_chunk_bytes, (spec, layout, next_chunk, fmt))
                pending.append((layout.bounds(next_chunk)[1], result))
                next_chunk += 1
            size, result = pending.popleft()
            yield size, result.get()


# -- writing with several processes ---------------------------------------------------------
#
# Workers append their chunks to the output file themselves, in chunk order (see
# simulator.appending), so each chunk's bytes are copied once (into the file) instead of through
# a pipe to the parent, and a worker generates its next chunk while its last one is written.
# The state below is set in each worker process by the pool's initializer.

_worker_state: dict[str, OrderedAppender] = {}


def _init_appender(turn: Turn, path: str) -> None:
    _worker_state["appender"] = OrderedAppender(os.open(path, os.O_WRONLY | os.O_APPEND), turn)


def _append_chunk(spec: PopulationSpec, layout: Layout, chunk: int, fmt: str) -> int:
    _worker_state["appender"].submit(chunk, _chunk_pieces(spec, layout, chunk, fmt))
    return layout.bounds(chunk)[1]


def _append_in_workers(
    spec: PopulationSpec, layout: Layout, fmt: str, workers: int, path: str, on_progress: ProgressCallback | None
) -> int:
    person_tables(spec.seed, spec.ref_date, spec.admdvs)  # built once here: forked workers inherit
    context = multiprocessing.get_context()
    turn = Turn(context)
    done = 0
    with context.Pool(workers, initializer=_init_appender, initargs=(turn, path)) as pool:
        pending: deque[AsyncResult[int]] = deque()
        next_chunk = 0
        while next_chunk < layout.n_chunks or pending:
            while next_chunk < layout.n_chunks and len(pending) < 2 * workers + 2:
                pending.append(pool.apply_async(_append_chunk, (spec, layout, next_chunk, fmt)))
                next_chunk += 1
            done += pending.popleft().get()  # generated; appended in order by the workers
            turn.raise_failure()
            if on_progress is not None:
                on_progress(done)
        turn.wait_for(layout.n_chunks)  # every chunk appended before the pool stops
    return done


def write_population(
    path: str | Path,
    count: int,
    seed: int = 1,
    *,
    ref_date: dt.date = DEFAULT_REF_DATE,
    admdvs: str = DEFAULT_ADMDVS,
    edge_rates: Mapping[str, float] | None = None,
    fmt: str = "jsonl",
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> int:
    """Generate ``count`` persons into ``path`` (JSONL or CSV) atomically; return the count.

    ``edge_rates`` overrides the default rate of any edge-case label (0..1); ``workers`` is the
    number of processes (default: the cores available). Bad arguments raise
    :class:`~simulator.errors.InvalidArgumentError` before anything is written; if writing
    fails, no file (and no temporary file) is left behind.
    """
    spec = PopulationSpec(
        count=count, seed=seed, ref_date=ref_date, admdvs=admdvs,
        edge_rates=dict(edge_rates if edge_rates is not None else DEFAULT_EDGE_RATES),
    )
    check_format(fmt)
    layout = Layout.for_count(spec.count)
    workers = min(_check_workers(workers), layout.n_chunks)
    with atomic_output(path) as out:
        if fmt == "csv":
            out.write(csv_header(PERSON_FIELDS))
        if workers > 1:
            out.flush()
            return _append_in_workers(spec, layout, fmt, workers, out.name, on_progress)
        done = 0
        out.flush()
        appender = OrderedAppender(out.fileno())  # writes chunk c while c + 1 is generated
        try:
            for chunk in range(layout.n_chunks):
                appender.submit(chunk, _chunk_pieces(spec, layout, chunk, fmt))
                done += layout.bounds(chunk)[1]
                if on_progress is not None:
                    on_progress(done)
        finally:
            appender.close()
        return done


def iter_persons(
    count: int,
    seed: int = 1,
    *,
    ref_date: dt.date = DEFAULT_REF_DATE,
    admdvs: str = DEFAULT_ADMDVS,
    edge_rates: Mapping[str, float] | None = None,
) -> Iterator[dict[str, Any]]:
    """The same persons :func:`write_population` writes, as dicts, generated in this process."""
    spec = PopulationSpec(
        count=count, seed=seed, ref_date=ref_date, admdvs=admdvs,
        edge_rates=dict(edge_rates if edge_rates is not None else DEFAULT_EDGE_RATES),
    )
    layout = Layout.for_count(spec.count)
    for chunk in range(layout.n_chunks):
        for line in b"".join(render_chunk(spec, layout, chunk)).splitlines():
            yield orjson.loads(line)
