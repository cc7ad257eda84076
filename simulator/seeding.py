"""Seeds: how every generator turns one user seed into many independent, reproducible random
streams.

A stream is named by the user's seed and a path of parts (``("persons", 17)`` = chunk 17 of the
population). The derived seed is a BLAKE2b hash of that name, so it is the same on every machine
and Python version, and two streams never share state.

Two kinds of stream use the derived seed: :func:`rng_for` gives a :class:`random.Random` (for
code that draws a few values at a time), :func:`draws_for` gives :class:`Draws`, which hands out
whole arrays of uniform numbers at once (the person generator draws every value of a chunk this
way). :class:`Draws` uses NumPy's PCG64 bit generator, whose stream NumPy keeps fixed across
versions, and ``Generator.random``, which turns each 64-bit word into ``(word >> 11) * 2**-53``
(the construction of Python's ``random.random``); a test checks that construction against the
raw words, so a NumPy that changed it would be noticed. Random integers of ``k`` bits are the top
``k`` bits of such a number (``floor(u * 2**k)``, exact).
"""

from __future__ import annotations

import hashlib
import random

import numpy as np
import numpy.typing as npt

__all__ = ["Draws", "derive_seed", "draws_for", "rng_for", "top_bits"]


def derive_seed(seed: int, *parts: object) -> int:
    """A 64-bit seed for the stream named ``seed/part/part/...``."""
    name = "/".join([str(seed), *(str(part) for part in parts)])
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big")


def rng_for(seed: int, *parts: object) -> random.Random:
    """A :class:`random.Random` for the stream named ``seed/parts...``."""
    return random.Random(derive_seed(seed, *parts))


class Draws:
    """Arrays of random numbers from one PCG64 stream, consumed in the order they are asked for."""

    def __init__(self, seed64: int) -> None:
        self._generator = np.random.Generator(np.random.PCG64(seed64))

    def uniform(self, rows: int, count: int) -> npt.NDArray[np.float64]:
        """A ``rows x count`` array of uniform numbers in [0, 1) with 53 random bits each."""
        return self._generator.random((rows, count))


def top_bits(uniform: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.int64]:
    """The top ``k`` bits (0 < k <= 53) of uniform numbers from :class:`Draws`, as integers in
    0 .. 2**k - 1 (exact: the numbers are multiples of 2**-53)."""
    if not 0 < k <= 53:
        raise ValueError(f"bits per value must be 1..53, got {k}")
    return (uniform * float(1 << k)).astype(np.int64)


def draws_for(seed: int, *parts: object) -> Draws:
    """:class:`Draws` for the stream named ``seed/parts...``."""
    return Draws(derive_seed(seed, *parts))
