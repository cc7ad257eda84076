"""The load test's one page (summary.html) as a hospital reader sees it: bilingual labels, no
raw keys or unrounded numbers, the offered/achieved difference explained, and a timeline whose
requests/s is what really happened — from locust CSVs written here (no locust run)."""

from __future__ import annotations

import csv
import json
import os
import re
import stat
from pathlib import Path

import pytest

from loadtests.report import interval_rates, request_label, write_latency_csv, write_report
from loadtests.sla import Sla, evaluate, read_stats
from simulator.output import NotRegularFileError
from tests.scenarios.test_page import unmarked

STATS_HEAD = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
              "Average Response Time", "Min Response Time", "Max Response Time",
              "Average Content Size", "Requests/s", "Failures/s", "50%", "66%", "75%", "80%",
              "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
HISTORY_HEAD = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s", "50%",
                "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
                "Total Request Count", "Total Failure Count", "Total Median Response Time",
                "Total Average Response Time", "Total Min Response Time",
                "Total Max Response Time", "Total Average Content Size"]
RUN = {"target": "his", "url": "embedded", "shape": "day", "duration_s": 30, "users": 10,
       "workers": 0, "pacing_s": 3.0, "windows (most)": 10, "visits/s (offered)": 2.03,
       "peak visits/s (asked)": 3.333}


def _stats_row(kind: str, name: str, count: int, p50: int, p95: int, p99: int,
               rate: float) -> list[object]:
    return [kind, name, count, 0, p50, p50, 5, p99, 100, rate, 0.0, p50, p50, p50, p50, p95,
            p95, p99, p99, p99, p99, p99]


@pytest.fixture
def report(tmp_path: Path) -> Path:
    """A HIS run of 30 s: 80 visits (2.67/s against 2.03 offered), and a history whose
    locust ``Requests/s`` spikes to 75 while 16 requests a second were made throughout."""
    with (tmp_path / "locust_stats.csv").open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(STATS_HEAD)
        out.writerow(_stats_row("POST", "settle", 78, 65, 290, 430, 2.68))
        out.writerow(_stats_row("POST", "identify", 80, 34, 200, 460, 2.75))
        out.writerow(_stats_row("VISIT", "visit", 80, 350, 1200, 1500, 2.6666666666666665))
        out.writerow(_stats_row("", "Aggregated", 480, 73, 640, 1100, 16.0))
    with (tmp_path / "locust_stats_history.csv").open("w", encoding="utf-8",
                                                      newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HISTORY_HEAD)
        for second in range(31):
            locust_rate = 75.0 if second == 3 else 16.0  # locust's rolling-average artefact
            out.writerow([1_800_000_000 + second, 10, "", "Aggregated", locust_rate, 0.0,
                          *["N/A"] * 11, 16 * second, 0, 70, 80.0, 5, 1500, 100])
    return tmp_path


def _write(report: Path) -> dict[str, object]:
    lines = evaluate(read_stats(report / "locust_stats.csv"),
                     Sla({"settle": 1500.0, "visit": 6000.0}, 0.01))
    return write_report(report, lines, run=RUN, latency_name="visit")


def test_run_details_are_bilingual_and_rounded(report: Path) -> None:
    _write(report)
    page = unmarked((report / "summary.html").read_text(encoding="utf-8"))
    for shown in ("时长 Duration", "30 秒 s", "每窗口就诊间隔 Pacing per window", "3 秒 s",
                  "计划就诊/秒 Visits/s offered", "实际就诊/秒 Visits/s achieved", "2.67",
                  "门诊一天", "HIS（驱动接口）"):
        assert shown in page, shown
    for raw in ("duration_s", "pacing_s", "windows (most)", "2.6666666666666665", "users:"):
        assert raw not in page, raw
    # machines still read the same keys and values
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["duration_s"] == 30
    assert summary["run"]["visits/s (achieved)"] == pytest.approx(80 / 30)
    assert summary["sla"][0]["metric"] == "p95_ms"
    assert "Aggregated" in summary["transactions"]


