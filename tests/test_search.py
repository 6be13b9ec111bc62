"""The archive's search: Chinese words of two characters and more, English words, the
filters, the ranking, hostile syntax, `/search` with its page buttons through the real
Application and the fake Telegram, and `weeklybot search --json`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.archive.query import parse_query
from bot.archive.render import SEARCH_BUTTONS
from bot.archive.search import ArchiveSearch
from bot.cli import main
from bot.domain.search_text import index_text
from bot.fakes.telegram import ChatMessage, FakeTelegram
from bot.texts import text
from data.db import Database
from data.migrations import migrate, split_statements
from data.search import SEARCH_DDL, SearchHit
from data.store import Store
from tests.archive_support import PAGER, archive_bot, archive_template, copy_archive, until
from tests.conftest import CHANNEL_ID, READER_ID, TOKEN
from tests.factories import make_issue, make_item

ZH_READER = 2101


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return archive_template(tmp_path_factory.mktemp("archive"))


@pytest.fixture
async def store(tmp_path: Path, template: Path) -> AsyncIterator[Store]:
    async with Database.open(copy_archive(template, tmp_path / "db.sqlite")) as db:
        yield Store(db)


async def find(store: Store, words: str, limit: int = 50) -> list[SearchHit]:
    q = parse_query(words)
    assert not q.empty, words
    page = await store.search.search(
        match=q.match,
        title_match=q.title_match,
        section=q.section,
        issue=q.issue,
        year=q.year,
        lang=q.lang,
        limit=limit,
    )
    return list(page.hits)


def titles(hits: list[SearchHit]) -> list[str]:
    return [h.title for h in hits]


# ---- the words --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("异步", {"异步编程入门：从回调到协程", "异步编程的十个陷阱"}),
        ("爬虫", {"crawlkit：轻量的爬虫框架", "数据库索引的原理"}),
        ("检索", {"用 SQLite FTS5 做全文检索"}),
        ("异步编程", {"异步编程入门：从回调到协程", "异步编程的十个陷阱"}),
        ("嵌入式搜索引擎", {"searchlite：嵌入式搜索引擎"}),
        ("协", {"异步编程入门：从回调到协程"}),  # one character: anywhere in a run
    ],
)
async def test_chinese_words_of_two_characters_and_more_are_found(
    store: Store, word: str, expected: set[str]
) -> None:
    assert set(titles(await find(store, f"{word} lang:zh"))) == expected


async def test_a_chinese_word_is_found_only_where_its_characters_are_in_order(
    store: Store,
) -> None:
    assert await find(store, "编异") == []  # 异步编 reversed
    assert await find(store, "异编") == []  # not adjacent anywhere
    assert await find(store, "数据库爬虫") == []  # both there, but never as one word


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("crawler", {"crawlkit: a light crawler framework", "How database indexes work"}),
        ("FTS5", {"用 SQLite FTS5 做全文检索", "Full-text search with SQLite FTS5"}),
        (
            "ASYNC programming",
            {
                "Async programming from callbacks to coroutines",
                "Ten traps of async programming",
            },
        ),
        ("gitlab", {"searchlite：嵌入式搜索引擎", "searchlite: an embedded search engine"}),
        ("coroutine", {"Async programming from callbacks to coroutines"}),  # a prefix
    ],
)
async def test_english_words_and_domains_are_found(
    store: Store, words: str, expected: set[str]
) -> None:
    assert set(titles(await find(store, words))) == expected


def test_the_index_holds_cjk_bigrams_and_latin_words() -> None:
    assert index_text("用 asyncio 写异步爬虫！") == "用 asyncio 写异 异步 步爬 爬虫 虫"
    assert index_text("ＦＴＳ５ Ｓearch") == "fts5 search"  # full-width folded


# ---- the filters ------------------------------------------------------------------


async def test_each_filter_narrows_the_results(store: Store) -> None:
    everything = await find(store, "crawlkit")
    assert {(h.issue, h.lang) for h in everything} == {(301, "zh"), (301, "en")}
    assert {h.lang for h in await find(store, "crawlkit lang:en")} == {"en"}
    assert {h.section for h in await find(store, "异步 section:projects")} == set()
    assert {h.section for h in await find(store, "爬虫 section:projects")} == {"projects"}
    assert {h.section for h in await find(store, "爬虫 section:articles")} == {"articles"}
    assert {h.issue for h in await find(store, "异步编程 issue:302")} == {302}
    assert {h.issue for h in await find(store, "异步编程 year:2030")} == {301}
    assert {h.issue for h in await find(store, "异步编程 year:2031")} == {302}
    only_302 = await find(store, "issue:302")  # filters alone: the issue's items
    assert len(only_302) == 6
    assert {h.issue for h in only_302} == {302}


def test_the_query_parser_reads_filters_and_names_what_it_left_out() -> None:
    q = parse_query("asyncio 爬虫 section:项目 issue:120 year:2024 lang:EN section:nope")
    assert (q.section, q.issue, q.year, q.lang) == ("projects", 120, 2024, "en")
    assert q.words == ("asyncio", "爬虫")
    assert q.problems == ("section:nope",)
    assert q.match == '"asyncio"* AND "爬虫"'
    assert q.text() == "asyncio 爬虫 section:projects issue:120 year:2024 lang:en"
    assert parse_query("issue:x year:99 lang:fr").empty


# ---- the ranking ------------------------------------------------------------------


async def test_a_title_hit_ranks_above_a_description_hit(store: Store) -> None:
    hits = await find(store, "爬虫 lang:zh")
    assert titles(hits) == ["crawlkit：轻量的爬虫框架", "数据库索引的原理"]
    assert hits[0].in_title
    assert not hits[1].in_title
    en = await find(store, "crawler")
    assert titles(en) == ["crawlkit: a light crawler framework", "How database indexes work"]


async def test_newer_ranks_above_older_at_equal_rank(store: Store) -> None:
    item = make_item(1, title="quartzlog：结构化日志", url="https://github.com/example/quartzlog")
    for number, year in ((500, 2033), (502, 2035), (501, 2034)):
        issue = make_issue({"projects": [item]}, number=number)
        await store.issues.upsert(dataclasses.replace(issue, date=dt.date(year, 1, 1)), now=0)
    hits = await find(store, "quartzlog")
    assert [h.issue for h in hits] == [502, 501, 500]
    assert hits[0].rank == hits[1].rank == hits[2].rank


async def test_a_replaced_issue_leaves_no_stale_entry_in_the_index(store: Store) -> None:
    before = await store.search.indexed_count()
    issue = make_issue({"projects": [make_item(1, title="oldname：旧名字")]}, number=600)
    await store.issues.upsert(issue, now=0)
    renamed = make_issue({"projects": [make_item(1, title="newname：新名字")]}, number=600)
    await store.issues.upsert(renamed, now=1)
    assert await find(store, "oldname") == []
    assert titles(await find(store, "newname")) == ["newname：新名字"]
    assert await store.search.indexed_count() == before + 1


# ---- hostile syntax ----------------------------------------------------------------

HOSTILE = [
    '"foo',
    "NEAR(",
    "NEAR(a b",
    "*",
    "a*b*",
    "AND",
    "OR NOT AND",
    "-",
    "-asyncio",
    "title:异步",
    "{title}: x",
    "^start",
    "(((",
    "col:",
    "'; DROP TABLE items; --",
    "\x00\x01",
    '异步"编程',
    "section:",
    "issue:-1",
]


@pytest.mark.parametrize("words", HOSTILE)
async def test_hostile_syntax_never_raises(store: Store, words: str) -> None:
    q = parse_query(words)
    page = await ArchiveSearch(store.search).find(q)
    assert page.offset == 0


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for statement in split_statements(SEARCH_DDL):
        conn.execute(statement)
    conn.execute(
        "INSERT INTO item_search VALUES (?, ?, ?, ?)",
        (index_text("异步 asyncio crawler"), "", "", ""),
    )
    return conn


@given(st.text(max_size=80))
def test_any_text_is_a_valid_fts_expression(fts: sqlite3.Connection, words: str) -> None:
    q = parse_query(words)
    for expression in (q.match, q.title_match):
        if expression is not None:
            fts.execute("SELECT rowid FROM item_search WHERE item_search MATCH ?", (expression,))


@given(
    st.lists(
        st.sampled_from(
            [
                '"',
                "*",
                "(",
                ")",
                "-",
                "^",
                ":",
                "NEAR",
                "AND",
                "OR",
                "NOT",
                "{",
                "}",
                "+",
                " ",
                "异",
                "a",
            ]
        ),
        max_size=20,
    )
)
def test_fts_syntax_characters_are_words_not_operators(
    fts: sqlite3.Connection, pieces: list[str]
) -> None:
    q = parse_query("".join(pieces))
    if q.match is not None:
        fts.execute("SELECT rowid FROM item_search WHERE item_search MATCH ?", (q.match,))


# ---- /search in Telegram -----------------------------------------------------------


def buttons(message: ChatMessage) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


async def reply_to(tg: FakeTelegram, user_id: int, message: str) -> ChatMessage:
    before = len(tg.sent(user_id))
    tg.user_sends(user_id, message)
    await until(lambda: len(tg.sent(user_id)) > before)
    return tg.sent(user_id)[before]


async def press(tg: FakeTelegram, user_id: int, message: ChatMessage, data: str) -> ChatMessage:
    answers = len(tg.answers)
    tg.press(user_id, user_id, message.message_id, data)
    await until(lambda: len(tg.answers) > answers)
    await until(lambda: tg.message(user_id, message.message_id).text != message.text)
    return tg.message(user_id, message.message_id)


async def test_search_replies_with_linked_titles_issue_date_and_section(
    fake_telegram: FakeTelegram, tmp_path: Path, template: Path
) -> None:
    async with archive_bot(fake_telegram, tmp_path, template):
        reply = await reply_to(fake_telegram, READER_ID, "/search 爬虫 lang:zh")
    lines = (reply.text or "").splitlines()
    assert lines == [
        "🔎 爬虫 lang:zh, page 1:",
        "1. crawlkit：轻量的爬虫框架",
        "    #301 · 2030-03-02 · Projects",
        "2. 数据库索引的原理",
        "    #301 · 2030-03-02 · Articles",
    ]
    links = [e.url for e in reply.entities if e.type == "text_link"]
    assert links == ["https://github.com/example/crawlkit", "https://example.com/zh/index"]
    assert buttons(reply) == []  # one page: no buttons


async def test_search_pages_with_buttons_and_speaks_chinese(
    fake_telegram: FakeTelegram, tmp_path: Path, template: Path
) -> None:
    fake_telegram.add_user(ZH_READER, "小明", "xiaoming", language_code="zh-hans")
    async with archive_bot(fake_telegram, tmp_path, template) as runtime:
        first = await reply_to(fake_telegram, ZH_READER, "/search 分页测试")
        assert (first.text or "").startswith("🔎 分页测试，第 1 页：")
        assert "第 400 期 · 2032-01-03 · 项目&资源" in (first.text or "")
        data = buttons(first)
        assert len(data) == 1
        assert data[0].startswith("sr:1:p1:")
        query_id = SEARCH_BUTTONS.decode(data[0]).id
        second = await press(fake_telegram, ZH_READER, first, data[0])
        assert "11. pager-" in (second.text or "")
        assert buttons(second) == [f"sr:1:p0:{query_id}", f"sr:1:p2:{query_id}"]
        third = await press(fake_telegram, ZH_READER, second, f"sr:1:p2:{query_id}")
        numbered = [ln for ln in (third.text or "").splitlines() if ln[:1].isdigit()]
        assert len(numbered) == PAGER - 20
        assert buttons(third) == [f"sr:1:p1:{query_id}"]
        assert [a.text for a in fake_telegram.answers[-2:]] == [None, None]
        # Every page of the three held distinct items: 23 in all.
        seen = {
            ln.split(". ", 1)[1]
            for m in (first, second, third)
            for ln in (m.text or "").splitlines()
            if ln[:1].isdigit()
        }
        assert len(seen) == PAGER
        # A forged page of a query never stored: told, nothing edited.
        answers = len(fake_telegram.answers)
        fake_telegram.press_forged(ZH_READER, ZH_READER, third.message_id, "sr:1:p1:99999")
        await until(lambda: len(fake_telegram.answers) > answers)
        assert fake_telegram.answers[-1].text == text("search.gone", "zh")
        fake_telegram.press_forged(ZH_READER, ZH_READER, third.message_id, "sr:1:p77:1")
        await until(lambda: len(fake_telegram.answers) > answers + 1)
        assert fake_telegram.answers[-1].text == text("button.unknown", "zh")
        assert runtime.application.running
        assert fake_telegram.violations == []


async def test_search_without_words_explains_itself_and_hostile_words_are_fine(
    fake_telegram: FakeTelegram, tmp_path: Path, template: Path
) -> None:
    async with archive_bot(fake_telegram, tmp_path, template):
        usage = await reply_to(fake_telegram, READER_ID, "/search")
        assert usage.text == text("search.usage", "en")
        hostile = await reply_to(fake_telegram, READER_ID, '/search "foo NEAR( * AND - <b>')
        assert (hostile.text or "").startswith("Nothing found for")
        assert "<b>" in (hostile.text or "")  # escaped, shown as typed
        odd = await reply_to(fake_telegram, READER_ID, "/search 异步 section:nope")
        assert (odd.text or "").splitlines()[0] == "Left out (not understood): section:nope"


# ---- weeklybot search -------------------------------------------------------------


def test_the_command_line_prints_the_same_results_as_json(
    tmp_path: Path,
    template: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = copy_archive(template, tmp_path / "db.sqlite")
    for name in list(os.environ):
        if name.startswith("WEEKLYBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", str(CHANNEL_ID))
    monkeypatch.setenv("WEEKLYBOT_REPO__ENABLED", "false")
    monkeypatch.setenv("WEEKLYBOT_DATABASE_PATH", str(database))
    assert main(["search", "爬虫", "--json", "--limit", "1"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 1
    assert set(results[0]) == {"issue", "date", "lang", "section", "title", "url", "rank"}
    assert results[0]["title"] in (
        "crawlkit：轻量的爬虫框架",
        "crawlkit: a light crawler framework",
    )
    assert results[0]["issue"] == 301
    assert results[0]["date"] == "2030-03-02"
    assert results[0]["url"] == "https://github.com/example/crawlkit"
    assert isinstance(results[0]["rank"], float)
    assert main(["search", "section:projects", "lang:en", "--limit", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1. searchlite: an embedded search engine"
    assert lines[1] == "   #302 2031-05-10 en projects"


async def test_a_database_migrated_with_items_gets_them_indexed(tmp_path: Path) -> None:
    """Migration 14 indexes the items stored before it."""
    from data.migrations import MIGRATIONS

    async with Database.open(tmp_path / "old.sqlite") as db:
        await migrate(db, MIGRATIONS[:13], now=0)
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO issues (number, lang, date, form, title, content_hash, parsed,"
                " created_at, updated_at)"
                " VALUES (7, 'zh', '2023-06-24', 'full', 't', 'h', ?, 0, 0)",
                (json.dumps({"sections": [{"kind": "projects", "heading": "项目"}]}),),
            )
            await tx.execute(
                "INSERT INTO items (issue_id, kind, idx, number_as_written, title, url,"
                " description, description_md, stars, stars_as_written, flags, images,"
                " sub_links, description_links, orphan_text)"
                " VALUES (1, 'projects', 1, '1', '老项目：异步队列', 'https://x.example/q',"
                " '', '', '[]', '[]', '[]', '[]', '[]', '[]', '')"
            )
        await migrate(db, now=0)
        hits = await find(Store(db), "异步")
    assert titles(hits) == ["老项目：异步队列"]
