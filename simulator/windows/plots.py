"""Pictures of a window run: the day at a glance, as PNG and SVG.

Drawn with matplotlib's object API on the Agg canvas (no display, no global backend switch).
Labels are bilingual (English and Chinese). The Chinese glyphs come from Noto Sans CJK SC as the
``mplfonts`` package ships it (a dependency), so every machine draws the same pictures with no
system font installed; Debian's CJK fonts (``fonts-noto-cjk``, ``fonts-wqy-microhei``) are the
fallback. With none of them the labels are English only and a warning says so once. Figures are
rendered to bytes first, so a caller can write every output atomically or none.
"""

from __future__ import annotations

import importlib.util
import io
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.typing import RcKeyType

__all__ = [
    "BUSY_UTILIZATION",
    "CJK_FONTS",
    "COLORS",
    "CJKFontWarning",
    "cjk_font",
    "figure_bytes",
    "hour_axis",
    "label",
    "plot_paths",
    "plot_style",
    "run_figure",
    "run_summary",
    "run_title",
    "seed_note",
]

#: Font families with CJK glyphs, in order of preference.
CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
    "Noto Sans CJK JP", "Droid Sans Fallback", "SimHei", "Microsoft YaHei", "PingFang SC", "AR PL UMing CN",
)


def _packaged_font() -> tuple[str, ...]:
    """The path of the Noto Sans CJK SC file that ``mplfonts`` ships (found, not imported)."""
    spec = importlib.util.find_spec("mplfonts")
    for folder in (spec.submodule_search_locations or ()) if spec else ():
        path = Path(folder, "fonts", "NotoSansCJKsc-Regular.otf")
        if path.is_file():
            return (str(path),)
    return ()


#: Font files to register, in order: the packaged font, then where Debian's CJK font packages put
#: theirs (matplotlib's font cache may predate them).
_FONT_FILES = (
    *_packaged_font(),
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)

COLORS = {"queue": "#1f77b4", "band": "#aec7e8", "windows": "#d62728", "busy": "#2ca02c", "bars": "#9ecae1",
          "p50": "#1f77b4", "p90": "#ff7f0e", "target": "#7f7f7f", "erlang": "#9467bd", "over": "#e6550d",
          "plan": "#252525"}

#: Utilization (%) above which queues grow fast: a queueing rule of thumb (waits rise steeply as
#: utilization nears 100%, cf. the Erlang C formula), drawn as a guide line, not a target.
BUSY_UTILIZATION = 85


