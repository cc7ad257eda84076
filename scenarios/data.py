"""A scenario's data: the persons, institutions and catalogue files (generated from the
scenario's settings or taken from its files), and choosing persons and items by selector.

Selectors are documented in docs/scenarios.md ("Choosing persons", "Choosing items"). Choosing
is deterministic: candidates are taken in file order; explicit visits get the first unused
match (or the ``nth``); arrivals draw from the matches with the scenario's seeded generator.
"""

from __future__ import annotations

import codecs
import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from mock_insurer.money import parse_decimal
from scenarios.errors import HarnessError, ScenarioError
from scenarios.model import DataSpec, LineSpec, Scenario
from simulator.catalogue import write_catalogue
from simulator.edge_cases import DEFAULT_EDGE_RATES
from simulator.enrolments import write_enrolled
from simulator.errors import SimulatorError
from simulator.institutions import generate_institutions, write_institutions
from simulator.persons import DEFAULT_ADMDVS
from simulator.population import write_population

__all__ = [
    "DEFAULT_PERSONS",
    "Certificate",
    "ChosenLine",
    "ScenarioData",
    "SelectionError",
    "certificate",
    "data_institutions",
    "prepare_data",
]

DEFAULT_PERSONS = 500
"""Persons generated when a scenario gives no population."""

_STATUS = {"1": "normal", "2": "suspended", "4": "terminated"}
_CATEGORY = {"A": "01", "B": "02", "C": "03"}
_NO_CAP = Decimal("999999.00")
DEFAULT_DIAGNOSIS = "J06.900"


