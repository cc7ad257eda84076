"""Chinese personal names and employer names, drawn from pools built once per seed.

Ordinary names are a surname (weighted as in Faker's zh_CN provider) and a given name (one of
Faker's given names, or two of its one-character given names). The edge-case kinds build on
cardsettle's lists in ``data/names_extra.yaml``:

- ``compound_surname``: a compound surname (欧阳, 司马, ...) and a given name; 3-4 characters.
- ``name_outside_gbk``: an ordinary name with one CJK Extension B character (not in GBK).
- ``name_middle_dot``: a Uyghur-style name, given name + "·" (U+00B7) + father's name; naty 05.
- ``name_long``: a Tibetan (naty 04) or Mongolian (naty 02) name of six or more characters.

Properties every generated name holds (tests check them): an ordinary name has 2-3 characters,
is GBK-encodable and does not start with a compound surname; only ``name_middle_dot`` names
contain "·"; only ``name_long`` names without a dot have six characters or more.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from simulator.data import load_yaml
from simulator.seeding import rng_for

__all__ = ["MIDDLE_DOT", "NamePools", "is_json_safe", "name_pools"]

MIDDLE_DOT = "\u00b7"

# Sizes of the per-seed pools (powers of two: indexes are drawn with getrandbits).
_GIVEN_POOL_BITS = 12
_EMPLOYER_POOL_BITS = 12
_SURNAME_TABLE = 10_000


def is_json_safe(text: str) -> bool:
    """Whether ``text`` can stand inside a JSON string without escaping."""
    return not any(ch in '"\\' or ord(ch) < 0x20 for ch in text)


@dataclass(frozen=True)
class NamePools:
    """Name material for one seed. Tables are tuples indexed by random numbers."""

    surnames: tuple[str, ...]  # weighted table: each surname repeated by its weight
    given: tuple[tuple[str, ...], tuple[str, ...]]  # [female, male], 2**_GIVEN_POOL_BITS each
    compound: tuple[str, ...]
    ext_b: tuple[str, ...]
    dot_given: tuple[tuple[str, ...], tuple[str, ...]]  # [female, male]
    dot_family: tuple[str, ...]
    tibetan: tuple[tuple[str, ...], tuple[str, ...]]  # [female, male]
    mongolian: tuple[tuple[str, ...], tuple[str, ...]]  # [female, male]
    employers: tuple[str, ...]  # 2**_EMPLOYER_POOL_BITS employer names
    employers_json: tuple[bytes, ...] = ()  # the same, as JSON strings in UTF-8 (quoted)
    compound_set: frozenset[str] = frozenset()

    given_bits: int = _GIVEN_POOL_BITS
    employer_bits: int = _EMPLOYER_POOL_BITS

    # -- one name of each kind; ``male`` selects the gendered material ----------------------

    def ordinary(self, rng: random.Random, male: bool) -> str:
        """Surname + given name, 2-3 characters, never starting with a compound surname."""
        surnames, given = self.surnames, self.given[male]
        compound = self.compound_set
        while True:
            name = surnames[int(rng.random() * len(surnames))] + given[rng.getrandbits(self.given_bits)]
            if name[:2] not in compound:
                return name

    def compound_surname(self, rng: random.Random, male: bool) -> str:
        """Compound surname + given name (3-4 characters)."""
        return rng.choice(self.compound) + self.given[male][rng.getrandbits(self.given_bits)]

    def outside_gbk(self, rng: random.Random, male: bool) -> str:
        """An ordinary name with one CJK Extension B character in the given name (2-3 chars)."""
        base = self.ordinary(rng, male)
        rare = rng.choice(self.ext_b)
        shape = rng.randrange(3)
        if shape == 0:
            return base[0] + rare
        if shape == 1:
            return base[:2] + rare
        return base[0] + rare + base[-1]

    def middle_dot(self, rng: random.Random, male: bool) -> str:
        """Given name + "·" + father's name (Uyghur-style transliteration)."""
        return rng.choice(self.dot_given[male]) + MIDDLE_DOT + rng.choice(self.dot_family)

    def long(self, rng: random.Random, male: bool) -> tuple[str, str]:
        """A name of six or more characters and its naty ("04" Tibetan, "02" Mongolian)."""
        if rng.random() < 0.5:
            return "".join(rng.sample(self.tibetan[male], 3)), "04"
        parts = self.mongolian[male]
        name = ""
        while len(name) < 6:
            part = rng.choice(parts)
            if part not in name:
                name += part
        return name, "02"

    def employer(self, rng: random.Random) -> str:
        return self.employers[rng.getrandbits(self.employer_bits)]


