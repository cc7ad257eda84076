"""Synthetic insured persons, generated one chunk at a time as JSON lines.

A population of ``count`` persons is cut into chunks (:class:`Layout`); chunk ``c`` draws from
its own random stream seeded from (seed, c), so the output does not depend on how many workers
generate it. A chunk is generated column by column rather than person by person: every random
value of the chunk is drawn at once as a NumPy array (:class:`simulator.seeding.Draws`), every
field is computed for all persons of the chunk with array operations on the tables of
:mod:`simulator.person_tables`, and the records are rendered together as JSON text
(:class:`simulator.textcols.Canvas`; the field order is the record contract of
docs/generator.md). The rare cases that need a choice made one at a time (edge-case names, an
ID number an earlier person of the chunk holds) are done in Python for those persons only, with
a ``random.Random`` of the chunk. Every string that enters a record is either generated from
digits/letters or comes from pools checked to need no JSON escaping, and a test checks that each
line equals ``orjson.dumps(orjson.loads(line))``. docs/adr/0003 explains the design.

ID numbers are unique by construction (no global set; see :mod:`simulator.person_ids`). Other
identifiers are unique because they are bijections of the person's index (card ``key`` = 2 x
index, + 1 for an old card): ``psn_no`` and ``card_no`` are affine maps modulo their number
space (multiplier coprime with it), the last 32 bits of ``card_sn`` and of ``ec_token`` an affine
map modulo 2**32 with an odd multiplier.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from simulator import divisions
from simulator.edge_cases import (
    DEFAULT_EDGE_RATES,
    EDGE_CASE_LABELS,
    SPACE_PATTERNS,
    resolve_edge_rates,
)
from simulator.errors import InvalidArgumentError
from simulator.person_ids import CLASSES, IdDraws, IdSlot, assign_ids, certno_block
from simulator.person_names import NAME_DRAWS, chunk_names
from simulator.person_tables import MAX_EXTRAS, POOL_BITS, PersonTables, person_tables
from simulator.seeding import derive_seed, draws_for, rng_for, top_bits
from simulator.textcols import (
    Block,
    Canvas,
    IntArray,
    decimal_digits,
    gather,
    hex_digits,
    text_table,
)

__all__ = [
    "DEFAULT_ADMDVS",
    "DEFAULT_REF_DATE",
    "MAX_COUNT",
    "PERSON_FIELDS",
    "Layout",
    "PopulationSpec",
    "generate_chunk",
    "render_chunk",
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

_CHUNK = 8192  # persons per chunk (more when the population needs it, see Layout)
_MAX_GROUPS = 31  # G at most: keeps 16+ sequence numbers per group and gender
_CARD_SPACE = 26 * 10**8  # card numbers: a letter and 8 digits
_CARD_A = 1_234_567_897  # coprime with _CARD_SPACE: key -> number is a bijection
_MASK32 = 0xFFFFFFFF
_SERIAL_A = 0x9E3779B1  # odd: key -> (key * A + b) mod 2**32 is a bijection (unique serials)
_PSN_SPACE = 10**14
_PSN_A = 9_227_465_013_479  # coprime with _PSN_SPACE
_LETTERS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
_BIT = {label: 1 << i for i, label in enumerate(EDGE_CASE_LABELS)}
#: The ``edge_cases`` JSON array of every bit mask of label indexes.
_LABELS_TEXT = [
    "[" + ",".join(f'"{label}"' for i, label in enumerate(EDGE_CASE_LABELS) if mask >> i & 1) + "]"
    for mask in range(1 << len(EDGE_CASE_LABELS))
]
_LABELS = text_table(_LABELS_TEXT)
_LABELS_WIDTH = np.array([len(t) for t in _LABELS_TEXT], dtype=np.int64)
_LABELS_INLINE = max(len(f'["{label}"]') for label in EDGE_CASE_LABELS)  # longer: sparse
_LABELS_SHORT = np.ascontiguousarray(_LABELS[:, :_LABELS_INLINE])
_BOOLS = text_table(["false", "true"])
_OLD_STATUS = text_table(["replaced", "lost"])
_NO_SPACES = len(SPACE_PATTERNS)  # the row of the padding tables without spaces
_LEAD = text_table([lead for lead, _ in SPACE_PATTERNS] + [""], width=2)
_TRAIL = text_table([trail for _, trail in SPACE_PATTERNS] + [""], width=2)

# The uniform draws of a chunk, one row of the draw matrix per name (a fixed number of values
# per person, whatever the rates, so that one rate does not move the draws of another field).
_UNIFORMS = (
    "elsewhere", "place", "twin", "male", *NAME_DRAWS, "want_x",
    "band", "day", "born_home", "area", "seq", "profile", "insured", "status", "paus",
    *(f"{what}{slot}" for slot in range(MAX_EXTRAS) for what in ("extra", "since")),
    "ytd_active", "ytd_band", "maf", "deceased",
    "blacklisted", "issued", "replaced", "lost", "old_issued", "fullwidth", "spaces",
    "lead_name", "lead_certno",
)
_POOL_DRAWS = ("given", "employer", "balance", "ytd", "token")  # POOL_BITS each
_WORD_DRAWS = ("card_sn", "old_card_sn", "token_tail")  # 32 bits each


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
        size = max(chunk_size, math.ceil(count / (CLASSES * _MAX_GROUPS)))
        n_chunks = math.ceil(count / size)
        return cls(count, size, n_chunks, max(1, math.ceil(n_chunks / CLASSES)))

    def bounds(self, chunk: int) -> tuple[int, int]:
        """(index of the chunk's first person, number of persons in it)."""
        start = chunk * self.chunk_size
        return start, min(self.chunk_size, self.count - start)

    def id_slot(self, chunk: int) -> IdSlot:
        """The chunk's share of the ID number space (see :mod:`simulator.person_ids`)."""
        group = chunk // CLASSES
        return IdSlot(chunk % CLASSES, group, self.groups, (500 - group + self.groups - 1) // self.groups)


def _twins(candidate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, second) of each twin pair: a person who draws a pair starts one unless it is the
    second of the pair before it; the next person is the second."""
    index = np.arange(len(candidate))
    run_start = np.zeros(len(candidate), dtype=bool)
    run_start[0:1] = candidate[0:1]
    run_start[1:] = candidate[1:] & ~candidate[:-1]
    start = np.maximum.accumulate(np.where(run_start, index, 0))
    first = candidate & ((index - start) % 2 == 0)
    second = np.zeros(len(candidate), dtype=bool)
    second[1:] = first[:-1]
    return first, second


def _extra_rows(
    t: PersonTables, u: dict[str, np.ndarray], slot: int, pid: IntArray, day: IntArray,
    insured: IntArray,
) -> tuple[np.ndarray, IntArray, Block]:
    """Slot ``slot`` of the extra insuinfo rows: whether each person has a row that shares the
    main row's fields after insutype, and the persons with a terminated former scheme and those
    rows' JSON (own type, dates and status 4, ended on the day the main scheme began). Each row
    begins with the comma before it."""
    present = (slot < t.extra_count[pid]) & (u[f"extra{slot}"] < t.extra_share[pid, slot])
    lo = np.maximum(t.extra_from[pid, slot], day)
    former = np.flatnonzero(present & t.extra_terminated[pid, slot] & (lo < insured))
    since = lo[former] + (u[f"since{slot}"][former] * (insured[former] - lo[former])).astype(np.int64)
    c = Canvas(len(former))
    c.take(t.extra_head, pid[former] * MAX_EXTRAS + slot)
    c.text(b'","psn_type":"')
    c.take(t.extra_psn_type, pid[former] * MAX_EXTRAS + slot)
    c.text(b'","psn_insu_stas":"4","psn_insu_date":"')
    c.take(t.iso, since)
    c.text(b'","paus_insu_date":"')
    c.take(t.iso, insured[former])
    c.text(b'","cvlserv_flag":"')
    c.take(t.cvlserv, pid[former])
    c.text(b'","emp_name":null}')
    return present & ~t.extra_terminated[pid, slot], former, c.array()


def _card_numbers(values: IntArray) -> Block:
    return np.hstack((_LETTERS[values // 100_000_000][:, None], decimal_digits(values % 100_000_000, 8)))


def _serials(keys: IntArray, offset: int, high: IntArray) -> np.ndarray:
    """64-bit serials: 32 random ``high`` bits, then a bijection of ``keys`` modulo 2**32."""
    low = (keys.astype(np.uint64) * np.uint64(_SERIAL_A) + np.uint64(offset)) & np.uint64(_MASK32)
    return (high.astype(np.uint64) << np.uint64(32)) | low


def render_chunk(spec: PopulationSpec, layout: Layout, chunk: int) -> list[memoryview]:
    """The JSON lines (UTF-8, each ending in a newline) of chunk ``chunk`` of the population, in
    buffers to write in order (``os.writev``) or join."""
    start, n = layout.bounds(chunk)
    t = person_tables(spec.seed, spec.ref_date, spec.admdvs)
    demo, rates, seed = t.demo, spec.edge_rates, spec.seed
    draws = draws_for(seed, "persons", chunk)
    drawn = draws.uniform(len(_UNIFORMS) + len(_POOL_DRAWS) + len(_WORD_DRAWS), n)
    u = dict(zip(_UNIFORMS, drawn[: len(_UNIFORMS)], strict=True))
    pools = top_bits(drawn[len(_UNIFORMS):len(_UNIFORMS) + len(_POOL_DRAWS)], POOL_BITS)
    pool = dict(zip(_POOL_DRAWS, pools, strict=True))
    words = top_bits(drawn[len(_UNIFORMS) + len(_POOL_DRAWS):], 32)
    word = dict(zip(_WORD_DRAWS, words, strict=True))
    rng = rng_for(seed, "persons", chunk, "one at a time")
    last_day = t.n_days - 1
    index = np.arange(n, dtype=np.int64)

    # -- twins, insured place, gender, name ---------------------------------------------------
    twin = rates["twin"]
    candidate = u["twin"] < twin / (2.0 - twin)  # pairs started so that a share `twin` is in one
    candidate[-1] = False  # a pair does not cross chunks
    first, second = _twins(candidate)
    seconds = np.flatnonzero(second)
    n_others = len(t.places) - 1
    elsewhere = (u["elsewhere"] < demo.elsewhere_share) & (n_others > 0)
    place = np.where(elsewhere, 1 + (u["place"] * n_others).astype(np.int64), 0)
    male = u["male"] < demo.male_share
    male[seconds] = male[seconds - 1]
    names = chunk_names(t, rates, u, pool["given"], male, second, rng)
    naty, flags = names.naty, names.bits
    flags[first | second] |= _BIT["twin"]

    # -- ID number ------------------------------------------------------------------------
    want_x = u["want_x"] < rates["certno_lowercase_x"]
    id_draws = IdDraws(u["band"], u["day"], u["born_home"], u["area"], u["seq"])
    area, day, seq = assign_ids(t, layout.id_slot(chunk), id_draws, male, place, second, want_x, rng)
    certno, is_x = certno_block(t, area, day, seq)
    lower_x = want_x & is_x
    flags[lower_x] |= _BIT["certno_lowercase_x"]

    # -- insurance: main scheme, its status and dates, extra rows -----------------------------
    table_row = 2 * t.day_age[day] + male
    threshold = u["profile"] * t.profile_total[table_row]
    pid = t.profile_ids[table_row, (t.profile_cum[table_row] <= threshold[:, None]).sum(axis=1)]
    lo = np.maximum(t.insured_from[pid], day)
    lo = np.where(t.is_310[pid], np.maximum(lo, t.plus_min_age[day]), lo)
    lo = np.minimum(lo, last_day)
    insured = lo + (u["insured"] * (last_day - lo + 1)).astype(np.int64)
    status = np.searchsorted(t.status_cum, u["status"] * t.status_cum[-1], side="right")
    paus = insured + (u["paus"] * (last_day - insured + 1)).astype(np.int64)
    paus = np.where(status == t.normal_status, t.n_days, paus)  # row n_days: null
    employer = np.where(t.employer[pid], pool["employer"], 1 << POOL_BITS)  # last row: null
    c = Canvas(n)  # every row but a terminated former scheme shares all fields after insutype
    c.text(b'","psn_type":"')
    c.take(t.psn_type, pid)
    c.text(b'","psn_insu_stas":"')
    c.take(t.status, status)
    c.text(b'","psn_insu_date":"')
    c.take(t.iso, insured)
    c.text(b'","paus_insu_date":')
    c.take(t.iso_or_null, paus)
    c.text(b',"cvlserv_flag":"')
    c.take(t.cvlserv, pid)
    c.text(b'","emp_name":')
    c.take(t.employers, employer)
    c.text(b"}")
    row_tail = c.array(nul_rows=1)  # the last row is empty: for persons without the row
    extras = [_extra_rows(t, u, slot, pid, day, insured) for slot in range(MAX_EXTRAS)]

    # -- money and flags ------------------------------------------------------------------
    balance = t.balance_base[pid] + pool["balance"]
    ytd = np.full(n, len(t.dedc) - 1)  # last row: 0.00
    if demo.ytd_active > 0:
        active = u["ytd_active"] < demo.ytd_active
        kind = t.ytd_kind[pid]
        band = (t.ytd_cum[kind] <= (u["ytd_band"] * t.ytd_total[kind])[:, None]).sum(axis=1)
        ytd = np.where(active, ((kind * t.ytd_bands + band) << POOL_BITS) | pool["ytd"], ytd)
    maf = (u["maf"] < demo.maf_share).astype(np.int64)
    deceased = (u["deceased"] < demo.deceased_share).astype(np.int64)
    blacklisted = (u["blacklisted"] < demo.blacklisted_share).astype(np.int64)

    # -- cards and token ------------------------------------------------------------------
    key = 2 * (start + index)  # the active card; an old card is key + 1
    card_base = (2 * start * _CARD_A + derive_seed(seed, "card_no")) % _CARD_SPACE
    card_value = (card_base + 2 * index * _CARD_A) % _CARD_SPACE
    card_no = _card_numbers(card_value)
    sn_b = derive_seed(seed, "card_sn") & _MASK32
    card_sn = hex_digits(_serials(key, sn_b, word["card_sn"]), upper=True)
    issued = insured + (u["issued"] * (last_day - insured + 1)).astype(np.int64)
    old = np.flatnonzero(u["replaced"] < rates["replaced_card"])
    flags[old] |= _BIT["replaced_card"]
    old_issued = insured[old] + (u["old_issued"][old] * (issued[old] - insured[old] + 1)).astype(np.int64)
    c = Canvas(len(old))
    c.text(b'{"card_no":"')
    c.block(_card_numbers((card_value[old] + _CARD_A) % _CARD_SPACE))
    c.text(b'","card_sn":"')
    c.take(t.places, place[old])
    c.text(b"D156000005")
    c.block(hex_digits(_serials(key[old] + 1, sn_b, word["old_card_sn"][old]), upper=True))
    c.text(b'","status":"')
    c.take(_OLD_STATUS, (u["lost"][old] < demo.old_card_lost_share).astype(np.int64))
    c.text(b'","issued":"')
    c.take(t.iso, old_issued)
    c.text(b'"},')
    old_card = c.array()
    token_b = derive_seed(seed, "ec_token") & _MASK32
    token = hex_digits(_serials(start + index, token_b, word["token_tail"]), upper=False)
    psn_base = (start * _PSN_A + derive_seed(seed, "psn_no")) % _PSN_SPACE
    psn_no = decimal_digits((psn_base + index * _PSN_A) % _PSN_SPACE, 14)

    # -- what the cashier types -------------------------------------------------------------
    typed_certno = certno.copy()
    typed_certno[lower_x, 17] = ord("x")
    fullwidth = np.flatnonzero(u["fullwidth"] < rates["fullwidth_digits"])
    flags[fullwidth] |= _BIT["fullwidth_digits"]
    typed = typed_certno[fullwidth]  # U+FF10..U+FF19 are EF BC 90..99 in UTF-8; X/x stay
    digit = (typed >= 48) & (typed <= 57)
    wide = np.zeros((len(fullwidth), 18, 3), dtype=np.uint8)
    wide[:, :, 0] = np.where(digit, 0xEF, typed)
    wide[:, :, 1] = np.where(digit, 0xBC, 0)
    wide[:, :, 2] = np.where(digit, typed + 0x60, 0)
    spaces = u["spaces"] < rates["typed_spaces"]
    flags[spaces] |= _BIT["typed_spaces"]
    pad_name = np.where(spaces, (u["lead_name"] * _NO_SPACES).astype(np.int64), _NO_SPACES)
    pad_certno = np.where(spaces, (u["lead_certno"] * _NO_SPACES).astype(np.int64), _NO_SPACES)

    # -- the records ------------------------------------------------------------------------
    c = Canvas(n)
    c.text(b'{"psn_no":"')
    c.take(t.places, place)
    c.block(psn_no)
    c.text(b'","psn_cert_type":"01","certno":"')
    c.block(certno)
    c.text(b'","psn_name":"')
    c.block(names.text)
    c.text(b'","gend":"')
    c.block((50 - male.astype(np.uint8))[:, None])  # "1" male, "2" female
    c.text(b'","brdy":"')
    c.take(t.iso, day)
    c.text(b'","naty":"')
    c.take(t.naty, naty)
    c.text(b'","insuplc_admdvs":"')
    c.take(t.places, place)
    c.text(b'","insuinfo":[{"insutype":"')
    c.take(t.insutype, pid)
    c.block(row_tail[:n])
    for slot, (shares, former, former_rows) in enumerate(extras):
        sharing = np.flatnonzero(shares)
        if 4 * len(sharing) > n:  # common: filled in, empty (the NUL row) for the others
            c.take(t.extra_head, np.where(shares, pid * MAX_EXTRAS + slot, len(t.extra_head) - 1))
            c.take(row_tail, np.where(shares, index, n))
        else:  # rare: inserted afterwards
            head = gather(t.extra_head, pid[sharing] * MAX_EXTRAS + slot)
            c.sparse(sharing, np.hstack((head, gather(row_tail, sharing))))
        c.sparse(former, former_rows)
    c.text(b'],"balc":"')
    c.take(t.balances, balance)
    c.text(f'","cum":[{{"year":{spec.ref_date.year},"insutype":"'.encode())
    c.take(t.insutype, pid)
    c.text(b'","dedc_used":"')
    c.take(t.dedc, ytd)
    c.text(b'","hifp_paid":"')
    c.take(t.hifp, ytd)
    c.text(b'"}],"maf_eligible":')
    c.take(_BOOLS, maf)
    c.text(b',"deceased":')
    c.take(_BOOLS, deceased)
    c.text(b',"blacklisted":')
    c.take(_BOOLS, blacklisted)
    c.text(b',"cards":[')
    c.sparse(old, old_card)
    c.text(b'{"card_no":"')
    c.block(card_no)
    c.text(b'","card_sn":"')
    c.take(t.places, place)
    c.text(b"D156000005")
    c.block(card_sn)
    c.text(b'","status":"active","issued":"')
    c.take(t.iso, issued)
    c.text(b'"}],"ec_token":"')
    c.take(t.places, place)
    c.text(b"ec")
    c.take(t.tokens, pool["token"])
    c.block(token)
    c.text(b'","typed":{"psn_name":"')
    c.take(_LEAD, pad_name)
    c.block(names.text)
    c.take(_TRAIL, pad_name)
    c.text(b'","certno":"')
    c.take(_LEAD, pad_certno)
    c.sparse(fullwidth, wide.reshape(len(fullwidth), 54), typed_certno)
    c.take(_TRAIL, pad_certno)
    c.text(b'","card_no":"')
    c.block(card_no)
    c.text(b'"},"edge_cases":')
    long_labels = np.flatnonzero(_LABELS_WIDTH[flags] > _LABELS_INLINE)  # several labels
    width = int(_LABELS_WIDTH[flags[long_labels]].max(initial=0))
    c.sparse(long_labels, gather(_LABELS, flags[long_labels])[:, :width], gather(_LABELS_SHORT, flags))
    c.text(b"}\n")
    return c.render()


def generate_chunk(spec: PopulationSpec, layout: Layout, chunk: int) -> list[bytes]:
    """The JSON lines (UTF-8, each ending in a newline) of chunk ``chunk`` of the population."""
    return b"".join(render_chunk(spec, layout, chunk)).splitlines(keepends=True)
