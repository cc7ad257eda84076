"""The plan picture as staff read it: a bilingual title that counts simulated days, the plan's
window numbers clear of its line, the share-within-target axis from 0, and the plan drawn beside
the four comparison variants with a footnote saying what each assumes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation

from simulator.capacity.plots import plan_figure, staffing_words
from simulator.windows.plots import figure_bytes

HOURS = ["07:00", "08:00", "09:00"]


@pytest.fixture
def plan() -> dict[str, Any]:
    """A plan as ``Plan.as_data()`` gives it: card settlement, 7% new cashiers, 3 hours."""
    windows, erlang, within = [4, 10, 6], [4, 12, 6], [1.0, 0.91, 0.985]
    return {
        "target": {"wait_minutes": 10, "share": 0.9},
        "card_settlement": True,
        "new_share": 0.074,
        "met": True,
        "unmet_hours": [],
        "window_hours": sum(windows),
        "hours": [
            {"hour": hour, "windows": w, "erlang_c_windows": e, "arrived": 100.0 * w, "within_target": s}
            for hour, w, e, s in zip(HOURS, windows, erlang, within, strict=True)
        ],
    }


@pytest.fixture
def comparison() -> dict[str, Any]:
    per_hour = {"card_trained": [3, 9, 6], "card_new": [5, 14, 9], "no_card_trained": [2, 7, 4], "no_card_new": [4, 10, 6]}
    return {
        "hours": [{"hour": hour, **{name: values[i] for name, values in per_hour.items()}} for i, hour in enumerate(HOURS)],
        "variants": {name: {"window_hours": sum(values)} for name, values in per_hour.items()},
    }


def _panel(figure: Figure, title_start: str) -> Axes:
    return next(a for a in figure.get_axes() if a.get_title().startswith(title_start))


def test_the_title_is_bilingual_simulated_days_and_the_seed_a_footnote(
    plan: dict[str, Any], comparison: dict[str, Any]
) -> None:
    figure = plan_figure(plan, comparison, "default day", days=4, seed=1)
    title = figure.get_suptitle()
    assert "场景" in title and "default day" in title and "4 simulated days 4 个模拟日" in title
    assert "×" not in title and "seed" not in title
    assert "the plan: 20 window-hours 方案：共 20 窗口·小时" in title and "每个时段均达标" in title
    assert figure.get_supxlabel().endswith("random seed 1 随机种子 1")


def test_every_hour_panel_has_an_hour_axis_title(plan: dict[str, Any], comparison: dict[str, Any]) -> None:
    figure = plan_figure(plan, comparison, "day", days=4, seed=1)
    xlabels = {a.get_title().split(" ")[0]: a.get_xlabel() for a in figure.get_axes() if a.get_title()}
    assert xlabels == {
        "Window": "hour 时段", "Waited": "hour of arrival 到达时段", "Windows": "hour 时段",
        "Window-hours": "card settlement and cashiers assumed 假设的持卡结算与收费员",
    }


def test_the_share_within_target_starts_at_zero_with_values_on_the_bars(plan: dict[str, Any]) -> None:
    shares = _panel(plan_figure(plan), "Waited ≤ 10 min")
    assert shares.get_ylim()[0] == 0
    assert shares.get_ylabel() == "patients 患者 (%)"
    values = [text.get_text() for text in shares.texts]
    assert values == ["100%", "91.0%", "98.5%"]
    box = shares.get_legend()
    assert box is not None
    legend = [text.get_text() for text in box.get_texts()]
    assert legend == ["meets the target 达标", "below the target 未达标", "target 90% 目标 90%"]


def test_the_planned_window_counts_sit_in_a_row_above_the_panel_not_on_the_line(plan: dict[str, Any]) -> None:
    figure = plan_figure(plan)
    assert not [text for text in figure.findobj(Annotation) if text.get_text() in {"4", "10", "6"}]
    top = next(child for a in figure.get_axes() for child in a.child_axes)
    assert [tick.get_text() for tick in top.get_xticklabels()] == ["4", "10", "6"]
    assert top.get_xlabel() == "planned windows 方案窗口数"


def test_the_plan_is_drawn_beside_the_variants_and_the_footnote_says_what_they_assume(
    plan: dict[str, Any], comparison: dict[str, Any]
) -> None:
    figure = plan_figure(plan, comparison, "day", days=4, seed=1)
    totals = _panel(figure, "Window-hours for the day")
    assert [bar.get_height() for bar in totals.patches if isinstance(bar, Rectangle)] == [20, 18, 28, 13, 20]
    assert [tick.get_text() for tick in totals.get_xticklabels()] == [
        "plan\n方案", "card, trained\n持卡·熟练", "card, new\n持卡·新手", "no card, trained\n无卡·熟练",
        "no card, new\n无卡·新手",
    ]
    per_hour = _panel(figure, "Windows needed per hour")
    dots = next(line for line in per_hour.get_lines() if str(line.get_label()).startswith("plan"))
    assert dots.get_label() == "plan (card, 7% new) 方案（持卡·7% 新手）"
    assert [float(y) for y in np.asarray(dots.get_ydata())] == [4, 10, 6]
    note = figure.get_supxlabel()
    assert "card settlement, 7% new cashiers" in note and "all cashiers trained or all new" in note
    assert "持卡结算，新收费员占 7%" in note and "全部熟练或全部为新手" in note


def test_staffing_words() -> None:
    assert staffing_words(True, 0.0) == ("card settlement, all cashiers trained", "持卡结算，收费员全部熟练")
    assert staffing_words(False, 1.0, short=True) == ("no card, new", "无卡·新手")
    assert staffing_words(True, 0.25, short=True) == ("card, 25% new", "持卡·25% 新手")


def test_an_unmet_plan_says_which_hours_and_the_figure_repeats_exactly(
    plan: dict[str, Any], comparison: dict[str, Any]
) -> None:
    unmet = {**plan, "met": False, "unmet_hours": ["08:00"]}
    assert "target not met at 08:00 未达标时段 08:00" in plan_figure(unmet).get_suptitle()
    svg = figure_bytes(plan_figure(plan, comparison, "day", days=4, seed=1), "svg")
    assert svg == figure_bytes(plan_figure(plan, comparison, "day", days=4, seed=1), "svg")
