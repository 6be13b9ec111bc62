"""How long `/stats season N` and `/stats` take to draw, and whether the bot's event
loop keeps answering meanwhile.

Run from the project root: `.venv/bin/python bench/stats_render.py [--quick]`.
A season of our own made-up titles (30 issues of 26 items, zh with Latin names, as the
newsletter writes them; `--quick`: 8 issues, small pictures) is summarised and drawn
exactly as the handler does (`handlers.stats.build_season`, on a worker thread) while a
ticker on the loop measures its worst lateness. Goals: the season's pictures in ≤ 6 s
and the editor chart in ≤ 3 s of wall time on this 2-core machine, the loop never late
by more than 0.25 s (a reader's command is still answered while the pictures are drawn).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import time
from zoneinfo import ZoneInfo

from report import emit

from bot.config import StatsSettings
from bot.stats.model import editor_stats
from bot.stats.words import tokenizer
from data.stats import SeasonItem, SentCount, SubmissionFact
from handlers.stats import build_season, draw_editor

SCRIPT = "stats_render"
SUBJECTS = ("异步爬虫", "类型检查器", "Web 框架", "数据分析", "向量数据库", "包管理器", "测试工具")
NAMES = ("FastAPI", "Django", "uv", "Rust", "Pandas", "Polars", "Textual", "PyO3", "Ruff")
PATTERNS = ("{n}：{s}的新选择", "用 {n} 实现{s}", "{s}对比：{n} 与其他", "深入理解 {n} 的{s}")
SECTIONS = (("articles", 12), ("projects", 12), ("podcasts", 1), ("discussions", 1))


def season_items(issues: int) -> list[SeasonItem]:
    rng = random.Random(15)
    items = []
    for number in range(31, 31 + issues):
        for kind, count in SECTIONS:
            for idx in range(1, count + 1):
                title = rng.choice(PATTERNS).format(n=rng.choice(NAMES), s=rng.choice(SUBJECTS))
                url = f"https://{rng.choice(('github.com', 'b.io', 'zhihu.com'))}/{idx}"
                items.append(SeasonItem(number, None, "zh", kind, idx, title, url))
    return items


async def worst_lateness(work: asyncio.Future[object], tick: float = 0.01) -> float:
    worst = 0.0
    while not work.done():
        before = time.perf_counter()
        await asyncio.sleep(tick)
        worst = max(worst, time.perf_counter() - before - tick)
    return worst


async def measure(quick: bool) -> None:
    options = StatsSettings(dpi=40 if quick else 100, cloud_width=400 if quick else 1000)
    items = season_items(8 if quick else 30)
    await asyncio.to_thread(tokenizer)  # jieba's dictionary: once per process, not per draw
    start = time.perf_counter()
    work = asyncio.ensure_future(asyncio.to_thread(build_season, items, 2, options))
    late = await worst_lateness(work)
    _, pictures = await work
    seconds = time.perf_counter() - start
    assert isinstance(pictures, list)
    emit(SCRIPT, f"season pictures, {len(items)} items", seconds, goal=6, direction="<=", unit="s")
    emit(SCRIPT, "loop lateness while drawing a season", late, goal=0.25, direction="<=", unit="s")
    now = time.time()
    users = itertools.cycle(range(40))
    facts = [
        SubmissionFact(
            k, now - k * 3600, "approved", "https://b.io/x", next(users), "name", "读者", None
        )
        for k in range(2000)
    ]
    stats = editor_stats(
        facts, [SentCount("telegram", "item", 300)], now=now, zone=ZoneInfo("Asia/Shanghai")
    )
    start = time.perf_counter()
    work = asyncio.ensure_future(asyncio.to_thread(draw_editor, stats, options))
    late = await worst_lateness(work)
    await work
    seconds = time.perf_counter() - start
    emit(SCRIPT, "editor chart, 2000 submissions", seconds, goal=3, direction="<=", unit="s")
    emit(SCRIPT, "loop lateness while drawing /stats", late, goal=0.25, direction="<=", unit="s")


def main(argv: list[str]) -> int:
    asyncio.run(measure("--quick" in argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
