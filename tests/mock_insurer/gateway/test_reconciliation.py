"""Day-end reconciliation: 3201 totals, and on a mismatch 3202 details through 9101/9102."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

from mock_insurer.client import Answer
from mock_insurer.gateway import Insurer
from mock_insurer.money import render
from tests.mock_insurer.gateway.driver import Window

D = Decimal
DAY = "2026-03-02"


def day_of_settlements(window: Window) -> list[dict[str, Any]]:
    """Three settlements and one cancellation; returns every setlinfo row (4)."""
    rows = []
    for n in (1, 2, 3):
        rows.append(window.visit(n, [("001102000010000", "1"), ("002203000010000", "1")])
                    .output["setlinfo"])
    cancelled = window.cancel(1, rows[0]["mdtrt_id"], rows[0]["setl_id"]).output["setlinfo"]
    rows.append(cancelled)
    return rows


def totals(window: Window, rows: list[dict[str, Any]], insutype: str,
           setl_optins: str = "110000") -> Answer:
    mine = [r for r in rows if r["insutype"] == insutype]
    return window.client.call("3201", {"data": {
        "insutype": insutype, "clr_type": "11", "setl_optins": setl_optins,
        "stmt_begndate": DAY, "stmt_enddate": DAY,
        "medfee_sumamt": sum((r["medfee_sumamt"] for r in mine), D("0")),
        "fund_pay_sumamt": sum((r["fund_pay_sumamt"] for r in mine), D("0")),
        "acct_pay": sum((r["acct_pay"] for r in mine), D("0")),
        "fixmedins_setl_cnt": len(mine)}})


def test_totals_balance_when_the_hospital_counts_what_the_center_counts(window: Window) -> None:
    rows = day_of_settlements(window)
    for insutype in ("310", "390"):
        info = totals(window, rows, insutype).output["stmtinfo"]
        assert info["stmt_rslt"] == "0", info


def test_totals_under_the_wrong_clearing_area_say_which_one_to_use(window: Window) -> None:
    rows = day_of_settlements(window)
    info = totals(window, rows, "310", setl_optins="110105").output["stmtinfo"]  # own area
    assert info["stmt_rslt"] == "2"  # nothing there at the center
    assert info["stmt_rslt_dscr"].startswith("结算经办机构(setl_optins)应填2207返回的clr_optins")
    assert "110000" in info["stmt_rslt_dscr"]


def test_a_missing_settlement_is_found_and_named_in_the_detail_file(window: Window) -> None:
    rows = day_of_settlements(window)
    employees = [r for r in rows if r["insutype"] == "310"]
    missing = employees[1]  # the HIS lost the retiree's settlement
    declared = [r for r in employees if r is not missing]
    info = totals(window, declared, "310").output["stmtinfo"]
    assert info["stmt_rslt"] == "1"  # the center has more
    assert "中心多" in info["stmt_rslt_dscr"]
    lines = "setl_id\tmdtrt_id\tpsn_no\tmedfee_sumamt\tfund_pay_sumamt\tacct_pay\trefd_setl_flag\n"
    lines += "".join(  # a first line naming the columns is allowed
        "\t".join([r["setl_id"], r["mdtrt_id"], r["psn_no"], render(r["medfee_sumamt"]),
                   render(r["fund_pay_sumamt"]), render(r["acct_pay"]),
                   "1" if r["medfee_sumamt"] < 0 else "0"]) + "\n" for r in declared)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("detail.txt", lines)
    uploaded = window.client.upload_file("detail.zip", buffer.getvalue()).output
    answer = window.client.call("3202", {"data": {
        "setl_optins": "110000", "file_qury_no": uploaded["file_qury_no"],
        "stmt_begndate": DAY, "stmt_enddate": DAY, "medfee_sumamt": "0", "fund_pay_sumamt": "0",
        "cash_payamt": "0", "fixmedins_setl_cnt": len(declared), "clr_type": "11"}})
    info = answer.output["fileinfo"]
    content = window.client.download_file(info["file_qury_no"], info["filename"])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        result = archive.read("result.txt").decode("utf-8").splitlines()
    by_setl = {line.split("\t")[2]: line.split("\t") for line in result}
    assert by_setl[missing["setl_id"]][4] == "1"
    assert by_setl[missing["setl_id"]][3] == missing["medins_setl_id"]  # msgid for reversal
    assert all(by_setl[r["setl_id"]][4] == "0" for r in declared)
    assert len(by_setl[missing["setl_id"]]) == 10


def test_a_day_of_only_a_refund_reconciles_with_negative_sums(window: Window,
                                                              insurer: Insurer) -> None:
    settled = window.visit(1, [("001102000010000", "1")]).output["setlinfo"]
    insurer.clock.set_business_date(date(2026, 3, 3))
    window.client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")
    refund = window.cancel(1, settled["mdtrt_id"], settled["setl_id"]).output["setlinfo"]
    assert refund["medfee_sumamt"] < 0
    answer = window.client.call("3201", {"data": {
        "insutype": settled["insutype"], "clr_type": "11", "setl_optins": "110000",
        "stmt_begndate": "2026-03-03", "stmt_enddate": "2026-03-03",
        "medfee_sumamt": refund["medfee_sumamt"], "fund_pay_sumamt": refund["fund_pay_sumamt"],
        "acct_pay": refund["acct_pay"], "fixmedins_setl_cnt": 1}})
    assert answer.output["stmtinfo"]["stmt_rslt"] == "0", answer.output
