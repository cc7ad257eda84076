"""Administrative division codes (行政区划代码, GB/T 2260): which are known, what level they are,
which counties lie under a province or prefecture, and their names where we have them.

The list is frozen in ``data/divisions.txt`` (from Faker's zh_CN ID provider, plus a few current
codes); it includes historical codes on purpose, since ID numbers keep the code of the place and
time of first registration.
"""

from __future__ import annotations

from functools import cache

from simulator.data import read_lines, read_tsv
from simulator.errors import InvalidArgumentError

__all__ = [
    "MUNICIPALITIES",
    "counties_under",
    "county_codes",
    "is_known",
    "known_codes",
    "name_of",
    "pooling_areas",
    "province_codes",
    "province_of",
    "validate_admdvs",
]


@cache
def known_codes() -> frozenset[str]:
    """Every known 6-digit division code (provinces, prefectures, counties)."""
    return frozenset(read_lines("divisions.txt"))


@cache
def county_codes() -> tuple[str, ...]:
    """County-level codes (not ending in ``00``), sorted: the places of birth in ID numbers."""
    return tuple(sorted(code for code in known_codes() if not code.endswith("00")))


@cache
def province_codes() -> tuple[str, ...]:
    """Province-level codes (``xx0000``), sorted."""
    return tuple(sorted(code for code in known_codes() if code.endswith("0000")))


def is_known(code: str) -> bool:
    """Whether ``code`` is a known division code."""
    return code in known_codes()


#: Provinces whose medical insurance pools at the province level (the municipalities).
MUNICIPALITIES = ("11", "12", "31", "50")


@cache
def pooling_areas(province: str) -> tuple[str, ...]:
    """The insured places (统筹区) of a province: its prefectures (``xxyy00``), or the
    municipality itself (``110000``), sorted."""
    if province[:2] in MUNICIPALITIES:
        return (province[:2] + "0000",)
    return tuple(sorted({c[:4] + "00" for c in counties_under(province[:2] + "0000")}))


def province_of(code: str) -> str:
    """The province-level code of any division code (``110105`` -> ``110000``)."""
    return code[:2] + "0000"


@cache
def counties_under(code: str) -> tuple[str, ...]:
    """The county-level codes inside ``code`` (itself when it is a county), sorted."""
    if not code.endswith("00"):
        return (code,)
    prefix = code[:2] if code.endswith("0000") else code[:4]
    return tuple(c for c in county_codes() if c.startswith(prefix))


@cache
def _names() -> dict[str, str]:
    return {row[0]: row[1] for row in read_tsv("division_names.tsv")}


def name_of(code: str) -> str | None:
    """The name of a division we have a name for (provinces, Beijing and Shanghai districts)."""
    return _names().get(code)


def validate_admdvs(code: str, what: str = "--admdvs") -> str:
    """Return ``code`` if it is a known division code with at least one county under it.

    Raises :class:`InvalidArgumentError` naming ``what`` otherwise.
    """
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise InvalidArgumentError(f"{what}: {code!r} is not a 6-digit division code")
    if not is_known(code):
        raise InvalidArgumentError(
            f"{what}: unknown division code {code} (see simulator/data/divisions.txt)"
        )
    if not counties_under(code):
        raise InvalidArgumentError(f"{what}: no county-level division under {code}")
    return code
