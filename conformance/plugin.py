"""The conformance suite as a pytest plugin (registered as ``cardsettle_conformance``).

Tests in ``conformance/suite`` are marked ``@pytest.mark.requirement("OUT-001", ...)`` and use
the ``cert`` fixture: ``cert.run("lost-answer-2207")`` runs a scenario against the HIS under
certification (memoised for the session), ``cert.fail(text, evidence)`` fails the test with its
evidence. Outcomes: **pass**; **fail** — an assertion (the HIS is wrong); **error** — anything
else (the harness or the environment broke); **skip** with its reason. The plugin stays out of
the way of tests that carry no ``requirement`` marker.

Options: ``--his-url``, ``--insurer-url``, ``--admin-token``, ``--profile``, ``--only GROUP``
(repeatable), ``--his-mutant NAME`` (the embedded reference HIS with one defect), and
``--cert-report DIR`` (report.json and report.html; junit.xml comes from pytest's own
``--junitxml``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from conformance.catalogue import group_of, requirements
from conformance.target import ScenarioRun, Target, profile

__all__ = ["Cert", "HisDriverError", "TestRecord", "driver_failures"]

_RECORDS = pytest.StashKey[list["TestRecord"]]()
_TARGET = pytest.StashKey["Target"]()


@dataclass
class TestRecord:
    nodeid: str
    name: str
    requirements: tuple[str, ...]
    outcome: str = "pass"
    message: str = ""
    evidence: list[Any] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Cert:
    """What a conformance test uses."""

    def __init__(self, target: Target, record: TestRecord) -> None:
        self.target = target
        self.record = record
        self.profile = target.profile

    def run(self, name: str, *, auth: str = "none") -> ScenarioRun:
        """Run scenario ``name`` (once per session). A run the harness could not drive — the
        HIS's driver API answered something that is not an answer, or nothing — raises
        :class:`HisDriverError` (the test is an error, not judged), with every visit and
        day-end it stopped as evidence."""
        run = self.target.run(name, auth=auth)
        if run.name not in self.record.scenarios:
            self.record.scenarios.append(run.name)
        broken = driver_failures(run)
        if broken:
            self.record.evidence.extend(broken)
            first = broken[0]
            log = run.directory / "his.log"
            if str(first["error"]).startswith(("GET ", "POST ")):  # no answer, or not one
                what = f"the HIS's driver API gave no usable answer — {first['error']}"
                hint = "fix the driver API, docs/his-driver.md"
            else:  # a 4xx: the HIS took the harness's request for bad input
                what = (f"the HIS answered the harness's request as bad input — "
                        f"{first['error']}")
                hint = ("a HIS given by --his-url must serve this scenario's data (its "
                        f"catalogue: {run.directory / 'data'})" if self.target.his_url
                        else "the request is the driver API's (docs/his-driver.md)")
            raise HisDriverError(
                f"scenario {run.name}, {first['where']}: {what} ({len(broken)} step(s) in "
                f"all; not judged: {hint}" + (f"; the HIS's output: {log})" if log.exists()
                                              else ")"))
        return run

    def note(self, *evidence: Any) -> None:
        """Keep evidence (shown with a pass too)."""
        self.record.evidence.extend(evidence)

    def fail(self, text: str, evidence: list[Any] | None = None) -> NoReturn:
        """The HIS is wrong: fail with ``text`` and the evidence."""
        self.record.evidence.extend(evidence or [])
        raise AssertionError(text)

    def require(self, run: ScenarioRun, *checks: str,
                visits: Collection[str] | None = None) -> None:
        """Fail unless every named check of the scenario run passed; a failed check's
        evidence becomes this test's. ``visits``: judge only the evidence about these
        scenario visits (and evidence that names no visit) — a requirement about whole
        refunds is not failed by what went wrong with a partial one."""
        for name in checks:
            check = run.check(name)
            if check is None or check.passed:
                continue
            evidence = [e for e in check.evidence if visits is None or not isinstance(e, dict)
                        or e.get("visit") is None or e.get("visit") in visits]
            if visits is not None and check.evidence and not evidence:
                continue  # every problem is about other visits
            summary = check.summary if len(evidence) == len(check.evidence) else (
                f"{check.summary} ({len(evidence)} of them about the visits judged here)")
            self.fail(f"{run.name}: {summary}",
                      [{"scenario": run.name, "check": name, **e} if isinstance(e, dict)
                       else e for e in evidence])


class HisDriverError(Exception):
    """The HIS's driver API gave the harness no usable answer during a scenario (not JSON, a
    field missing or of the wrong type, HTTP 5xx, no answer in time): what the requirement is
    about could not be observed, so the test is an error (docs/conformance.md)."""


def driver_failures(run: ScenarioRun) -> list[dict[str, Any]]:
    """Where the harness could not drive the HIS in ``run``: each visit that stopped on a
    driver error, each day-end that got no answer, each read of the HIS that failed (the
    scenario's ``harness`` check)."""
    found: list[dict[str, Any]] = []
    for visit in run.result.visits:
        if visit.outcome == "error" and visit.error:
            step = next((s for s in reversed(visit.steps) if s.error), None)
            # a visit the harness stopped before its next step (a HIS given up on): where it was
            at = (step.step if step else f"after {visit.steps[-1].step}" if visit.steps
                  else "not run")
            found.append({"scenario": run.name, "where": f"visit {visit.id} ({at})",
                          "visit": visit.id, "error": step.error if step else visit.error})
    for day in run.result.day_ends:
        error = day.body.get("error") if isinstance(day.body, dict) else None
        if error:
            found.append({"scenario": run.name, "where": f"day-end {day.date}",
                          "error": str(error)})
    for check in run.result.checks:
        if check.name == "harness" and not check.passed:
            found.append({"scenario": run.name, "where": "reading the HIS",
                          "error": check.summary})
    return found


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cardsettle conformance")
    group.addoption("--his-url", help="the HIS under certification (driver API); default: the "
                                      "embedded reference HIS")
    group.addoption("--insurer-url", help="a running mock insurer; default: embedded")
    group.addoption("--admin-token", default=os.environ.get("CARDSETTLE_ADMIN_TOKEN"),
                    help="the insurer's admin token (with --insurer-url)")
    group.addoption("--profile", default="default", help="certification profile")
    group.addoption("--only", action="append", default=[], metavar="GROUP",
                    help="only this requirement group (MSG, ID, SPLIT, REJ, OUT, REF, DAY, WIN, "
                         "SEC, RULE, DECL); repeatable")
    group.addoption("--his-mutant", help="certify a deliberately broken variant of the "
                                         "reference HIS (conformance/mutants)")
    group.addoption("--his-command", help="start the HIS under certification per scenario from "
                                          "this command template (scenarios/his_process.py)")
    group.addoption("--cert-report", help="write report.json and report.html here")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the requirement IDs a conformance "
                                       "test verifies")
    config.stash[_RECORDS] = []


