"""cashflow.html and the cash-flow pictures as the finance office reads them: yuan with
thousands separators, rates as percentages, the advance explained in words, one set of category
names (the month report's), and — on a month run's figures — a visible note that the advance was
not scaled to them, with the refusal picture drawn in 元 rather than as empty 万元 bars."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from simulator.finance.model import YearRun, run_year
from simulator.finance.month_input import apply_month
from simulator.finance.params import merge_data, params_from_data, read_params_data
from simulator.finance.plots import (
    CATEGORY_LABELS,
    exposure_figure,
    money_unit,
    percent_text,
    refusals_figure,
    yuan_text,
)
from simulator.finance.report import render_html, report_files
from tests.simulator.finance.conftest import month_file_data


def _text(page: str) -> str:
    """What a reader sees: the page without tags (attributes such as title= dropped)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page.split("<body>", 1)[-1]))


@pytest.fixture(scope="module")
def default_page(default_run: YearRun) -> tuple[dict[str, Any], str]:
    data, files = report_files(default_run)
    return data, files["cashflow.html"].decode("utf-8")


@pytest.fixture(scope="module")
def small_month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A month of a few hundred yuan (what ``finance month --days 5`` writes)."""
    path = tmp_path_factory.mktemp("month") / "month.json"
    path.write_bytes(orjson.dumps(month_file_data(
        daily=[{"date": f"2026-03-{day:02d}", "claimed": "500.00"} for day in range(2, 7)],
        claimed="2500.00", deducted="4.00",
        deductions_by_category={"medical_admin": "2.00", "pricing": "1.50", "insurance_rules": "0.50"},
        declared_on="2026-04-01", reviewed_on="2026-04-02", paid_date="2026-05-02")))
    return path


@pytest.fixture(scope="module")
def small_month_run(small_month: Path) -> tuple[YearRun, dict[str, Any]]:
    """That month with the defaults: the advance's base is estimated from the month."""
    data, where = read_params_data(None)
    params, sources = apply_month(data, params_from_data(data, where), small_month, where)
    return run_year(params, 2026, 1), sources


@pytest.fixture(scope="module")
def dwarfed_month_run(small_month: Path) -> tuple[YearRun, dict[str, Any]]:
    """That month under a params file that keeps a large hospital's advance base."""
    data, where = read_params_data(None)
    data = merge_data(data, {"advance": {"base_amount": {"value": "90000000.00"}}})
    params, sources = apply_month(data, params_from_data(data, where), small_month, where)
    return run_year(params, 2026, 1), sources


def test_yuan_and_percent_as_people_read_them() -> None:
    assert yuan_text("92007423.99") == "92,007,423.99"
    assert yuan_text(Decimal("-6627590.345")) == "-6,627,590.35"  # half-up to the cent
    assert yuan_text("0") == "0.00" and yuan_text(None) == "-"
    assert percent_text("0.000378") == "0.04 %" and percent_text("0.0005") == "0.05 %"
    assert percent_text(Decimal("0.006")) == "0.60 %" and percent_text("0.000000") == "0.00 %"
    assert percent_text("0.006021") == "0.60 %"  # two places always, never "0.6021%"
    assert percent_text("0.0833") == "8.33 %"


def test_small_amounts_are_drawn_in_yuan_large_ones_in_wan() -> None:
    assert money_unit([Decimal("24.00"), Decimal("3.10")])[1:] == ("yuan", "元")
    assert money_unit([Decimal("-6664000.00")])[1:] == ("10,000 yuan", "万元")


def test_the_category_names_are_the_month_reports(default_page: tuple[dict[str, Any], str]) -> None:
    _data, page = default_page
    for zh, en in CATEGORY_LABELS.values():
        assert f"{zh} / {en}" in page
    for old in ("医保政策", "医疗及药品管理", "参保人员"):
        assert old not in page


