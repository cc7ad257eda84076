"""Plots: PNG and SVG a person can open, bilingual labels from the packaged CJK font whatever the
machine has installed, and a single warning (English labels) when no CJK font can be found."""

from __future__ import annotations

import warnings
from pathlib import Path
from xml.etree import ElementTree

import pytest
from matplotlib import font_manager

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
