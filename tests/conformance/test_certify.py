"""``cardsettle certify`` end to end, in a subprocess as a vendor runs it: the reference HIS is
certified; the report is HTML a browser shows, JSON and JUnit XML; a broken HIS is not."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from conformance.catalogue import group_of, requirements
from conformance.mutants import MUTANTS
from scenarios.his_process import free_port
from tests.support.answering import answering
from tests.support.browser import chromium_page


def certify(report: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cardsettle.cli", "certify", "--report",
                           str(report), *args], capture_output=True, text=True, timeout=600,
                          check=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    report = tmp_path_factory.mktemp("certify")
    done = certify(report)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CERTIFIED" in done.stdout
    return report


def test_the_reference_his_is_certified(reference: Path) -> None:
    data = json.loads((reference / "report.json").read_text("utf-8"))
    assert data["certified"] and data["verdict"] == "certified"
    outcomes = {row["id"]: row["outcome"] for row in data["requirements"]}
    assert set(outcomes) == set(requirements())
    assert {o for rid, o in outcomes.items() if not requirements()[rid].untested} == {"pass"}
    assert data["profile"]["name"] == "default"
    suite = ET.parse(reference / "junit.xml").getroot()
    cases = suite.iter("testcase")
    assert sum(1 for _ in cases) >= 25
    assert int(suite.find("testsuite").get("failures", "0")) == 0  # type: ignore[union-attr]


def test_the_html_report_shows_every_requirement_in_a_browser(reference: Path) -> None:
    with chromium_page() as page:
        page.goto((reference / "report.html").resolve().as_uri())
        assert "certified" in page.locator("#verdict").inner_text()
        assert page.locator("#summary tr").count() == len(requirements()) + 1
        page.locator("a[href='#OUT-001']").click()
        assert page.locator("#OUT-001").is_visible()
        assert "When a settlement's answer is lost" in page.locator("#OUT-001").inner_text()


def test_a_broken_his_is_not_certified_and_the_report_says_what_to_fix(tmp_path: Path) -> None:
    done = certify(tmp_path, "--his-mutant", "bill-ignores-account", "--only", "SPLIT")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SPLIT-002" in done.stdout
    data = json.loads((tmp_path / "report.json").read_text("utf-8"))
    row = next(r for r in data["requirements"] if r["id"] == "SPLIT-002")
    assert row["outcome"] == "fail" and not data["certified"]
    failing = next(t for t in data["tests"] if t["outcome"] == "fail")
    assert failing["evidence"] and failing["messages"], "evidence and the messages exchanged"
    shown = json.dumps(failing["messages"], ensure_ascii=False)
    for message in failing["messages"]:
        assert "*" in str((message.get("input") or {}).get("data", {}).get("psn_no", "*"))
    with chromium_page() as page:
        page.goto((tmp_path / "report.html").resolve().as_uri())
        text = page.locator("#SPLIT-002").inner_text()
        assert "fail" in text and "how to fix" in text and "psn_cash_pay" in text
    assert "not run" in {r["outcome"] for r in data["requirements"]}
    assert shown


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_every_mutant_fails_exactly_its_requirements(name: str, tmp_path: Path) -> None:
    """The suite proves its strength: each mutant, certified on the groups of the requirements
    it names, is not certified, fails every one of them (no false pass) and nothing else (a
    requirement failed for another's defect tells the vendor to fix the wrong thing)."""
    fails = MUTANTS[name].fails
    groups = sorted({group_of(rid) for rid in fails})
    done = certify(tmp_path, "--his-mutant", name, *[a for g in groups for a in ("--only", g)])
    assert done.returncode == 1, done.stdout + done.stderr
    data = json.loads((tmp_path / "report.json").read_text("utf-8"))
    failed = {r["id"] for r in data["requirements"] if r["outcome"] == "fail"}
    assert failed == set(fails), (sorted(failed), done.stdout)
    assert fails[0] in done.stdout
    assert not {r["id"] for r in data["requirements"] if r["outcome"] == "error"}


@pytest.mark.parametrize(("args", "message"), [
    (["--profile", "nope"], "unknown profile 'nope'"),
    (["--his-mutant", "nope"], "no conformance mutant 'nope'; the mutants are: typed-certno"),
    (["--only", "nope"], "Invalid value for '--only'"),
    (["--his-mutant", "charges-total", "--his-url", "http://127.0.0.1:9"], "leave out --his-url"),
    (["--his-url", "http://127.0.0.1:9"], "--his-url http://127.0.0.1:9: no HIS driver API"),
    (["--his-url", "notaurl"], "--his-url must be http(s)://HOST:PORT, got 'notaurl'"),
    (["--insurer-url", "http://127.0.0.1:9"], "--insurer-url http://127.0.0.1:9: no answer"),
    (["--his-command", "my-his --port {port} --at {nowhere}"], "unknown placeholder {nowhere}"),
    (["--his-command", "my-his --insurer {insurer_url}"], "put {port} in it"),
    (["--his-command", "no-such-his-program --port {port}"], "no program 'no-such-his-program'"),
    (["--his-command", "x {port}", "--his-url", "http://127.0.0.1:9"], "not both"),
    (["--admin-token", "s3cret", "--only", "RULE"], "--admin-token is the admin token of the "
                                                      "insurer given by --insurer-url"),
    (["--his-url", "http://127.0.0.1:9/his/v1/"],  # the banner's URL: taken without /his/v1/
     "--his-url http://127.0.0.1:9: no HIS driver API answers there (GET "
     "http://127.0.0.1:9/his/v1/info: no answer"),
])
def test_bad_options_are_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    """Exit 2 is bad input, told apart from 1 (not certified); nothing is run or written."""
    done = certify(tmp_path / "report", *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "report" / "report.json").exists()


def test_a_named_pipe_where_the_report_goes_is_refused_up_front(tmp_path: Path) -> None:
    """junit.xml (pytest's) or report.json renamed over a pipe or a device: refused, kept."""
    report = tmp_path / "report"
    report.mkdir()
    os.mkfifo(report / "junit.xml")
    done = certify(report)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (f"Error: --report {report}: {report / 'junit.xml'} is not a "
                                   "regular file")
    assert [p.name for p in report.iterdir()] == ["junit.xml"]


def test_an_insurer_that_does_not_say_its_gateway_auth_is_refused_up_front(
        tmp_path: Path) -> None:
    """The HIS started here could not know how to sign: one line saying what to pass."""

    routes = {"/health": b'{"business_time": "2026-03-02 08:00:00"}',
              "/admin/institutions": b'{"items": []}'}
    with answering(routes, default=b"{}") as url:
        done = certify(tmp_path / "report", "--insurer-url", url)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "does not say its gateway authentication" in done.stderr
    assert "--his-url" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "report" / "report.json").exists()


