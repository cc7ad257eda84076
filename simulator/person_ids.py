"""Unique resident ID numbers for one chunk of persons, drawn for the whole chunk at once.

Uniqueness needs no global state (see :mod:`simulator.persons`): chunk ``c`` belongs to
birth-day class ``c mod P`` and sequence group ``c // P``. A person's birth day is moved back by
0..P-1 days so that ``(day + 7 * area) mod P`` is the chunk's class, and its sequence number is
``seq = 2 * (group + G * k) + male`` for ``k`` in ``0 .. width-1``; two chunks differ in class or
in group, so their ID numbers differ. Inside a chunk, every person first draws a place, day and
sequence number at once (NumPy); the few whose number an earlier person of the chunk already
holds, or that cannot have the wanted check character, draw again one at a time, in order,
against the set of numbers taken (:func:`assign_ids`).

A person with the ``certno_lowercase_x`` case wants a number whose MOD 11-2 check character is
``X`` (GB 11643-1999): given the place and day, that fixes the sequence number's partial sum
modulo 11, so the sequence number is drawn from the group's numbers with that remainder.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from simulator.ids import CHECK_CHARS, WEIGHTS
from simulator.person_tables import PersonTables
from simulator.textcols import Block, IntArray, gather, text_table

__all__ = ["CLASSES", "IdDraws", "IdSlot", "assign_ids", "certno_block"]

BoolArray = npt.NDArray[np.bool_]

#: P: birth-day classes (days a birth date may move back, at most P-1).
CLASSES = 128
_X = CHECK_CHARS.index("X")  # weighted sum mod 11 that gives the check character X
_SEQ_SUM = np.array(
    [sum(int(ch) * WEIGHTS[14 + i] for i, ch in enumerate(f"{s:03d}")) for s in range(1000)], dtype=np.int64
)
_SEQ_TEXT = text_table([f"{s:03d}" for s in range(1000)])
_CHECK_TEXT = text_table(list(CHECK_CHARS))
_ATTEMPTS = 200


@dataclass(frozen=True)
class IdSlot:
    """A chunk's share of the number space: birth-day class, sequence group, groups, width."""

    cls: int
    group: int
    groups: int
    width: int

    def seq(self, k: int, parity: int) -> int:
        return 2 * (self.group + self.groups * k) + parity


@dataclass(frozen=True)
class IdDraws:
    """The uniform draws (one per person) ID numbers are made from."""

    band: npt.NDArray[np.float64]
    day: npt.NDArray[np.float64]
    born_home: npt.NDArray[np.float64]
    area: npt.NDArray[np.float64]
    seq: npt.NDArray[np.float64]


def _x_lists(slot: IdSlot) -> tuple[IntArray, IntArray, tuple[tuple[int, ...], ...]]:
    """The slot's sequence numbers by (parity, partial sum mod 11), as a padded matrix (row
    ``11 * parity + remainder``), the row lengths, and the same as tuples."""
    return _x_lists_of(slot.group, slot.groups, slot.width)


@lru_cache(maxsize=64)
def _x_lists_of(group: int, groups: int, width: int) -> tuple[IntArray, IntArray, tuple[tuple[int, ...], ...]]:
    rows: list[tuple[int, ...]] = []
    sums = _SEQ_SUM.tolist()
    for parity in (0, 1):
        seqs = [2 * (group + groups * k) + parity for k in range(width)]
        for remainder in range(11):
            rows.append(tuple(s for s in seqs if s != 0 and sums[s] % 11 == remainder))
    width = max(1, max(len(r) for r in rows))
    matrix = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        matrix[i, : len(row)] = row
    return matrix, np.array([len(r) for r in rows], dtype=np.int64), tuple(rows)


def _later_duplicates(keys: IntArray) -> tuple[BoolArray, IntArray]:
    """Whether each key occurs at an earlier position too, and the keys sorted."""
    ordered = np.sort(keys)
    repeat = np.zeros(len(keys), dtype=np.bool_)
    same = ordered[1:] == ordered[:-1]
    if same.any():  # rare: find the later ones one by one
        rows = np.flatnonzero(np.isin(keys, ordered[1:][same], kind="sort"))
        seen: set[int] = set()
        for i, key in zip(rows.tolist(), keys[rows].tolist(), strict=True):
            repeat[i] = key in seen
            seen.add(key)
    return repeat, ordered


