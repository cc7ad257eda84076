"""Synthetic insured persons, generated one chunk at a time as JSON lines.

A population of ``count`` persons is cut into chunks (:class:`Layout`); chunk ``c`` draws from
its own ``random.Random`` seeded from (seed, c), so the output does not depend on how many
workers generate it. Records are rendered straight into JSON text by templates (the field order
is the record contract of docs/generator.md); every string that enters a template is either
generated from digits/letters or comes from pools checked to need no JSON escaping, and a test
checks that each line equals ``orjson.dumps(orjson.loads(line))``.

ID numbers are unique by construction (no global set): chunk ``c`` belongs to birth-day class
``c mod P`` and sequence group ``c // P``. A person's birth day is moved back by 0..P-1 days so
that ``(day + 7 * area) mod P`` is the chunk's class, and its sequence number ``k`` (seq = 2k +
male) is ``group + G * m``; two chunks differ in class or in group, so their ID numbers differ,
and inside a chunk a set of used (area, day, seq) keeps them apart.

Other identifiers are unique because they are bijections of the person's index (card ``key`` =
2 x index, + 1 for an old card): ``psn_no`` and ``card_no`` are affine maps modulo their number
space (multiplier coprime with it), the last 32 bits of ``card_sn`` and of ``ec_token`` an affine
map modulo 2**32 with an odd multiplier.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from simulator import divisions
from simulator.demography import MAX_AGE, Demography, ExtraRow, Profile, demography
from simulator.edge_cases import (
    DEFAULT_EDGE_RATES,
    EDGE_CASE_LABELS,
    FULLWIDTH_DIGITS,
    NAME_KINDS,
    SPACE_PATTERNS,
    resolve_edge_rates,
)
from simulator.errors import InvalidArgumentError
from simulator.ids import CHECK_CHARS as _CHECK_CHARS
from simulator.ids import WEIGHTS
from simulator.names import NamePools, name_pools
from simulator.seeding import derive_seed, rng_for

__all__ = [
    "DEFAULT_ADMDVS",
    "DEFAULT_REF_DATE",
    "MAX_COUNT",
    "PERSON_FIELDS",
    "Layout",
    "PopulationSpec",
    "generate_chunk",
]

#: The fixed reference date of ages, insured dates and year-to-date accumulators.
DEFAULT_REF_DATE = dt.date(2026, 1, 1)
#: The default insured place (Beijing).
DEFAULT_ADMDVS = "110000"
#: Largest population one run generates.
MAX_COUNT = 100_000_000

#: Top-level fields of a person record, in order.
PERSON_FIELDS: tuple[str, ...] = (
    "psn_no", "psn_cert_type", "certno", "psn_name", "gend", "brdy", "naty", "insuplc_admdvs",
    "insuinfo", "balc", "cum", "maf_eligible", "deceased", "blacklisted", "cards", "ec_token",
    "typed", "edge_cases",
)

_CHUNK = 4096  # persons per chunk (more when the population needs it, see Layout)
_CLASSES = 128  # P: birth-day classes (days a birth date may move back, at most P-1)
_MAX_GROUPS = 31  # G at most: keeps 16+ sequence numbers per group and gender
_SEQ_SUMS = tuple(sum(int(ch) * WEIGHTS[14 + i] for i, ch in enumerate(f"{s:03d}")) for s in range(1000))
_SEQ_TEXT = tuple(f"{s:03d}" for s in range(1000))
_CARD_SPACE = 26 * 10**8  # card numbers: a letter and 8 digits
_CARD_A = 1_234_567_897  # coprime with _CARD_SPACE: key -> number is a bijection
_MASK32 = 0xFFFFFFFF
_SERIAL_A = 0x9E3779B1  # odd: key -> (key * A + b) mod 2**32 is a bijection (unique serials)
_PSN_SPACE = 10**14
_PSN_A = 9_227_465_013_479  # coprime with _PSN_SPACE
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"
_LABEL_INDEX = {label: i for i, label in enumerate(EDGE_CASE_LABELS)}


@lru_cache(maxsize=8)
def _token_pool(seed: int) -> tuple[str, ...]:
    """4096 random 12-character starts of e-certificate tokens (the rest is unique per person)."""
    rng = rng_for(seed, "ec_token")
    return tuple("".join(rng.choices(_ALNUM, k=12)) for _ in range(4096))


@dataclass(frozen=True)
class PopulationSpec:
    """What to generate: ``count`` persons from ``seed``, ages etc. at ``ref_date``, insured in
    ``admdvs``, with ``edge_rates`` (label -> probability; missing labels take the defaults)."""

    count: int
    seed: int = 1
    ref_date: dt.date = DEFAULT_REF_DATE
    admdvs: str = DEFAULT_ADMDVS
    edge_rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_EDGE_RATES))

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count <= 0:
            raise InvalidArgumentError(f"count must be a positive whole number, got {self.count!r}")
        if self.count > MAX_COUNT:
            raise InvalidArgumentError(f"count must be at most {MAX_COUNT:,}, got {self.count:,}")
        if not dt.date(1900, 1, 1) <= self.ref_date <= dt.date(2999, 12, 31):
            raise InvalidArgumentError(f"reference date {self.ref_date} is outside 1900..2999")
        divisions.validate_admdvs(self.admdvs)
        object.__setattr__(self, "edge_rates", resolve_edge_rates(self.edge_rates))


@dataclass(frozen=True)
class Layout:
    """How ``count`` persons are cut into chunks, and each chunk's (class, group)."""

    count: int
    chunk_size: int
    n_chunks: int
    groups: int

    @classmethod
    def for_count(cls, count: int, chunk_size: int = _CHUNK) -> Layout:
        """The layout of ``count`` persons: chunks of ``chunk_size`` persons (more when the
        population has more than ``P * 31`` chunks' worth, so that each sequence group keeps 16
        numbers or more). The chunk size is part of what the output depends on."""
        size = max(chunk_size, math.ceil(count / (_CLASSES * _MAX_GROUPS)))
        n_chunks = math.ceil(count / size)
        return cls(count, size, n_chunks, max(1, math.ceil(n_chunks / _CLASSES)))

    def bounds(self, chunk: int) -> tuple[int, int]:
        """(index of the chunk's first person, number of persons in it)."""
        start = chunk * self.chunk_size
        return start, min(self.chunk_size, self.count - start)