REFERENCE_AS_COMMAND = (
    f"{sys.executable} -m cardsettle.cli his serve --insurer-url {{insurer_url}} --port {{port}} "
    "--institution {institution} --catalogue {catalogue} --institutions {institutions} "
    "--db {db} --timeout {timeout} --auth {auth} --portal-url {insurer_url} "
    "--portal-token {portal_token}")


@pytest.mark.slow
def test_a_his_given_as_a_command_is_started_for_each_scenarios_institution(
        tmp_path: Path) -> None:
    """MSG judges four scenarios of four institutions together, SEC signs TIF headers with real
    time: a HIS of one's own passes both when the suite starts it per scenario."""
    done = certify(tmp_path, "--his-command", REFERENCE_AS_COMMAND, "--only", "MSG",
                   "--only", "SEC")
    data = json.loads((tmp_path / "report.json").read_text("utf-8"))
    ran = {row["id"]: row["outcome"] for row in data["requirements"]
           if group_of(row["id"]) in ("MSG", "SEC") and not requirements()[row["id"]].untested}
    assert ran and set(ran.values()) == {"pass"}, (ran, done.stdout)
    logs = [log.read_text("utf-8") for log in (tmp_path / "runs").glob("*/his.log")]
    assert all("driver API on http://127.0.0.1:" in log for log in logs)
    started_as = {re.search(r"institution (H\d+)", log).group(1) for log in logs}  # type: ignore[union-attr]
    assert len(started_as) >= 4  # one HIS process per scenario, each its institution
    results = (tmp_path / "runs").glob("*/result.json")
    assert {json.loads(r.read_text("utf-8"))["his"]["institution"] for r in results} == started_as