class _Redraw:
    """Draws one person's (area, day, seq) at a time, for the few the chunk-wide draw left.
    ``taken`` (sorted) holds the keys ``(area * n_days + day) * 1000 + seq`` already used."""

    def __init__(self, tables: PersonTables, slot: IdSlot, taken: IntArray, rng: random.Random) -> None:
        self.t, self.slot, self.taken, self.rng = tables, slot, taken, rng
        self.x_rows = _x_lists(slot)[2]
        self.band_cum = tables.band_cum.tolist()
        self.used: dict[int, set[int]] = {}  # base -> seqs used (from taken, and drawn here)

    def _used(self, base: int) -> set[int]:
        seqs = self.used.get(base)
        if seqs is None:
            lo, hi = np.searchsorted(self.taken, (base, base + 1000)).tolist()
            seqs = self.used[base] = set((self.taken[lo:hi] - base).tolist())
        return seqs

    def place_day(self, place: int) -> tuple[int, int]:
        t, rnd = self.t, self.rng.random
        band = bisect_right(self.band_cum, rnd() * self.band_cum[-1])
        day = int(t.band_lo[band]) + int(rnd() * int(t.band_span[band]))
        if rnd() < t.demo.born_home_share:
            start, count = int(t.place_area_start[place]), int(t.place_area_count[place])
            area = int(t.place_areas[start + int(rnd() * count)])
        else:
            area = int(rnd() * len(t.areas))
        day -= (day + 7 * area - self.slot.cls) % CLASSES
        if day < 0:
            day += CLASSES
        return area, day

    def identity(self, parity: int, want_x: bool, place: int, fixed: tuple[int, int] | None) -> tuple[int, int, int]:
        """A free (area, day, seq), at the ``fixed`` (area, day) of a twin or drawn afresh; with
        the check character X when ``want_x`` (a twin gives that up if its place and day leave
        no such number)."""
        t, slot, rnd = self.t, self.slot, self.rng.random
        for attempt in range(_ATTEMPTS):
            if fixed is None:
                area, day = self.place_day(place)
            else:
                area, day = fixed
                want_x = want_x and attempt == 0
            base = (area * t.n_days + day) * 1000
            used = self._used(base)
            if want_x:
                remainder = (_X - int(t.area_sum[area]) - int(t.day_sum[day])) % 11
                seqs = self.x_rows[11 * parity + remainder]
                start = int(rnd() * len(seqs)) if seqs else 0
                candidates = (seqs[(start + k) % len(seqs)] for k in range(len(seqs)))
            else:  # a fresh place and day are almost always free: a few numbers are enough
                start, width = int(rnd() * slot.width), slot.width
                tries = width if fixed is not None else min(width, 4)
                candidates = (slot.seq((start + k) % width, parity) for k in range(tries))
            for seq in candidates:
                if seq != 0 and seq not in used:
                    used.add(seq)
                    return area, day, seq
        raise RuntimeError("no free ID number in this chunk (population layout exhausted)")


def assign_ids(
    tables: PersonTables,
    slot: IdSlot,
    draws: IdDraws,
    male: BoolArray,
    place: IntArray,
    second: BoolArray,
    want_x: BoolArray,
    rng: random.Random,
) -> tuple[IntArray, IntArray, IntArray]:
    """(area, day, seq) of every person of a chunk, all different; a twin's second (``second``)
    shares the (area, day) of the person before it."""
    t = tables
    band = np.searchsorted(t.band_cum, draws.band * t.band_cum[-1], side="right")
    day = t.band_lo[band] + (draws.day * t.band_span[band]).astype(np.int64)
    home = draws.born_home < t.demo.born_home_share
    at = t.place_area_start[place] + (draws.area * t.place_area_count[place]).astype(np.int64)
    area = np.where(home, t.place_areas[at], (draws.area * len(t.areas)).astype(np.int64))
    day -= (day + 7 * area - slot.cls) % CLASSES
    day[day < 0] += CLASSES
    seconds = np.flatnonzero(second)
    area[seconds] = area[seconds - 1]
    day[seconds] = day[seconds - 1]

    parity = male.astype(np.int64)
    seq = 2 * (slot.group + slot.groups * (draws.seq * slot.width).astype(np.int64)) + parity
    impossible = seq == 0
    wants = np.flatnonzero(want_x)
    if len(wants):
        matrix, lengths, _ = _x_lists(slot)
        row = 11 * parity[wants] + (_X - t.area_sum[area[wants]] - t.day_sum[day[wants]]) % 11
        count = lengths[row]
        seq[wants] = matrix[row, (draws.seq[wants] * count).astype(np.int64)]
        impossible[wants] = count == 0

    # first come, first served: a number an earlier person holds is drawn again (see _Redraw),
    # and so is a twin's second whose first had to draw again
    key = (area * t.n_days + day) * 1000 + seq
    key[impossible] = -1 - np.flatnonzero(impossible)  # never equal to another key
    repeated, ordered = _later_duplicates(key)
    accepted = ~impossible & ~repeated
    accepted[seconds] &= accepted[seconds - 1]
    redraw = np.flatnonzero(~accepted)
    if len(redraw):  # (a key left in `ordered` by a person drawn again only blocks that key)
        again = _Redraw(t, slot, ordered, rng)
        for i in redraw.tolist():
            fixed = (int(area[i - 1]), int(day[i - 1])) if second[i] else None
            area[i], day[i], seq[i] = again.identity(int(parity[i]), bool(want_x[i]), int(place[i]), fixed)
    return area, day, seq


def certno_block(tables: PersonTables, area: IntArray, day: IntArray, seq: IntArray) -> tuple[Block, BoolArray]:
    """The 18-character ID numbers (``rows x 18``) and whether each check character is X."""
    check = (tables.area_sum[area] + tables.day_sum[day] + _SEQ_SUM[seq]) % 11
    block = np.hstack((
        gather(tables.areas, area), gather(tables.compact, day), gather(_SEQ_TEXT, seq), gather(_CHECK_TEXT, check)
    ))
    return block, check == _X
