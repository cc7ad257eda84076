"""Pictures of a window plan and of the four-way comparison (PNG and SVG, see
:mod:`simulator.windows.plots` for fonts and output).

The plan is planned for the scenario's own cashiers (its share of new cashiers, its card
settlement); each of the four comparison variants (:data:`~simulator.capacity.compare.VARIANTS`)
assumes all cashiers trained or all new and is planned separately. The figure draws the plan
beside the variants and says so in a footnote, so staff can tell which numbers are the plan.
"""

from __future__ import annotations

from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from simulator.capacity.compare import VARIANTS
from simulator.windows.plots import COLORS, cjk_font, hour_axis, label, run_title, seed_note
from simulator.windows.plots import plot_style as style

__all__ = ["plan_figure", "staffing_words"]

_VARIANT_STYLE = {
    "card_trained": ("#d62728", "-"),
    "card_new": ("#ff9896", "--"),
    "no_card_trained": ("#1f77b4", "-"),
    "no_card_new": ("#aec7e8", "--"),
}

def _two_lines(english: str, chinese: str) -> str:
    """English over Chinese (English only without a CJK font)."""
    return f"{english}\n{chinese}" if cjk_font() is not None else english


def staffing_words(card: bool, new_share: float, *, short: bool = False) -> tuple[str, str]:
    """(English, Chinese) for what a plan assumes: card settlement or not, and its cashiers
    (``new_share``: the share of windows staffed by new cashiers, 0 to 1)."""
    if short:
        card_words = ("card", "持卡") if card else ("no card", "无卡")
        if new_share <= 0:
            skill = ("trained", "熟练")
        elif new_share >= 1:
            skill = ("new", "新手")
        else:
            skill = (f"{new_share:.0%} new", f"{new_share:.0%} 新手")
        return f"{card_words[0]}, {skill[0]}", f"{card_words[1]}·{skill[1]}"
    card_words = ("card settlement", "持卡结算") if card else ("no card settlement", "无持卡结算")
    if new_share <= 0:
        skill = ("all cashiers trained", "收费员全部熟练")
    elif new_share >= 1:
        skill = ("all cashiers new", "收费员全部为新手")
    else:
        skill = (f"{new_share:.0%} new cashiers", f"新收费员占 {new_share:.0%}")
    return f"{card_words[0]}, {skill[0]}", f"{card_words[1]}，{skill[1]}"


def _plan_words(plan: dict[str, Any], *, short: bool = False) -> tuple[str, str]:
    return staffing_words(bool(plan.get("card_settlement", True)), float(plan.get("new_share") or 0.0), short=short)


def _plan_panel(axes: Axes, plan: dict[str, Any]) -> None:
    hours = [row["hour"][:2] for row in plan["hours"]]
    x = list(range(len(hours)))
    arrived = [row["arrived"] or 0.0 for row in plan["hours"]]
    axes.bar(x, arrived, color=COLORS["bars"], label=label("arrivals per hour", "每小时到达"))
    axes.set_ylabel(label("patients", "人数"))
    axes.set_ylim(0, max([*arrived, 1.0]) * 1.35)  # room for the legend
    hour_axis(axes, x, hours)
    twin = axes.twinx()
    edges = [i - 0.5 for i in x] + [x[-1] + 0.5]
    planned = [row["windows"] for row in plan["hours"]]
    erlang = [row["erlang_c_windows"] or 0 for row in plan["hours"]]
    twin.step(edges, [*planned, planned[-1]], where="post", color=COLORS["windows"], linewidth=2.2,
              label=label("plan (found by simulation)", "方案（模拟求得）"))
    twin.step(edges, [*erlang, erlang[-1]], where="post", color=COLORS["erlang"], linewidth=1.2, linestyle="--",
              label=label("Erlang C formula estimate", "Erlang C 公式估算"))
    twin.set_ylabel(label("windows", "窗口数"))
    twin.set_ylim(0, max([*planned, *erlang, 1]) * 1.35)
    twin.grid(False)
    # the plan's numbers in a row above the panel, clear of the lines
    counts = axes.secondary_xaxis("top")
    counts.set_xticks(x, [str(value) for value in planned])
    counts.tick_params(colors=COLORS["windows"], length=0, labelsize=9)
    counts.set_xlabel(label("planned windows", "方案窗口数"), color=COLORS["windows"], fontsize=8)
    handles = axes.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    axes.legend(handles=handles, loc="upper right", fontsize=8)
    target = plan["target"]
    share, wait = f"{target['share']:.0%}", f"{target['wait_minutes']:g}"
    axes.set_title(label(f"Window plan: {share} wait ≤ {wait} min", f"窗口方案：{share} 等候 ≤ {wait} 分钟"),
                   fontsize=11)


def _shares_panel(shares: Axes, plan: dict[str, Any]) -> None:
    hours = [row["hour"][:2] for row in plan["hours"]]
    x = list(range(len(hours)))
    target = plan["target"]
    goal = target["share"] * 100
    within = [(row["within_target"] if row["within_target"] is not None else float("nan")) * 100
              for row in plan["hours"]]
    colors = [COLORS["busy"] if v >= goal else COLORS["windows"] for v in within]
    bars = shares.bar(x, within, color=colors, alpha=0.8)
    shares.bar_label(bars, labels=["" if v != v else f"{v:.0f}%" if v >= 99.5 else f"{v:.1f}%" for v in within],
                     fontsize=7, padding=2)
    shares.axhline(goal, color=COLORS["target"], linestyle=":")
    handles = [
        Patch(color=COLORS["busy"], alpha=0.8, label=label("meets the target", "达标")),
        Patch(color=COLORS["windows"], alpha=0.8, label=label("below the target", "未达标")),
        shares.plot([], [], color=COLORS["target"], linestyle=":",
                    label=label(f"target {target['share']:.0%}", f"目标 {target['share']:.0%}"))[0],
    ]
    shares.set_ylim(0, 130)  # from 0: the bars' heights compare truthfully; room for the legend
    shares.set_yticks(range(0, 101, 20))
    hour_axis(shares, x, hours, "arrival")
    wait = f"{target['wait_minutes']:g}"
    shares.set_ylabel(label("patients", "患者") + " (%)")
    shares.set_title(label(f"Waited ≤ {wait} min, by hour", f"等候 ≤ {wait} 分钟的比例（按时段）"), fontsize=11)
    shares.legend(handles=handles, loc="upper left", fontsize=8, ncol=3, columnspacing=1.0)