@contextlib.contextmanager
def external_insurer(tmp_path: Path, *args: str) -> Iterator[str]:
    """A mock insurer of its own process (``cardsettle insurer serve ARGS``, admin token
    ``s3cret``) on a free port; its URL, stopped afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cardsettle.cli", "insurer", "serve", "--port", str(port),
         "--admin-token", "s3cret", "--data-dir", str(tmp_path / "insurer"), "--persons", "50",
         *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/health", timeout=2).ok:
                    break
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(30)


@pytest.mark.slow
def test_sec_002_is_skipped_with_its_reason_when_the_given_insurer_checks_no_signatures(
        tmp_path: Path) -> None:
    with external_insurer(tmp_path) as url:
        done = certify(tmp_path / "report", "--insurer-url", url, "--admin-token", "s3cret",
                       "--only", "SEC")
    data = json.loads((tmp_path / "report" / "report.json").read_text("utf-8"))
    sec2 = next(row for row in data["requirements"] if row["id"] == "SEC-002")
    assert sec2["outcome"] == "skip" and not data["certified"]
    test = next(t for t in data["tests"] if t["nodeid"] in sec2["tests"])
    assert "checks no TIF signatures" in test["message"] and "--auth tif" in test["message"]
    skipped = [line for line in done.stdout.splitlines() if "SEC-002" in line]
    assert len(skipped) == 1 and "skip" in skipped[0] and "--auth tif" in skipped[0], done.stdout


def test_an_insurer_given_by_url_on_tif_is_signed_for_and_its_visits_settle(
        tmp_path: Path) -> None:
    """The embedded reference HIS against an insurer of its own process that checks TIF
    signatures: it learns the mode and its institution's credentials from the insurer's admin
    API, so every message passes the gateway, the visits settle and SEC-002 is judged."""
    with external_insurer(tmp_path, "--auth", "tif") as url:
        done = certify(tmp_path / "report", "--insurer-url", url, "--admin-token", "s3cret",
                       "--only", "SEC")
    data = json.loads((tmp_path / "report" / "report.json").read_text("utf-8"))
    outcomes = {row["id"]: row["outcome"] for row in data["requirements"]
                if group_of(row["id"]) == "SEC"}
    assert set(outcomes.values()) == {"pass"}, (outcomes, done.stdout)
    result = json.loads((tmp_path / "report" / "runs" / "refunds" / "result.json")
                        .read_text("utf-8"))
    assert result["his"]["embedded"] and not result["insurer"]["embedded"]
    assert result["outcomes"].get("settled", 0) >= 1, result["outcomes"]
    assert "auth_failed" not in (tmp_path / "report" / "runs" / "refunds"
                                 / "messages.json").read_text("utf-8")


def test_a_running_his_without_its_insurer_is_refused_up_front(tmp_path: Path) -> None:
    """A HIS given by URL talks to an insurer of its own: certifying it against the suite's
    embedded insurer would fail every requirement for that, not for the HIS."""
    info = b'{"ok": true, "name": "Acme HIS", "version": "1", "api_version": "1", ' \
           b'"institution": {"fixmedins_code": "H11011900001"}}'
    with answering({"/his/v1/info": info}) as url:
        done = certify(tmp_path / "report", "--his-url", url, "--only", "RULE")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"--his-url {url} needs --insurer-url" in done.stderr and "--his-command" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "report" / "report.json").exists()


FAULTY_HIS = (f"{sys.executable} {Path(__file__).with_name('faulty_his.py')} --fault {{fault}} "
              "--path {path} --port {{port}} --insurer-url {{insurer_url}} --institution "
              "{{institution}} --catalogue {{catalogue}} --institutions {{institutions}} "
              "--db {{db}} --timeout {{timeout}}")


@pytest.mark.parametrize(("fault", "path", "where", "what"), [
    ("drop:patient", "/identify", "visit ordinary (identify)",
     "the answer does not follow the driver API (patient is missing;"),
    ("http-500", "/charges", "visit ordinary (charge)",
     "HTTP 500 is not a driver-API answer: the answer is not JSON (text/plain): "
     "'Internal Server Error'"),
])
def test_a_his_whose_driver_api_breaks_gets_errors_saying_where_and_what(
        tmp_path: Path, fault: str, path: str, where: str, what: str) -> None:
    """A vendor's shim that leaves out a field or answers a 500: every requirement of the
    scenario is an error naming the scenario, the visit and step, the request and what was
    wrong with the answer, with every step as evidence — not a KeyError, not a finding that
    blames the HIS's settlement logic."""
    template = FAULTY_HIS.format(fault=fault, path=path)
    done = certify(tmp_path, "--his-command", template, "--only", "RULE")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    data = json.loads((tmp_path / "report.json").read_text("utf-8"))
    rule = {r["id"]: r["outcome"] for r in data["requirements"] if r["group"] == "RULE"}
    assert set(rule.values()) == {"error"}, rule
    for test in data["tests"]:
        message = test["message"]
        assert message.startswith(f"HisDriverError: scenario rule-check, {where}: the HIS's "
                                  "driver API gave no usable answer — POST http://127.0.0.1:")
        assert what in message and "not judged: fix the driver API" in message, message
        assert {e["where"] for e in test["evidence"]} >= {where}
    lines = [line for line in done.stdout.splitlines() if line.startswith("  error RULE-")]
    assert len(lines) == 3 and all(where in line for line in lines), done.stdout
    page = (tmp_path / "report.html").read_text("utf-8")
    assert "HisDriverError" in page and "出错 error" in page


