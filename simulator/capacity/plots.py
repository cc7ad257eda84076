"""Pictures of a window plan and of the four-way comparison (PNG and SVG, see
:mod:`simulator.windows.plots` for fonts and output)."""

from __future__ import annotations

from typing import Any

import matplotlib
from matplotlib.figure import Figure

from simulator.capacity.compare import VARIANTS
from simulator.windows.plots import COLORS, label
from simulator.windows.plots import plot_style as style

__all__ = ["plan_figure"]

_VARIANT_STYLE = {
    "card_trained": ("#d62728", "-"),
    "card_new": ("#ff9896", "--"),
    "no_card_trained": ("#1f77b4", "-"),
    "no_card_new": ("#aec7e8", "--"),
}


def _plan_panels(figure: Figure, plan: dict[str, Any], rows: int) -> None:
    hours = [row["hour"][:2] for row in plan["hours"]]
    x = list(range(len(hours)))
    axes = figure.add_subplot(rows, 2, 1)
    arrived = [row["arrived"] or 0.0 for row in plan["hours"]]
    axes.bar(x, arrived, color=COLORS["bars"], label=label("arrivals per hour", "每小时到达"))
    axes.set_ylabel(label("patients", "人数"))
    axes.set_xticks(x, hours)
    twin = axes.twinx()
    edges = [i - 0.5 for i in x] + [x[-1] + 0.5]
    planned = [row["windows"] for row in plan["hours"]]
    erlang = [row["erlang_c_windows"] or 0 for row in plan["hours"]]
    twin.step(edges, [*planned, planned[-1]], where="post", color=COLORS["windows"], linewidth=2.2,
              label=label("plan (simulated)", "方案（模拟）"))
    twin.step(edges, [*erlang, erlang[-1]], where="post", color=COLORS["erlang"], linewidth=1.2, linestyle="--",
              label=label("Erlang C guess", "Erlang C 估算"))
    for i, value in enumerate(planned):
        twin.annotate(str(value), (i, value), textcoords="offset points", xytext=(0, 4), ha="center", fontsize=8)
    twin.set_ylabel(label("windows", "窗口数"))
    twin.set_ylim(0, max([*planned, *erlang, 1]) * 1.25)
    twin.grid(False)
    handles = axes.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    axes.legend(handles=handles, loc="upper right", fontsize=8)
    target = plan["target"]
    axes.set_title(label(
        f"Window plan: {target['share']:.0%} wait ≤ {target['wait_minutes']:g} min", "窗口方案"
    ))

    shares = figure.add_subplot(rows, 2, 2)
    within = [(row["within_target"] if row["within_target"] is not None else float("nan")) * 100 for row in plan["hours"]]
    colors = [COLORS["busy"] if v >= target["share"] * 100 else COLORS["windows"] for v in within]
    shares.bar(x, within, color=colors, alpha=0.8)
    shares.axhline(target["share"] * 100, color=COLORS["target"], linestyle=":", label=label("target", "目标"))
    shares.set_ylim(min([*within, target["share"] * 100]) - 5, 101)
    shares.set_xticks(x, hours)
    shares.set_ylabel("%")
    shares.set_title(label(f"Served within {target['wait_minutes']:g} min, by hour", "按时段的达标比例"))
    shares.legend(loc="lower right", fontsize=8)


def _compare_panels(figure: Figure, comparison: dict[str, Any]) -> None:
    rows = comparison["hours"]
    hours = [row["hour"][:2] for row in rows]
    x = list(range(len(hours)))
    axes = figure.add_subplot(2, 2, 3)
    edges = [i - 0.5 for i in x] + [x[-1] + 0.5]
    for name, _, _, english, chinese in VARIANTS:
        values = [row[name] for row in rows]
        color, line = _VARIANT_STYLE[name]
        axes.step(edges, [*values, values[-1]], where="post", color=color, linestyle=line, linewidth=2,
                  label=label(english, chinese))
    axes.set_xticks(x, hours)
    axes.set_ylabel(label("windows", "窗口数"))
    axes.set_ylim(bottom=0)
    axes.set_title(label("Windows needed per hour", "每小时所需窗口"))
    axes.legend(loc="upper right", fontsize=7)

    totals = figure.add_subplot(2, 2, 4)
    names = [name for name, *_ in VARIANTS]
    values = [comparison["variants"][name]["window_hours"] for name in names]
    bars = totals.bar(range(len(names)), values, color=[_VARIANT_STYLE[name][0] for name in names])
    totals.bar_label(bars, fontsize=9)
    totals.set_xticks(range(len(names)), [
        label("card\ntrained", "持卡\n熟练"), label("card\nnew", "持卡\n新手"),
        label("no card\ntrained", "无卡\n熟练"), label("no card\nnew", "无卡\n新手"),
    ], fontsize=8)
    totals.set_ylabel(label("window-hours per day", "每日窗口·小时"))
    totals.set_title(label("Window-hours for the day", "全天窗口·小时"))


def plan_figure(plan: dict[str, Any], comparison: dict[str, Any] | None = None, title: str = "") -> Figure:
    """The plan (windows per hour beside arrivals, Erlang C's guess, the share within target
    by hour); with ``comparison``, also the four variants per hour and their window-hours."""
    rows = 2 if comparison else 1
    with matplotlib.rc_context(style()):
        figure = Figure(figsize=(12, 4.2 * rows), layout="constrained")
        _plan_panels(figure, plan, rows)
        if comparison:
            _compare_panels(figure, comparison)
        if title:
            figure.suptitle(title, fontsize=11)
    return figure
