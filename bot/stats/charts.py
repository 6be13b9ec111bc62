"""The summaries drawn as PNG bytes: matplotlib's Agg canvas (no pyplot, no global
backend, so a render on a worker thread touches no shared state) and wordcloud.

Every text is set in the CJK font `bot.stats.fonts.cjk_font` found (Chinese names,
domains and words would be boxes in matplotlib's DejaVu). The sizes stay far inside
Telegram's photo rules (at most 10 MB, width + height ≤ 10000, ratio ≤ 20): a figure is
`width`×`height` inches at `dpi`, the word cloud `cloud_px` wide. CPU work: the bot
calls these through `asyncio.to_thread`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator
from wordcloud import WordCloud

from bot.domain.issue import SECTION_KINDS
from bot.stats.model import EditorStats, Ranked, SeasonStats, short_name

SECTION_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52")


@dataclass(frozen=True, slots=True)
class Look:
    """How big the pictures are; tests draw small ones."""

    dpi: int = 100
    cloud_px: int = 1000  # the word cloud's width; its height is 5/8 of it


def _font(path: Path, size: float = 10) -> FontProperties:
    return FontProperties(fname=str(path), size=size)


def _style(ax: Axes, font: Path, title: str) -> None:
    ax.set_title(title, fontproperties=_font(font, 12))
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontproperties(_font(font, 9))
    ax.spines[["top", "right"]].set_visible(False)


def _png(figure: Figure, dpi: int) -> bytes:
    FigureCanvasAgg(figure)  # Agg draws it: no pyplot, no global backend
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _empty(ax: Axes, font: Path, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", fontproperties=_font(font, 11))
    ax.set_xticks([])
    ax.set_yticks([])


def _ranking(ax: Axes, font: Path, title: str, ranked: Sequence[Ranked], colour: str) -> None:
    if not ranked:
        _empty(ax, font, "none yet")
    else:
        names = [short_name(r.name) for r in reversed(ranked)]
        ax.barh(names, [r.count for r in reversed(ranked)], color=colour)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _style(ax, font, title)


def editor_chart(stats: EditorStats, font: Path, look: Look = Look()) -> bytes:
    """One picture of `/stats`: per week, domains, submitters, posts per target."""
    figure = Figure(figsize=(12, 8))
    axes = figure.subplots(2, 2)
    weeks, domains, people, posts = (axes[r][c] for r in (0, 1) for c in (0, 1))
    labels = [w.start.strftime("%m-%d") for w in stats.weeks]
    weeks.bar(labels, [w.count for w in stats.weeks], color="#4C72B0")
    weeks.tick_params(axis="x", labelrotation=60)
    weeks.yaxis.set_major_locator(MaxNLocator(integer=True))
    rate = stats.acceptance_rate
    accepted = "no decision yet" if rate is None else f"{rate:.0%} accepted"
    _style(weeks, font, f"Submissions per week ({stats.total} in all, {accepted})")
    _ranking(domains, font, "Top domains submitted", stats.top_domains, "#55A868")
    _ranking(people, font, "Top submitters (as credited)", stats.top_submitters, "#DD8452")
    if stats.posts:
        posts.bar([p.target for p in stats.posts], [p.sent for p in stats.posts], color="#8172B3")
        posts.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        _empty(posts, font, "nothing sent yet")
    _style(posts, font, "Posts sent per target")
    return _png(figure, look.dpi)


def sections_chart(season: SeasonStats, font: Path, look: Look = Look()) -> bytes:
    """Items per issue, stacked by section, in the newsletter's section order."""
    figure = Figure(figsize=(12, 5))
    ax = figure.subplots()
    numbers = [str(bar.number) for bar in season.issues]
    bottom = np.zeros(len(numbers))
    for k, kind in enumerate(SECTION_KINDS):
        heights = np.array([bar.counts[k] for bar in season.issues], dtype=float)
        ax.bar(numbers, heights, bottom=bottom, label=kind, color=SECTION_COLOURS[k])
        bottom += heights
    ax.legend(prop=_font(font, 9), frameon=False, ncols=len(SECTION_KINDS))
    ax.tick_params(axis="x", labelrotation=90)
    _style(
        ax,
        font,
        f"Season {season.season} (#{season.first}–#{season.last}): items per issue by section",
    )
    return _png(figure, look.dpi)


def domains_chart(season: SeasonStats, font: Path, look: Look = Look()) -> bytes:
    figure = Figure(figsize=(9, 6))
    ax = figure.subplots()
    title = f"Season {season.season}: top domains ({season.linked} linked items)"
    _ranking(ax, font, title, season.top_domains, "#55A868")
    return _png(figure, look.dpi)


def word_cloud(season: SeasonStats, font: Path, look: Look = Look()) -> bytes:
    """The season's title words, bigger when more frequent, in the CJK font."""
    width = look.cloud_px
    height = width * 5 // 8
    cloud = WordCloud(
        font_path=str(font),
        width=width,
        height=height,
        background_color="white",
        max_words=max(1, len(season.words)),
        prefer_horizontal=0.9,
        random_state=season.season,  # the same season draws the same picture
        collocations=False,
    )
    frequencies = {w.name: float(w.count) for w in season.words} or {"—": 1.0}
    cloud.generate_from_frequencies(frequencies)
    buffer = io.BytesIO()
    cloud.to_image().save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
