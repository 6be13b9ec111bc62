"""Sample issues of our own for the archive's tests: a checkout's `docs/` layout.

Three issues in zh and en (#301 in 2030, #302 and #303 in 2031 as a summary with
its full text beside it), a file that is not UTF-8 and one that is not an issue. The
words are chosen for the search tests: 异步 and 爬虫 (two characters), 异步编程 (four),
English words, one title hit against one description hit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from bot.app import Runtime, bot_running
from bot.archive.importer import folder_files, import_candidates
from bot.domain.issue import Issue
from bot.fakes.telegram import FakeTelegram
from data.db import Database
from data.migrations import migrate
from data.store import Store
from tests.conftest import settings_for
from tests.factories import make_issue, make_item

SECTIONS_ZH = (
    "## [🦄文章&教程](https://weekly.pythoncat.top)",
    "## [🐿️项目&资源](https://weekly.pythoncat.top)",
)
SECTIONS_EN = (
    "## [🦄Articles & Tutorials](https://weekly.pythoncat.top)",
    "## [🐿️Projects & Resources](https://weekly.pythoncat.top)",
)


def _full(
    head: str, count_line: str, sections: tuple[str, ...], items: list[list[tuple[str, str, str]]]
) -> str:
    out = [head, "", count_line, ""]
    for heading, entries in zip(sections, items, strict=True):
        out += [heading, ""]
        for n, (title, url, description) in enumerate(entries, start=1):
            out += [f"{n}、[{title}]({url})", "", description, ""]
    return "\n".join(out)


ISSUE_301_ZH = _full(
    "# Python 潮流周刊#301：异步与爬虫",
    "本期分享了 2 篇文章，2 个开源项目。",
    SECTIONS_ZH,
    [
        [
            (
                "异步编程入门：从回调到协程",
                "https://example.com/zh/async-intro",
                "讲清楚事件循环。",
            ),
            ("数据库索引的原理", "https://example.com/zh/index", "顺带讲讲如何礼貌地写爬虫。"),
        ],
        [
            ("crawlkit：轻量的爬虫框架", "https://github.com/example/crawlkit", "支持限速。"),
            ("tinydb：纯 Python 的文档数据库", "https://github.com/example/tinydb", "单文件存储。"),
        ],
    ],
)
ISSUE_301_EN = _full(
    "# Python Trending Weekly #301: async and crawlers",
    "This issue features 2 articles and 2 open-source projects.",
    SECTIONS_EN,
    [
        [
            (
                "Async programming from callbacks to coroutines",
                "https://example.com/en/async-intro",
                "The event loop, explained.",
            ),
            (
                "How database indexes work",
                "https://example.com/en/index",
                "And how to write a polite crawler.",
            ),
        ],
        [
            (
                "crawlkit: a light crawler framework",
                "https://github.com/example/crawlkit",
                "With rate limits.",
            ),
            (
                "tinydb: a document database in pure Python",
                "https://github.com/example/tinydb",
                "One file.",
            ),
        ],
    ],
)
ISSUE_302_ZH = _full(
    "# Python 潮流周刊#302：全文检索",
    "本期分享了 2 篇文章，1 个开源项目。",
    SECTIONS_ZH,
    [
        [
            ("用 SQLite FTS5 做全文检索", "https://example.com/zh/fts5", "中文分词与二元组。"),
            ("异步编程的十个陷阱", "https://example.com/zh/async-traps", "超时、取消与背压。"),
        ],
        [("searchlite：嵌入式搜索引擎", "https://gitlab.com/example/searchlite", "支持中文。")],
    ],
)
ISSUE_302_EN = _full(
    "# Python Trending Weekly #302: full-text search",
    "This issue features 2 articles and 1 open-source project.",
    SECTIONS_EN,
    [
        [
            (
                "Full-text search with SQLite FTS5",
                "https://example.com/en/fts5",
                "Tokenizers and bigrams.",
            ),
            (
                "Ten traps of async programming",
                "https://example.com/en/async-traps",
                "Timeouts, cancellation, backpressure.",
            ),
        ],
        [
            (
                "searchlite: an embedded search engine",
                "https://gitlab.com/example/searchlite",
                "Chinese too.",
            )
        ],
    ],
)
ISSUE_303_ZH_FULL = _full(
    "# Python 潮流周刊#303：类型检查",
    "本期分享了 1 篇文章，1 个开源项目。",
    SECTIONS_ZH,
    [
        [("类型检查器对比", "https://example.com/zh/typecheck", "mypy、pyright 与 ty。")],
        [("pytype-lite：更快的类型推断", "https://github.com/example/pytype-lite", "增量检查。")],
    ],
)
ISSUE_303_ZH_SUMMARY = """# Python 潮流周刊#303：类型检查