class _ChunkWriter:
    """Draws and renders the persons of one chunk."""

    def __init__(self, spec: PopulationSpec, layout: Layout, chunk: int) -> None:
        self.spec = spec
        self.demo: Demography = demography(spec.seed, spec.ref_date, spec.admdvs)
        self.pools: NamePools = name_pools(spec.seed)
        self.rng = rng_for(spec.seed, "persons", chunk)
        self.cls = chunk % _CLASSES
        self.group = chunk // _CLASSES
        self.groups = layout.groups
        self.width = (500 - self.group + layout.groups - 1) // layout.groups
        self.used: set[int] = set()
        rates = spec.edge_rates
        self.name_cum = [sum(rates[k] for k in NAME_KINDS[: i + 1]) for i in range(len(NAME_KINDS))]
        self.rate = {label: rates[label] for label in EDGE_CASE_LABELS}
        twin = rates["twin"]
        self.twin_start = twin / (2.0 - twin)  # pairs started so that a share `twin` is in one
        seed = spec.seed
        self.card_b = derive_seed(seed, "card_no") % _CARD_SPACE
        self.sn_b = derive_seed(seed, "card_sn") & _MASK32
        self.token_b = derive_seed(seed, "ec_token") & _MASK32
        self.token_pool = _token_pool(seed)
        self.psn_b = derive_seed(seed, "psn_no") % _PSN_SPACE
        self.labels_json: dict[int, str] = {}

    # -- identity -------------------------------------------------------------------------

    def _draw_place_day(self, male: bool, home: str) -> tuple[int, int]:
        demo, rnd = self.demo, self.rng.random
        band = bisect_right(demo.band_cum, rnd() * demo.band_cum[-1])
        day = demo.band_lo[band] + int(rnd() * demo.band_span[band])
        if rnd() < demo.born_home_share:
            choices = demo.province_areas[home]
            area = choices[int(rnd() * len(choices))]
        else:
            area = int(rnd() * len(demo.areas))
        day -= (day + 7 * area - self.cls) % _CLASSES
        if day < 0:
            day += _CLASSES
        return area, day

    def _identity(self, male: bool, want_x: bool, home: str, fixed: tuple[int, int] | None) -> tuple[int, int, int]:
        """A unique (area, day, seq), drawn afresh or at the ``fixed`` (area, day) of a twin;
        seq's check character is X when ``want_x`` (a twin gives that up if its place and day
        leave no such number)."""
        rnd, used, demo = self.rng.random, self.used, self.demo
        groups, group, width, parity = self.groups, self.group, self.width, 1 if male else 0
        for attempt in range(200):
            if fixed is None:
                area, day = self._draw_place_day(male, home)
            else:
                area, day = fixed
                want_x = want_x and attempt == 0
            base = (area * demo.n_days + day) * 1000
            start = int(rnd() * width)
            for t in range(width if want_x else min(width, 4)):
                seq = 2 * (group + groups * ((start + t) % width)) + parity
                if seq == 0 or base + seq in used:
                    continue
                if want_x and demo.check_char(area, day, _SEQ_SUMS[seq]) != "X":
                    continue
                used.add(base + seq)
                return area, day, seq
        raise RuntimeError("no free ID number in this chunk (population layout exhausted)")

    # -- rendering helpers ----------------------------------------------------------------

    def _labels(self, mask: int) -> str:
        """The ``edge_cases`` JSON array of a bit mask of label indexes (cached)."""
        text = self.labels_json.get(mask)
        if text is None:
            names = [f'"{label}"' for i, label in enumerate(EDGE_CASE_LABELS) if mask >> i & 1]
            text = self.labels_json[mask] = "[" + ",".join(names) + "]"
        return text

    def _card_no(self, key: int) -> str:
        """Card number of card ``key`` (2 x person index, + 1 for an old card): unique."""
        value = (key * _CARD_A + self.card_b) % _CARD_SPACE
        return f"{_LETTERS[value // 100_000_000]}{value % 100_000_000:08d}"

    def _card_sn(self, place: str, key: int) -> str:
        """Card serial of card ``key``: 32 random bits, then a 32-bit bijection of the key."""
        unique = (key * _SERIAL_A + self.sn_b) & _MASK32
        return f"{place}D156000005{self.rng.getrandbits(32) << 32 | unique:016X}"

    def _special_name(self, male: bool, u: float) -> tuple[str, int, str]:
        """A name of one of the edge-case kinds for a draw ``u`` below the kinds' total rate:
        (name, label bit, naty)."""
        rng, pools, cum = self.rng, self.pools, self.name_cum
        if u < cum[0]:
            return pools.outside_gbk(rng, male), 1 << _LABEL_INDEX["name_outside_gbk"], self._naty()
        if u < cum[1]:
            return pools.middle_dot(rng, male), 1 << _LABEL_INDEX["name_middle_dot"], "05"
        if u < cum[2]:
            name, naty = pools.long(rng, male)
            return name, 1 << _LABEL_INDEX["name_long"], naty
        return pools.compound_surname(rng, male), 1 << _LABEL_INDEX["compound_surname"], self._naty()

    def _naty(self) -> str:
        demo = self.demo
        return demo.naty_codes[bisect_right(demo.naty_cum, self.rng.random() * demo.naty_cum[-1])]

    def _former_row(self, profile: Profile, extra: ExtraRow, insured: int, born: int) -> bytes:
        """A terminated former scheme (JSON, with a leading comma), ended on the day the main
        scheme began; empty if it could not have begun before that."""
        iso = self.demo.day_iso
        lo = max(self.demo.insured_from.get(extra.insutype, 0), born)
        if lo >= insured:
            return b""
        since = lo + int(self.rng.random() * (insured - lo))
        return (
            f',{{"insutype":"{extra.insutype}","psn_type":"{extra.psn_type or profile.psn_type}",'
            f'"psn_insu_stas":"4","psn_insu_date":"{iso[since]}","paus_insu_date":"{iso[insured]}",'
            f'"cvlserv_flag":"{profile.cvlserv_flag}","emp_name":null}}'.encode()
        )

    # -- one chunk ------------------------------------------------------------------------

    def lines(self, start: int, count: int) -> list[bytes]:
        """Render persons ``start .. start+count-1``. The loop is written flat, with its tables
        in local variables, because it runs once per person (docs/adr/0003)."""
        out: list[bytes] = []
        rng = self.rng
        rnd, bits = rng.random, rng.getrandbits
        demo, pools, rate, spec = self.demo, self.pools, self.rate, self.spec
        iso, compact, day_sum, day_age = demo.day_iso, demo.day_compact, demo.day_sum, demo.day_age
        areas, area_sum, province_areas = demo.areas, demo.area_sum, demo.province_areas
        n_days, n_areas, last_day = demo.n_days, len(demo.areas), demo.n_days - 1
        band_cum, band_lo, band_span = demo.band_cum, demo.band_lo, demo.band_span
        band_total = band_cum[-1]
        naty_cum, naty_codes, naty_total = demo.naty_cum, demo.naty_codes, demo.naty_cum[-1]
        status_cum, status_codes, status_total = demo.status_cum, demo.status_codes, demo.status_cum[-1]
        profile_tables = [demo.profile_tables[(age, male)] for age in range(MAX_AGE + 1) for male in (False, True)]
        insured_from, plus_min_age = demo.insured_from, demo.day_plus_min_age
        balances, ytd_bands, pool_bits = demo.balances, demo.ytd_bands, demo.pool_bits
        surnames, n_surnames, given, given_bits = pools.surnames, len(pools.surnames), pools.given, pools.given_bits
        compound, employers, employer_bits = pools.compound_set, pools.employers_json, pools.employer_bits
        others, n_others = demo.other_provinces, len(demo.other_provinces)
        male_share, born_home, elsewhere = demo.male_share, demo.born_home_share, demo.elsewhere_share
        maf_share, deceased_share, blacklisted_share = demo.maf_share, demo.deceased_share, demo.blacklisted_share
        ytd_active, lost_share = demo.ytd_active, demo.old_card_lost_share
        name_total = self.name_cum[-1]
        rate_x, rate_full, rate_spaces, rate_card = (
            rate["certno_lowercase_x"], rate["fullwidth_digits"], rate["typed_spaces"], rate["replaced_card"]
        )
        twin_start, used, cls, group, groups, width = self.twin_start, self.used, self.cls, self.group, self.groups, self.width
        card_a, card_b, sn_b, token_b, token_pool = _CARD_A, self.card_b, self.sn_b, self.token_b, self.token_pool
        psn_b, year, home_insuplc = self.psn_b, spec.ref_date.year, spec.admdvs
        home_province = home_insuplc[:2] + "0000"
        bit_x, bit_twin = 1 << _LABEL_INDEX["certno_lowercase_x"], 1 << _LABEL_INDEX["twin"]
        bit_full, bit_spaces = 1 << _LABEL_INDEX["fullwidth_digits"], 1 << _LABEL_INDEX["typed_spaces"]
        bit_card = 1 << _LABEL_INDEX["replaced_card"]
        labels_json = self.labels_json
        twin_next: tuple[str, int, str, bool, tuple[int, int]] | None = None

        for index in range(start, start + count):
            # -- insured place, gender, name ---------------------------------------------
            if rnd() < elsewhere:
                insuplc = others[int(rnd() * n_others)]
                home = insuplc[:2] + "0000"
            else:
                insuplc, home = home_insuplc, home_province
            fixed = None
            if twin_next is not None:  # the second of a pair: name, gender, place and day shared
                name, name_bits, naty, male, fixed = twin_next
                flags = name_bits | bit_twin
                twin_next = None
            else:
                male = rnd() < male_share
                u = rnd()
                if u >= name_total:
                    pool = given[male]
                    name = surnames[int(rnd() * n_surnames)] + pool[bits(given_bits)]
                    while name[:2] in compound:
                        name = surnames[int(rnd() * n_surnames)] + pool[bits(given_bits)]
                    naty = naty_codes[bisect_right(naty_cum, rnd() * naty_total)]
                    name_bits = 0
                else:
                    name, name_bits, naty = self._special_name(male, u)
                flags = name_bits
            # -- ID number ---------------------------------------------------------------
            want_x = rnd() < rate_x
            parity = 1 if male else 0
            if fixed is None and not want_x:
                band = bisect_right(band_cum, rnd() * band_total)
                day = band_lo[band] + int(rnd() * band_span[band])
                if rnd() < born_home:
                    choices = province_areas[home]
                    area = choices[int(rnd() * len(choices))]
                else:
                    area = int(rnd() * n_areas)
                day -= (day + 7 * area - cls) % _CLASSES
                if day < 0:
                    day += _CLASSES
                seq = 2 * (group + groups * int(rnd() * width)) + parity
                key = (area * n_days + day) * 1000 + seq
                if seq == 0 or key in used:
                    area, day, seq = self._identity(male, False, home, None)
                else:
                    used.add(key)
            else:
                area, day, seq = self._identity(male, want_x, home, fixed)
            check = _CHECK_CHARS[(area_sum[area] + day_sum[day] + _SEQ_SUMS[seq]) % 11]
            certno = areas[area] + compact[day] + _SEQ_TEXT[seq] + check
            if want_x:
                if check == "X":
                    flags |= bit_x
                else:
                    want_x = False
            if fixed is None and index + 1 < start + count and rnd() < twin_start:
                twin_next = (name, name_bits, naty, male, (area, day))
                flags |= bit_twin
            # -- insurance ---------------------------------------------------------------
            age = day_age[day]
            cum, profiles = profile_tables[2 * (age if age <= MAX_AGE else MAX_AGE) + parity]
            profile = profiles[bisect_right(cum, rnd() * cum[-1])]
            insutype = profile.insutype
            lo = insured_from.get(insutype, 0)
            if lo < day:
                lo = day
            if insutype == "310" and lo < plus_min_age[day]:
                lo = plus_min_age[day]
            if lo > last_day:
                lo = last_day
            insured = lo + int(rnd() * (last_day - lo + 1))
            status = status_codes[bisect_right(status_cum, rnd() * status_total)]
            if status == "1":
                paus = "null"
            else:
                paus = f'"{iso[insured + int(rnd() * (last_day - insured + 1))]}"'
            emp = employers[bits(employer_bits)] if profile.employer else b"null"
            # every row but a terminated former scheme shares all fields after insutype
            row_tail = (
                f'","psn_type":"{profile.psn_type}","psn_insu_stas":"{status}",'
                f'"psn_insu_date":"{iso[insured]}","paus_insu_date":{paus},'
                f'"cvlserv_flag":"{profile.cvlserv_flag}","emp_name":'.encode() + emp + b"}"
            )
            insuinfo = profile.row_head + row_tail
            for extra in profile.extras:
                if rnd() < extra.share:
                    if extra.terminated:
                        insuinfo += self._former_row(profile, extra, insured, day)
                    else:
                        insuinfo += extra.row_head + row_tail
            balc = balances[profile.account][bits(pool_bits)]
            if rnd() < ytd_active:
                ytd_cum, band_pools = ytd_bands[profile.ytd_kind]
                dedc, hifp = band_pools[bisect_right(ytd_cum, rnd() * ytd_cum[-1])][bits(pool_bits)]
            else:
                dedc = hifp = "0.00"
            maf = "true" if rnd() < maf_share else "false"
            deceased = "true" if rnd() < deceased_share else "false"
            blacklisted = "true" if rnd() < blacklisted_share else "false"
            # -- cards (the active card is rendered in the line below) --------------------
            key = 2 * index  # the active card; an old card is key + 1
            value = (key * card_a + card_b) % _CARD_SPACE
            card_no = f"{_LETTERS[value // 100_000_000]}{value % 100_000_000:08d}"
            issued = insured + int(rnd() * (last_day - insured + 1))
            old_card = ""
            if rnd() < rate_card:
                flags |= bit_card
                old_status = "lost" if rnd() < lost_share else "replaced"
                old_issued = insured + int(rnd() * (issued - insured + 1))
                old_card = (
                    f'{{"card_no":"{self._card_no(key + 1)}","card_sn":"{self._card_sn(insuplc, key + 1)}",'
                    f'"status":"{old_status}","issued":"{iso[old_issued]}"}},'
                )
            # -- what the cashier types --------------------------------------------------
            typed_name = name
            typed_certno = certno[:17] + "x" if want_x else certno
            if rnd() < rate_full:
                flags |= bit_full
                typed_certno = typed_certno.translate(FULLWIDTH_DIGITS)
            if rnd() < rate_spaces:
                flags |= bit_spaces
                lead, trail = SPACE_PATTERNS[int(rnd() * len(SPACE_PATTERNS))]
                typed_name = lead + typed_name + trail
                lead, trail = SPACE_PATTERNS[int(rnd() * len(SPACE_PATTERNS))]
                typed_certno = lead + typed_certno + trail
            labels = labels_json.get(flags) or self._labels(flags)
            name_utf8 = name.encode()
            # ASCII parts are built as str and encoded; the names and the employer are spliced
            # in as UTF-8 bytes (building one str with CJK in it costs twice as much)
            out.append(b"".join((
                f'{{"psn_no":"{insuplc}{(index * _PSN_A + psn_b) % _PSN_SPACE:014d}","psn_cert_type":"01",'
                f'"certno":"{certno}","psn_name":"'.encode(),
                name_utf8,
                f'","gend":"{"1" if male else "2"}","brdy":"{iso[day]}","naty":"{naty}",'
                f'"insuplc_admdvs":"{insuplc}","insuinfo":'.encode(),
                insuinfo,
                f'],"balc":"{balc}","cum":[{{"year":{year},"insutype":"{insutype}","dedc_used":"{dedc}",'
                f'"hifp_paid":"{hifp}"}}],"maf_eligible":{maf},"deceased":{deceased},'
                f'"blacklisted":{blacklisted},"cards":[{old_card}{{"card_no":"{card_no}","card_sn":"{insuplc}'
                f'D156000005{bits(32) << 32 | ((key * _SERIAL_A + sn_b) & _MASK32):016X}","status":"active",'
                f'"issued":"{iso[issued]}"}}],"ec_token":"{insuplc}ec{token_pool[bits(12)]}'
                f'{bits(32) << 32 | ((index * _SERIAL_A + token_b) & _MASK32):016x}","typed":{{"psn_name":"'.encode(),
                name_utf8 if typed_name is name else typed_name.encode(),
                f'","certno":"{typed_certno}","card_no":"{card_no}"}},"edge_cases":{labels}}}\n'.encode(),
            )))
        return out


def generate_chunk(spec: PopulationSpec, layout: Layout, chunk: int) -> list[bytes]:
    """The JSON lines (UTF-8, each ending in a newline) of chunk ``chunk`` of the population."""
    start, count = layout.bounds(chunk)
    return _ChunkWriter(spec, layout, chunk).lines(start, count)
