"""Option types shared by several commands."""

from __future__ import annotations

import click

__all__ = ["MAX_SEED", "SEED"]

#: Seeds are 0..2**63 - 1 in every command (the generators hash them, numpy and SimPy take
#: them as 64-bit integers); one line naming --seed otherwise.
MAX_SEED = 2**63 - 1
SEED = click.IntRange(0, MAX_SEED)