def test_the_page_has_separators_percentages_and_the_advance_in_words(
        default_page: tuple[dict[str, Any], str]) -> None:
    data, page = default_page
    text = _text(page)
    advanced = data["summary"]["flows"]["advanced"]
    assert yuan_text(advanced) in text and f">{advanced}<" not in page
    assert "0.60 %" in text and "0.006" not in text and "0.6%" not in text  # insurance rules' refusal rate
    assert "6,664,000.00 元" in text and "80,000,000.00 元" in text and "8.33 %" in text
    assert "× 0.0833" not in text and "80000000.00" not in text
    assert "核准 accepted" in text and "回款 accepted" not in text
    assert "advance-note" not in page  # the defaults' advance fits the defaults' claims


def test_refusal_losses_by_reason_are_sorted_by_amount(default_page: tuple[dict[str, Any], str]) -> None:
    data, page = default_page
    section = page[page.index("Refusal losses by reason"):]
    section = section[:section.index("</table>")]
    lost = data["summary"]["flows"]["lost_by_category"]
    shown = [category for category in re.findall(r'<td title="([a-z_]+)">', section)]
    assert shown == sorted(lost, key=lambda c: -Decimal(lost[c]))


def test_a_month_run_estimates_the_advance_from_the_month_and_says_so_near_the_top(
        small_month_run: tuple[YearRun, dict[str, Any]]) -> None:
    run, sources = small_month_run
    data, files = report_files(run, sources)
    page = files["cashflow.html"].decode("utf-8")
    note = page.index('id="advance-note"')
    assert note < page.index("汇总 / Summary")
    text = _text(page[note:page.index("汇总 / Summary")])
    assert "estimated from this month" in text and "advance.base_amount" in text
    assert "× the year's claims" not in text
    # the base is the month's level over the year: the advance is about a month of claims
    advance = Decimal(data["advance"]["amount"])
    advanced = Decimal(data["summary"]["flows"]["advanced"])
    assert advanced / 14 < advance < advanced / 10
    assert "advance.base_amount" in sources["taken"]
    # the sources in words, not as a JSON dump
    assert '{"month_file"' not in page and "日均水平 daily level" in _text(page)


def test_a_month_run_under_a_far_larger_advance_is_flagged_near_the_top(
        dwarfed_month_run: tuple[YearRun, dict[str, Any]]) -> None:
    run, sources = dwarfed_month_run
    _data, files = report_files(run, sources)
    page = files["cashflow.html"].decode("utf-8")
    text = _text(page[page.index('id="advance-note"'):page.index("汇总 / Summary")])
    assert "× the year's claims" in text and "estimated from this month" not in text
    assert "advance.base_amount" not in sources["taken"]


def test_the_refusal_picture_of_a_small_month_is_in_yuan(
        dwarfed_month_run: tuple[YearRun, dict[str, Any]]) -> None:
    run, _sources = dwarfed_month_run
    axes = refusals_figure(run).axes[0]
    assert "元" in axes.get_ylabel() or "yuan" in axes.get_ylabel()
    assert "万元" not in axes.get_ylabel() and "10,000" not in axes.get_ylabel()
    assert axes.get_ylim()[1] > 5  # the bars are a few yuan high, not 0.0005 万元
    top = exposure_figure(run).axes[0]
    assert any("advance" in text.get_text() for text in top.texts)  # the advance dwarfs the claims


def test_render_html_is_deterministic(default_page: tuple[dict[str, Any], str]) -> None:
    data, page = default_page
    assert render_html(data, {}) == render_html(data, {})
    assert page.startswith("<!doctype html>")


def test_wide_tables_scroll_visibly_on_screen_and_print_whole(
        default_page: tuple[dict[str, Any], str]) -> None:
    """On screen a wide table scrolls in a box that shows it (shadows at the edge with more)
    and that the keyboard reaches; on paper nothing scrolls: the audit's printed copy had no
    "paid" column."""
    _data, page = default_page
    boxes = re.findall(r'<div class="wrap"([^>]*)>', page)
    assert len(boxes) == 2
    for attributes in boxes:
        assert 'role="region"' in attributes and 'tabindex="0"' in attributes
        assert re.search(r'aria-label="[^"]*[\u4e00-\u9fff][^"]*/ [A-Z]', attributes)
    assert re.search(r"\.wrap\{overflow-x:auto;[^}]*radial-gradient", page)  # the edge shadow
    assert "@page{size:A4 landscape" in page
    printed = page[page.index("@media print{"):]
    assert re.search(r"\.wrap\{overflow:visible", printed)
