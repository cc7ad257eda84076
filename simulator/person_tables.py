"""The person generator's tables: :mod:`simulator.demography` and :mod:`simulator.names` compiled
once per (seed, reference date, insured place) into NumPy arrays that a whole chunk of persons
indexes at once.

Texts are NUL-padded byte tables (:func:`simulator.textcols.text_table`); distributions are
cumulative weights searched with ``np.searchsorted`` (the same as ``bisect_right``); one
profile table per (age, gender) becomes one row of a matrix padded with infinity. Nothing here
draws at run time except the per-seed pools that demography and names already hold, and the
e-certificate token starts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from simulator import divisions
from simulator.demography import MAX_AGE, Demography, Profile, demography
from simulator.names import NamePools, name_pools
from simulator.seeding import rng_for
from simulator.textcols import Block, IntArray, text_table

__all__ = ["MAX_EXTRAS", "POOL_BITS", "PersonTables", "person_tables"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Extra insuinfo rows a profile may have (the rows after the main one).
MAX_EXTRAS = 2
#: Size of the per-seed pools (employers, given names, money, token starts) in bits.
POOL_BITS = 12
_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"
_CODE_BITS = 21  # a code point fits in 21 bits: a pair of characters is one int64 key


@dataclass(frozen=True)
class PersonTables:
    """Everything the person generator looks up, as arrays (see the field comments)."""

    demo: Demography
    pools: NamePools
    # -- days: index 0 .. n_days-1 (demography's day indexes) -----------------------------------
    n_days: int
    iso: Block  # "YYYY-MM-DD"
    iso_or_null: Block  # '"YYYY-MM-DD"' (JSON string) by day; the extra last row is 'null'
    compact: Block  # "YYYYMMDD"
    day_sum: IntArray  # MOD 11-2 partial sum of the date digits
    day_age: IntArray  # capped at MAX_AGE
    plus_min_age: IntArray
    band_cum: FloatArray
    band_lo: IntArray
    band_span: IntArray
    # -- places ---------------------------------------------------------------------------------
    areas: Block  # county codes (global area index)
    area_sum: IntArray
    places: Block  # insured places: row 0 the population's, rows 1.. the other pooling areas
    place_area_start: IntArray  # by place: the areas of its province, in place_areas
    place_area_count: IntArray
    place_areas: IntArray
    # -- names ----------------------------------------------------------------------------------
    surname_of: IntArray  # the weighted surname table, as indexes of distinct surnames
    surnames: Block
    surname_pair_key: IntArray  # by surname: code point << 21 (-1 for a longer surname)
    surname_is_compound: BoolArray
    given: Block  # female pool, then male pool (2**POOL_BITS each)
    given_first: IntArray  # code point of each given name's first character
    compound_keys: IntArray  # sorted pair keys of the compound surnames
    surname_begins_compound: BoolArray  # by surname: it is the first character of one
    surname_single: BoolArray  # by surname: one character
    given_first_text: Block  # by given name: its first character
    given_last_text: Block  # by given name: its last character
    compound: Block  # compound surnames
    dot_given: Block  # female then male given names of middle-dot names
    dot_given_start: IntArray  # by male (0/1): first row in dot_given
    dot_given_count: IntArray
    dot_family: Block
    ext_b: Block  # CJK Extension B characters
    naty_cum: FloatArray
    naty: Block
    naty_index: dict[str, int]
    # -- insurance profiles (global profile index) ----------------------------------------------
    profiles: tuple[Profile, ...]
    profile_cum: FloatArray  # (2 * (MAX_AGE + 1)) x K, row 2*age+male, padded with inf
    profile_total: FloatArray
    profile_ids: IntArray
    insutype: Block
    psn_type: Block
    cvlserv: Block
    employer: BoolArray
    is_310: BoolArray
    insured_from: IntArray
    balance_base: IntArray  # by profile: first row of its account kind in balances
    ytd_kind: IntArray  # 0 employee, 1 resident
    extra_count: IntArray
    extra_share: FloatArray  # profile x MAX_EXTRAS
    extra_terminated: BoolArray
    extra_from: IntArray
    extra_head: Block  # ',{"insutype":"330' by profile * MAX_EXTRAS + slot; last row empty
    extra_psn_type: Block
    status_cum: FloatArray
    status: Block
    normal_status: int  # index of status "1"
    balances: Block
    ytd_cum: FloatArray  # 2 x B, padded with inf
    ytd_total: FloatArray
    ytd_bands: int  # B
    dedc: Block  # row (kind * B + band) << POOL_BITS | draw; the extra last row is "0.00"
    hifp: Block
    employers: Block  # '"name"' (JSON string); the extra last row is 'null'
    tokens: Block  # 12-character e-certificate token starts


def _cum_matrix(rows: list[tuple[float, ...]]) -> FloatArray:
    width = max(len(r) for r in rows)
    out = np.full((len(rows), width), np.inf)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def _token_pool(seed: int) -> tuple[str, ...]:
    """4096 random 12-character starts of e-certificate tokens (the rest is unique per person)."""
    rng = rng_for(seed, "ec_token")
    return tuple("".join(rng.choices(_ALNUM, k=12)) for _ in range(1 << POOL_BITS))


def _profiles(demo: Demography) -> tuple[tuple[Profile, ...], FloatArray, FloatArray, IntArray]:
    order: dict[str, int] = {}
    profiles: list[Profile] = []
    cums: list[tuple[float, ...]] = []
    ids: list[list[int]] = []
    for age in range(MAX_AGE + 1):
        for male in (False, True):
            cum, choices = demo.profile_tables[(age, male)]
            row = []
            for profile in choices:
                if profile.key not in order:
                    order[profile.key] = len(profiles)
                    profiles.append(profile)
                row.append(order[profile.key])
            cums.append(cum)
            ids.append(row)
    matrix = _cum_matrix(cums)
    id_matrix = np.zeros(matrix.shape, dtype=np.int64)
    for i, row in enumerate(ids):
        id_matrix[i, : len(row)] = row
    totals = np.array([c[-1] for c in cums])
    return tuple(profiles), matrix, totals, id_matrix


def _ytd(demo: Demography) -> tuple[FloatArray, FloatArray, int, Block, Block]:
    kinds = ("employee", "resident")
    cums = [demo.ytd_bands[k][0] for k in kinds]
    bands = max(len(c) for c in cums)
    dedc: list[str] = []
    hifp: list[str] = []
    if demo.ytd_active > 0:
        for kind in kinds:
            band_pools = demo.ytd_bands[kind][1]
            for band in range(bands):
                pool = band_pools[band] if band < len(band_pools) else band_pools[-1]
                dedc.extend(d for d, _ in pool)
                hifp.extend(h for _, h in pool)
    zero = demo.balances["none"][0]
    return (
        _cum_matrix(cums), np.array([c[-1] for c in cums]), bands,
        text_table([*dedc, zero]), text_table([*hifp, zero]),
    )


@lru_cache(maxsize=4)
def person_tables(seed: int, ref_date: dt.date, admdvs: str) -> PersonTables:
    """The tables of one population (cached per process; built in the parent before workers
    fork, so that they inherit them)."""
    demo = demography(seed, ref_date, admdvs)
    pools = name_pools(seed)

    iso = demo.day_iso
    home = admdvs[:2] + "0000"
    place_provinces = (home, *(divisions.province_of(p) for p in demo.other_places))
    starts: list[int] = []
    counts: list[int] = []
    flat: list[int] = []
    for province in place_provinces:
        members = demo.province_areas[province]
        starts.append(len(flat))
        counts.append(len(members))
        flat.extend(members)

    distinct = sorted(set(pools.surnames))
    surname_index = {s: i for i, s in enumerate(distinct)}
    compound = pools.compound_set
    given = (*pools.given[0], *pools.given[1])

    profiles, profile_cum, profile_total, profile_ids = _profiles(demo)
    kinds = sorted(demo.balances)
    balance_rows = [value for kind in kinds for value in demo.balances[kind]]
    kind_base = {kind: i << POOL_BITS for i, kind in enumerate(kinds)}
    if any(len(demo.balances[kind]) != 1 << POOL_BITS for kind in kinds):
        raise ValueError("balance pools must hold 2**POOL_BITS values")
    if any(len(p.extras) > MAX_EXTRAS for p in profiles):
        raise ValueError(f"population.yaml: a profile has more than {MAX_EXTRAS} extra rows")

    def extra_field(profile: Profile, slot: int, what: str) -> str:
        if slot >= len(profile.extras):
            return "0" * {"insutype": 3, "psn_type": 4}[what]
        extra = profile.extras[slot]
        if what == "insutype":
            return extra.insutype
        return extra.psn_type or profile.psn_type

    def extras(fn: Callable[[Profile, int], object]) -> list[list[object]]:
        return [[fn(p, s) for s in range(MAX_EXTRAS)] for p in profiles]

    ytd_cum, ytd_total, ytd_bands, dedc, hifp = _ytd(demo)
    material = [*pools.employers, *pools.dot_family, *pools.dot_given[0], *pools.dot_given[1]]
    text_table([*material, *pools.compound, *pools.ext_b], json_string=True)  # raises if unsafe
    return PersonTables(
        demo=demo,
        pools=pools,
        n_days=demo.n_days,
        iso=text_table(iso),
        iso_or_null=text_table([*(f'"{d}"' for d in iso), "null"]),
        compact=text_table(demo.day_compact),
        day_sum=np.array(demo.day_sum, dtype=np.int64),
        day_age=np.minimum(np.array(demo.day_age, dtype=np.int64), MAX_AGE),
        plus_min_age=np.array(demo.day_plus_min_age, dtype=np.int64),
        band_cum=np.array(demo.band_cum),
        band_lo=np.array(demo.band_lo, dtype=np.int64),
        band_span=np.array(demo.band_span, dtype=np.int64),
        areas=text_table(demo.areas),
        area_sum=np.array(demo.area_sum, dtype=np.int64),
        places=text_table([admdvs, *demo.other_places]),
        place_area_start=np.array(starts, dtype=np.int64),
        place_area_count=np.array(counts, dtype=np.int64),
        place_areas=np.array(flat, dtype=np.int64),
        surname_of=np.array([surname_index[s] for s in pools.surnames], dtype=np.int64),
        surnames=text_table(distinct, json_string=True),
        surname_pair_key=np.array(
            [ord(s) << _CODE_BITS if len(s) == 1 else -1 for s in distinct], dtype=np.int64
        ),
        surname_is_compound=np.array([s[:2] in compound for s in distinct], dtype=np.bool_),
        given=text_table(given, json_string=True),
        given_first=np.array([ord(g[0]) for g in given], dtype=np.int64),
        compound_keys=np.array(
            sorted(ord(c[0]) << _CODE_BITS | ord(c[1]) for c in compound if len(c) >= 2), dtype=np.int64
        ),
        surname_begins_compound=np.array([s in {c[0] for c in compound} for s in distinct], dtype=np.bool_),
        surname_single=np.array([len(s) == 1 for s in distinct], dtype=np.bool_),
        given_first_text=text_table([g[0] for g in given]),
        given_last_text=text_table([g[-1] for g in given]),
        compound=text_table(pools.compound),
        dot_given=text_table([*pools.dot_given[0], *pools.dot_given[1]]),
        dot_given_start=np.array([0, len(pools.dot_given[0])], dtype=np.int64),
        dot_given_count=np.array([len(pools.dot_given[0]), len(pools.dot_given[1])], dtype=np.int64),
        dot_family=text_table(pools.dot_family),
        ext_b=text_table(pools.ext_b),
        naty_cum=np.array(demo.naty_cum),
        naty=text_table(demo.naty_codes),
        naty_index={code: i for i, code in enumerate(demo.naty_codes)},
        profiles=profiles,
        profile_cum=profile_cum,
        profile_total=profile_total,
        profile_ids=profile_ids,
        insutype=text_table([p.insutype for p in profiles]),
        psn_type=text_table([p.psn_type for p in profiles]),
        cvlserv=text_table([p.cvlserv_flag for p in profiles]),
        employer=np.array([p.employer for p in profiles], dtype=np.bool_),
        is_310=np.array([p.insutype == "310" for p in profiles], dtype=np.bool_),
        insured_from=np.array([demo.insured_from.get(p.insutype, 0) for p in profiles], dtype=np.int64),
        balance_base=np.array([kind_base[p.account] for p in profiles], dtype=np.int64),
        ytd_kind=np.array([0 if p.ytd_kind == "employee" else 1 for p in profiles], dtype=np.int64),
        extra_count=np.array([len(p.extras) for p in profiles], dtype=np.int64),
        extra_share=np.array(extras(lambda p, s: p.extras[s].share if s < len(p.extras) else 0.0)),
        extra_terminated=np.array(
            extras(lambda p, s: s < len(p.extras) and p.extras[s].terminated), dtype=np.bool_
        ),
        extra_from=np.array(
            extras(lambda p, s: demo.insured_from.get(p.extras[s].insutype, 0) if s < len(p.extras) else 0),
            dtype=np.int64,
        ),
        extra_head=text_table(
            [',{"insutype":"' + extra_field(p, s, "insutype") for p in profiles for s in range(MAX_EXTRAS)] + [""]
        ),
        extra_psn_type=text_table([extra_field(p, s, "psn_type") for p in profiles for s in range(MAX_EXTRAS)]),
        status_cum=np.array(demo.status_cum),
        status=text_table(demo.status_codes),
        normal_status=demo.status_codes.index("1"),
        balances=text_table(balance_rows),
        ytd_cum=ytd_cum,
        ytd_total=ytd_total,
        ytd_bands=ytd_bands,
        dedc=dedc,
        hifp=hifp,
        employers=text_table([*pools.employers_json, b"null"]),
        tokens=text_table(_token_pool(seed)),
    )
