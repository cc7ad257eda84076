"""Seeds: how every generator turns one user seed into many independent, reproducible random
streams.

A stream is named by the user's seed and a path of parts (``("persons", 17)`` = chunk 17 of the
population). The derived seed is a BLAKE2b hash of that name, so it is the same on every machine
and Python version, and two streams never share state.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["derive_seed", "rng_for"]


def derive_seed(seed: int, *parts: object) -> int:
    """A 64-bit seed for the stream named ``seed/part/part/...``."""
    name = "/".join([str(seed), *(str(part) for part in parts)])
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big")


def rng_for(seed: int, *parts: object) -> random.Random:
    """A :class:`random.Random` for the stream named ``seed/parts...``."""
    return random.Random(derive_seed(seed, *parts))
