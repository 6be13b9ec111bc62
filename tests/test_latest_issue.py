"""/latest and /issue N in the running bot: the channel's own digest of a stored issue,
in the reader's language (the other one after a note when it has none), and a clear
answer in zh and en for a bad number, an unknown issue, an empty archive."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Runtime, bot_running
from bot.config import settings_from_values
from bot.fakes.telegram import ChatMessage, FakeTelegram
from handlers.latest import digest_posts
from publishers.posts import TelegramPhoto
from publishers.telegram_html import parse_html
from tests.conftest import CHANNEL_ID, EDITOR_ID
from tests.factories import make_issue, make_item

ZH = 3001
EN = 3002


async def until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - a predicate over the fake, no event to await
            await asyncio.sleep(0.01)


@dataclass
class World:
    tg: FakeTelegram
    runtime: Runtime

    async def ask(self, user_id: int, line: str, *, count: int = 1) -> list[ChatMessage]:
        """The bot's next `count` messages to `user_id` after they send `line`."""
        before = len(self.tg.sent(user_id))
        self.tg.user_sends(user_id, line)
        await until(lambda: len(self.tg.sent(user_id)) >= before + count)
        return self.tg.sent(user_id)[before:]

    async def store(self, number: int, *langs: str) -> None:
        for lang in langs:
            issue = make_issue(
                {"projects": [make_item(1, title=f"Item of {number} {lang}"), make_item(2)]},
                number=number,
                lang="zh" if lang == "zh" else "en",
            )
            await self.runtime.services.store.issues.upsert(issue, now=dt.datetime.now(dt.UTC))


def shown(message: ChatMessage) -> str:
    return (message.caption if message.method == "sendPhoto" else message.text) or ""


@pytest.fixture
async def world(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[World]:
    tg = fake_telegram
    tg.api.flood = None
    tg.add_user(ZH, "Li", "li", language_code="zh-hans")
    tg.add_user(EN, "Ann", "ann", language_code="en-US")
    settings = settings_from_values(
        {
            "telegram": {
                "token": tg.token,
                "api_base_url": tg.base_url,
                "channel_id": CHANNEL_ID,
                "editor_ids": (EDITOR_ID,),
            },
            "repo": {"enabled": False},
            "feeds": {"urls": ()},
            "database_path": tmp_path / "state" / "weeklybot.db",
        }
    )
    async with bot_running(settings) as runtime:
        yield World(tg, runtime)


async def expected(world: World, number: int, lang: str) -> list[tuple[str, str]]:
    """(method, visible text) of the channel's digest of issue `number` in `lang`."""
    issue = await world.runtime.services.store.issues.load(number, "zh" if lang == "zh" else "en")
    assert issue is not None
    parts = [part for post in digest_posts(world.runtime.services, issue) for part in post.parts]
    return [
        ("sendPhoto", parse_html(p.caption_html).text)
        if isinstance(p, TelegramPhoto)
        else ("sendMessage", parse_html(p.html).text)
        for p in parts
    ]


async def test_latest_and_issue_n_send_the_channel_digest_in_the_readers_language(
    world: World,
) -> None:
    await world.store(105, "zh", "en")
    await world.store(106, "zh")  # the newest: no English edition yet

    want = await expected(world, 106, "zh")
    got = await world.ask(ZH, "/latest", count=len(want))
    assert [(m.method, shown(m)) for m in got] == want
    assert "#Python潮流周刊" in shown(got[0])
    assert "第 106 期" in shown(got[0])
    assert "Item of 106 zh" in "".join(shown(m) for m in got)

    # In English: the note, then the Chinese digest.
    got = await world.ask(EN, "/latest", count=1 + len(want))
    assert got[0].text == "Issue #106 has no English edition; here it is in Chinese."
    assert [(m.method, shown(m)) for m in got[1:]] == want

    want_en = await expected(world, 105, "en")
    got = await world.ask(EN, "/issue 105", count=len(want_en))
    assert [(m.method, shown(m)) for m in got] == want_en
    assert "Item of 105 en" in "".join(shown(m) for m in got)
    want_zh = await expected(world, 105, "zh")
    got = await world.ask(ZH, "/issue #105", count=len(want_zh))
    assert [(m.method, shown(m)) for m in got] == want_zh


USAGE = (
    "发送 /issue 加上期号，例如 /issue 120（/latest：最新一期）。",
    "Send /issue and the issue's number, e.g. /issue 120 (/latest: the newest).",
)
BAD = {
    "/issue": USAGE,
    "/issue abc": USAGE,
    "/issue -3": USAGE,
    "/issue 12 13": USAGE,
    "/issue ١٢": USAGE,  # Arabic-Indic digits are digits to str.isdigit, not to us
    "/issue 99999999999999999999": USAGE,
    "/issue 999": (
        "没有第 999 期。最新的是第 106 期：/latest。",
        "There is no issue #999. The newest is #106: /latest.",
    ),
}


async def test_a_bad_or_unknown_number_is_answered_in_both_languages(world: World) -> None:
    await world.store(106, "zh", "en")
    for line, (zh, en) in BAD.items():
        assert [m.text for m in await world.ask(ZH, line)] == [zh], line
        assert [m.text for m in await world.ask(EN, line)] == [en], line


async def test_an_empty_archive_says_so(world: World) -> None:
    assert [m.text for m in await world.ask(ZH, "/latest")] == ["还没有收录任何一期。"]
    assert [m.text for m in await world.ask(EN, "/issue 3")] == ["No issue is stored yet."]