def _weighted_table(pairs: list[tuple[str, float]], size: int) -> tuple[str, ...]:
    """Each item repeated in proportion to its weight (largest remainders), ``size`` entries."""
    total = sum(w for _, w in pairs)
    exact = [(name, w / total * size) for name, w in pairs]
    counts = {name: int(share) for name, share in exact}
    short = size - sum(counts.values())
    for name, _ in sorted(exact, key=lambda p: (-(p[1] - int(p[1])), p[0]))[:short]:
        counts[name] += 1
    return tuple(name for name, _ in exact for _ in range(counts[name]))


def _given_pool(rng: random.Random, names: list[str], size: int) -> tuple[str, ...]:
    singles = [n for n in names if len(n) == 1]
    pool = []
    for _ in range(size):
        if rng.random() < 0.55:
            pool.append(rng.choice(names))
        else:
            first, second = rng.sample(singles, 2)
            pool.append(first + second)
    return tuple(pool)


@lru_cache(maxsize=8)
def name_pools(seed: int) -> NamePools:
    """The name pools of ``seed`` (cached per process)."""
    faker_data = load_yaml("names_faker.yaml")
    extra = load_yaml("names_extra.yaml")
    compound = tuple(extra["compound_surnames"])
    surname_pairs = [(str(n), float(w)) for n, w in faker_data["surnames"] if n not in compound]
    rng = rng_for(seed, "names")
    size = 1 << _GIVEN_POOL_BITS
    given = (
        _given_pool(rng, faker_data["given_female"], size),
        _given_pool(rng, faker_data["given_male"], size),
    )
    employers = tuple(
        rng.choice(faker_data["company_prefixes"]) + rng.choice(faker_data["company_suffixes"])
        for _ in range(1 << _EMPLOYER_POOL_BITS)
    )
    ext_b = tuple(chr(int(cp.removeprefix("U+"), 16)) for cp in extra["ext_b_codepoints"])
    pools = NamePools(
        surnames=_weighted_table(surname_pairs, _SURNAME_TABLE),
        given=given,
        compound=compound,
        ext_b=ext_b,
        dot_given=(tuple(extra["dot_given_female"]), tuple(extra["dot_given_male"])),
        dot_family=tuple(extra["dot_family"]),
        tibetan=(tuple(extra["tibetan_parts_female"]), tuple(extra["tibetan_parts_male"])),
        mongolian=(tuple(extra["mongolian_parts_female"]), tuple(extra["mongolian_parts_male"])),
        employers=employers,
        employers_json=tuple(f'"{e}"'.encode() for e in employers),
        compound_set=frozenset(compound),
    )
    _check(pools)
    return pools


def _check(pools: NamePools) -> None:
    """Refuse material that would break the JSON templates or the label invariants."""
    texts = [
        *set(pools.surnames), *pools.given[0], *pools.given[1],
        *pools.compound, *pools.dot_family, *pools.employers,
        *pools.dot_given[0], *pools.dot_given[1], *pools.tibetan[0], *pools.tibetan[1],
        *pools.mongolian[0], *pools.mongolian[1],
    ]
    bad = [t for t in texts if not t or not is_json_safe(t) or MIDDLE_DOT in t]
    if bad:
        raise ValueError(f"name material not usable as-is: {bad[:5]}")
    if any(ord(ch) < 0x20000 for ch in pools.ext_b):
        raise ValueError("ext_b_codepoints must all be CJK Extension B or later")
