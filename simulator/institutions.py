"""Designated medical institutions (定点医疗机构): code, name, tier, district, credentials.

``fixmedins_code`` is "H" + the 6-digit district code + a 5-digit serial (e.g. H11010500001),
the shape of the national institution codes seen in the fact sheet's samples (H13110200026).
The first four institutions are one of each tier (community, 1, 2, 3); later ones are drawn
with the weights of ``data/institutions.yaml``. Credentials are what the mock insurer's gateway
modes check (``paasid`` + ``token`` for the TIF signature, ``apikey``) and the bearer token of
the institution's own access to the insurer's settlement portal (``portal``: declaring its
months, reading its declarations and payments; docs/finance.md). ``portal`` is drawn from a
stream of its own, so adding it left every other generated value as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

import orjson

from simulator import divisions
from simulator.data import load_yaml
from simulator.errors import DataFileError, InvalidArgumentError
from simulator.output import atomic_output, check_format, csv_header, csv_rows, jsonl_line
from simulator.seeding import rng_for

__all__ = [
    "DEFAULT_INSTITUTION_COUNT",
    "INSTITUTION_FIELDS",
    "TIERS",
    "generate_institutions",
    "load_institutions",
    "write_institutions",
]

TIERS: tuple[str, ...] = ("community", "1", "2", "3")
DEFAULT_INSTITUTION_COUNT = 6
MAX_INSTITUTIONS = 99_999
INSTITUTION_FIELDS: tuple[str, ...] = (
    "fixmedins_code", "fixmedins_name", "tier", "admdvs", "credentials", "blacklisted",
)
_HEX = "0123456789abcdef"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _fill(pattern: str, **values: str) -> str:
    for key, value in values.items():
        pattern = pattern.replace("{" + key + "}", value)
    return pattern


def generate_institutions(count: int = DEFAULT_INSTITUTION_COUNT, seed: int = 1, *, admdvs: str = "110000") -> list[dict[str, Any]]:
    """``count`` institutions located in districts under ``admdvs`` (same seed -> same list)."""
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise InvalidArgumentError(f"count must be a positive whole number, got {count!r}")
    if count > MAX_INSTITUTIONS:
        raise InvalidArgumentError(f"count must be at most {MAX_INSTITUTIONS}, got {count}")
    divisions.validate_admdvs(admdvs)
    data = load_yaml("institutions.yaml")
    rng = rng_for(seed, "institutions", admdvs)
    portal_rng = rng_for(seed, "institutions", admdvs, "portal")
    districts = divisions.counties_under(admdvs)
    province = divisions.province_of(admdvs)
    city = divisions.name_of(province) or province
    streets = data["streets_beijing"] if province == "110000" else data["streets_generic"]
    weights = data["tier_weights"]
    tier_cum = list(accumulate(float(weights[t]) for t in TIERS))
    serials: dict[str, int] = {}
    names: set[str] = set()
    out = []
    for i in range(count):
        if i < len(TIERS):
            tier = TIERS[i]
        else:
            u = rng.random() * tier_cum[-1]
            tier = next(t for t, c in zip(TIERS, tier_cum, strict=True) if u < c)
        district = rng.choice(districts)
        serials[district] = serials.get(district, 0) + 1
        district_name = divisions.name_of(district) or city
        for _attempt in range(50):
            name = _fill(
                rng.choice(data["names"][tier]),
                city=city,
                district=district_name,
                street=rng.choice(streets),
                n=rng.choice(data["ordinals"]),
            ).replace(city + city, city)
            if name not in names:
                break
        else:
            name = f"{name}（第{serials[district]}分部）"
        names.add(name)
        out.append(
            {
                "fixmedins_code": f"H{district}{serials[district]:05d}",
                "fixmedins_name": name,
                "tier": tier,
                "admdvs": district,
                "credentials": {
                    "paasid": "paas" + "".join(rng.choice(_HEX) for _ in range(12)),
                    "token": "".join(rng.choice(_HEX) for _ in range(32)),
                    "apikey": "".join(rng.choice(_ALNUM) for _ in range(40)),
                    "portal": "".join(portal_rng.choice(_ALNUM) for _ in range(40)),
                },
                "blacklisted": False,
            }
        )
    return out


def write_institutions(
    path: str | Path,
    count: int = DEFAULT_INSTITUTION_COUNT,
    seed: int = 1,
    *,
    admdvs: str = "110000",
    fmt: str = "jsonl",
) -> list[dict[str, Any]]:
    """Generate institutions into ``path`` atomically; return them."""
    check_format(fmt)
    records = generate_institutions(count, seed, admdvs=admdvs)
    with atomic_output(path) as out:
        _write(out, records, fmt)
    return records


def _write(out: Any, records: Iterable[dict[str, Any]], fmt: str) -> None:
    if fmt == "csv":
        out.write(csv_header(INSTITUTION_FIELDS))
        out.write(csv_rows(records, INSTITUTION_FIELDS))
    else:
        for record in records:
            out.write(jsonl_line(record))


def load_institutions(path: str | Path) -> list[dict[str, Any]]:
    """Read institutions from a JSONL file (as written by :func:`write_institutions`).

    Each line needs at least ``fixmedins_code`` ("H" + 11 digits), each code once; a bad line
    raises :class:`DataFileError` naming the file and line.
    """
    records = []
    seen: dict[str, int] = {}
    try:
        lines: Iterator[str] = iter(Path(path).read_text(encoding="utf-8-sig").splitlines())
    except OSError as exc:
        raise DataFileError(f"cannot read institutions file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise DataFileError(f"institutions file {path} is not UTF-8 text") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise DataFileError(f"{path}:{number}: not a JSON object (expected JSON lines)") from None
        code = record.get("fixmedins_code") if isinstance(record, dict) else None
        if not (isinstance(code, str) and len(code) == 12 and code[0] == "H" and code[1:].isdigit()):
            raise DataFileError(f"{path}:{number}: missing or malformed fixmedins_code (H + 11 digits)")
        if code in seen:  # the insurer refuses such a file too
            raise DataFileError(f"{path}:{number}: duplicate fixmedins_code {code} (first on line {seen[code]})")
        seen[code] = number
        records.append(record)
    if not records:
        raise DataFileError(f"institutions file {path} holds no institution")
    return records

