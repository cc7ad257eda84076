"""Plots: PNG and SVG a person can open, bilingual labels from the packaged CJK font whatever the
machine has installed, and a single warning (English labels) when no CJK font can be found."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from matplotlib import font_manager
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle

from simulator.windows import plots
from simulator.windows.plots import CJKFontWarning, figure_bytes, plot_paths, run_figure
from simulator.windows.results import summarize
from simulator.windows.runs import run_replications
from simulator.windows.scenario import Scenario


@pytest.fixture(scope="module")
def report(small: Scenario) -> dict[str, object]:
    return summarize(small, run_replications(small, 1, 2, workers=1), 1)


def test_png_and_svg(report: dict[str, object]) -> None:
    figure = run_figure(report)
    png = figure_bytes(figure, "png")
    svg = figure_bytes(figure, "svg")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    # no date and fixed ids: drawing the same report again gives the same file
    assert figure_bytes(run_figure(report), "svg") == figure_bytes(run_figure(report), "svg")


def test_plot_paths() -> None:
    assert plot_paths("out/day.png") == (Path("out/day.png"), Path("out/day.svg"))
    assert plot_paths("out/day.svg") == (Path("out/day.png"), Path("out/day.svg"))
    assert plot_paths("out/day") == (Path("out/day.png"), Path("out/day.svg"))


def test_labels_are_bilingual_with_the_packaged_font_on_any_machine() -> None:
    plots.cjk_font.cache_clear()
    # the font mplfonts ships comes first, so no system font package is needed
    assert Path(plots._FONT_FILES[0]).name == "NotoSansCJKsc-Regular.otf"
    assert plots.cjk_font() == "Noto Sans CJK SC"
    found = font_manager.findfont(font_manager.FontProperties(family="Noto Sans CJK SC"), fallback_to_default=False)
    assert Path(found).is_file()
    assert plots.label("Queue", "排队") == "Queue 排队"


def test_without_a_cjk_font_labels_are_english_and_it_warns_once(
    report: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plots, "CJK_FONTS", ("No Such Font",))
    monkeypatch.setattr(plots, "_FONT_FILES", ())
    plots.cjk_font.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert plots.label("Queue", "排队") == "Queue"
            svg = figure_bytes(run_figure(report), "svg")
        assert [w.category for w in caught].count(CJKFontWarning) == 1
        assert "排队" not in svg.decode("utf-8")
    finally:
        plots.cjk_font.cache_clear()


def _busy_day(report: dict[str, Any]) -> dict[str, Any]:
    """The report with hours over and under 85% utilization (whatever the small run gave)."""
    busy = copy.deepcopy(report)
    for i, row in enumerate(busy["per_hour"]):
        row["utilization"] = 0.95 if i % 2 else 0.6
    return busy


def test_the_title_is_bilingual_and_counts_simulated_days_with_the_seed_in_a_footnote(
    report: dict[str, Any],
) -> None:
    figure = run_figure(report)
    title = figure.get_suptitle()
    assert "2 simulated days 2 个模拟日" in title and "场景" in title
    assert "×" not in title and "seed" not in title
    assert "平均等候" in title and "窗口利用率" in title and "等候 ≤" in title
    assert figure.get_supxlabel() == "random seed 1 随机种子 1"


def test_every_panel_names_its_axes_in_both_languages(report: dict[str, Any]) -> None:
    figure = run_figure(report)
    axes = [a for a in figure.get_axes() if a.get_visible()]
    hours = [a for a in axes if a.get_xlabel()]
    assert len(hours) == 4  # every panel has an x-axis title (the twins share theirs)
    assert {a.get_xlabel() for a in hours} == {"hour 时段", "hour of arrival 到达时段", "time of day (hour) 时刻（时）"}
    assert all(a.get_ylabel() for a in axes)
    assert "utilization 利用率 (%)" in {a.get_ylabel() for a in axes}


def test_busy_windows_have_their_own_axis_not_the_patients_one(report: dict[str, Any]) -> None:
    figure = run_figure(report)
    owner = {line.get_label(): line.axes for a in figure.get_axes() for line in a.get_lines()}
    busy = owner["busy windows (mean, right axis) 忙碌窗口（平均，右轴）"]
    waiting = owner["patients waiting (mean) 排队人数（平均）"]
    assert busy is not None and waiting is not None and busy is not waiting
    assert busy.get_ylabel() == "busy windows 忙碌窗口数"
    assert waiting.get_ylabel() == "patients waiting 排队人数"


def test_hours_over_85_percent_utilization_stand_out_and_the_legend_says_85_once(report: dict[str, Any]) -> None:
    figure = run_figure(_busy_day(report))
    usage = next(a for a in figure.get_axes() if a.get_title() == "Window utilization 窗口利用率")
    colors = [to_hex(bar.get_facecolor(), keep_alpha=False) for bar in usage.patches
              if isinstance(bar, Rectangle) and bar.get_height() > 0]
    assert colors[0] != colors[1] and colors[0] == colors[2] and colors[1] == colors[3]
    legend = usage.get_legend()
    assert legend is not None
    entries = [text.get_text() for text in legend.get_texts()]
    assert entries == ["≤ 85%", "> 85%: queues grow fast 排队迅速增加"]
    assert all(entry.count("85%") == 1 for entry in entries)


def test_a_long_run_draws_two_panels_side_by_side(report: dict[str, Any]) -> None:
    figure = run_figure({**report, "per_hour": None})
    titles = [a.get_title() for a in figure.get_axes() if a.get_title()]
    assert titles == ["Queue and busy windows over the run 全程排队与忙碌窗口", "Wait percentiles 等候时间分位数"]
    assert "2 simulated runs 2 次模拟运行" in figure.get_suptitle()
    waits = next(a for a in figure.get_axes() if a.get_title() == "Wait percentiles 等候时间分位数")
    assert [tick.get_text() for tick in waits.get_xticklabels()] == ["50%", "75%", "90%", "95%", "99%"]
