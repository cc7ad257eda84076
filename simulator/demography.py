"""The population distributions of ``data/population.yaml`` and ``data/naty.tsv``, compiled once
per (seed, reference date, insured place) into flat tables the person generator indexes.

Day indexes count days from :attr:`Demography.first_day` (an ordinal); the last index is the day
before the reference date, so every person is born before it. Records describe persons as they
stand at the start of the reference date: ages (which choose the insurance profile) are whole
years on the day before it, and every date in a record is before it. Money values are pre-rendered
with :func:`mock_insurer.money.render` into per-seed pools (2 decimals, yuan).
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from typing import Any

import numpy as np

from mock_insurer.money import ZERO, parse_decimal, render
from simulator import divisions
from simulator.data import load_yaml, read_tsv
from simulator.ids import CHECK_CHARS, weighted_sum
from simulator.seeding import rng_for

__all__ = ["MAX_AGE", "Demography", "ExtraRow", "Profile", "demography", "years_before"]

#: Oldest age (whole years) a profile table covers; older persons use its table.
MAX_AGE = 100
_POOL_BITS = 12  # money pools hold 2**12 rendered values per kind
_PPM = 1_000_000  # quantile shares in parts per million


@dataclass(frozen=True)
class ExtraRow:
    """An additional insuinfo row: its insutype, share of the profile's persons, psn_type (None =
    the main row's), and whether it is a terminated former scheme."""

    insutype: str
    share: float
    psn_type: str | None
    terminated: bool


@dataclass(frozen=True)
class Profile:
    """A main insurance scheme a person can have (one entry of ``profiles`` in the YAML)."""

    key: str
    insutype: str
    psn_type: str
    employer: bool
    account: str  # "employee", "retired" or "none"
    cvlserv_flag: str
    extras: tuple[ExtraRow, ...]
    ytd_kind: str  # "employee" (310) or "resident"


@dataclass(frozen=True)
class Demography:
    """Compiled distributions for one (seed, reference date, insured place)."""

    ref_date: dt.date
    first_day: int  # ordinal of day index 0
    n_days: int  # day indexes 0..n_days-1; n_days-1 = the day before the reference date
    day_iso: tuple[str, ...]  # "YYYY-MM-DD"
    day_compact: tuple[str, ...]  # "YYYYMMDD"
    day_sum: tuple[int, ...]  # MOD 11-2 partial sum of the 8 date digits
    day_age: tuple[int, ...]  # age in whole years on the day before the reference date
    day_plus_min_age: tuple[int, ...]  # index of the employee_min_age-th birthday
    male_share: float
    band_cum: tuple[float, ...]
    band_lo: tuple[int, ...]
    band_span: tuple[int, ...]
    areas: tuple[str, ...]  # every county-level code (global area index)
    area_sum: tuple[int, ...]
    province_areas: dict[str, tuple[int, ...]]  # province code -> area indexes
    other_places: tuple[str, ...]  # insured-elsewhere choices: other pooling areas (统筹区)
    profile_tables: dict[tuple[int, bool], tuple[tuple[float, ...], tuple[Profile, ...]]]
    naty_cum: tuple[float, ...]
    naty_codes: tuple[str, ...]
    insured_from: dict[str, int]  # insutype -> first day index (may be <= 0)
    status_cum: tuple[float, ...]
    status_codes: tuple[str, ...]
    balances: dict[str, tuple[str, ...]]  # account kind -> rendered balances
    ytd_active: float  # probability a person has had visits this year (scaled by elapsed time)
    ytd_bands: dict[str, tuple[tuple[float, ...], tuple[tuple[tuple[str, str], ...], ...]]]
    maf_share: float
    deceased_share: float
    blacklisted_share: float
    born_home_share: float
    elsewhere_share: float
    old_card_lost_share: float
    pool_bits: int = _POOL_BITS

    def pick_profile(self, age: int, male: bool, u: float) -> Profile:
        """The profile for a uniform draw ``u`` in [0, 1) at ``age`` and gender."""
        cum, profiles = self.profile_tables[(min(age, MAX_AGE), male)]
        return profiles[bisect_right(cum, u * cum[-1])]

    def check_char(self, area_index: int, day: int, seq_sum: int) -> str:
        return CHECK_CHARS[(self.area_sum[area_index] + self.day_sum[day] + seq_sum) % 11]


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _cents(text: str) -> int:
    return int(parse_decimal(text) * 100)


def _render_cents(cents: int) -> str:
    return render(Decimal(cents).scaleb(-2))