class SelectionError(ScenarioError):
    """No person or item matches a selector: ``where`` is the path in the scenario file."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Certificate:
    """What the cashier enters at the window for one visit."""

    cert_type: str
    cert_no: str
    card_sn: str = ""
    psn_name: str = ""


@dataclass(frozen=True, slots=True)
class ChosenLine:
    code: str
    qty: Decimal
    days: Decimal | None
    record: Mapping[str, Any]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines data file; errors name the file (and the line)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HarnessError(f"cannot read {path}: {exc.strerror or exc}") from exc
    raw = raw.removeprefix(codecs.BOM_UTF8)  # what Windows editors write (the insurer skips it too)
    records = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise HarnessError(f"{path}:{number}: not a JSON line ({exc.msg})") from exc
    return records


def _digest(settings: Mapping[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(settings, option=orjson.OPT_SORT_KEYS,
                                       default=str)).hexdigest()[:12]


def _generated(directory: Path, kind: str, settings: Mapping[str, Any],
               make: Callable[[Path], object]) -> Path:
    """The file of ``kind`` for ``settings`` in ``directory``, generated once (the name
    carries a digest of the settings, so a changed scenario never reuses a stale file)."""
    path = directory / f"{kind}-{_digest(settings)}.jsonl"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        try:
            make(path)
        except SimulatorError as exc:
            raise SelectionError(f"data.{kind}", str(exc)) from exc
    return path


@dataclass
class ScenarioData:
    """The files and records of a scenario, and the choice of persons and items."""

    population_file: Path
    institutions_file: Path
    catalogue_file: Path                      # the HIS's (its item table)
    insurer_catalogue_file: Path              # the insurer's (with withdrawn/refiled items)
    persons: list[dict[str, Any]]
    institutions: list[dict[str, Any]]
    institution: dict[str, Any]
    items: dict[str, dict[str, Any]]          # national items by med_list_codg
    mappings: list[dict[str, Any]]            # the HIS institution's mapping records
    diagnoses: list[str]
    changed: dict[str, str] = field(default_factory=dict)  # hospital code -> withdrawn|refiled
    admdvs: str = DEFAULT_ADMDVS
    used: set[str] = field(default_factory=set)

    @property
    def code(self) -> str:
        return str(self.institution["fixmedins_code"])

    # -- persons -------------------------------------------------------------------------
    def person_matches(self, person: Mapping[str, Any], selector: Mapping[str, Any],
                       day: date) -> bool:
        main = (person.get("insuinfo") or [{}])[0]
        status = _STATUS.get(str(main.get("psn_insu_stas")), "other")
        if status != selector.get("insurance", "normal"):
            return False
        if bool(person.get("deceased")) != selector.get("deceased", False):
            return False
        if bool(person.get("blacklisted")) != selector.get("blacklisted", False):
            return False
        checks: list[bool] = []
        if "psn_no" in selector:
            checks.append(person["psn_no"] == selector["psn_no"])
        if "edge_case" in selector:
            checks.append(selector["edge_case"] in (person.get("edge_cases") or []))
        if "card" in selector:
            cards = person.get("cards") or []
            checks.append(len(cards) > 1 and cards[0].get("status") == selector["card"])
        if "insutype" in selector:
            wanted = selector["insutype"]
            checks.append(main.get("insutype") in ([wanted] if isinstance(wanted, str) else wanted))
        if "gender" in selector:
            checks.append(person.get("gend") == selector["gender"])
        if "age" in selector:
            born = date.fromisoformat(person["brdy"])
            age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
            bounds = selector["age"]
            checks.append(bounds.get("min", 0) <= age <= bounds.get("max", 200))
        if "deductible_used" in selector:
            used = sum((parse_decimal(row.get("dedc_used", "0")) for row in person.get("cum") or []
                        if int(row.get("year", 0)) == day.year), Decimal(0))
            bounds = selector["deductible_used"]
            checks.append(Decimal(str(bounds.get("min", 0))) <= used
                          <= Decimal(str(bounds.get("max", 10**9))))
        if "balance" in selector:
            positive = parse_decimal(person.get("balc") or "0") > 0
            checks.append(positive == (selector["balance"] == "positive"))
        if "out_of_area" in selector:
            away = str(person.get("insuplc_admdvs", ""))[:2] != self.admdvs[:2]
            checks.append(away == selector["out_of_area"])
        if "insured_in" in selector:  # the insured place starts with this admdvs prefix
            place = str(person.get("insuplc_admdvs", ""))
            checks.append(place.startswith(str(selector["insured_in"])))
        if "enrolled" in selector:  # a supplementary payer (simulator/enrolments.py)
            checks.append(selector["enrolled"] in (person.get("enrolments") or []))
        if "maf_eligible" in selector:
            checks.append(bool(person.get("maf_eligible")) == selector["maf_eligible"])
        if "civil_servant" in selector:
            flagged = str(main.get("cvlserv_flag") or "0") == "1"
            checks.append(flagged == selector["civil_servant"])
        return all(checks)

    def candidates(self, selector: Mapping[str, Any], day: date) -> list[dict[str, Any]]:
        return [p for p in self.persons if self.person_matches(p, selector, day)]

    def choose_person(self, selector: Mapping[str, Any], day: date, where: str) -> dict[str, Any]:
        found = [p for p in self.candidates(selector, day) if p["psn_no"] not in self.used]
        nth = int(selector.get("nth", 0))
        if len(found) <= nth and "psn_no" in selector:
            raise SelectionError(where, self._psn_no_problem(selector, day))
        if len(found) <= nth:
            shown = {k: v for k, v in selector.items() if k != "nth"} or "{}"
            raise SelectionError(where, f"no {'further ' if nth else ''}person of the "
                                        f"{len(self.persons)} in the population matches {shown} "
                                        "(and is not already chosen by another visit); "
                                        "generate more persons or raise an edge rate")
        chosen = found[nth]
        self.used.add(chosen["psn_no"])
        return chosen

    def _psn_no_problem(self, selector: Mapping[str, Any], day: date) -> str:
        """Why the person named by ``psn_no`` cannot be chosen: not in the population, already
        chosen, or not what the other keys ask."""
        psn_no = selector["psn_no"]
        person = next((p for p in self.persons if p["psn_no"] == psn_no), None)
        if person is None:
            return (f"no person with psn_no {psn_no} in the population ({len(self.persons)} "
                    "persons, generated from data.population or read from its file): take a "
                    "psn_no from the report's data/population-*.jsonl, or choose the person by "
                    "other keys")
        if psn_no in self.used:
            return (f"person {psn_no} is already chosen by another visit (to see the same "
                    "person again: same_as: VISIT_ID)")
        if int(selector.get("nth", 0)):
            return f"psn_no {psn_no} names one person: leave out nth"
        others = {k: v for k, v in selector.items() if k not in ("psn_no", "nth")}
        defaults = "" if others else (" (a person is chosen insurance: normal, not deceased "
                                      "nor blacklisted unless the selector says otherwise)")
        return f"person {psn_no} does not match {others or '{}'}{defaults}"

    # -- items ---------------------------------------------------------------------------
    def item_matches(self, mapping: Mapping[str, Any], selector: Mapping[str, Any]) -> bool:
        if "code" in selector:
            return bool(mapping["medins_list_codg"] == selector["code"])
        if self.changed.get(mapping["medins_list_codg"], "ok") != selector.get("mapping", "ok"):
            return False
        item = self.items.get(str(mapping.get("intended_med_list_codg")), {})
        if not item:
            return False
        limited = selector.get("limited")
        limits = {"gender": item.get("gend_limit") is not None,
                  "age": item.get("age_min") is not None or item.get("age_max") is not None,
                  "quantity": item.get("max_cnt_per_rx") is not None,
                  "days": item.get("max_days_per_rx") is not None,
                  "indication": bool(item.get("indications"))}
        if limited is None and (limits["gender"] or limits["age"] or limits["indication"]):
            return False
        if limited == "none" and any(limits.values()):
            return False
        if limited not in (None, "none") and not limits[limited]:
            return False
        if "category" in selector and item.get("chrgitm_lv") != _CATEGORY[selector["category"]]:
            return False
        if "list_type" in selector and item.get("list_type") != selector["list_type"]:
            return False
        if "name_contains" in selector and selector["name_contains"] not in str(
                item.get("med_list_name", "")):
            return False
        price = parse_decimal(mapping["hosp_pric"])
        if "over_cap" in selector:
            cap = parse_decimal(item.get("pric_uplmt_amt") or _NO_CAP)
            if (cap != _NO_CAP and price > cap) != selector["over_cap"]:
                return False
        bounds = selector.get("price") or {}
        return (Decimal(str(bounds.get("min", 0))) <= price
                <= Decimal(str(bounds.get("max", 10**9))))

    def item_candidates(self, selector: str | Mapping[str, Any]) -> list[dict[str, Any]]:
        wanted = {"code": selector} if isinstance(selector, str) else selector
        return [m for m in self.mappings if self.item_matches(m, wanted)]

    def choose_line(self, line: LineSpec, where: str, rng: random.Random | None = None) -> ChosenLine:
        found = self.item_candidates(line.item)
        if not found:
            raise SelectionError(f"{where}.item", f"no item of institution {self.code} matches "
                                                  f"{line.item}")
        if rng is None:
            nth = 0 if isinstance(line.item, str) else int(line.item.get("nth", 0))
            if nth >= len(found):
                raise SelectionError(f"{where}.item.nth", f"only {len(found)} items match")
            mapping = found[nth]
        else:
            mapping = rng.choice(found)
        item = self.items.get(str(mapping.get("intended_med_list_codg")), {})
        qty = self._amount(line.qty, item, "max_cnt_per_rx", f"{where}.qty", Decimal(1))
        assert qty is not None  # a default is given
        return ChosenLine(str(mapping["medins_list_codg"]), qty,
                          self._amount(line.days, item, "max_days_per_rx", f"{where}.days", None),
                          {**item, **mapping})

    @staticmethod
    def _amount(value: Any, item: Mapping[str, Any], limit: str, where: str,
                default: Decimal | None) -> Decimal | None:
        if value is None:
            return default
        if value == "over_limit":
            if item.get(limit) is None:
                raise SelectionError(where, f"over_limit: {item.get('med_list_name')} has no "
                                            f"{limit}; choose an item with limited: "
                                            f"{'quantity' if 'cnt' in limit else 'days'}")
            return Decimal(str(item[limit])) + 1
        return Decimal(value)

    def diagnosis(self) -> str:
        return DEFAULT_DIAGNOSIS if DEFAULT_DIAGNOSIS in self.diagnoses else self.diagnoses[0]


def certificate(person: Mapping[str, Any], kind: str, typed: Mapping[str, str],
                where: str) -> Certificate:
    """What is entered at the window: the person's typed form (docs/generator.md, "Identity
    edge cases") for ``kind`` (``card``, ``old_card``, ``id``, ``ecert``), with ``typed``'s
    overrides."""
    form = person.get("typed") or {}
    cards = person.get("cards") or []
    if kind in ("card", "old_card"):
        if kind == "old_card" and len(cards) < 2:
            raise SelectionError(where, f"person {person['psn_no']} has no old card "
                                        "(choose one with card: lost or card: replaced)")
        card = cards[0] if kind == "old_card" else cards[-1]
        number = card["card_no"] if kind == "old_card" else form.get("card_no", card["card_no"])
        return Certificate("03", typed.get("cert_no", number), card["card_sn"],
                           typed.get("psn_name", ""))
    if kind == "id":
        return Certificate("02", typed.get("cert_no", form.get("certno", person["certno"])),
                           psn_name=typed.get("psn_name", form.get("psn_name", person["psn_name"])))
    return Certificate("01", typed.get("cert_no", person["ec_token"]),
                       psn_name=typed.get("psn_name", ""))


def _choose_institution(records: Sequence[dict[str, Any]], mapped: set[str],
                        wanted: Mapping[str, Any]) -> dict[str, Any]:
    for record in records:
        code = record["fixmedins_code"]
        if code not in mapped or record.get("blacklisted"):
            continue
        if "code" in wanted and code != wanted["code"]:
            continue
        if "tier" in wanted and record.get("tier") != wanted["tier"]:
            continue
        return record
    raise SelectionError("data.institution", f"no institution with item mappings matches "
                                             f"{dict(wanted)}")


def _selects_enrolled(scenario: Scenario) -> bool:
    """Whether a visit or an arrival group chooses persons by enrolment (``enrolled``)."""
    return (any("enrolled" in visit.person for visit in scenario.visits)
            or any("enrolled" in group.persons for group in scenario.arrivals))


def data_institutions(spec: DataSpec, seed: int) -> tuple[list[dict[str, Any]], str | None]:
    """The institutions of a scenario's (or a drill's) data ``spec`` with its ``seed``, as
    :func:`prepare_data` would take them (the file named, or generated in memory from the same
    settings: nothing is written), and the one its HIS serves — ``None`` when that depends on
    a catalogue file the data names (a generated catalogue maps every institution's items)."""
    inst = spec.institutions
    if "file" in inst:
        records = _read_jsonl(Path(inst["file"]))
    else:
        try:
            records = generate_institutions(inst.get("count", 6), inst.get("seed", seed))
        except SimulatorError as exc:
            raise SelectionError("data.institutions", str(exc)) from exc
    if "file" in spec.catalogue:
        return records, None
    chosen = _choose_institution(records, {str(r.get("fixmedins_code")) for r in records},
                                 spec.institution or {"tier": "3"})
    return records, str(chosen["fixmedins_code"])


def prepare_data(scenario: Scenario, directory: Path) -> ScenarioData:
    """Generate (or take) the scenario's files into ``directory`` and read them."""
    spec: DataSpec = scenario.data
    seed = scenario.seed
    pop = spec.population
    if "file" in pop:
        population_file = Path(pop["file"])
    else:
        settings = {"count": pop.get("count", DEFAULT_PERSONS), "seed": pop.get("seed", seed),
                    "ref_date": pop.get("ref_date", scenario.date.isoformat()),
                    "edge_rates": dict(pop.get("edge_rates", {}))}
        population_file = _generated(directory, "population", settings, lambda path: write_population(
            path, settings["count"], settings["seed"], ref_date=date.fromisoformat(settings["ref_date"]),
            edge_rates=_edge_rates(settings["edge_rates"]), workers=1))
    if "file" not in pop and _selects_enrolled(scenario):  # the enrolment post-pass
        plain, enrol_seed = population_file, int(settings["seed"])
        population_file = _generated(directory, "population", {**settings, "enrolled": True},
                                     lambda path: write_enrolled(plain, path, enrol_seed))
    inst = spec.institutions
    if "file" in inst:
        institutions_file = Path(inst["file"])
    else:
        inst_settings = {"count": inst.get("count", 6), "seed": inst.get("seed", seed)}
        institutions_file = _generated(directory, "institutions", inst_settings,
                                       lambda path: write_institutions(path, **inst_settings))
    institutions = _read_jsonl(institutions_file)
    cat = spec.catalogue
    if "file" in cat:
        catalogue_file = Path(cat["file"])
    else:
        cat_settings = {"seed": cat.get("seed", seed), **{k: cat[k] for k in (
            "unmapped_rate", "wrong_rate", "over_cap_rate") if k in cat},
                        "institutions": _digest({"i": institutions})}
        catalogue_file = _generated(directory, "catalogue", cat_settings, lambda path: write_catalogue(
            path, cat_settings["seed"], institutions, **{k: v for k, v in cat_settings.items()
                                                         if k.endswith("_rate")}))
    catalogue = _read_jsonl(catalogue_file)
    mapped = {r["fixmedins_code"] for r in catalogue if r.get("kind") == "mapping"}
    institution = _choose_institution(institutions, mapped, spec.institution or {"tier": "3"})
    code = institution["fixmedins_code"]
    data = ScenarioData(
        population_file=population_file, institutions_file=institutions_file,
        catalogue_file=catalogue_file, insurer_catalogue_file=catalogue_file,
        persons=_read_jsonl(population_file), institutions=institutions,
        institution=institution,
        items={r["med_list_codg"]: r for r in catalogue if r.get("kind") == "item"},
        mappings=[r for r in catalogue if r.get("kind") == "mapping"
                  and r.get("fixmedins_code") == code],
        diagnoses=[r["diag_code"] for r in catalogue if r.get("kind") == "diagnosis"])
    withdrawn, refiled = int(cat.get("withdrawn", 0)), int(cat.get("refiled", 0))
    if withdrawn or refiled:
        _change_catalogue(data, catalogue, directory, withdrawn, refiled,
                          random.Random(f"{seed}:catalogue-changes"))
    return data


def _change_catalogue(data: ScenarioData, catalogue: list[dict[str, Any]], directory: Path,
                      withdrawn: int, refiled: int, rng: random.Random) -> None:
    """The insurer's catalogue after a change the HIS has not followed: ``withdrawn`` items of
    the HIS's institution taken off the list (their item records gone), ``refiled`` items
    whose filed mapping now names another national code of the same list type."""
    plain = data.item_candidates({})
    if len(plain) < withdrawn + refiled:
        raise SelectionError("data.catalogue", f"only {len(plain)} plain items to change")
    picked = rng.sample(plain, withdrawn + refiled)
    gone = {str(m["intended_med_list_codg"]) for m in picked[:withdrawn]}
    moved = {str(m["medins_list_codg"]) for m in picked[withdrawn:]}
    others = [code for code in data.items if code not in gone]
    records = []
    for record in catalogue:
        kind = record.get("kind")
        if kind == "item" and record["med_list_codg"] in gone:
            continue
        if kind == "mapping" and record.get("intended_med_list_codg") in gone:
            continue
        if (kind == "mapping" and record.get("fixmedins_code") == data.code
                and record["medins_list_codg"] in moved):
            same = [c for c in others if c != record["intended_med_list_codg"]
                    and data.items[c]["list_type"] == data.items[str(
                        record["intended_med_list_codg"])]["list_type"]] or others
            target = rng.choice(same)
            record = {**record, "med_list_codg": target, "intended_med_list_codg": target}
        records.append(record)
    path = directory / f"insurer-catalogue-{_digest({'g': sorted(gone), 'm': sorted(moved)})}.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    data.insurer_catalogue_file = path
    data.changed = {**{str(m["medins_list_codg"]): "withdrawn" for m in picked[:withdrawn]},
                    **{code: "refiled" for code in moved}}


def _edge_rates(overrides: Mapping[str, float]) -> dict[str, float]:
    return {**DEFAULT_EDGE_RATES, **overrides}
