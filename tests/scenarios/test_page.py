"""The run's page (``report.html`` beside ``result.json``, scenarios/page.py) as the vendor's
QA engineer or the hospital's IT person opens it: the verdict, every check with its verdict,
the failing evidence first with the visits and setl_ids it names, the refusals with the
cashier's words and by department, labels 中文 English, one self-contained file that is the
same for the same run."""

from __future__ import annotations

import json
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardsettle.cli import main
from scenarios.library import library_path
from scenarios.loading import HIS_REFUSALS, load_scenario
from scenarios.page import render_page, write_page
from scenarios.records import CheckResult, DayEndRecord, RunResult, StepRecord, VisitRecord
from scenarios.report import CHECK_LABELS, HIS_REFUSAL_LABELS, write_json
from scenarios.runner import run_scenario
from simulator.his.app import ReferenceHis
from simulator.his.variants import VARIANTS

VOID = {"meta", "img", "br", "hr", "input", "link", "wbr", "source", "col", "area", "base"}


class _Balance(HTMLParser):
    """Every element closed in order; every src/href inside the page (no external URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []
        self.addresses: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.addresses += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


def assert_self_contained_html(page: str) -> None:
    assert page.startswith("<!doctype html>") and '<meta charset="utf-8">' in page
    parser = _Balance()
    parser.feed(page)
    parser.close()
    assert not parser.problems and not parser.open, (parser.problems, parser.open)
    for address in parser.addresses:
        assert address.startswith(("#", "data:image/png;base64,")), address[:80]
    assert "http://" not in page and "https://" not in page  # embedded: no address at all
    assert "url(" not in page and "@import" not in page and "<script" not in page
    for word in ("None", "nan", "NaN", "undefined", "null"):
        assert not re.search(rf"\b{word}\b", page), word


def unmarked(page: str) -> str:
    """The page without the ``lang="en"`` marks of its English halves (``结果 <span
    lang="en">outcome</span>`` → ``结果 outcome``), to find its texts."""
    return re.sub(r'<span lang="en">([^<]*)</span>', r"\1", page)


def run(tmp: Path, variant: str | None = None) -> tuple[RunResult, str]:
    scenario = load_scenario(library_path("refunds") or "")
    his_class = VARIANTS[variant].his_class if variant else ReferenceHis
    result = run_scenario(scenario, tmp, his_class=his_class)
    write_json(result, tmp)
    write_page(result, tmp)
    return result, unmarked((tmp / "report.html").read_text("utf-8"))


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, str]:
    return run(tmp_path_factory.mktemp("failing"), "bill-ignores-account")


def test_a_failing_run_shows_the_verdict_each_check_and_the_evidence_first(
        failing: tuple[RunResult, str]) -> None:
    result, page = failing
    assert not result.passed
    verdict = page[page.index('id="verdict"'):page.index("</p>", page.index('id="verdict"'))]
    assert "未通过 FAIL" in verdict and "票据一致 bills match" in verdict
    assert "退费 / refunds" in page and "随机种子 seed" in page and ">27<" in page
    assert "2026-03-02" in page and "variant bill-ignores-account" in page
    assert "H11010600001" in page and "内置 embedded mock insurer" in page
    for check in result.checks:
        row = page.index(f'<span class="code">{check.name}</span>')
        cells = page[page.rindex("<tr>", 0, row):page.index("</tr>", row)]
        assert CHECK_LABELS[check.name] in cells
        assert ("通过 PASS" in cells) == check.passed and ("未通过 FAIL" in cells) != check.passed
    rows = [page.index(f'<span class="code">{c.name}</span>') for c in result.checks]
    assert page.index('<span class="code">bills_match</span>') == min(rows), "failing first"
    failed = next(c for c in result.checks if c.name == "bills_match")
    evidence = page[page.index('id="evidence-bills_match"'):]
    assert f"证据 evidence ({len(failed.evidence)})" in evidence
    assert "结算ID setl_id" in evidence and "就诊 visit" in evidence
    for item in failed.evidence:
        assert item["setl_id"] in evidence and item["visit"] in evidence
    assert "psn_cash_pay: bill 25.10 · insurer 0.00" in evidence  # the amounts, to the cent


def test_the_page_is_bilingual_self_contained_html(failing: tuple[RunResult, str]) -> None:
    _result, page = failing
    assert_self_contained_html(page)
    for heading in ("检查 / Checks", "就诊结果 / How the visits ended", "拒绝 / Refusals",
                    "故障时间线 / Fault timeline", "日终对账 / Day-end reconciliation",
                    "每个就诊 / Every visit", "结果 outcome", "全部退费 refunded",
                    "部分退费 partly refunded", "现有票据医疗费总额 total fees"):
        assert heading in page, heading
    assert re.search(r"total fees on the bills standing: \d+\.\d\d 元", page)
    assert page.count('src="data:image/png;base64,') == 2  # visits over the day, answer times


def test_the_same_seed_gives_the_same_page(tmp_path: Path) -> None:
    """Byte for byte, but for what is measured on the wall clock (the section
    ``wall-clock``: step milliseconds and the run's seconds): business times, amounts,
    setl_ids and the plot of the day repeat; the embedded servers' ports are not shown."""
    pages = [run(tmp_path / str(n))[1] for n in (1, 2)]
    assert "通过 PASS" in pages[0]
    stable = [re.sub(r'<section id="wall-clock">.*?</section>', "", p, flags=re.S)
              for p in pages]
    assert stable[0] != pages[0] and stable[0] == stable[1]
    result = json.loads((tmp_path / "1" / "result.json").read_text("utf-8"))
    assert result["date"] == "2026-03-02"


def test_the_terminal_names_the_page_a_run_wrote(tmp_path: Path) -> None:
    report = tmp_path / "report"
    done = CliRunner().invoke(main, ["scenario", "run", "refunds", "--report", str(report)])
    assert done.exit_code == 0, done.output
    lines = done.output.strip().splitlines()
    assert lines[-2].strip() == f"网页 page: {report / 'report.html'}"
    assert lines[-1].strip() == f"result: {report / 'result.json'}"
    assert "通过 PASS" in (report / "report.html").read_text("utf-8")


def test_a_run_refused_before_it_starts_writes_no_page(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: x\ntitle: x\nseed: 1\ndate: '2026-03-02'\nvisits: [{id: 1}]\n",
                   "utf-8")
    report = tmp_path / "report"
    result = CliRunner().invoke(main, ["scenario", "run", str(bad), "--report", str(report)])
    assert result.exit_code == 2, result.output
    assert not (report / "report.html").exists()


def _visit(n: int, outcome: str, dept: str, refusal: dict[str, str] | None = None,
           at: str = "08:00") -> VisitRecord:
    hour, minute = (int(x) for x in at.split(":"))
    return VisitRecord(
        id=f"v{n}", group="am", at=datetime(2026, 3, 2, hour, minute), psn_no=f"p{n}",
        psn_name="张三", edge_cases=[], certificate="card", operator="op1", dept=dept,
        then="settle", items=[], outcome=outcome, refusal=refusal,
        steps=[StepRecord("identify", f"2026-03-02 {at}:00", refusal is None, 12.5)])


def _sample() -> RunResult:
    """Four visits in two departments, two refusal reasons, an outage on the timeline, a
    day-end that failed, a HIS and an insurer given by URL."""
    lost = {"step": "identify", "rejection_code": "card_lost",
            "message": "FSI-社会保障卡S1已挂失，请患者使用新卡"}
    down = {"step": "identify", "code": "insurer_no_answer",
            "message": "医保中心无应答(1101)，请稍后重试 / no answer from the insurer to 1101"}
    result = RunResult(
        scenario="s", title="t", concern="c", source="", seed=3, date="2026-03-02",
        his={"name": "vendor HIS", "url": "http://127.0.0.1:9000", "embedded": False,
             "institution": "H1"},
        insurer={"url": "http://127.0.0.1:8080", "embedded": False},
        visits=[_visit(1, "settled", "A03"), _visit(2, "refused", "A03", lost, "08:10"),
                _visit(3, "refused", "A04", lost, "08:20"),
                _visit(4, "refused", "A04", down, "08:55")],
        day_ends=[DayEndRecord("2026-03-02", False, None, 0, {"error": "timed out"}, 1.0)],
        events=[{"at": "2026-03-02 08:50:00", "note": "宕机 / down", "faults": ["down"],
                 "effects": [{"id": "down", "name": "中心宕机", "kind": "refuse"}]},
                {"at": "2026-03-02 09:20:00", "note": "恢复 / back", "faults": []}],
        checks=[CheckResult("refusals", False, "refusals differ", ["v4 was not expected"])])
    return result


def test_refusals_by_reason_with_the_cashiers_words_and_by_department() -> None:
    result = _sample()
    page = unmarked(render_page(result))
    by_reason = page[page.index("按原因 / By reason"):page.index("按科室 / By department")]
    assert "社保卡已挂失 card lost" in by_reason and ">2<" in by_reason
    assert "“FSI-社会保障卡S1已挂失，请患者使用新卡” ×2" in by_reason and "v2, v3" in by_reason
    assert "医保中心无应答 no answer from the insurer" in by_reason  # the HIS's own code
    by_dept = page[page.index("按科室 / By department"):page.index("故障时间线")]
    assert "内科" in by_dept and "外科" in by_dept and "社保卡已挂失 card lost 1" in by_dept
    timeline = page[page.index("故障时间线"):page.index("日终对账")]
    assert "08:50" in timeline and "中心宕机 拒绝连接 connection refused" in timeline
    assert "出错 error: timed out" in page
    assert "<li>v4 was not expected</li>" in page  # evidence that is not a table
    assert "vendor HIS http://127.0.0.1:9000" in page  # a HIS given by URL is named by it
    assert unmarked(render_page(result)) == page


def test_a_run_over_several_days_or_without_visits_still_has_a_page() -> None:
    result = _sample()
    result.visits[-1].at = datetime(2026, 3, 30, 9, 0)
    assert render_page(result).count('src="data:image/png;base64,') == 2
    result.visits, result.events, result.checks = [], [], []
    page = unmarked(render_page(result))
    assert "通过 PASS" in page and "合计 total" in page and "data:image" not in page
    assert_self_contained_html(page.replace("http://127.0.0.1", ""))


def test_every_refusal_code_of_the_reference_his_has_words() -> None:
    assert set(HIS_REFUSAL_LABELS) == set(HIS_REFUSALS)


@pytest.mark.slow
def test_the_page_renders_in_a_browser_without_errors(tmp_path: Path) -> None:
    from tests.support.browser import chromium_page

    path = tmp_path / "report.html"
    path.write_text(render_page(_sample()), "utf-8")
    with chromium_page() as page:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(r.url))
        page.goto(path.as_uri())
        assert page.locator("#verdict").inner_text().startswith("未通过 FAIL")
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        assert len(widths) == 2 and all(w > 0 for w in widths)
        assert errors == []
