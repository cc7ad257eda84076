"""Worked cases: a readable YAML story of bills and settlements with the expected amounts,
run through the engine exactly as the handlers run it (check each line, split each row,
decompose the settlement, move the counters). The format is in ``cases/README.md``.

:func:`run_case_file` returns every mismatch as a line of text (outcomes are data); the tests
in ``tests/mock_insurer/policy`` run every packaged case and fail on any mismatch, and
``cardsettle policy cases FILE...`` runs a region's own cases against its own profile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from mock_insurer.money import ZERO, MoneyParseError, parse_decimal, round_money
from mock_insurer.policy.catalogue import CatalogueEntry
from mock_insurer.policy.checks import LineCheck, PersonFacts, check_line
from mock_insurer.policy.codes import INSTITUTION_TIERS
from mock_insurer.policy.dated import as_date
from mock_insurer.policy.decomposition import (
    COUNTERS,
    Decomposition,
    SettlementFacts,
    YearToDate,
    decompose,
)
from mock_insurer.policy.documents import read_yaml
from mock_insurer.policy.errors import CaseFileError, PolicyError
from mock_insurer.policy.parameters import Profile, load_profile, profile_document
from mock_insurer.policy.rows import FeeLine, RowSplit, split_row

__all__ = ["CaseResult", "SettlementOutcome", "packaged_cases", "run_case_file"]

_ITEM_DEFAULTS: dict[str, Any] = {
    "med_chrgitm_type": "09", "pric_uplmt_amt": "999999.00", "lmt_used_flag": "0",
    "max_cnt_per_rx": None, "max_days_per_rx": None, "indications": [], "gend_limit": None,
    "age_min": None, "age_max": None,
}
_FACT_DEFAULTS: dict[str, Any] = {
    "retired": False, "cvlserv_flag": "0", "maf_eligible": False, "med_type": "11",
    "acct_used_flag": True, "balc": "0.00", "registration_payment_due": False,
    "enrolments": [],
}
_EXPECT_KEYS = {"refused", "out_of_scope", "rows", "setlinfo", "fund_rows", "counters_after"}


@dataclass(frozen=True, slots=True)
class SettlementOutcome:
    """What the engine made of one settlement of a case."""

    name: str
    day: dt.date
    insutype: str
    checks: tuple[LineCheck, ...]
    rows: tuple[RowSplit, ...]
    decomposition: Decomposition
    ytd_after: YearToDate


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A case's outcomes and every difference from its expectations (empty = it holds), and
    the profile it ran with (:attr:`Profile.label`)."""

    path: str
    title: str
    outcomes: tuple[SettlementOutcome, ...]
    mismatches: tuple[str, ...]
    profile: str = ""

    @property
    def ok(self) -> bool:
        return not self.mismatches


def packaged_cases() -> list[Path]:
    """The worked cases shipped in ``mock_insurer/policy/cases/``."""
    folder = Path(str(resources.files("mock_insurer.policy") / "cases"))
    return sorted(folder.glob("*.yaml"))


