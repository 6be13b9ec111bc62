"""Keyword alerts: the pure matching rule, and the running bot on the fake Telegram —
/follow /following /unfollow, one private message per reader per issue (however often
the trigger runs), none after an unfollow, a reader who blocked the bot pruned, the
follow limit, and an extra-edition post's alert."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pytest

from bot.alerts.match import (
    Candidate,
    fold,
    hits_of,
    parse_words,
    plan_alerts,
    word_in,
)
from bot.alerts.service import alert_html, alert_key
from bot.app import Runtime, bot_running
from bot.config import settings_from_values
from bot.domain.issue import Issue, Lang
from bot.extra.queue import judge_link
from bot.fakes.telegram import ChatMessage, FakeTelegram, Fault
from bot.weekly.announce import publish_event
from bot.weekly.ingest import NewIssue
from data.extras import ExtraItem, NewExtra
from data.outbox import OUTBOX_STATES, OutboxRow
from publishers.limits import TELEGRAM_TEXT_MAX, telegram_length
from publishers.reader import READERS_TARGET
from tests.conftest import CHANNEL_ID, EDITOR_ID, READER_ID
from tests.factories import make_issue, make_item

ZH_READER = 2001  # follows 爬虫, client in Chinese
EN_READER = 2002  # follows asyncio
UNFOLLOWER = 2003  # follows asyncio, then unfollows it
BLOCKER = 2004  # follows asyncio, then blocks the bot
LIMITED = 2005  # the follow limit
EDITORS_GROUP = -100200300


# ---- the pure rule -------------------------------------------------------------------


def test_latin_words_match_whole_and_case_insensitively() -> None:
    assert word_in("asyncio", fold("Fast AsyncIO patterns"))
    assert word_in("asyncio", fold("asyncio.TaskGroup in practice"))
    assert word_in("asyncio", fold("用asyncio写爬虫"))  # CJK next to it is a boundary
    assert not word_in("rust", fold("In trust we code"))
    assert not word_in("rust", fold("Rusty tools"))
    assert word_in("c++", fold("Calling C++ from Python"))
    assert word_in("fastapi", fold("ＦａｓｔＡＰＩ 教程"))  # full-width Latin folds


def test_cjk_words_match_as_substrings() -> None:
    assert word_in("爬虫", fold("一个网络爬虫框架"))
    assert word_in("异步", fold("Python 异步编程入门"))
    assert not word_in("爬虫", fold("一个网络框架"))


def test_parse_words_splits_folds_dedupes_and_refuses() -> None:
    parsed = parse_words("AsyncIO, 爬虫，asyncio x " + "y" * 40, max_length=32)
    assert parsed.words == ("asyncio", "爬虫")
    assert [(p.word, p.reason) for p in parsed.refused] == [
        ("x", "too_short"),
        ("y" * 40, "too_long"),
    ]


def test_plan_alerts_matches_title_and_description_once_per_reader() -> None:
    items = (
        Candidate("Async tools", "https://a.example/1", "built on asyncio"),
        Candidate("一个爬虫框架", "https://a.example/2"),
        Candidate("Nothing here", "https://a.example/3", "plain"),
    )
    alerts = plan_alerts({2: ("asyncio", "爬虫"), 1: ("rust",), 3: ("plain",)}, items)
    assert [a.user_id for a in alerts] == [2, 3]
    assert [(h.candidate.url, h.words) for h in alerts[0].hits] == [
        ("https://a.example/1", ("asyncio",)),
        ("https://a.example/2", ("爬虫",)),
    ]
    assert hits_of(("nothing",), items)[0].candidate.title == "Nothing here"


def test_a_long_alert_fits_telegram_and_counts_the_rest() -> None:
    many = tuple(Candidate(f"asyncio {'x' * 300} {i}", f"https://a.example/{i}") for i in range(40))
    (alert,) = plan_alerts({1: ("asyncio",)}, many)
    html = alert_html(alert, "en", number=7, max_items=40)
    assert telegram_length(html) <= TELEGRAM_TEXT_MAX
    assert "more in the issue: /issue 7" in html
    short = alert_html(alert, "zh", number=7, max_items=2)
    assert "还有 38 条" in short


# ---- the running bot ---------------------------------------------------------------


async def until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - a predicate over the fake, no event to await
            await asyncio.sleep(0.01)


@dataclass
class World:
    tg: FakeTelegram
    runtime: Runtime

    async def say(self, user_id: int, line: str) -> ChatMessage:
        before = len(self.tg.sent(user_id))
        self.tg.user_sends(user_id, line)
        await until(lambda: len(self.tg.sent(user_id)) > before)
        return self.tg.sent(user_id)[before]

    async def reply(self, user_id: int, line: str) -> str:
        message = await self.say(user_id, line)
        assert message.text is not None
        return message.text

    def alerts_to(self, user_id: int) -> list[ChatMessage]:
        return [m for m in self.tg.sent(user_id) if (m.text or "").startswith("🔔 ")]

    async def new_issue(self, number: int = 106) -> None:
        event = NewIssue(number, dt.date(2025, 6, 7), MappingProxyType(issues(number)))
        app = self.runtime.application
        await publish_event(event, bot=app.bot, svc=self.runtime.services, job_queue=app.job_queue)

    async def reader_rows(self) -> list[OutboxRow]:
        rows: list[OutboxRow] = []
        outbox = self.runtime.services.store.outbox
        for state in OUTBOX_STATES:
            rows += await outbox.list_by_state(state, limit=1000)
        return [r for r in rows if r.target == READERS_TARGET]


def issues(number: int) -> dict[Lang, Issue]:
    zh = [
        make_item(1, title="一个异步爬虫框架", description="基于 asyncio"),
        make_item(2, title="数据库工具", description="和爬虫无关"),
        make_item(3, title="Rusty tools", description="nothing for rust fans"),
    ]
    en = [
        make_item(1, title="An async crawler framework", description="built on asyncio"),
        make_item(2, title="A database tool", description="unrelated"),
        make_item(3, title="Rusty tools", description="nothing here"),
    ]
    return {
        "zh": make_issue({"projects": zh}, number=number, lang="zh"),
        "en": make_issue({"projects": en}, number=number, lang="en"),
    }


@pytest.fixture
async def world(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[World]:
    tg = fake_telegram
    tg.api.flood = None
    tg.add_group(EDITORS_GROUP, "Editors")
    tg.add_user(ZH_READER, "Zhang", "zhang", language_code="zh-hans")
    for user_id in (EN_READER, UNFOLLOWER, BLOCKER, LIMITED):
        tg.add_user(user_id, f"Reader {user_id}", None, language_code="en")
    settings = settings_from_values(
        {
            "telegram": {
                "token": tg.token,
                "api_base_url": tg.base_url,
                "channel_id": CHANNEL_ID,
                "editor_ids": (EDITOR_ID,),
                "editor_chat_id": EDITORS_GROUP,
                "posts_per_minute": 600,
                "min_spacing_seconds": 0.01,
            },
            "repo": {"enabled": False},
            "feeds": {"urls": ()},
            "publishing": {"preview": False, "telegram_items": False},
            "alerts": {"max_follows": 3, "max_word_length": 20},
            "database_path": tmp_path / "state" / "weeklybot.db",
        }
    )
    async with bot_running(settings) as runtime:
        yield World(tg, runtime)


async def test_one_alert_per_reader_per_issue_none_after_unfollow_blocked_pruned(
    world: World,
) -> None:
    svc = world.runtime.services
    assert (await world.reply(ZH_READER, "/follow 爬虫")).startswith("✅ 已关注：爬虫。")
    assert (await world.reply(EN_READER, "/follow AsyncIO")).startswith("✅ Following: asyncio.")
    assert (await world.reply(UNFOLLOWER, "/follow asyncio")).startswith("✅ Following")
    assert (await world.reply(BLOCKER, "/follow asyncio")).startswith("✅ Following")
    assert await world.reply(UNFOLLOWER, "/unfollow ASYNCIO") == (
        "🔕 No longer following: asyncio."
    )
    assert await world.reply(UNFOLLOWER, "/unfollow asyncio") == (
        "You do not follow that. /following lists your words."
    )

    async def zh_seen() -> bool:
        found = await svc.store.langs.get(ZH_READER)
        return found is not None and found.lang == "zh"

    async with asyncio.timeout(5):
        while not await zh_seen():  # noqa: ASYNC110 - the language is written in a task
            await asyncio.sleep(0.01)
    world.tg.block(BLOCKER)
    await world.new_issue(106)
    await until(lambda: bool(world.alerts_to(ZH_READER)) and bool(world.alerts_to(EN_READER)))

    (zh,) = world.alerts_to(ZH_READER)
    assert (zh.text or "").startswith(
        "🔔 第 106 期有条目提到你关注的词：\n• 一个异步爬虫框架 · 爬虫\n"
    )
    assert "数据库工具" in (zh.text or "")  # its description says 爬虫
    assert "Rusty" not in (zh.text or "")
    (en,) = world.alerts_to(EN_READER)
    assert (en.text or "").startswith(
        "🔔 Issue #106 has items with the words you follow:\n• An async crawler framework · asyncio"
    )
    assert "/following lists your words" in (en.text or "")
    links = {e.url for e in en.entities if e.type == "text_link"}
    assert links == {"https://github.com/gpustack/gpustack1"}

    # The blocked reader: the row failed, their words are gone, no editor card.
    async def blocked_pruned() -> bool:
        return await svc.alerts.follows.of_user(BLOCKER) == ()

    async with asyncio.timeout(5):
        while not await blocked_pruned():  # noqa: ASYNC110 - the worker prunes in its task
            await asyncio.sleep(0.01)
    rows = {r.idempotency_key: r for r in await world.reader_rows()}
    assert rows[alert_key(106, "en", BLOCKER)].state == "failed"
    assert not any("reader unreachable" in (m.text or "") for m in world.tg.sent(EDITORS_GROUP))

    # The trigger again (a replay, the other language, a restart's re-announce): nobody
    # hears twice, and the reader who unfollowed never heard.
    for issue in issues(106).values():  # as ingest does after delivering the events
        await svc.store.issues.upsert(issue, now=dt.datetime.now(dt.UTC))
    await world.new_issue(106)
    assert (await world.reply(EN_READER, "/lang zh")).startswith("好的")  # switched language
    assert await svc.alerts.issue_published(106, "zh") == 0
    assert await svc.alerts.issue_published(106, "en") == 0

    async def settled() -> bool:  # every alert row sent or failed: nothing more to come
        return all(r.state in ("sent", "failed") for r in await world.reader_rows())

    async with asyncio.timeout(5):
        while not await settled():  # noqa: ASYNC110 - a predicate over the store
            await asyncio.sleep(0.01)
    assert len(world.alerts_to(ZH_READER)) == 1
    assert len(world.alerts_to(EN_READER)) == 1
    assert world.alerts_to(UNFOLLOWER) == []
    assert sorted(rows) == sorted(
        alert_key(106, lang, user)
        for lang, user in (("zh", ZH_READER), ("en", EN_READER), ("en", BLOCKER))
    )
    assert len(await world.reader_rows()) == 3

    # An older issue (a backfill), stored with matching items, alerts nobody.
    for issue in issues(105).values():
        await svc.store.issues.upsert(issue, now=dt.datetime.now(dt.UTC))
    assert await svc.alerts.issue_published(105, "zh") == 0


async def test_follow_limit_word_length_and_the_unfollow_buttons(world: World) -> None:
    reply = await world.reply(LIMITED, "/follow alpha beta gamma delta")
    assert reply == (
        "✅ Following: alpha, beta, gamma. You follow 3 of at most 3 words.\n"
        "Not added: delta. You follow 3 words already, the most; /unfollow one first."
    )
    assert await world.reply(LIMITED, "/follow epsilon") == (
        "Not added: epsilon. You follow 3 words already, the most; /unfollow one first."
    )
    assert await world.reply(LIMITED, f"/follow {'w' * 21} a") == (
        f"Too long (at most 20 characters): {'w' * 21}.\nToo short (at least 2 characters): a."
    )
    assert (await world.reply(LIMITED, "/follow")).startswith("Send /follow and the words")
    assert await world.reply(LIMITED, "/follow beta") == "Already following: beta."

    listing = await world.say(LIMITED, "/following")
    assert listing.text == (
        "You follow 3 of at most 3 words (a button unfollows one):\n1. alpha\n2. beta\n3. gamma"
    )
    follows = await world.runtime.services.alerts.follows.of_user(LIMITED)
    assert listing.callback_data() == {f"al:1:un:{f.id}" for f in follows}

    # Someone else's button changes nothing (pressed under their own empty list).
    theirs = await world.say(EN_READER, "/following")
    assert theirs.text == (
        "You follow no words yet: /follow asyncio sends you the items that mention asyncio."
    )
    answers = len(world.tg.answers)
    world.tg.press_forged(EN_READER, EN_READER, theirs.message_id, f"al:1:un:{follows[0].id}")
    await until(lambda: len(world.tg.answers) > answers)
    assert world.tg.answers[answers].text == "Not allowed."
    # Their own: the word goes, the list shows what is left.
    answers = len(world.tg.answers)
    world.tg.press(LIMITED, LIMITED, listing.message_id, f"al:1:un:{follows[0].id}")
    await until(lambda: len(world.tg.answers) > answers)
    assert world.tg.answers[answers].text == "🔕 No longer following: alpha."
    await until(lambda: "1. beta" in (world.tg.message(LIMITED, listing.message_id).text or ""))
    assert await world.reply(LIMITED, "/unfollow 2") == "🔕 No longer following: gamma."
    assert [f.word for f in await world.runtime.services.alerts.follows.of_user(LIMITED)] == [
        "beta"
    ]
    # In a group: a pointer to the private chat, nothing stored.
    before = len(world.tg.sent(EDITORS_GROUP))
    world.tg.user_sends(LIMITED, "/follow omega", EDITORS_GROUP)
    await until(lambda: len(world.tg.sent(EDITORS_GROUP)) > before)
    assert world.tg.sent(EDITORS_GROUP)[before].text == (
        "Please ask me in a private chat: the alerts come there."
    )
    assert [f.word for f in await world.runtime.services.alerts.follows.of_user(LIMITED)] == [
        "beta"
    ]


async def test_an_extra_edition_post_alerts_its_followers_once(world: World) -> None:
    svc = world.runtime.services
    assert (await world.reply(EN_READER, "/follow asyncio")).startswith("✅ Following")
    item = await svc.extra.store.create(
        NewExtra(
            original_url="https://blog.example.com/asyncio-tips",
            canonical_url="https://blog.example.com/asyncio-tips",
            dedupe_key="blog.example.com/asyncio-tips",
            title="Ten asyncio tips",
            comment="Worth a read.",
            created_by=f"user:{EDITOR_ID}",
        ),
        now=time.time(),
        judge=judge_link,
    )
    assert isinstance(item, ExtraItem)
    assert await svc.extra.post_now(item.id, editor=f"user:{EDITOR_ID}") is not None
    svc.delivery.wake()
    await until(lambda: bool(world.alerts_to(EN_READER)))
    (alert,) = world.alerts_to(EN_READER)
    assert alert.text == (
        "🔔 A new post on the channel has words you follow:\n"
        "• Ten asyncio tips · asyncio\n\n/following lists your words; /unfollow stops one."
    )
    assert any("Ten asyncio tips" in (m.text or "") for m in world.tg.sent(CHANNEL_ID))
    assert world.alerts_to(READER_ID) == []


async def test_a_flood_limit_delays_an_alert_but_prunes_nobody(world: World) -> None:
    svc = world.runtime.services
    assert (await world.reply(EN_READER, "/follow asyncio")).startswith("✅ Following")
    issue = issues(107)["en"]
    await svc.store.issues.upsert(issue, now=dt.datetime.now(dt.UTC))
    world.tg.inject(Fault.retry_after(1), method="sendMessage")  # the alert's first try
    assert await svc.alerts.issue_published(107, "en") == 1
    await until(lambda: bool(world.alerts_to(EN_READER)))
    (row,) = [r for r in await world.reader_rows() if r.idempotency_key.startswith("alert:107:")]
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(world.alerts_to(EN_READER)) == 1
    assert [f.word for f in await svc.alerts.follows.of_user(EN_READER)] == ["asyncio"]
