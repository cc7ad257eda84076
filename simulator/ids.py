"""Resident identity numbers (公民身份号码) after GB 11643-1999.

An 18-character number is: the 6-digit administrative division code of the place of first
registration (GB/T 2260), the birth date ``YYYYMMDD``, a 3-digit sequence whose parity gives the
gender (odd = male, even = female), and a check character computed with ISO 7064 MOD 11-2 over
the first 17 digits (weights ``2**(17-i) mod 11``; the value 10 is written ``X``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = [
    "CHECK_CHARS",
    "WEIGHTS",
    "CertnoParts",
    "check_char",
    "make_certno",
    "parse_certno",
    "weighted_sum",
]

#: Weight of each of the first 17 digits (2**(17-i) mod 11).
WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))

#: Check character by (weighted sum mod 11).
CHECK_CHARS = "10X98765432"


def weighted_sum(digits: str, offset: int = 0) -> int:
    """Sum of ``digits`` times the weights of positions ``offset..`` (part of a check sum)."""
    return sum(int(ch) * WEIGHTS[offset + i] for i, ch in enumerate(digits))


def check_char(first17: str) -> str:
    """The MOD 11-2 check character ("0".."9" or "X") of the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 ASCII digits, got {first17!r}")
    return CHECK_CHARS[weighted_sum(first17) % 11]


def make_certno(area: str, birth: dt.date, seq: int) -> str:
    """An 18-character ID number; ``seq`` 1..999 (odd for men, even for women)."""
    if not 0 < seq < 1000:
        raise ValueError(f"sequence must be 1..999, got {seq}")
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


@dataclass(frozen=True)
class CertnoParts:
    """What an ID number says: division code, birth date, sequence, gend ("1" male, "2" female)."""

    area: str
    birth: dt.date
    seq: int
    gend: str


def parse_certno(certno: str) -> CertnoParts:
    """Split and check an 18-character ID number (upper-case ``X`` only).

    Raises ValueError when the shape, the date or the check character is wrong; whether the
    division code is known is for :mod:`simulator.divisions` to say.
    """
    if len(certno) != 18 or not certno.isascii() or not certno[:17].isdigit():
        raise ValueError(f"not an 18-character ID number: {certno!r}")
    if certno[17] != check_char(certno[:17]):
        raise ValueError(f"wrong check character in {certno!r}")
    birth = dt.date(int(certno[6:10]), int(certno[10:12]), int(certno[12:14]))
    seq = int(certno[14:17])
    return CertnoParts(certno[:6], birth, seq, "1" if seq % 2 else "2")