def _quantile_pool(rng: random.Random, points: list[list[Any]], size: int) -> tuple[str, ...]:
    """``size`` rendered amounts drawn from a quantile table [[share, yuan], ...] (linear)."""
    shares = [round(float(p) * _PPM) for p, _ in points]
    cents = [_cents(str(v)) for _, v in points]
    pool = []
    for _ in range(size):
        u = rng.randrange(_PPM)
        i = max(1, bisect_right(shares, u))
        i = min(i, len(shares) - 1)
        lo_s, hi_s, lo_c, hi_c = shares[i - 1], shares[i], cents[i - 1], cents[i]
        value = lo_c if hi_s == lo_s else lo_c + (hi_c - lo_c) * (u - lo_s) // (hi_s - lo_s)
        pool.append(_render_cents(value))
    return tuple(pool)


def _uniform_pool(rng: random.Random, low: str, high: str, size: int) -> tuple[str, ...]:
    lo, hi = _cents(low), _cents(high)
    return tuple(_render_cents(rng.randint(lo, hi)) for _ in range(size))


def _profiles(data: dict[str, Any]) -> list[tuple[Profile, int, int, str | None, float]]:
    extra_defs = data["extra_rows"]
    for name, extra in extra_defs.items():
        if extra.get("psn_type") and not extra.get("terminated"):
            raise ValueError(f"population.yaml: extra row {name}: only a terminated row has its own psn_type")
    out = []
    for entry in data["profiles"]:
        extras = tuple(
            ExtraRow(
                insutype=str(extra_defs[name]["insutype"]),
                share=float(extra_defs[name]["share"]),
                psn_type=extra_defs[name].get("psn_type"),
                terminated=bool(extra_defs[name].get("terminated", False)),
            )
            for name in entry.get("extra", [])
        )
        profile = Profile(
            key=entry["key"],
            insutype=str(entry["insutype"]),
            psn_type=str(entry["psn_type"]),
            employer=bool(entry["employer"]),
            account=str(entry["account"]),
            cvlserv_flag="1" if entry.get("civil_servant") else "0",
            extras=extras,
            ytd_kind="employee" if str(entry["insutype"]) == "310" else "resident",
        )
        lo, hi = entry["age"]
        out.append((profile, int(lo), int(hi), entry.get("gend"), float(entry["weight"])))
    return out