def run_case_file(path: str | Path, profile: str | None = None) -> CaseResult:
    """Run one case file. ``profile`` (a packaged profile's name or a profile file) replaces
    the case's own ``profile:``; its ``profile_changes`` still apply.

    Raises :class:`CaseFileError`, one line naming the file (and the settlement, when it is
    one settlement that cannot run), when the case is malformed or its profile is refused."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFileError(f"{path}: cannot read the case: {exc}") from None
    doc = read_yaml(text, str(path), CaseFileError)
    try:
        return _Case(path, doc, profile).run()
    except CaseFileError:
        raise
    except (PolicyError, MoneyParseError, KeyError, TypeError, ValueError) as exc:
        raise CaseFileError(f"{path}: {_why(exc)}") from None


def _why(exc: Exception) -> str:
    """An error of the engine or of a case's value, as a case file's message gives it."""
    if isinstance(exc, PolicyError):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return f"{type(exc).__name__}: {exc}"


class _Case:
    def __init__(self, path: Path, doc: Any, profile: str | None = None) -> None:
        if not isinstance(doc, Mapping):
            raise CaseFileError(f"{path}: expected a mapping at the top level")
        self.path = path
        self.doc = doc
        self.title = str(_need(doc, "title", path))
        self.profile = self._profile(profile)
        self.catalogue = {}
        for raw in _need(doc, "catalogue", path):
            record = {**_ITEM_DEFAULTS,
                      "selfpay_prop": "1" if str(raw.get("chrgitm_lv")) == "03" else "0",
                      **raw}
            entry = CatalogueEntry.from_record(record)
            self.catalogue[entry.med_list_codg] = entry
        person = {"gend": "1", "age": 40, "psn_no": "case", **doc.get("person", {})}
        self.person = PersonFacts(str(person["gend"]), int(person["age"]),
                                  str(person["psn_no"]))
        self.mismatches: list[str] = []

    def _profile(self, given: str | None) -> Profile:
        if given is not None:
            name = given
        else:
            name = str(self.doc.get("profile", "beijing"))
            if name.endswith((".yaml", ".yml")):
                name = str(self.path.parent / name)
        changes = self.doc.get("profile_changes") or {}
        if not changes:
            return load_profile(name)
        data, source = profile_document(name)
        for dotted, value in changes.items():
            node = data
            keys = str(dotted).split(".")
            for key in keys[:-1]:
                node = node[key]
            if keys[-1] not in node:
                raise CaseFileError(f"{self.path}: profile_changes: {dotted} is not in {source}")
            node[keys[-1]] = value
        source = f"{source} with the profile_changes of {self.path.name}"
        return Profile.from_mapping(data, source=source)

    def run(self) -> CaseResult:
        outcomes: list[SettlementOutcome] = []
        for index, raw in enumerate(_need(self.doc, "settlements", self.path)):
            previous = outcomes[-1] if outcomes else None
            if not isinstance(raw, Mapping):
                raise CaseFileError(f"{self.path}: settlements[{index}]: expected a mapping")
            name = str(raw.get("name", f"settlement {index + 1}"))
            try:
                outcomes.append(self._settle(raw, name, previous))
            except CaseFileError:
                raise
            except (PolicyError, MoneyParseError, KeyError, TypeError, ValueError) as exc:
                raise CaseFileError(f"{self.path}: {name}: {_why(exc)}") from None
        return CaseResult(str(self.path), self.title, tuple(outcomes), tuple(self.mismatches),
                          self.profile.label)

    def _settle(self, raw: Mapping[str, Any], name: str,
                previous: SettlementOutcome | None) -> SettlementOutcome:
        day = self._day(raw, name)
        given = {**_FACT_DEFAULTS, **self.doc.get("facts", {}), **raw.get("facts", {})}
        tier = str(_need(given, "tier", self.path, where=f"{name}: facts"))
        if tier not in INSTITUTION_TIERS:
            raise CaseFileError(f"{self.path}: {name}: facts.tier: {tier!r} is not an "
                                f"institution tier ({', '.join(INSTITUTION_TIERS)})")
        if previous is not None and "balc" not in raw.get("facts", {}):
            given["balc"] = previous.decomposition.balc
        ytd = self._ytd(raw, name, day, str(_need(given, "insutype", self.path,
                                                   where=f"{name}: facts")), previous)
        def flag(key: str) -> bool:
            return _flag(given, key, self.path)

        facts = SettlementFacts(
            setl_date=day, insutype=str(given["insutype"]),
            psn_type=str(given.get("psn_type", "")), retired=flag("retired"),
            cvlserv_flag=str(given["cvlserv_flag"]), maf_eligible=flag("maf_eligible"),
            tier=tier, med_type=str(given["med_type"]),
            acct_used_flag=flag("acct_used_flag"), balc=_money(given["balc"]),
            registration_payment_due=flag("registration_payment_due"), ytd=ytd,
            enrolments=_enrolments(given, self.path))
        params = self.profile.at(day)
        diagnoses = [str(d) for d in raw.get("diagnoses", [])]
        supplied = {str(k): parse_decimal(v) for k, v in raw.get("supplied_days", {}).items()}
        checks: list[LineCheck] = []
        rows: list[RowSplit] = []
        for line_raw in _need(raw, "bill", self.path, where=name):
            line = FeeLine(
                feedetl_sn=str(line_raw["feedetl_sn"]),
                med_list_codg=str(line_raw["med_list_codg"]),
                cnt=parse_decimal(line_raw["cnt"]), pric=parse_decimal(line_raw["pric"]),
                prd_days=None if line_raw.get("prd_days") is None
                else parse_decimal(line_raw["prd_days"]),
                hosp_appr_flag=str(line_raw.get("hosp_appr_flag", "0")))
            item = self.catalogue.get(line.med_list_codg)
            if item is None:
                raise CaseFileError(f"{self.path}: {name}: bill line {line.feedetl_sn} names "
                                    f"{line.med_list_codg}, which is not in the catalogue")
            check = check_line(line, item, self.person, diagnoses,
                               supplied.get(line.med_list_codg, ZERO), params)
            checks.append(check)
            if check.refusal is None:
                rows.append(split_row(line, item, in_scope=check.in_scope, memo=check.memo))
        decomposition = decompose(rows, facts, params)
        outcome = SettlementOutcome(name, day, facts.insutype, tuple(checks), tuple(rows),
                                    decomposition, ytd.plus(decomposition.counter_deltas))
        self._compare(name, raw.get("expect") or {}, outcome)
        return outcome

    def _day(self, raw: Mapping[str, Any], name: str) -> dt.date:
        """The settlement's business date (a real day, written YYYY-MM-DD)."""
        value = _need(raw, "date", self.path, where=name)
        try:
            day = as_date(value)
        except ValueError as exc:
            raise CaseFileError(f"{self.path}: {name}: date: {value!r} is not a real date "
                                f"({exc})") from None
        if day is None:
            raise CaseFileError(f"{self.path}: {name}: date: {value!r} is not a date "
                                f"YYYY-MM-DD")
        return day

    def _ytd(self, raw: Mapping[str, Any], name: str, day: dt.date, insutype: str,
             previous: SettlementOutcome | None) -> YearToDate:
        if "ytd" in raw:
            unknown = set(raw["ytd"]) - set(COUNTERS)
            if unknown:
                raise CaseFileError(f"{self.path}: {name}: ytd: unknown counters {sorted(unknown)} "
                                    f"(known: {', '.join(COUNTERS)})")
            return YearToDate.from_mapping({k: _money(v) for k, v in raw["ytd"].items()})
        if previous is None:
            return YearToDate()
        # carried over within the same calendar year and insurance type, else a new year
        same = previous.day.year == day.year and previous.insutype == insutype
        return previous.ytd_after if same else YearToDate()

    def _compare(self, name: str, expect: Mapping[str, Any], got: SettlementOutcome) -> None:
        unknown = set(expect) - _EXPECT_KEYS
        if unknown:
            raise CaseFileError(f"{self.path}: {name}: expect: unknown keys {sorted(unknown)} "
                                f"(allowed: {', '.join(sorted(_EXPECT_KEYS))})")
        where = name
        refused = {c.feedetl_sn: c.refusal for c in got.checks if c.refusal}
        if "refused" in expect:
            want = {str(k): str(v) for k, v in expect["refused"].items()}
            if want != refused:
                self._mismatch(f"{where}: refused lines: expected {want}, got {refused}")
        elif refused:
            self._mismatch(f"{where}: unexpected refusals {refused}")
        if "out_of_scope" in expect:
            want_out = sorted(str(s) for s in expect["out_of_scope"])
            out = sorted(c.feedetl_sn for c in got.checks if c.refusal is None and
                         not c.in_scope)
            if want_out != out:
                self._mismatch(f"{where}: out-of-scope lines: expected {want_out}, got {out}")
        by_sn = {r.feedetl_sn: r for r in got.rows}
        for sn, fields in (expect.get("rows") or {}).items():
            row = by_sn.get(str(sn))
            if row is None:
                self._mismatch(f"{where}: row {sn}: not settled")
                continue
            self._amounts(f"{where}: row {sn}", fields, partial(getattr, row))
        d = got.decomposition
        self._amounts(f"{where}: setlinfo", expect.get("setlinfo") or {},
                      lambda k: d.as_setlinfo()[k])
        if "fund_rows" in expect:
            want_rows = {str(k): parse_decimal(v) for k, v in expect["fund_rows"].items()}
            have = {r.fund_pay_type: r.fund_payamt for r in d.fund_rows}
            if want_rows != have:
                self._mismatch(f"{where}: fund rows: expected {_show(want_rows)}, got "
                               f"{_show(have)}")
        after = got.ytd_after.as_mapping()
        self._amounts(f"{where}: counters after", expect.get("counters_after") or {},
                      lambda k: after[k])

    def _mismatch(self, text: str) -> None:
        """A difference from the expectations, as a line naming the file once."""
        self.mismatches.append(f"{self.path.name}: {text}")

    def _amounts(self, where: str, fields: Mapping[str, Any],
                 actual: Callable[[str], object]) -> None:
        for key, want in fields.items():
            try:
                have = actual(str(key))
            except (KeyError, AttributeError):
                raise CaseFileError(f"{self.path}: {where}: no field {key}") from None
            if isinstance(have, Decimal):
                wanted = parse_decimal(want)
                if wanted != have:  # shown to the places of the engine's amount (383.80)
                    shown = wanted.quantize(have) if wanted == wanted.quantize(have) else wanted
                    self._mismatch(f"{where}.{key}: expected {shown}, got {have}")
            elif str(want) != str(have):
                self._mismatch(f"{where}.{key}: expected {want!r}, got {have!r}")


def _need(doc: Mapping[str, Any], key: str, path: Path, *, where: str = "") -> Any:
    if key not in doc:
        raise CaseFileError(f"{path}: {where + ': ' if where else ''}'{key}' is missing")
    return doc[key]


def _flag(given: Mapping[str, Any], key: str, path: Path) -> bool:
    value = given[key]
    if not isinstance(value, bool):
        raise CaseFileError(f"{path}: facts.{key}: expected true or false, got {value!r}")
    return value


def _enrolments(given: Mapping[str, Any], path: Path) -> frozenset[str]:
    value = given["enrolments"]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CaseFileError(f"{path}: facts.enrolments: expected a list of payer ids, got "
                            f"{value!r}")
    return frozenset(value)


def _money(value: object) -> Decimal:
    """Money given in a case file (a YAML number or string), to the cent."""
    return round_money(parse_decimal(value))


def _show(amounts: Mapping[str, Decimal]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(amounts.items())) + "}"

