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
from matplotlib.typing import RcKeyType

__all__ = [
    "CJK_FONTS",
    "CJKFontWarning",
    "cjk_font",
    "figure_bytes",
    "label",
    "plot_paths",
    "plot_style",
    "run_figure",
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
          "p50": "#1f77b4", "p90": "#ff7f0e", "target": "#7f7f7f", "erlang": "#9467bd"}


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


def _day_panels(axes: Sequence[Axes], report: dict[str, Any]) -> None:
    rows = report["per_hour"]
    hours = _hours(report)
    x = list(range(len(rows)))
    arrivals, windows, queue = axes[0], axes[1], axes[2]
    waits, usage = axes[3], axes[4]
    arrivals.bar(x, _values(rows, "arrived"), color=COLORS["bars"], label=label("arrivals per hour", "每小时到达"))
    arrivals.set_ylabel(label("patients", "人数"))
    arrivals.set_title(label("Arrivals and open windows", "到达人数与开放窗口"))
    windows.step([i - 0.5 for i in x] + [x[-1] + 0.5], [*_values(rows, "windows"), _values(rows, "windows")[-1]],
                 where="post", color=COLORS["windows"], linewidth=2, label=label("windows", "窗口"))
    windows.set_ylabel(label("windows", "窗口数"), color=COLORS["windows"])
    windows.set_ylim(bottom=0)
    windows.grid(False)
    arrivals.set_xticks(x, hours)
    handles = arrivals.get_legend_handles_labels()[0] + windows.get_legend_handles_labels()[0]
    arrivals.legend(handles=handles, loc="upper right", fontsize=8)

    series = report["series"]
    times = [(series["origin_minute"] + (i + 0.5) * series["step_minutes"]) / 60 for i in range(len(series["queue_mean"]))]
    queue.fill_between(times, series["queue_p10"], series["queue_p90"], color=COLORS["band"], alpha=0.6,
                       label=label("10-90% of days", "10-90% 的日子"))
    queue.plot(times, series["queue_mean"], color=COLORS["queue"], linewidth=1.8, label=label("mean", "平均"))
    queue.plot(times, series["busy_mean"], color=COLORS["busy"], linewidth=1.2, linestyle="--",
               label=label("busy windows", "忙碌窗口"))
    queue.set_title(label("Queue over the day", "全天排队人数"))
    queue.set_xlabel(label("hour of day", "时刻"))
    queue.set_ylabel(label("patients waiting", "排队人数"))
    queue.legend(loc="upper right", fontsize=8)

    target = report["within_target"]["wait_minutes"]
    waits.plot(x, _values(rows, "wait_p50"), marker="o", color=COLORS["p50"], label=label("median wait", "等候中位数"))
    waits.plot(x, _values(rows, "wait_p90"), marker="s", color=COLORS["p90"], label=label("90th percentile", "90% 分位"))
    waits.axhline(target, color=COLORS["target"], linestyle=":", label=label(f"target {target:g} min", f"目标 {target:g} 分钟"))
    waits.set_xticks(x, hours)
    waits.set_title(label("Wait by hour of arrival", "按到达时段的等候时间"))
    waits.set_ylabel(label("minutes", "分钟"))
    waits.set_ylim(bottom=0)
    waits.legend(loc="upper right", fontsize=8)

    utilization = [v * 100 for v in _values(rows, "utilization")]
    usage.bar(x, utilization, color=COLORS["busy"], alpha=0.7)
    usage.axhline(85, color=COLORS["target"], linestyle=":", label=label("85%: queues grow fast above", "85%：以上排队迅速增加"))
    usage.set_xticks(x, hours)
    usage.set_ylim(0, 105)
    usage.set_title(label("Window utilization", "窗口利用率"))
    usage.set_ylabel("%")
    usage.legend(loc="lower right", fontsize=8)


def _long_panels(axes: Sequence[Axes], report: dict[str, Any]) -> None:
    queue, waits = axes[0], axes[2]
    series = report["series"]
    times = [(series["origin_minute"] + (i + 0.5) * series["step_minutes"]) / 60 for i in range(len(series["queue_mean"]))]
    queue.plot(times, series["queue_mean"], color=COLORS["queue"], linewidth=1, label=label("queue", "排队人数"))
    queue.plot(times, series["busy_mean"], color=COLORS["busy"], linewidth=1, label=label("busy windows", "忙碌窗口"))
    queue.set_title(label("Queue and busy windows over the run", "全程排队与忙碌窗口"))
    queue.set_xlabel(label("hours", "小时"))
    queue.legend(loc="upper right", fontsize=8)
    axes[1].set_visible(False)
    keys = ["p50", "p75", "p90", "p95", "p99"]
    simulated = [report["wait_minutes"][k] or 0.0 for k in keys]
    x = list(range(len(keys)))
    waits.bar([i - 0.2 for i in x], simulated, width=0.4, color=COLORS["queue"], label=label("simulated", "模拟"))
    erlang = report.get("erlang_c")
    if erlang:
        waits.bar([i + 0.2 for i in x], [erlang.get(f"wait_{k}") or 0.0 for k in keys], width=0.4,
                  color=COLORS["erlang"], label="Erlang C")
    waits.set_xticks(x, keys)
    waits.set_title(label("Wait percentiles", "等候时间分位数"))
    waits.set_ylabel(label("minutes", "分钟"))
    waits.legend(loc="upper left", fontsize=8)
    axes[3].set_visible(False)


def run_figure(report: dict[str, Any]) -> Figure:
    """The figure of a ``simulate windows`` report: a day run gets four panels (arrivals and
    windows, queue over the day, waits by hour, utilization), a long run two."""
    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(12, 8), layout="constrained")
        grid = figure.subplots(2, 2)
        first = grid[0][0]
        axes = [first, first.twinx(), grid[0][1], grid[1][0], grid[1][1]]
        if report.get("per_hour"):
            _day_panels(axes, report)
        else:
            _long_panels([grid[0][0], grid[0][1], grid[1][0], grid[1][1]], report)
            axes[1].set_visible(False)
        wait = report["wait_minutes"]
        within = report["within_target"]
        share = within["share"]
        summary = (
            f"{report['scenario']['name']} — {report['replications']} × seed {report['seed']}: "
            f"{label('mean wait', '平均等候')} {wait['mean'] or 0:.1f} min, "
            f"{label('within', '达标')} {within['wait_minutes']:g} min: {share * 100 if share is not None else float('nan'):.1f}%, "
            f"{label('utilization', '利用率')} {(report['utilization'] or 0) * 100:.0f}%"
        )
        figure.suptitle(summary, fontsize=11)
    return figure