@lru_cache(maxsize=4)
def demography(seed: int, ref_date: dt.date, admdvs: str) -> Demography:
    """Compile the distributions for one population (cached per process)."""
    data = load_yaml("population.yaml")
    ref_ord = ref_date.toordinal()
    bands = data["age_bands"]
    oldest = max(int(b["max"]) for b in bands)
    first_day = years_before(ref_date, oldest + 1).toordinal() + 1
    n_days = ref_ord - first_day  # last index = the day before the reference date
    min_age = int(data["employee_min_age"])

    # MOD 11-2 partial sums of the date digits (positions 7-14), by year, month and day
    year_sums = {y: weighted_sum(f"{y:04d}", 6) for y in range(ref_date.year - oldest - 2, ref_date.year + 1)}
    month_sums = [0] + [weighted_sum(f"{m:02d}", 10) for m in range(1, 13)]
    mday_sums = [0] + [weighted_sum(f"{d:02d}", 12) for d in range(1, 32)]
    last = ref_date - dt.timedelta(days=1)  # the data's last day: ages and schemes hold on it
    # the calendar of every day index, computed for all days at once (NumPy dates count days
    # from 1970-01-01); 29 February plus min_age years is 1 March in a common year
    epoch = dt.date(1970, 1, 1).toordinal()
    days = (np.arange(n_days, dtype=np.int64) + (first_day - epoch)).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    mday = (days - months).astype(np.int64) + 1
    iso = np.datetime_as_string(days).tolist()
    compact = [text[:4] + text[5:7] + text[8:] for text in iso]
    first_year = ref_date.year - oldest - 2
    year_sum = np.array([year_sums[y] for y in range(first_year, ref_date.year + 1)], dtype=np.int64)
    sums = year_sum[year - first_year] + np.array(month_sums)[month] + np.array(mday_sums)[mday]
    later = (month > last.month) | ((month == last.month) & (mday > last.day))
    ages = last.year - year - later
    grown = ((year + min_age - 1970) * 12 + month - 1).astype("datetime64[M]").astype("datetime64[D]")
    plus = (grown - days).astype(np.int64) + (mday - 1) + np.arange(n_days, dtype=np.int64)

    band_lo, band_span = [], []
    for band in bands:
        lo = years_before(ref_date, int(band["max"]) + 1).toordinal() + 1 - first_day
        hi = min(years_before(ref_date, int(band["min"])).toordinal() - first_day, n_days - 1)
        band_lo.append(lo)
        band_span.append(hi - lo + 1)

    areas = divisions.county_codes()
    province_areas: dict[str, list[int]] = {}
    for index, code in enumerate(areas):
        province_areas.setdefault(divisions.province_of(code), []).append(index)
    home_province = divisions.province_of(admdvs)
    # insured elsewhere: another province's pooling areas (its prefectures; a municipality is
    # one), and — when the population's own place is a prefecture — the province's others
    own_pool = admdvs[:2] + "0000" if admdvs[:2] in divisions.MUNICIPALITIES else admdvs[:4] + "00"
    others = tuple(
        area for p in divisions.province_codes() if p in province_areas
        for area in divisions.pooling_areas(p)
        if area != own_pool and (p != home_province or not admdvs.endswith("0000")))

    compiled = _profiles(data)
    tables = {}
    for age in range(MAX_AGE + 1):
        for male in (False, True):
            gend = "1" if male else "2"
            fits = [(p, w) for p, lo, hi, g, w in compiled if lo <= age <= hi and g in (None, gend)]
            if not fits:
                raise ValueError(f"population.yaml: no profile for age {age}, gend {gend}")
            tables[(age, male)] = (tuple(accumulate(w for _, w in fits)), tuple(p for p, _ in fits))

    naty_rows = read_tsv("naty.tsv")
    insured_from = {
        str(k): dt.date.fromisoformat(str(v)).toordinal() - first_day
        for k, v in data["insured_from"].items()
    }
    status = data["status_shares"]

    rng = rng_for(seed, "demography")
    size = 1 << _POOL_BITS
    balances = {kind: _quantile_pool(rng, pts, size) for kind, pts in sorted(data["accounts"].items())}
    balances["none"] = (render(ZERO),) * size
    jan1 = dt.date(ref_date.year, 1, 1).toordinal()
    year_days = dt.date(ref_date.year + 1, 1, 1).toordinal() - jan1
    ytd = data["ytd"]
    ytd_active = float(ytd["active_share"]) * (ref_ord - jan1) / year_days
    ytd_bands = {}
    for kind in ("employee", "resident"):
        cum = tuple(accumulate(float(b["share"]) for b in ytd[kind]))
        pools: tuple[tuple[tuple[str, str], ...], ...] = ()
        if ytd_active > 0:  # on 1 January nobody has had a visit: no pools needed
            pools = tuple(
                tuple(
                    zip(
                        _uniform_pool(rng, str(b["dedc_used"][0]), str(b["dedc_used"][1]), size),
                        _uniform_pool(rng, str(b["hifp_paid"][0]), str(b["hifp_paid"][1]), size),
                        strict=True,
                    )
                )
                for b in ytd[kind]
            )
        ytd_bands[kind] = (cum, pools)

    return Demography(
        ref_date=ref_date,
        first_day=first_day,
        n_days=n_days,
        day_iso=tuple(iso),
        day_compact=tuple(compact),
        day_sum=tuple(sums.tolist()),
        day_age=tuple(ages.tolist()),
        day_plus_min_age=tuple(plus.tolist()),
        male_share=float(data["male_share"]),
        band_cum=tuple(accumulate(float(b["share"]) for b in bands)),
        band_lo=tuple(band_lo),
        band_span=tuple(band_span),
        areas=areas,
        area_sum=tuple(weighted_sum(code) for code in areas),
        province_areas={k: tuple(v) for k, v in province_areas.items()},
        other_places=others,
        profile_tables=tables,
        naty_cum=tuple(accumulate(float(row[2]) for row in naty_rows)),
        naty_codes=tuple(row[0] for row in naty_rows),
        insured_from=insured_from,
        status_cum=tuple(accumulate(float(v) for v in status.values())),
        status_codes=tuple(str(k) for k in status),
        balances=balances,
        ytd_active=ytd_active,
        ytd_bands=ytd_bands,
        maf_share=float(data["maf_eligible_share"]),
        deceased_share=float(data["deceased_share"]),
        blacklisted_share=float(data["blacklisted_share"]),
        born_home_share=float(data["born_in_insured_province_share"]),
        elsewhere_share=float(data["insured_elsewhere_share"]),
        old_card_lost_share=float(data["old_card_lost_share"]),
    )
