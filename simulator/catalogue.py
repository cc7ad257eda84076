"""The catalogue: national-code items (医保目录), diagnoses, and each institution's own item
codes mapped to the national ones (对码), with a share deliberately unmapped or mapped wrongly.

One JSONL file holds three record kinds, told apart by ``kind``: ``item`` records first, then
``diagnosis``, then ``mapping`` (per institution, per item). Items come from
``data/catalogue.yaml``; drugs get one to three manufacturers per specification, each its own
national code. National code shapes (docs/generator.md):

- Western medicine, 23 chars: "X" + ATC level-4 group (5) + name code (4) + dosage form (4) +
  specification and package (4) + manufacturer (5), e.g. XJ01CAA040A001010100568.
- Chinese patent medicine, 20 chars: "Z" + category (5) + name code (5) + spec (4) + maker (5).
- Herbal pieces, 10 chars: "T" + herb (4) + processing (2) + serial (3).
- Medical services, 15 digits: "00" + the 9-digit national service item code + 4-digit extension.
- Medical materials, 20 chars: "C" + category (6) + generic name (3) + feature (4) + maker (6).

Money is yuan with two places (rendered by :mod:`mock_insurer.money`); ratios have four.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from mock_insurer.money import parse_decimal, render, round_money, round_ratio
from simulator.data import load_yaml
from simulator.diagnoses import DIAGNOSIS_FIELDS, diagnosis_codes, load_diagnoses
from simulator.edge_cases import check_rate
from simulator.errors import InvalidArgumentError
from simulator.institutions import DEFAULT_INSTITUTION_COUNT, generate_institutions
from simulator.output import atomic_output, check_format, csv_header, csv_rows, jsonl_line
from simulator.seeding import rng_for

__all__ = [
    "CATALOGUE_FIELDS",
    "ITEM_FIELDS",
    "LIST_TYPES",
    "MAPPING_FIELDS",
    "NO_PRICE_CAP",
    "build_items",
    "iter_catalogue",
    "iter_mappings",
    "write_catalogue",
]

#: List types, in the order items are written.
LIST_TYPES: tuple[str, ...] = ("western", "patent", "herbal", "service", "material")
#: pric_uplmt_amt of an item without a price cap (fact sheet §3, 2204: "999999 when no limit").
NO_PRICE_CAP = "999999.00"

ITEM_FIELDS: tuple[str, ...] = (
    "kind", "med_list_codg", "med_list_name", "list_type", "chrgitm_lv", "med_chrgitm_type",
    "spec", "unit", "pric", "pric_uplmt_amt", "selfpay_prop", "max_cnt_per_rx", "max_days_per_rx",
    "indications", "gend_limit", "age_min", "age_max", "lmt_used_flag", "bas_medn_flag",
    "hi_nego_drug_flag", "chld_medc_flag", "list_sp_item_flag",
)
MAPPING_FIELDS: tuple[str, ...] = (
    "kind", "fixmedins_code", "medins_list_codg", "medins_list_name", "med_list_codg", "mapping",
    "intended_med_list_codg", "hosp_pric",
)
#: CSV columns of a catalogue file: the union of the three kinds (empty where not applicable).
CATALOGUE_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys([*ITEM_FIELDS, *DIAGNOSIS_FIELDS[1:], *MAPPING_FIELDS[1:]])
)

_DEFAULT_TYPE = {"western": "09", "patent": "11", "herbal": "10", "material": "08"}
_FORM_CODES = {
    "tablet": "A001", "capsule": "A010", "granule": "A030", "liquid": "A040", "syrup": "A041",
    "pill": "A050", "powder": "A060", "injection": "B002", "spray": "E001", "ointment": "C001",
    "drops": "D001",
}
_SELFPAY = {"01": "0.0000", "03": "1.0000"}
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _money(text: str) -> Decimal:
    return round_money(parse_decimal(text))


def _flag(value: object) -> str:
    return "1" if value else "0"


def _code(list_type: str, entry: dict[str, Any], entry_no: int, spec_no: int, maker: int, name_code: str) -> str:
    if list_type == "western":
        form = _FORM_CODES[entry["form"]]
        return f"X{entry['group']}{name_code}{form}{spec_no + 1:02d}01{maker:05d}"
    if list_type == "patent":
        return f"Z{entry['group']}{name_code}{spec_no + 1:02d}01{maker:05d}"
    if list_type == "herbal":
        return f"T{entry_no + 1:04d}{spec_no + 1:02d}{maker:03d}"
    if list_type == "service":
        return f"00{entry['code']}{spec_no:04d}"
    return f"C{entry['code']}{name_code}{spec_no + 1:02d}00{maker:06d}"


def build_items(seed: int = 1) -> list[dict[str, Any]]:
    """The catalogue items of ``seed`` (a few hundred), in list-type order."""
    data = load_yaml("catalogue.yaml")
    known_diagnoses = diagnosis_codes()
    rng = rng_for(seed, "catalogue", "items")
    items: list[dict[str, Any]] = []
    codes: set[str] = set()
    for list_type in LIST_TYPES:
        for entry_no, entry in enumerate(data[list_type]):
            unknown = set(entry.get("indications", [])) - known_diagnoses
            if unknown:
                raise ValueError(f"catalogue.yaml: {entry['name']}: unknown diagnoses {sorted(unknown)}")
            if list_type in ("western", "patent"):
                name_code = f"{rng.choice(_LETTERS)}{rng.randrange(1, 1000):03d}"
                if list_type == "patent":
                    name_code = f"{rng.choice(_LETTERS)}{rng.randrange(1, 10000):04d}"
            else:
                name_code = f"{rng.randrange(1, 1000):03d}"
            lv = str(entry["lv"])
            for spec_no, (spec, price) in enumerate(entry["specs"]):
                makers = 1
                if list_type in ("western", "patent"):
                    makers += (rng.random() < 0.5) + (rng.random() < 0.2)
                elif list_type == "material":
                    makers += rng.random() < 0.3
                for maker_no in range(makers):
                    while True:
                        maker = rng.randrange(1, 10**5 if list_type != "herbal" else 10**3)
                        code = _code(list_type, entry, entry_no, spec_no, maker, name_code)
                        if code not in codes:
                            break
                        if list_type == "service":
                            raise ValueError(f"catalogue.yaml: duplicate service code {code}")
                    codes.add(code)
                    pric = _money(str(price))
                    if maker_no:
                        pric = max(round_money(pric * Decimal(rng.randint(80, 120)) / 100), Decimal("0.01"))
                    if lv == "02":
                        selfpay = entry.get("selfpay") or rng.choice(data["selfpay_b_choices"])
                    else:
                        selfpay = _SELFPAY[lv]
                    indications = list(entry.get("indications", []))
                    gend = entry.get("gend")
                    age_min, age_max = entry.get("age_min"), entry.get("age_max")
                    restricted = bool(indications) or gend is not None or age_min is not None or age_max is not None
                    items.append(
                        {
                            "kind": "item",
                            "med_list_codg": code,
                            "med_list_name": entry["name"],
                            "list_type": list_type,
                            "chrgitm_lv": lv,
                            "med_chrgitm_type": str(entry.get("type", _DEFAULT_TYPE.get(list_type, ""))),
                            "spec": spec,
                            "unit": entry["unit"],
                            "pric": render(pric),
                            "pric_uplmt_amt": render(pric) if entry.get("cap") == "list" else NO_PRICE_CAP,
                            "selfpay_prop": str(round_ratio(parse_decimal(selfpay))),
                            "max_cnt_per_rx": str(entry["max_cnt"]) if entry.get("max_cnt") else None,
                            "max_days_per_rx": int(entry["max_days"]) if entry.get("max_days") else None,
                            "indications": indications,
                            "gend_limit": str(gend) if gend is not None else None,
                            "age_min": int(age_min) if age_min is not None else None,
                            "age_max": int(age_max) if age_max is not None else None,
                            "lmt_used_flag": _flag(restricted),
                            "bas_medn_flag": _flag(entry.get("bas")),
                            "hi_nego_drug_flag": _flag(entry.get("nego")),
                            "chld_medc_flag": _flag(entry.get("chld")),
                            "list_sp_item_flag": _flag(entry.get("sp")),
                        }
                    )
    return items


def _check_mapping_rates(unmapped_rate: float, wrong_rate: float, over_cap_rate: float) -> None:
    check_rate(unmapped_rate, "--unmapped-rate")
    check_rate(wrong_rate, "--wrong-rate")
    check_rate(over_cap_rate, "--over-cap-rate")
    if unmapped_rate + wrong_rate > 1.0 + 1e-12:
        raise InvalidArgumentError(
            f"--unmapped-rate + --wrong-rate must be at most 1, got {unmapped_rate + wrong_rate:g}"
        )


def iter_mappings(
    items: Sequence[dict[str, Any]],
    institutions: Sequence[dict[str, Any]],
    seed: int = 1,
    *,
    unmapped_rate: float = 0.02,
    wrong_rate: float = 0.02,
    over_cap_rate: float = 0.05,
) -> Iterator[dict[str, Any]]:
    """One mapping per (institution, item): the hospital's code and name for the item, and what
    it maps to: ``ok`` (the right national code), ``unmapped`` (null) or ``wrong`` (another
    item's code of the same list type). ``hosp_pric`` is the item's price, and with probability
    ``over_cap_rate`` above its cap when the item has one (5-30 % above)."""
    _check_mapping_rates(unmapped_rate, wrong_rate, over_cap_rate)
    prefixes = load_yaml("catalogue.yaml")["hospital_code_prefixes"]
    by_type: dict[str, list[str]] = {}
    for item in items:
        by_type.setdefault(item["list_type"], []).append(item["med_list_codg"])
    all_codes = [item["med_list_codg"] for item in items]
    for institution in institutions:
        code = institution["fixmedins_code"]
        rng = rng_for(seed, "catalogue", "mapping", code)
        counters = {t: rng.randrange(100, 5000) for t in LIST_TYPES}
        for item in items:
            list_type, intended = item["list_type"], item["med_list_codg"]
            counters[list_type] += rng.randint(1, 3)
            u = rng.random()
            if u < unmapped_rate:
                mapping, national = "unmapped", None
            elif u < unmapped_rate + wrong_rate:
                same = by_type[list_type] if len(by_type[list_type]) > 1 else all_codes
                national = intended
                while national == intended:
                    national = rng.choice(same)
                mapping = "wrong"
            else:
                mapping, national = "ok", intended
            price = item["pric"]
            if item["pric_uplmt_amt"] != NO_PRICE_CAP and rng.random() < over_cap_rate:
                cap = parse_decimal(item["pric_uplmt_amt"])
                price = render(max(round_money(cap * Decimal(rng.randint(105, 130)) / 100), cap + Decimal("0.01")))
            spec = item["spec"]
            shown = item["med_list_name"] if list_type == "service" else f"{item['med_list_name']}({spec})"
            yield {
                "kind": "mapping",
                "fixmedins_code": code,
                "medins_list_codg": f"{prefixes[list_type]}{counters[list_type]:06d}",
                "medins_list_name": shown,
                "med_list_codg": national,
                "mapping": mapping,
                "intended_med_list_codg": intended,
                "hosp_pric": price,
            }


def iter_catalogue(
    seed: int = 1,
    institutions: Sequence[dict[str, Any]] | None = None,
    *,
    unmapped_rate: float = 0.02,
    wrong_rate: float = 0.02,
    over_cap_rate: float = 0.05,
) -> Iterator[dict[str, Any]]:
    """Items, then diagnoses, then mappings for ``institutions`` (default: the default
    institutions of the same seed, as ``generate institutions`` makes them)."""
    _check_mapping_rates(unmapped_rate, wrong_rate, over_cap_rate)
    if institutions is None:
        institutions = generate_institutions(DEFAULT_INSTITUTION_COUNT, seed)
    items = build_items(seed)
    yield from items
    yield from load_diagnoses()
    yield from iter_mappings(
        items, institutions, seed,
        unmapped_rate=unmapped_rate, wrong_rate=wrong_rate, over_cap_rate=over_cap_rate,
    )


def write_catalogue(
    path: str | Path,
    seed: int = 1,
    institutions: Sequence[dict[str, Any]] | None = None,
    *,
    unmapped_rate: float = 0.02,
    wrong_rate: float = 0.02,
    over_cap_rate: float = 0.05,
    fmt: str = "jsonl",
) -> dict[str, int]:
    """Write the catalogue to ``path`` atomically; return the number of records per kind."""
    check_format(fmt)
    _check_mapping_rates(unmapped_rate, wrong_rate, over_cap_rate)
    counts = {"item": 0, "diagnosis": 0, "mapping": 0}
    records = iter_catalogue(
        seed, institutions,
        unmapped_rate=unmapped_rate, wrong_rate=wrong_rate, over_cap_rate=over_cap_rate,
    )
    with atomic_output(path) as out:
        if fmt == "csv":
            out.write(csv_header(CATALOGUE_FIELDS))
        for record in records:
            counts[record["kind"]] += 1
            out.write(csv_rows([record], CATALOGUE_FIELDS) if fmt == "csv" else jsonl_line(record))
    return counts
