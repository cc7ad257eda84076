"""The names of one chunk of persons, drawn for the whole chunk at once (see
:mod:`simulator.names` for the kinds and the properties every name holds).

An ordinary name is a surname and a given name from the per-seed pools. The edge-case kinds are
assembled from text tables the same way: ``compound_surname`` (a compound surname and a given
name), ``name_middle_dot`` (given name, "·", father's name; naty 05) and ``name_outside_gbk``
(the ordinary name's surname, maybe its given name's first character, one CJK Extension B
character, maybe the given name's last character). The rest is drawn one at a time with the
chunk's ``random.Random`` through :class:`simulator.names.NamePools`: ``name_long`` (Tibetan or
Mongolian names built part by part) and an ordinary name that happens to begin with a compound
surname (drawn again, so that only ``compound_surname`` names begin with one).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulator.edge_cases import NAME_KINDS
from simulator.names import MIDDLE_DOT
from simulator.person_tables import POOL_BITS, PersonTables
from simulator.textcols import Block, IntArray, gather, text_table

__all__ = ["NAME_DRAWS", "ChunkNames", "chunk_names"]

FloatArray = npt.NDArray[np.float64]

#: The uniform draws (one per person each) names are made from.
NAME_DRAWS = ("name_kind", "surname", "naty", "name_a", "name_b")
_OUTSIDE_GBK, _MIDDLE_DOT, _LONG, _COMPOUND = range(4)  # the order of NAME_KINDS
_DOT = np.frombuffer(MIDDLE_DOT.encode(), dtype=np.uint8)


@dataclass(frozen=True)
class ChunkNames:
    """Names (``rows x w``, UTF-8, NUL-padded), naty indexes and the name-kind label bits."""

    text: Block
    naty: IntArray
    bits: IntArray


def _pick(u: FloatArray, count: int | IntArray) -> IntArray:
    return (u * count).astype(np.int64)


def chunk_names(
    t: PersonTables, rates: Mapping[str, float], u: Mapping[str, FloatArray], given: IntArray,
    male: npt.NDArray[np.bool_], second: npt.NDArray[np.bool_], rng: random.Random,
) -> ChunkNames:
    """Every person's name and naty; a twin's second (``second``) has those of its first.
    ``given`` is a pool index (POOL_BITS bits) per person."""
    n = len(male)
    kind_cum = np.cumsum([rates[k] for k in NAME_KINDS])
    surname = t.surname_of[_pick(u["surname"], len(t.surname_of))]
    given_row = (male.astype(np.int64) << POOL_BITS) | given
    surname_text, given_text = gather(t.surnames, surname), gather(t.given, given_row)
    naty = np.searchsorted(t.naty_cum, u["naty"] * t.naty_cum[-1], side="right")
    bits = np.zeros(n, dtype=np.int64)
    kind = np.where(second, -1, np.searchsorted(kind_cum, u["name_kind"], side="right"))
    kind[kind == len(NAME_KINDS)] = -1  # an ordinary name
    clash = t.surname_is_compound[surname]
    maybe = np.flatnonzero(t.surname_begins_compound[surname])
    pair = t.surname_pair_key[surname[maybe]] | t.given_first[given_row[maybe]]
    at = np.minimum(np.searchsorted(t.compound_keys, pair), len(t.compound_keys) - 1)
    clash[maybe] = t.compound_keys[at] == pair
    clash &= ~second

    parts: list[tuple[IntArray, Block]] = []  # (rows, names) of each way of making them
    rows = np.flatnonzero(kind == _COMPOUND)
    parts.append((rows, np.hstack((gather(t.compound, _pick(u["name_a"][rows], len(t.compound))), given_text[rows]))))
    rows = np.flatnonzero(kind == _MIDDLE_DOT)
    sex = male[rows].astype(np.int64)
    first = t.dot_given_start[sex] + _pick(u["name_a"][rows], t.dot_given_count[sex])
    family = _pick(u["name_b"][rows], len(t.dot_family))
    dot = np.broadcast_to(_DOT, (len(rows), len(_DOT)))
    parts.append((rows, np.hstack((gather(t.dot_given, first), dot, gather(t.dot_family, family)))))
    naty[rows] = t.naty_index["05"]
    outside = (kind == _OUTSIDE_GBK) & ~clash & t.surname_single[surname]
    rows = np.flatnonzero(outside)
    shape = _pick(u["name_b"][rows], 3)  # surname + rare, + given[0] + rare, + rare + given[-1]
    empty = np.zeros((len(rows), t.given_first_text.shape[1]), dtype=np.uint8)
    parts.append((rows, np.hstack((
        surname_text[rows],
        np.where((shape == 1)[:, None], gather(t.given_first_text, given_row[rows]), empty),
        gather(t.ext_b, _pick(u["name_a"][rows], len(t.ext_b))),
        np.where((shape == 2)[:, None], gather(t.given_last_text, given_row[rows]), empty),
    ))))
    named = kind >= 0
    bits[named] = 1 << kind[named]

    slow = np.flatnonzero(((kind == _OUTSIDE_GBK) & ~outside) | (kind == _LONG) | ((kind < 0) & clash))
    pools, texts = t.pools, []
    for i, k, is_male in zip(slow.tolist(), kind[slow].tolist(), male[slow].tolist(), strict=True):
        if k == _OUTSIDE_GBK:
            texts.append(pools.outside_gbk(rng, is_male))
        elif k == _LONG:
            name, code = pools.long(rng, is_male)
            texts.append(name)
            naty[i] = t.naty_index[code]
        else:  # an ordinary name that began with a compound surname: draw again
            texts.append(pools.ordinary(rng, is_male))
    parts.append((slow, text_table(texts)))

    width = max(surname_text.shape[1] + given_text.shape[1], *(block.shape[1] for _, block in parts))
    text = np.zeros((n, width), dtype=np.uint8)
    text[:, : surname_text.shape[1]] = surname_text
    text[:, surname_text.shape[1]: surname_text.shape[1] + given_text.shape[1]] = given_text
    for rows, block in parts:
        text[rows] = 0
        text[rows, : block.shape[1]] = block
    seconds = np.flatnonzero(second)
    text[seconds] = text[seconds - 1]
    naty[seconds] = naty[seconds - 1]
    bits[seconds] = bits[seconds - 1]
    return ChunkNames(text, naty, bits)
