"""The reference HIS behind a hostile insurer (security review, findings 4-7 and 11): answers
with ``infcode`` 0 whose content cannot be used, result zips that are bombs, answers that
trickle in. The cashier always gets a refusal in words that names what was wrong — never an
HTTP 500 —, the visit is left in a state the cashier can act on (cancel, settle again) and
day-end can clean up, nothing unchecked is stored, and a settlement is counted exactly once."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.server import start_in_thread
from mock_insurer.transactions import Settings
from simulator.his.api import driver_app
from simulator.his.app import ReferenceHis
from simulator.his.catalogue import ItemTable
from simulator.his.config import HisConfig
from simulator.his.dayend import ResultFileError, read_result_file
from simulator.his.driver import HttpHisDriver
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    DayEndInput,
    IdentifyInput,
    Outcome,
    RegisterInput,
    SettleInput,
    VisitInput,
)
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.hostile import HostileInsurer, Raw
from tests.simulator.his.rig import CONSULT, HOSPITAL, START, Rig, write_dataset

DAY = DayEndInput(START.date())


class HostileRig(Rig):
    hostile: HostileInsurer


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[HostileRig]:
    paths = write_dataset(tmp_path)
    insurer = Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{tmp_path}/insurer.db", population=paths["population"],
        catalogue=paths["catalogue"], institutions=paths["institutions"],
        settings=Settings(), admin_token="secret",
        wall=FixedClock(START, timedelta(milliseconds=10)), fresh=True, auth="none"))
    insurer_server = start_in_thread(insurer)
    hostile = HostileInsurer(insurer_server.url)
    his = ReferenceHis(HisConfig(
        insurer_url=hostile.url, fixmedins_code=HOSPITAL, fixmedins_name="北京测试第三医院",
        mdtrtarea_admvs=HOSPITAL[1:7], db_url=f"sqlite:///{tmp_path}/his.db",
        items=ItemTable.load(paths["catalogue"], HOSPITAL),
        clock=FixedClock(START, timedelta(seconds=1)), timeout=1.0,
        portal_url=hostile.url, portal_token="secret"))
    his_server = start_in_thread(driver_app(his))
    made = HostileRig(insurer, insurer_server, his, his_server, HttpHisDriver(his_server.url))
    made.hostile = hostile
    yield made
    made.driver.close()
    stopping = [threading.Thread(target=server.stop) for server in (his_server, insurer_server)]
    for thread in stopping:
        thread.start()
    for thread in stopping:
        thread.join()
    hostile.close()
    his.close()
    insurer.close()


def set_at(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    """A tamper: ``answer[path...] = value``."""
    def tamper(answer: dict[str, Any]) -> None:
        node: Any = answer
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    return tamper


def drop(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def tamper(answer: dict[str, Any]) -> None:
        node: Any = answer
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]
    return tamper


def refusal(outcome: Outcome) -> dict[str, Any]:
    assert not outcome.ok, outcome.body
    found = outcome.body["refusal"]
    assert isinstance(found, dict)
    return found


def charged_visit(rig: HostileRig, n: int = 1) -> str:
    return rig.visit(n, [(CONSULT, "1")])


def ledger_rows(rig: HostileRig) -> list[dict[str, Any]]:
    return list(rig.driver.ledger().body["settlements"])


# -- 2207: an answer that cannot be used is an answer lost ------------------------------------
SETTLE_TAMPERS = {
    "amount-text": set_at("output", "setlinfo", "medfee_sumamt", value="abc"),
    "amount-huge": set_at("output", "setlinfo", "psn_cash_pay", value="1E+400"),
    "setlinfo-array": set_at("output", "setlinfo", value=[1]),
    "setl_time-object": set_at("output", "setlinfo", "setl_time", value={"x": 1}),
    "no-setl_id": drop("output", "setlinfo", "setl_id"),
    "setldetail-text": set_at("output", "setldetail", value="x"),
}


@pytest.mark.parametrize("tamper", list(SETTLE_TAMPERS))
def test_an_unusable_settlement_answer_is_learned_by_query_exactly_once(
        rig: HostileRig, tamper: str) -> None:
    visit_id = charged_visit(rig)
    rig.hostile.once("2207", SETTLE_TAMPERS[tamper])
    settled = rig.settle(visit_id)
    assert settled.ok, settled.body  # the 2207 took effect: 5203 found it, the bill is printed
    bill = settled["bill"]
    assert bill["recovered"] is True
    assert len(rig.settlements()) == 1
    center = rig.settlements()[0]
    assert bill["setl_id"] == center.setl_id
    assert bill["amounts"]["medfee_sumamt"] == f"{center.medfee_sumamt:.2f}"
    assert len(bill["setl_time"]) == 19 and bill["setl_time"].startswith("2026-")
    rows = [r for r in ledger_rows(rig) if r["status"] == "settled"]
    assert len(rows) == 1 and rows[0]["setl_date"] == "2026-03-02"
    assert rig.driver.visit(visit_id)["visit"]["status"] == "settled"
    again = rig.settle(visit_id)  # the same bill, never a second settlement
    assert again.ok and again["bill"]["setl_id"] == center.setl_id
    assert len(rig.settlements()) == 1
    logged = {m["infno"]: m for m in rig.his.store.messages() if m["infno"] in ("2207", "5203")}
    assert logged["2207"]["outcome"] == "unusable" and "output." in logged["2207"]["err_msg"]
    assert logged["5203"]["outcome"] == "ok"


@pytest.mark.parametrize("recover_by", ["settle", "day-end"])
def test_when_the_query_cannot_be_used_either_the_outcome_is_unknown_until_recovered(
        rig: HostileRig, recover_by: str) -> None:
    visit_id = charged_visit(rig)
    rig.hostile.once("2207", set_at("output", "setlinfo", "medfee_sumamt", value="abc"))
    rig.hostile.once("5203", set_at("output", "setlinfo", value="garbage"))
    first = rig.settle(visit_id)
    shown = refusal(first)
    assert shown["code"] == "settlement_unknown"
    assert "output.setlinfo.medfee_sumamt" in shown["message"]
    assert "do not charge the patient again" in shown["message"]
    assert first["visit"]["status"] == "settling"
    assert [r["status"] for r in ledger_rows(rig)] == ["pending"]
    assert len(rig.settlements()) == 1  # it did take effect at the insurer
    if recover_by == "settle":
        again = rig.settle(visit_id)
        assert again.ok, again.body
        assert again["bill"]["recovered"] is True
    else:
        closed = rig.driver.day_end(DAY)
        assert closed.ok and closed["balanced"], closed.body
        assert rig.driver.visit(visit_id)["visit"]["status"] == "settled"
    assert len(rig.settlements()) == 1
    assert [r["status"] for r in ledger_rows(rig)] == ["settled"]


def test_an_unusable_pre_settlement_is_refused_in_words(rig: HostileRig) -> None:
    visit_id = charged_visit(rig)
    rig.hostile.once("2206", set_at("output", "setlinfo", "acct_pay", value=[1]))
    outcome = rig.driver.pre_settle(visit_id, SettleInput())
    shown = refusal(outcome)
    assert shown["code"] == "insurer_answer_unusable"
    assert "output.setlinfo.acct_pay" in shown["message"]
    assert rig.driver.visit(visit_id).ok  # readable, and closed or open: no 500
    assert rig.orphans() == []


# -- 2201: the registration may stand — kept to resolve, cancellable ----------------------------
def test_an_unusable_registration_answer_leaves_a_visit_the_cashier_can_cancel(
        rig: HostileRig) -> None:
    patient = rig.patient(1)
    rig.hostile.once("2201", set_at("output", "data", value=[1]))
    outcome = rig.driver.register(RegisterInput(patient, "A03", "D0007"))
    shown = refusal(outcome)
    assert shown["code"] == "insurer_answer_unusable" and shown["infno"] == "2201"
    assert "output.data" in shown["message"]
    visit_id = outcome["visit"]["visit_id"]
    assert outcome["visit"]["status"] == "register_unknown"
    assert outcome["visit"]["mdtrt_id"] is None  # nothing unchecked kept
    assert len(rig.orphans()) == 1  # registered at the insurer meanwhile
    cancelled = rig.driver.cancel(visit_id, VisitInput())
    assert cancelled.ok, cancelled.body
    assert cancelled["visit"]["status"] == "cancelled"
    assert rig.orphans() == []


def test_day_end_closes_a_registration_whose_answer_could_not_be_used(rig: HostileRig) -> None:
    patient = rig.patient(1)
    rig.hostile.once("2201", set_at("output", "data", "mdtrt_id", value={"x": 1}))
    outcome = rig.driver.register(RegisterInput(patient, "A03", "D0007"))
    assert refusal(outcome)["code"] == "insurer_answer_unusable"
    assert "output.data.mdtrt_id" in refusal(outcome)["message"]
    closed = rig.driver.day_end(DAY)
    assert closed.ok, closed.body
    assert rig.driver.visit(outcome["visit"]["visit_id"])["visit"]["status"] == "cancelled"
    assert rig.orphans() == []


def test_a_resent_registration_whose_answer_is_unusable_again_stays_to_resolve(
        rig: HostileRig) -> None:
    """Cancel resends the 2201 to learn its mdtrt_id; that answer unusable too: nothing
    unchecked is stored, the visit stays register_unknown, and a later cancel closes it."""
    patient = rig.patient(1)
    rig.hostile.once("2201", set_at("output", "data", value=[1]))
    rig.hostile.once("2201", set_at("output", "data", "mdtrt_id", value={"x": 1}))
    outcome = rig.driver.register(RegisterInput(patient, "A03", "D0007"))
    visit_id = outcome["visit"]["visit_id"]
    first = rig.driver.cancel(visit_id, VisitInput())
    assert rig.driver.visit(visit_id)["visit"]["status"] == "register_unknown", first.body
    assert rig.driver.visit(visit_id)["visit"]["mdtrt_id"] is None
    again = rig.driver.cancel(visit_id, VisitInput())
    assert again.ok, again.body
    assert again["visit"]["status"] == "cancelled"
    assert rig.orphans() == []


def test_a_registration_whose_output_is_no_object_is_resent_and_registered_once(
        rig: HostileRig) -> None:
    patient = rig.patient(1)
    rig.hostile.once("2201", set_at("output", value=[1]))  # the SDK: a malformed answer
    outcome = rig.driver.register(RegisterInput(patient, "A03", "D0007"))
    assert outcome.ok, outcome.body  # resent byte for byte; the insurer answers the original
    assert outcome["visit"]["status"] == "registered"
    assert len(rig.orphans()) == 1  # one registration, not two


# -- 2204: the visit is closed at the insurer, nothing bad kept ---------------------------------
@pytest.mark.parametrize(("tamper", "field"), [
    (set_at("output", "result", value="x"), "output.result"),
    (set_at("output", "result", 0, "fulamt_ownpay_amt", value="abc"),
     "output.result[0].fulamt_ownpay_amt"),
    (set_at("output", "result", 0, "selfpay_prop", value="7"), "output.result[0].selfpay_prop"),
], ids=["result-text", "amount-text", "ratio-7"])
def test_an_unusable_upload_answer_closes_the_visit_and_keeps_nothing_bad(
        rig: HostileRig, tamper: Callable[[dict[str, Any]], None], field: str) -> None:
    patient = rig.patient(1)
    registered = rig.driver.register(RegisterInput(patient, "A03", "D0007"))
    visit_id = registered["visit"]["visit_id"]
    rig.hostile.once("2204", tamper)
    outcome = rig.driver.charge(visit_id, ChargeInput((ChargeItem(CONSULT, 1),), ("J06.900",)))
    shown = refusal(outcome)
    assert shown["code"] == "insurer_answer_unusable" and shown["infno"] == "2204"
    assert field in shown["message"]
    seen = rig.driver.visit(visit_id)  # readable: nothing unchecked was stored
    assert seen.ok
    assert seen["visit"]["status"] == "cancelled"
    assert [line["status"] for line in seen["visit"]["lines"]] == ["cancelled"]
    assert rig.orphans() == []
    assert rig.driver.day_end(DAY).ok


# -- 1101: refused in words, nothing kept ----------------------------------------------------
@pytest.mark.parametrize(("tamper", "field"), [
    (set_at("output", "baseinfo", value=[1]), "output.baseinfo"),
    (set_at("output", "insuinfo", 0, "balc", value="abc"), "output.insuinfo[0].balc"),
    (set_at("output", "baseinfo", "psn_no", value={"x": 1}), "output.baseinfo.psn_no"),
    (drop("output", "baseinfo", "psn_no"), "output.baseinfo.psn_no"),
], ids=["baseinfo-array", "balc-text", "psn_no-object", "no-psn_no"])
def test_an_unusable_person_answer_is_refused_and_nothing_is_kept(
        rig: HostileRig, tamper: Callable[[dict[str, Any]], None], field: str) -> None:
    person = dataset.PERSONS[0]
    rig.hostile.once("1101", tamper)
    outcome = rig.driver.identify(IdentifyInput("02", person["certno"]))
    shown = refusal(outcome)
    assert shown["code"] == "insurer_answer_unusable" and shown["infno"] == "1101"
    assert field in shown["message"]
    assert rig.his.store.patient(1) is None
    logged = rig.his.store.messages(infno="1101")[-1]  # the HIS's log says what it made of it
    assert logged["outcome"] == "unusable" and field in logged["err_msg"]


# -- day-end: 3201, 3202 and its result zip ----------------------------------------------------
def test_an_unusable_3201_answer_refuses_day_end_in_words(rig: HostileRig) -> None:
    charged_visit(rig)
    rig.hostile.once("3201", set_at("output", "stmtinfo", value=[1]))
    shown = refusal(rig.driver.day_end(DAY))
    assert shown["code"] == "insurer_answer_unusable" and "output.stmtinfo" in shown["message"]


def _zip(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def _bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("result.txt", "w", force_zip64=True) as member:
        for _ in range(size // (1 << 20)):
            member.write(b"\0" * (1 << 20))
    return buffer.getvalue()


@pytest.mark.parametrize(("file", "said"), [
    (_bomb(20 << 20), "bytes unzipped, more than 16777216"),
    (b"not a zip at all", "is not a readable zip"),
    (_zip("result.txt", "甲\t".encode("gbk") * 10), "is not UTF-8"),
], ids=["bomb", "not-zip", "gbk"])
def test_a_result_zip_that_cannot_be_read_refuses_day_end_in_words(
        rig: HostileRig, file: bytes, said: str) -> None:
    charged_visit(rig)
    rig.settle(rig.visit(2, [(CONSULT, "1")]))
    rig.hostile.once("3201", set_at("output", "stmtinfo", "stmt_rslt", value="1"))
    rig.hostile.once("9102", Raw(file, "application/zip"))
    started = time.monotonic()
    shown = refusal(rig.driver.day_end(DAY))
    assert time.monotonic() - started < 20
    assert shown["code"] == "insurer_answer_unusable" and shown["infno"] == "9102"
    assert said in shown["message"]
    assert rig.driver.day_end(DAY)["balanced"]  # the next run, with a usable file, is fine


def test_read_result_file_streams_within_its_limits() -> None:
    row = "psn\tmdtrt\tS1\tmsg\t1\t0\tmemo\t1.00\t0.00\t0.00\n"
    assert [r["setl_id"] for r in read_result_file(_zip("r.txt", row.encode()))] == ["S1"]
    balanced = row.replace("\t1\t0\t", "\t0\t0\t")
    assert read_result_file(_zip("r.txt", balanced.encode())) == []  # nothing to correct
    with pytest.raises(ResultFileError, match="more than 2 rows"):
        read_result_file(_zip("r.txt", (row * 3).encode()), max_rows=2)
    with pytest.raises(ResultFileError, match="unzipped, more than 100"):
        read_result_file(_zip("r.txt", (row * 10).encode()), max_bytes=100)
    with pytest.raises(ResultFileError, match="stmt_rslt"):
        read_result_file(_zip("r.txt", row.replace("\t1\t0\t", "\t9\t0\t").encode()))
    with pytest.raises(ResultFileError, match="setl_id is longer"):
        read_result_file(_zip("r.txt", row.replace("S1", "S" * 200).encode()))


# -- the portal ------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "tamper", "field"), [
    ("GET /admin/payments", set_at("payments", value={"a": 1}), "payments"),
    ("GET /admin/payments", set_at("payments", value=["x"]), "payments[0]"),
    ("GET /admin/payments", set_at("payments", value=[{"pay_id": {"x": 1}}]),
     "payments[0].pay_id"),
    ("GET /admin/payments", set_at("payments", value=[{"amount": "1.00"}]),
     "payments[0].pay_id"),
    ("GET /admin/payments", set_at("payments", value=[{"pay_id": "P1", "amount": "abc"}]),
     "payments[0].amount"),
    ("GET /admin/payments", set_at("payments", value=[
        {"pay_id": "P1", "items": [{"setl_id": "S", "paid": "abc"}]}]),
     "payments[0].items[0].paid"),
    ("GET /admin/declarations", set_at("declarations", value=["x"]), "declarations[0]"),
    ("GET /admin/declarations", set_at("declarations", value=[
        {"period": "2026-03", "deductions": [{"ded_id": "D1", "setl_id": "S",
                                              "amount": "abc"}]}]),
     "declarations[0].deductions[0].amount"),
], ids=["payments-object", "payment-text", "pay_id-object", "no-pay_id", "amount-text",
        "item-paid-text", "declaration-text", "deduction-amount"])
def test_an_unusable_portal_answer_is_refused_in_words_and_nothing_is_kept(
        rig: HostileRig, path: str, tamper: Callable[[dict[str, Any]], None],
        field: str) -> None:
    rig.hostile.once(path, tamper)
    shown = refusal(rig.driver.collect_payments())
    assert shown["code"] == "portal_answer_unusable"
    assert field in shown["message"] and "SQL" not in shown["message"]
    for table in ("payments", "declarations", "deductions"):
        assert rig.his.store.rows(table) == []
    assert rig.driver.collect_payments().ok  # the portal answering properly again: fine


def test_a_portal_answer_trickling_in_is_given_up_at_the_timeout(rig: HostileRig) -> None:
    rig.hostile.once("GET /admin/declarations", Raw(b'{"declarations": []}' + b" " * 200,
                                                    every=0.05))
    started = time.monotonic()
    shown = refusal(rig.driver.collect_payments())
    assert time.monotonic() - started < 3.0  # timeout 1 s; the answer would take 11 s
    assert shown["code"] == "portal_unavailable"


def test_an_over_large_portal_answer_is_refused(rig: HostileRig) -> None:
    big = b'{"payments": [], "x": "' + b"y" * (9 << 20) + b'"}'
    rig.hostile.once("GET /admin/payments", Raw(big))
    shown = refusal(rig.driver.collect_payments())
    assert shown["code"] == "portal_answer_unusable" and "larger than" in shown["message"]


# -- answers too large, too slow, too wordy (the SDK, as the HIS meets it) ----------------------
def test_an_answer_trickling_in_does_not_hold_the_window(rig: HostileRig) -> None:
    person = dataset.PERSONS[0]
    rig.hostile.once("1101", Raw(b'{"infcode": 0, "output": {}}' + b" " * 400, every=0.05))
    started = time.monotonic()
    outcome = rig.driver.identify(IdentifyInput("02", person["certno"]))
    took = time.monotonic() - started
    assert took < 4.0, took  # timeout 1 s, then the resend answers at once (20 s of drip)
    assert outcome.ok, outcome.body


def test_a_huge_err_msg_is_shown_and_kept_cut(rig: HostileRig) -> None:
    person = dataset.PERSONS[0]
    text = "FSI-" + "E" * 5_000_000 + "[data.certno]"

    def refuse_wordily(answer: dict[str, Any]) -> None:
        answer.update(infcode=-1, err_msg=text)

    rig.hostile.once("1101", refuse_wordily)
    outcome = rig.driver.identify(IdentifyInput("02", person["certno"]))
    shown = refusal(outcome)
    assert shown["code"] == "insurer_refused"
    assert len(shown["message"]) < 1100 and shown["message"].endswith("[data.certno]")
    kept = [m["err_msg"] or "" for m in rig.his.store.messages(infno="1101")]
    assert kept and max(len(m) for m in kept) < 1500


def test_an_over_large_insurer_answer_is_an_answer_lost(rig: HostileRig) -> None:
    visit_id = charged_visit(rig)
    big = b'{"infcode": 0, "output": {"x": "' + b"y" * (9 << 20) + b'"}}'
    rig.hostile.once("2207", Raw(big))  # not passed on: the 2207 never reached the insurer
    settled = rig.settle(visit_id)
    assert settled.ok, settled.body  # 5203: nothing there; 2601; settled under a new msgid
    assert len(rig.settlements()) == 1
    assert [r["status"] for r in ledger_rows(rig) if r["status"] != "void"] == ["settled"]


def test_today_is_the_rig_day() -> None:
    assert START.date() == date(2026, 3, 2)