本期分享了 1 篇文章，1 个开源项目。

去专栏阅读全文：[全文链接](https://example.com/paid/303)

以下是本期标题摘要：

**[🦄文章&教程](https://weekly.pythoncat.top)**


① 类型检查器对比

**[🐿️项目&资源](https://weekly.pythoncat.top)**


① pytype-lite：更快的类型推断
"""

FILES: dict[str, str] = {
    "docs/2030-03-02-weekly.md": ISSUE_301_ZH,
    "docs/en/2030-03-02-weekly.md": ISSUE_301_EN,
    "docs/2031-05-10-weekly.md": ISSUE_302_ZH,
    "docs/en/2031-05-10-weekly.md": ISSUE_302_EN,
    "docs/2031-05-17-weekly.md": ISSUE_303_ZH_FULL,
    "history/docs/2031-05-17-weekly.md": ISSUE_303_ZH_SUMMARY,  # the summary, published first
}
BAD_FILES: dict[str, bytes] = {
    "docs/2031-05-24-weekly.md": "# Python 潮流周刊#304：坏文件\n".encode("gbk") + b"\xff\xfe",
    "docs/2031-06-07-lweekly.md": "# 第一季合集\n".encode(),  # a season collection
}
ISSUES = 5  # 301 zh/en, 302 zh/en, 303 zh (full)
ITEMS = 4 + 4 + 3 + 3 + 2


def write_samples(root: Path, *, bad: bool = True) -> Path:
    for rel, body in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    if bad:
        for rel, raw in BAD_FILES.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
    return root


PAGER = 23  # items of the paging issue (#400): three pages of /search, two of inline


def pager_issue() -> Issue:
    """#400 (zh, 2032): 23 projects titled `分页测试 n` (paging tests)."""
    items = [
        make_item(
            i,
            title=f"pager-{i}：分页测试第 {i} 项",
            url=f"https://github.com/example/pager-{i}",
            description="翻页用的样例。",
        )
        for i in range(1, PAGER + 1)
    ]
    issue = make_issue({"projects": items}, number=400, lang="zh")
    return dataclasses.replace(issue, date=dt.date(2032, 1, 3))


async def stored_archive(root: Path, database: Path) -> None:
    """Our samples and the paging issue, in the database at `database`."""
    async with Database.open(database) as db:
        await migrate(db, now=0)
        store = Store(db)
        candidates, refused = folder_files(write_samples(root))
        await import_candidates(store, candidates, refused=refused)
        await store.issues.upsert(pager_issue(), now=0)


def archive_template(folder: Path) -> Path:
    """The sample archive's database, built once (a module's fixture copies it per test:
    imports pay an fsync per issue)."""
    database = folder / "archive.sqlite"
    asyncio.run(stored_archive(folder / "checkout", database))
    return database


def copy_archive(template: Path, database: Path) -> Path:
    database.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, database)
    return database


@contextlib.asynccontextmanager
async def archive_bot(tg: FakeTelegram, tmp_path: Path, template: Path) -> AsyncIterator[Runtime]:
    """The whole bot (real PTB) on the fake Telegram, holding the sample archive."""
    tg.api.flood = None
    settings = settings_for(tg, tmp_path)
    copy_archive(template, settings.database_path)
    async with bot_running(settings) as runtime:
        yield runtime


async def until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - a predicate over the fakes
            await asyncio.sleep(0.01)