def test_a_his_command_that_cannot_start_is_tried_once_per_scenario(tmp_path: Path) -> None:
    """Three tests judge the rule-check scenario: a HIS that exits at once is started once,
    and each test errors with the same one-line cause."""
    starts = tmp_path / "starts"
    command = f"sh -c 'echo started >> {starts}; echo no licence; exit 3' {{port}}"
    done = certify(tmp_path / "report", "--his-command", command, "--only", "RULE")
    assert done.returncode == 1, done.stdout + done.stderr
    assert starts.read_text().splitlines() == ["started"]
    data = json.loads((tmp_path / "report" / "report.json").read_text("utf-8"))
    messages = {t["message"] for t in data["tests"]}
    assert len(messages) == 1 and len(data["tests"]) == 3, messages
    assert "--his-command exited with 3 before its driver API answered" in messages.pop()


def test_a_rerun_into_the_same_directory_leaves_nothing_of_the_earlier_run(
        tmp_path: Path) -> None:
    """An earlier run's report and scenario directories go (they would pass for this run's);
    the vendor's own files stay."""
    old = tmp_path / "runs" / "lost-answer-2207"
    (old / "data").mkdir(parents=True)
    (old / "result.json").write_text("{}")
    (tmp_path / "report.json").write_text('{"certified": true}')
    (tmp_path / "notes.txt").write_text("mine")
    done = certify(tmp_path, "--only", "RULE")
    assert done.returncode == 1, done.stdout + done.stderr
    assert not old.exists() and (tmp_path / "notes.txt").read_text() == "mine"
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["rule-check"]
    assert json.loads((tmp_path / "report.json").read_text("utf-8"))["verdict"] == "partial run"


def _processes_under(path: Path) -> list[str]:
    """The command lines of running processes that name ``path`` (Linux /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if str(path) in text and "cardsettle.cli certify" not in text:
            found.append(text)
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_stops_its_his_and_writes_no_report(tmp_path: Path,
                                                               sig: signal.Signals) -> None:
    """Ctrl-C (or a CI job's SIGTERM) once the HIS of a scenario runs: exit 130, one line
    saying no report was written, no report files (not even a stale one), and no HIS process
    left running."""
    (tmp_path / "report.json").write_text('{"certified": true}')  # an earlier run's
    process = subprocess.Popen(
        [sys.executable, "-m", "cardsettle.cli", "certify", "--report", str(tmp_path),
         "--his-command", FAULTY_HIS.format(fault="none", path="/"), "--only", "OUT"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not any("driver API on" in log.read_text("utf-8", "replace")
                      for log in tmp_path.glob("runs/*/his.log")):  # a scenario's HIS runs
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        assert _processes_under(tmp_path)
        process.send_signal(sig)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out + err
    assert err.strip().splitlines()[-1].startswith("interrupted: no report written")
    assert not [name for name in ("report.json", "report.html", "junit.xml")
                if (tmp_path / name).exists()]
    assert _processes_under(tmp_path) == []


@pytest.mark.parametrize("declares", [False, True], ids=["not-supported", "reference"])
def test_decl_judges_the_his_given_as_a_command_not_the_reference_his(
        tmp_path: Path, declares: bool) -> None:
    """Vendor audit: with --his-command the DECL month ran on the embedded reference HIS, so a
    HIS that answers ``not_supported`` to declaring was certified. The month now runs on the
    HIS under certification: DECL fails "not supported" for that one, passes for the reference
    HIS started as a command (with its portal credential)."""
    template = (REFERENCE_AS_COMMAND if declares
                else FAULTY_HIS.format(fault="not-supported", path="/declarations"))
    done = certify(tmp_path, "--his-command", template, "--only", "DECL")
    data = json.loads((tmp_path / "report.json").read_text("utf-8"))
    decl = {r["id"]: r["outcome"] for r in data["requirements"] if r["group"] == "DECL"}
    assert (tmp_path / "runs" / "decl-month" / "his.log").exists()  # its HIS was started
    if declares:
        assert decl and set(decl.values()) == {"pass"}, (decl, done.stdout)
        return
    assert done.returncode == 1, done.stdout + done.stderr
    assert decl and set(decl.values()) == {"fail"}, decl
    messages = [t["message"] for t in data["tests"]]
    assert all("not supported" in m for m in messages), messages