def _ids(item: pytest.Item) -> tuple[str, ...]:
    marker = item.get_closest_marker("requirement")
    return tuple(marker.args) if marker is not None else ()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    only = {group.upper() for group in config.getoption("--only")}
    known = requirements()
    for item in items:
        for rid in _ids(item):
            if rid not in known:
                raise pytest.UsageError(f"{item.nodeid} cites unknown requirement {rid}")
    if not only:
        return
    kept = [i for i in items if not _ids(i) or any(group_of(r) in only for r in _ids(i))]
    dropped = [i for i in items if i not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def cert_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    config = request.config
    his_class = None
    label = ""
    name = config.getoption("--his-mutant")
    if name:
        from conformance.mutants import mutant

        his_class = mutant(name).his_class
        label = f"mutant {name}"
    report = config.getoption("--cert-report")
    with tempfile.TemporaryDirectory(prefix="cardsettle-certify-") as scratch:
        workdir = Path(report) / "runs" if report else Path(scratch)
        kwargs: dict[str, Any] = {} if his_class is None else {"his_class": his_class}
        target = Target(workdir, profile=profile(config.getoption("--profile")),
                        his_url=config.getoption("--his-url"),
                        his_command=config.getoption("--his-command"),
                        insurer_url=config.getoption("--insurer-url"),
                        admin_token=config.getoption("--admin-token"), his_label=label,
                        **kwargs)
        config.stash[_TARGET] = target
        yield target


@pytest.fixture
def cert(request: pytest.FixtureRequest, cert_target: Target) -> Cert:
    record = _record(request.node)
    return Cert(cert_target, record)


def _record(item: pytest.Item) -> TestRecord:
    found: TestRecord | None = getattr(item, "_cert_record", None)
    if found is None:
        found = TestRecord(item.nodeid, item.name, _ids(item))
        item._cert_record = found  # type: ignore[attr-defined]
        item.config.stash[_RECORDS].append(found)
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    if not _ids(item):
        return
    report = outcome.get_result()
    record = _record(item)
    record.seconds += report.duration
    if report.skipped:
        record.outcome = "skip"
        longrepr = report.longrepr
        record.message = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
    elif report.failed:
        excinfo = call.excinfo
        failed = excinfo is not None and excinfo.errisinstance(AssertionError) \
            and report.when == "call"
        record.outcome = "fail" if failed else "error"
        record.message = (str(excinfo.value) if excinfo is not None else str(report.longrepr))
        if not failed and excinfo is not None:
            record.message = f"{excinfo.typename}: {excinfo.value}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    directory = session.config.getoption("--cert-report", None)
    records = session.config.stash.get(_RECORDS, [])
    if not directory or not records:
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        return  # stopped half way (Ctrl-C): no report, rather than one that looks finished
    from conformance.report import write_reports

    target = session.config.stash.get(_TARGET, None)
    write_reports(Path(directory), records, target, only=session.config.getoption("--only"))