def test_the_page_explains_why_achieved_is_above_offered(report: Path) -> None:
    _write(report)
    page = unmarked((report / "summary.html").read_text(encoding="utf-8"))
    assert "80 次就诊 ÷ 30 秒" in page and "80 visits ÷ 30 s" in page
    assert "sees its first patient at once" in page and "立即接待第一位患者" in page


def test_tables_show_names_and_metrics_in_words_not_codes(report: Path) -> None:
    _write(report)
    page = unmarked((report / "summary.html").read_text(encoding="utf-8"))
    assert "95%分位响应时间 p95 response time" in page and ">p95_ms<" not in page
    assert "失败率 error rate" in page and ">error_rate<" not in page
    assert "结算 settle" in page and "读卡识别 identify" in page and "整个就诊 visit" in page
    assert "合计 total" in page and ">Aggregated<" not in page and "<th>name</th>" not in page
    assert page.index("整个就诊 visit</td><td>80") < page.index("合计 total")  # total last
    assert "中位数 p50" in page and "一半请求快于中位数" in page


def test_request_labels() -> None:
    assert request_label("2207 settle") == "结算 2207 settle"
    assert request_label("Aggregated") == "合计 total"
    assert request_label("9999 unknown") == "9999 unknown"


def test_requests_per_second_is_what_happened_not_locusts_rolling_average() -> None:
    seconds = [float(s) for s in range(31)]
    edges, rates = interval_rates(seconds, [16.0 * s for s in range(31)], 5)
    assert edges == [0, 5, 10, 15, 20, 25, 30]
    assert rates == [16.0] * 6
    # a pause: nothing for 10 s, then 100 requests in 5 s
    totals = [0.0] * 11 + [20.0 * (s - 10) for s in range(11, 16)]
    edges, rates = interval_rates([float(s) for s in range(16)], totals, 5)
    assert rates == [0.0, 0.0, 20.0]
    # a last short interval joins the one before; one row or none: nothing to draw
    assert interval_rates([0.0, 5.0, 6.0], [0.0, 10.0, 12.0], 5) == ([0.0, 6.0], [2.0])
    assert interval_rates([0.0], [3.0], 5) == ([], [])


def test_the_report_is_the_same_twice(report: Path) -> None:
    _write(report)
    first = {name: (report / name).read_bytes()
             for name in ("summary.html", "summary.json", "latency.png", "timeline.png")}
    _write(report)
    assert first == {name: (report / name).read_bytes() for name in first}


def test_report_files_are_written_whole_and_never_over_a_pipe(tmp_path: Path) -> None:
    """A latency file aimed at a named pipe is refused at once (it used to wait forever for a
    reader), and the pipe stays; no scratch file is left beside it."""
    pipe = tmp_path / "latency_ms.csv"
    os.mkfifo(pipe)
    with pytest.raises(NotRegularFileError):
        write_latency_csv(pipe, [1.0, 2.5])
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["latency_ms.csv"]
    written = write_latency_csv(tmp_path / "out" / "rt.csv", [1.0, 2.5], "2207")
    assert written.read_text(encoding="utf-8").splitlines() == [
        "latency_ms,request", "1.000,2207", "2.500,2207"]


def test_the_plots_are_described_in_words_in_both_languages(report: Path) -> None:
    """A screen reader hears what each plot shows, not its file name (the audit heard
    "latency.png")."""
    _write(report)
    page = (report / "summary.html").read_text("utf-8")
    alts = re.findall(r'<img src="([^"]+)" alt="([^"]+)">', page)
    assert [name for name, _alt in alts] == ["latency.png", "timeline.png"]
    for name, alt in alts:
        assert name not in alt and ".png" not in alt
        assert re.search(r"[\u4e00-\u9fff]", alt) and re.search(r"[a-z]{4,}", alt), alt