class CJKFontWarning(UserWarning):
    """No font with Chinese glyphs is installed; plot labels are English only."""


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of the CJK font the plots use, or ``None`` (warns once).

    The packaged Noto Sans CJK SC comes first, whatever fonts the machine has, so the same run
    draws the same picture everywhere.
    """
    for path in _FONT_FILES:
        if Path(path).is_file():
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # pragma: no cover - a broken font file
                continue
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FONTS:
        if family in names:
            return family
    warnings.warn(
        "no font with Chinese glyphs found (reinstall cardsettle, which brings mplfonts, or "
        "apt-get install fonts-noto-cjk); plot labels are in English only",
        CJKFontWarning,
        stacklevel=2,
    )
    return None


def label(english: str, chinese: str) -> str:
    """``"English 中文"`` when a CJK font is installed, else ``"English"``."""
    return f"{english} {chinese}" if cjk_font() is not None else english


def plot_style() -> dict[RcKeyType, Any]:
    """matplotlib settings of every figure (CJK font if installed, no top/right spines)."""
    family = cjk_font()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"] if family else ["DejaVu Sans"],
        "axes.unicode_minus": False,
        "svg.hashsalt": "cardsettle",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }


def figure_bytes(figure: Figure, fmt: str) -> bytes:
    """The figure as PNG or SVG bytes (no date in the metadata, so a run repeats exactly)."""
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with matplotlib.rc_context(plot_style()):
        figure.savefig(buffer, format=fmt, dpi=110, metadata=metadata, bbox_inches="tight")
    return buffer.getvalue()


def plot_paths(path: str | Path) -> tuple[Path, Path]:
    """``OUT.png`` and ``OUT.svg`` for a ``--plot`` argument (either suffix, or none)."""
    target = Path(path)
    stem = target.with_suffix("") if target.suffix.lower() in (".png", ".svg") else target
    return stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg")


def _hours(report: dict[str, Any]) -> list[str]:
    return [row["hour"][:2] for row in report["per_hour"]]


def _values(rows: Sequence[dict[str, Any]], key: str) -> list[float]:
    return [float("nan") if row[key] is None else float(row[key]) for row in rows]


def run_title(name: str, replications: int, *, daily: bool = True) -> str:
    """The first title line of a run's figure: the scenario and how many simulated days (or, for
    a long run, independent simulated runs) the figures are averaged over."""
    count = (label(f"{replications} simulated days", f"{replications} 个模拟日") if daily
             else label(f"{replications} simulated runs", f"{replications} 次模拟运行"))
    return f"{label('scenario', '场景')}: {name} — {count}"


def seed_note(figure: Figure, seed: int, note: str = "") -> None:
    """A small grey footnote under the figure: ``note`` (if any) and the random seed, so a reader
    can rerun the same picture (``--seed``) without the seed crowding the title."""
    seed_text = label(f"random seed {seed}", f"随机种子 {seed}")
    if note:
        figure.supxlabel(f"{note}\n{seed_text}", x=0.005, ha="left", fontsize=8, color="#555555",
                         multialignment="left")
    else:  # a figure-level label, so the constrained layout keeps it clear of the axes' labels
        figure.supxlabel(seed_text, x=0.995, ha="right", fontsize=7, color="#777777")


def hour_axis(axes: Axes, ticks: Sequence[int], hours: Sequence[str], what: str = "hour") -> None:
    """Hour ticks (``07`` = 07:00-08:00) and the axis title ``hour 时段`` (or ``hour of arrival``)."""
    axes.set_xticks(list(ticks), list(hours))
    if what == "arrival":
        axes.set_xlabel(label("hour of arrival", "到达时段"))
    else:
        axes.set_xlabel(label("hour", "时段"))


def _arrivals_panel(arrivals: Axes, windows: Axes, report: dict[str, Any]) -> None:
    rows = report["per_hour"]
    x = list(range(len(rows)))
    arrived = _values(rows, "arrived")
    arrivals.bar(x, arrived, color=COLORS["bars"], label=label("arrivals per hour", "每小时到达"))
    arrivals.set_ylabel(label("patients", "人数"))
    arrivals.set_title(label("Arrivals and open windows", "到达人数与开放窗口"))
    arrivals.set_ylim(0, max([v for v in arrived if v == v] + [1]) * 1.3)  # room for the legend
    open_windows = _values(rows, "windows")
    windows.step([i - 0.5 for i in x] + [x[-1] + 0.5], [*open_windows, open_windows[-1]],
                 where="post", color=COLORS["windows"], linewidth=2, label=label("open windows", "开放窗口"))
    windows.set_ylabel(label("open windows", "开放窗口数"), color=COLORS["windows"])
    windows.set_ylim(0, max([v for v in open_windows if v == v] + [1]) * 1.3)
    windows.grid(False)
    hour_axis(arrivals, x, _hours(report))
    handles = arrivals.get_legend_handles_labels()[0] + windows.get_legend_handles_labels()[0]
    arrivals.legend(handles=handles, loc="upper right", fontsize=8)


def _series_times(report: dict[str, Any]) -> list[float]:
    series = report["series"]
    return [(series["origin_minute"] + (i + 0.5) * series["step_minutes"]) / 60 for i in range(len(series["queue_mean"]))]


def _queue_panel(queue: Axes, report: dict[str, Any], *, band: bool) -> Axes:
    """Patients waiting on the left axis, busy windows on their own right axis."""
    series = report["series"]
    times = _series_times(report)
    if band:
        queue.fill_between(times, series["queue_p10"], series["queue_p90"], color=COLORS["band"], alpha=0.6,
                           label=label("patients waiting, 10th-90th percentile of days", "排队人数，各模拟日 10%-90% 分位"))
    queue.plot(times, series["queue_mean"], color=COLORS["queue"], linewidth=1.8 if band else 1,
               label=label("patients waiting (mean)", "排队人数（平均）"))
    queue.set_ylabel(label("patients waiting", "排队人数"), color=COLORS["queue"])
    queue.set_ylim(bottom=0)
    busy = queue.twinx()
    busy.plot(times, series["busy_mean"], color=COLORS["busy"], linewidth=1.2, linestyle="--",
              label=label("busy windows (mean, right axis)", "忙碌窗口（平均，右轴）"))
    busy.set_ylabel(label("busy windows", "忙碌窗口数"), color=COLORS["busy"])
    busy.set_ylim(0, max([*series["busy_mean"], 1]) * 1.45)
    busy.grid(False)
    top = queue.get_ylim()[1]
    queue.set_ylim(0, top * 1.4)  # room for the legend
    handles = queue.get_legend_handles_labels()[0] + busy.get_legend_handles_labels()[0]
    queue.legend(handles=handles, loc="upper right", fontsize=8)
    return busy


def _waits_panel(waits: Axes, report: dict[str, Any]) -> None:
    rows = report["per_hour"]
    x = list(range(len(rows)))
    target = report["within_target"]["wait_minutes"]
    waits.plot(x, _values(rows, "wait_p50"), marker="o", color=COLORS["p50"], label=label("median wait", "等候中位数"))
    waits.plot(x, _values(rows, "wait_p90"), marker="s", color=COLORS["p90"],
               label=label("9 in 10 patients wait less (90th percentile)", "九成患者等候少于此（90% 分位）"))
    waits.axhline(target, color=COLORS["target"], linestyle=":", label=label(f"target {target:g} min", f"目标 {target:g} 分钟"))
    hour_axis(waits, x, _hours(report), "arrival")
    waits.set_title(label("Wait by hour of arrival", "按到达时段的等候时间"))
    waits.set_ylabel(label("wait, minutes", "等候分钟数"))
    highest = max([v for v in _values(rows, "wait_p90") if v == v] + [target, 1.0])
    waits.set_ylim(0, highest * 1.35)
    waits.legend(loc="upper right", fontsize=8)


def _utilization_panel(usage: Axes, report: dict[str, Any]) -> None:
    rows = report["per_hour"]
    x = list(range(len(rows)))
    utilization = [v * 100 for v in _values(rows, "utilization")]
    colors = [COLORS["over"] if v > BUSY_UTILIZATION else COLORS["busy"] for v in utilization]
    usage.bar(x, utilization, color=colors, alpha=0.8)
    usage.axhline(BUSY_UTILIZATION, color=COLORS["target"], linestyle=":")
    usage.annotate(f"{BUSY_UTILIZATION}%", (1.0, BUSY_UTILIZATION), xycoords=("axes fraction", "data"),
                   xytext=(2, 0), textcoords="offset points", va="center", fontsize=8, color=COLORS["target"])
    handles = [
        Patch(color=COLORS["busy"], alpha=0.8, label=f"≤ {BUSY_UTILIZATION}%"),
        Patch(color=COLORS["over"], alpha=0.8,
              label=f"> {BUSY_UTILIZATION}%: " + label("queues grow fast", "排队迅速增加")),
    ]
    hour_axis(usage, x, _hours(report))
    usage.set_ylim(0, 128)
    usage.set_yticks(range(0, 101, 20))
    usage.set_title(label("Window utilization", "窗口利用率"))
    usage.set_ylabel(label("utilization", "利用率") + " (%)")
    usage.legend(handles=handles, loc="upper left", fontsize=8, ncol=2)


def _day_panels(axes: Sequence[Axes], report: dict[str, Any]) -> None:
    _arrivals_panel(axes[0], axes[1], report)
    queue = axes[2]
    _queue_panel(queue, report, band=True)
    queue.set_title(label("Queue over the day", "全天排队人数"))
    queue.set_xlabel(label("time of day (hour)", "时刻（时）"))
    _waits_panel(axes[3], report)
    _utilization_panel(axes[4], report)


def _long_panels(axes: Sequence[Axes], report: dict[str, Any]) -> None:
    queue, waits = axes[0], axes[1]
    _queue_panel(queue, report, band=False)
    queue.set_title(label("Queue and busy windows over the run", "全程排队与忙碌窗口"))
    queue.set_xlabel(label("simulated hours", "模拟小时"))
    keys = ["p50", "p75", "p90", "p95", "p99"]
    simulated = [report["wait_minutes"][k] or 0.0 for k in keys]
    x = list(range(len(keys)))
    waits.bar([i - 0.2 for i in x], simulated, width=0.4, color=COLORS["queue"], label=label("simulated", "模拟"))
    erlang = report.get("erlang_c")
    if erlang:
        waits.bar([i + 0.2 for i in x], [erlang.get(f"wait_{k}") or 0.0 for k in keys], width=0.4,
                  color=COLORS["erlang"], label=label("Erlang C formula", "Erlang C 公式"))
    waits.set_xticks(x, [f"{k[1:]}%" for k in keys])
    waits.set_xlabel(label("share of patients who wait less (percentile)", "等候少于此值的患者比例（分位数）"))
    waits.set_title(label("Wait percentiles", "等候时间分位数"))
    waits.set_ylabel(label("wait, minutes", "等候分钟数"))
    waits.legend(loc="upper left", fontsize=8)


def run_summary(report: dict[str, Any]) -> str:
    """The second title line: mean wait, share within the target wait, utilization."""
    wait = report["wait_minutes"]
    within = report["within_target"]
    share = within["share"]
    limit = within["wait_minutes"]
    shown = f"{share * 100:.1f}%" if share is not None else "-"
    return (
        f"{label('mean wait', '平均等候')} {wait['mean'] or 0:.1f} {label('min', '分钟')}  ·  "
        f"{label(f'waited ≤ {limit:g} min', f'等候 ≤ {limit:g} 分钟')}: {shown}  ·  "
        f"{label('window utilization', '窗口利用率')} {(report['utilization'] or 0) * 100:.0f}%"
    )


def run_figure(report: dict[str, Any]) -> Figure:
    """The figure of a ``simulate windows`` report: a day run gets four panels (arrivals and
    windows, queue over the day, waits by hour, utilization), a long run two side by side. The
    title names the scenario and the number of simulated days; the seed is a footnote."""
    daily = bool(report.get("per_hour"))
    with matplotlib.rc_context(plot_style()):
        if daily:
            figure = Figure(figsize=(12, 8.4), layout="constrained")
            grid = figure.subplots(2, 2)
            first = grid[0][0]
            _day_panels([first, first.twinx(), grid[0][1], grid[1][0], grid[1][1]], report)
        else:
            figure = Figure(figsize=(12, 4.8), layout="constrained")
            _long_panels(list(figure.subplots(1, 2)), report)
        title = run_title(report["scenario"]["name"], report["replications"], daily=daily)
        figure.suptitle(f"{title}\n{run_summary(report)}", fontsize=11)
        seed_note(figure, report["seed"])
    return figure