def _compare_panels(figure: Figure, plan: dict[str, Any], comparison: dict[str, Any]) -> None:
    rows = comparison["hours"]
    hours = [row["hour"][:2] for row in rows]
    x = list(range(len(hours)))
    axes = figure.add_subplot(2, 2, 3)
    edges = [i - 0.5 for i in x] + [x[-1] + 0.5]
    for name, card, new_share, *_ in VARIANTS:
        values = [row[name] for row in rows]
        color, line = _VARIANT_STYLE[name]
        axes.step(edges, [*values, values[-1]], where="post", color=color, linestyle=line, linewidth=2,
                  label=label(*staffing_words(card, new_share, short=True)))
    by_hour = {row["hour"][:2]: row["windows"] for row in plan["hours"]}
    plan_en, plan_zh = _plan_words(plan, short=True)
    axes.plot(x, [by_hour.get(hour, float("nan")) for hour in hours], linestyle="none", marker="o", markersize=5,
              color=COLORS["plan"], label=label(f"plan ({plan_en})", f"方案（{plan_zh}）"), zorder=5)
    hour_axis(axes, x, hours)
    axes.set_ylabel(label("windows", "窗口数"))
    top = max([row[name] for row in rows for name, *_ in VARIANTS] + list(by_hour.values()) + [1])
    axes.set_ylim(0, top * 1.55)  # room for the legend
    axes.set_title(label("Windows needed per hour", "每小时所需窗口"), fontsize=11)
    axes.legend(loc="upper left", fontsize=7, ncol=2)

    totals = figure.add_subplot(2, 2, 4)
    names = [name for name, *_ in VARIANTS]
    values = [plan["window_hours"], *(comparison["variants"][name]["window_hours"] for name in names)]
    colors = [COLORS["plan"], *(_VARIANT_STYLE[name][0] for name in names)]
    bars = totals.bar(range(len(values)), values, color=colors)
    totals.bar_label(bars, fontsize=9)
    ticks = [_two_lines("plan", "方案")]
    ticks += [_two_lines(*staffing_words(card, new_share, short=True)) for _, card, new_share, *_ in VARIANTS]
    totals.set_xticks(range(len(values)), ticks, fontsize=7.5)
    totals.set_xlabel(label("card settlement and cashiers assumed", "假设的持卡结算与收费员"))
    totals.set_ylabel(label("window-hours per day", "每日窗口·小时"))
    totals.set_ylim(0, max([*values, 1]) * 1.15)
    totals.set_title(label("Window-hours for the day", "全天窗口·小时"), fontsize=11)


def _footnote(plan: dict[str, Any]) -> str:
    plan_en, plan_zh = _plan_words(plan)
    return _two_lines(
        f"The plan (black) is for the scenario's cashiers: {plan_en}.\nEach comparison assumes all cashiers "
        "trained or all new and is planned on its own (same patients, same method), so its windows per hour "
        "can differ from the plan's.",
        f"方案（黑色）按场景中的收费员计算：{plan_zh}。\n各对比方案假设收费员全部熟练或全部为新手，"
        "分别单独规划（相同患者、相同方法），所以每小时窗口数可能与方案不同。",
    )


def _heading(plan: dict[str, Any], name: str, days: int | None) -> str:
    total = plan["window_hours"]
    if plan.get("met", True):
        status = label("target met in every hour", "每个时段均达标")
    else:
        missed = ", ".join(plan.get("unmet_hours") or [])
        status = label(f"target not met at {missed}", f"未达标时段 {missed}")
    summary = f"{label(f'the plan: {total} window-hours', f'方案：共 {total} 窗口·小时')}  ·  {status}"
    first = run_title(name, days) if days is not None else name
    return f"{first}\n{summary}" if first else summary


def plan_figure(
    plan: dict[str, Any],
    comparison: dict[str, Any] | None = None,
    title: str = "",
    *,
    days: int | None = None,
    seed: int | None = None,
) -> Figure:
    """The plan (windows per hour beside arrivals, Erlang C's guess, the share within target
    by hour); with ``comparison``, also the four variants and the plan per hour and their
    window-hours, with a footnote saying what each assumes.

    ``title``: the scenario's name, with ``days`` (simulated days per evaluation) and ``seed``
    (drawn as a small footnote).
    """
    name = title
    rows = 2 if comparison else 1
    with matplotlib.rc_context(style()):
        figure = Figure(figsize=(12, 4.6 * rows + 0.4), layout="constrained")
        _plan_panel(figure.add_subplot(rows, 2, 1), plan)
        _shares_panel(figure.add_subplot(rows, 2, 2), plan)
        if comparison:
            _compare_panels(figure, plan, comparison)
            if seed is not None:
                seed_note(figure, seed, _footnote(plan))
            else:
                figure.supxlabel(_footnote(plan), x=0.005, ha="left", fontsize=8, color="#555555",
                                 multialignment="left")
        elif seed is not None:
            seed_note(figure, seed)
        figure.suptitle(_heading(plan, name, days), fontsize=11)
    return figure
