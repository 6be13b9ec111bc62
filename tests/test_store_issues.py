"""Parsed issues in the database: exact round-trips and change detection."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import fields, replace
from pathlib import Path

import pytest

from bot.domain.issue import CONTAINER, DELETED, GLUED, Image, Issue, Item, Link, Section
from bot.domain.parser import parse_issue
from data.db import Database
from data.issues import IssueStore, issue_content_hash
from data.migrations import migrate
from tests.factories import make_issue, make_item

T0 = 1_700_000_000.0
ROOT = Path(__file__).resolve().parent.parent
# Every issue file the project ships (the season collection fixture is not an issue).
CORPUS = sorted(
    path
    for path in [
        *(ROOT / "tests" / "fixtures" / "issues").glob("*.md"),
        *(ROOT / "bot" / "samples").rglob("*.md"),
    ]
    if not path.name.endswith("-sweekly.md")
)


@pytest.fixture
async def issues(tmp_path: Path) -> AsyncIterator[IssueStore]:
    async with Database.open(tmp_path / "weekly.db") as db:
        await migrate(db, now=T0)
        yield IssueStore(db)


# What data/issues.py stores. A new field on Item or Issue must be added there (column or
# JSON), to `_rich_issue` below, and here; until then this drift test fails.
STORED_ITEM_FIELDS = {
    "index",
    "number_as_written",
    "title",
    "url",
    "lang_tag",
    "description",
    "description_md",
    "images",
    "stars",
    "stars_as_written",
    "credit",
    "sub_links",
    "flags",
    "description_links",
    "orphan_text",
}
STORED_ISSUE_FIELDS = {
    "number",
    "date",
    "lang",
    "form",
    "title",
    "sections",
    "intro",
    "stated_counts",
    "warnings",
    "full_text_url",
}


def test_every_field_of_the_domain_types_is_stored() -> None:
    assert {f.name for f in fields(Item)} == STORED_ITEM_FIELDS
    assert {f.name for f in fields(Issue)} == STORED_ISSUE_FIELDS


def _rich_issue() -> Issue:
    """Every field set, unicode everywhere, items out of index order within a section."""
    return Issue(
        number=106,
        date=dt.date(2025, 6, 7),
        lang="zh",
        form="full",
        title="Python 潮流周刊#106：GPU 与 AI 🐍",
        sections=(
            Section(
                kind="articles",
                heading="🦄文章&教程",
                items=(
                    make_item(
                        2,
                        number_as_written="②",
                        lang_tag="英",
                        description="第二段\n换行",
                        description_md="**第二段**\n换行",
                        images=(
                            Image("https://img.test/a.png", "图 a"),
                            Image("https://img.test/b.png"),
                        ),
                        stars=(1200, 7),
                        stars_as_written=("1.2K", "7"),
                        credit=None,
                        flags=frozenset({GLUED}),
                        description_links=(Link("文档", "https://docs.test/x"),),
                        orphan_text="翻译中失去标题的一段",
                    ),
                    make_item(
                        1,
                        url=None,
                        flags=frozenset({DELETED, CONTAINER}),
                        sub_links=(Link("一", "https://a.test"), Link("two", "https://b.test")),
                    ),
                ),
            ),
            Section(kind="projects", heading="🐿️项目&资源", items=(make_item(1),)),
            Section(kind="podcasts", heading="🎧 播客", items=()),
        ),
        intro=("本周刊由 Python猫 出品。", "第二段引言"),
        stated_counts=(("articles", 12), ("projects", 12)),
        warnings=("count mismatch: articles 2 != 12",),
    )


def _sorted_items(issue: Issue) -> Issue:
    """Items come back in index order, which is how the parser builds them anyway."""
    return replace(
        issue,
        sections=tuple(
            replace(s, items=tuple(sorted(s.items, key=lambda i: i.index))) for s in issue.sections
        ),
    )


async def test_a_rich_issue_round_trips_exactly(issues: IssueStore) -> None:
    issue = _rich_issue()
    result = await issues.upsert(issue, now=T0, source_path="2025-06-07-weekly.md", raw="# …")
    assert result.created
    assert result.changed
    assert await issues.load(106, "zh") == _sorted_items(issue)
    assert await issues.load(106, "en") is None
    assert await issues.load(107, "zh") is None


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
async def test_every_parsed_fixture_round_trips(issues: IssueStore, path: Path) -> None:
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    issue = parse_issue(text, filename=path.name)
    assert issue.number is not None
    await issues.upsert(issue, now=T0, source_path=path.name)
    assert await issues.load(issue.number, issue.lang) == _sorted_items(issue)


async def test_an_unchanged_issue_is_recognised_and_not_rewritten(issues: IssueStore) -> None:
    issue = _rich_issue()
    first = await issues.upsert(issue, now=T0)
    again = await issues.upsert(_sorted_items(issue), now=T0 + 60, raw="other raw")
    assert (again.issue_id, again.created, again.changed) == (first.issue_id, False, False)
    assert await issues.content_hash(106, "zh") == issue_content_hash(issue)


async def test_a_changed_issue_replaces_its_items(issues: IssueStore) -> None:
    issue = make_issue({"projects": [make_item(1), make_item(2), make_item(3)]})
    first = await issues.upsert(issue, now=T0)
    edited = make_issue({"projects": [make_item(1), make_item(2, title="fixed typo")]})

    result = await issues.upsert(edited, now=T0 + 60)
    assert (result.issue_id, result.created, result.changed) == (first.issue_id, False, True)
    assert await issues.load(106, "zh") == edited  # item 3 is gone, item 2 is new
    assert await issues.content_hash(106, "zh") == issue_content_hash(edited)
    assert issue_content_hash(edited) != issue_content_hash(issue)


@pytest.mark.parametrize(
    "change",
    [
        {"title": "another title"},
        {"date": dt.date(2025, 6, 8)},
        {"warnings": ("new warning",)},
        {"intro": ("changed intro",)},
        {"full_text_url": "https://xiaobot.net/post/106"},
    ],
    ids=["title", "date", "warnings", "intro", "full_text_url"],
)
async def test_issue_level_changes_count_as_changes(
    issues: IssueStore, change: dict[str, object]
) -> None:
    issue = make_issue()
    await issues.upsert(issue, now=T0)
    changed = replace(issue, **change)  # type: ignore[arg-type]
    assert (await issues.upsert(changed, now=T0)).changed
    assert await issues.load(106, "zh") == changed


async def test_languages_are_stored_side_by_side(issues: IssueStore) -> None:
    zh = await issues.upsert(make_issue(number=106, lang="zh"), now=T0)
    en = await issues.upsert(make_issue(number=106, lang="en"), now=T0)
    await issues.upsert(make_issue(number=107, lang="zh"), now=T0)
    assert zh.issue_id != en.issue_id
    assert await issues.latest_number("zh") == 107
    assert await issues.latest_number("en") == 106
    assert await issues.latest_number("ja") is None


async def test_an_issue_without_a_number_is_refused(issues: IssueStore) -> None:
    with pytest.raises(ValueError, match="without a number"):
        await issues.upsert(make_issue(number=None), now=T0)


async def test_a_section_listed_twice_is_refused_whole(issues: IssueStore) -> None:
    """Items are keyed by (kind, index): two sections of one kind cannot both be stored."""
    issue = make_issue()
    doubled = replace(issue, sections=issue.sections * 2)
    with pytest.raises(sqlite3.IntegrityError):
        await issues.upsert(doubled, now=T0)
    assert await issues.load(106, "zh") is None  # the failed upsert left nothing behind


async def test_the_newest_dated_issue_is_the_latest_date_in_any_language(
    issues: IssueStore,
) -> None:
    assert await issues.newest_dated() is None
    dated = {105: dt.date(2025, 5, 31), 106: dt.date(2025, 6, 7), 107: None}
    for number, lang in ((105, "zh"), (106, "en"), (107, "zh")):
        issue = replace(make_issue({}, number=number, lang=lang), date=dated[number])  # type: ignore[arg-type]
        await issues.upsert(issue, now=T0)

    assert await issues.newest_dated() == (106, dt.date(2025, 6, 7))
