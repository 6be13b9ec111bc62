"""Preview of a new issue, conversation-shaped: the real PTB Application, the fake Telegram.

An editor group gets the card; a reader in it cannot decide; an editor publishes,
schedules, skips or edits the X digest, and the outbox shows what was decided.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pytest
from telegram.ext import ApplicationBuilder

from bot.config import Settings, settings_from_values
from bot.delivery.jobs import rebuild_wakeups
from bot.delivery.workers import DeliveryPool
from bot.domain.issue import Issue
from bot.fakes.telegram import ChatMessage, FakeTelegram
from bot.platforms import TELEGRAM, X
from bot.weekly.announce import announce_alarms, publish_event
from bot.weekly.ingest import FullTextReleased, NewIssue
from data.db import Database
from data.migrations import migrate
from data.outbox import OutboxRow
from data.store import SourceState, Store
from handlers.context import App, BotServices, attach
from handlers.preview import add_publication_handlers
from publishers.limits import x_weighted_length
from publishers.posts import TelegramPhoto, TelegramPost, XPost
from tests.conftest import CHANNEL_ID, EDITOR_ID, READER_ID
from tests.factories import make_issue, make_item

EDITORS_GROUP = -100200300
T0 = 1_750_000_000.0


async def until(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    """Wait for something the bot does in another task; fail rather than hang."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - a predicate over the fake, no event to await
            await asyncio.sleep(0.01)


def issues(number: int = 106) -> dict[str, Issue]:
    items = [make_item(i) for i in range(1, 5)]
    return {
        "zh": make_issue({"projects": items}, number=number, lang="zh"),
        "en": make_issue({"projects": items}, number=number, lang="en"),
    }


def settings_for(tg: FakeTelegram, db_path: Path) -> Settings:
    return settings_from_values(
        {
            "telegram": {
                "token": tg.token,
                "api_base_url": tg.base_url,
                "channel_id": CHANNEL_ID,
                "editor_ids": [EDITOR_ID],
                "editor_chat_id": EDITORS_GROUP,
            },
            "x": {
                "consumer_key": "ck",
                "consumer_secret": "cs",
                "access_token": "at",
                "access_token_secret": "ats",
            },
            "database_path": db_path,
        }
    )


@dataclass
class Bot:
    """The running bot as the editors' group sees it."""

    tg: FakeTelegram
    app: App
    svc: BotServices
    store: Store

    async def new_issue(self, number: int = 106) -> None:
        event = NewIssue(number, dt.date(2025, 6, 7), MappingProxyType(issues(number)))
        await publish_event(event, bot=self.app.bot, svc=self.svc, job_queue=self.app.job_queue)

    def card(self) -> ChatMessage:
        """The card as it is now (after any edits), whether or not it still has buttons."""
        cards = [m for m in self.tg.sent(EDITORS_GROUP) if m.text and "New issue #" in m.text]
        assert cards, "no card in the editors' group"
        return cards[-1]

    def press(self, user_id: int, data: str) -> None:
        answers = len(self.tg.answers)
        self.tg.press(user_id, EDITORS_GROUP, self.card().message_id, data)
        self._answered = answers + 1

    async def answered(self) -> str | None:
        await until(lambda: len(self.tg.answers) >= self._answered)
        return self.tg.answers[-1].text

    async def queued(self) -> list[OutboxRow]:
        return await self.store.outbox.list_by_state("queued", limit=1000)


@pytest.fixture
async def bot(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Bot]:
    fake_telegram.add_group(EDITORS_GROUP, "Editors")
    # A conversation sends a burst to one group; pacing is the delivery's concern, not here.
    fake_telegram.api.flood = None
    async with running(fake_telegram, tmp_path / "bot.db") as started:
        yield started


@contextlib.asynccontextmanager
async def running(fake_telegram: FakeTelegram, db_path: Path) -> AsyncIterator[Bot]:
    """The bot's Application polling the fake, over the database at `db_path`: start it
    again on the same path to restart the bot."""
    settings = settings_for(fake_telegram, db_path)
    async with Database.open(settings.database_path) as db:
        await migrate(db, now=T0)
        store = Store(db)
        svc = BotServices(settings=settings, store=store, delivery=DeliveryPool())
        app: App = (
            ApplicationBuilder().token(fake_telegram.token).base_url(fake_telegram.base_url).build()  # type: ignore[assignment]
        )
        attach(app, svc)
        add_publication_handlers(app)
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                yield Bot(fake_telegram, app, svc, store)
            finally:
                await app.updater.stop()
                await app.stop()


async def test_the_card_shows_the_digests_and_four_buttons(bot: Bot) -> None:
    await bot.new_issue()
    sent = bot.tg.sent(EDITORS_GROUP)
    card = bot.card()
    assert card.callback_data() == {"pv:now:1", "pv:plan:1", "pv:edit:1", "pv:skip:1"}
    assert card.text is not None
    assert "New issue #106" in card.text
    assert "Telegram (zh)" in card.text
    assert "X (en)" in card.text
    # Before the card: the Telegram digest as it will be sent (the channel's own post
    # under its cover photo), then the X thread.
    assert sent[0].photo is not None
    assert sent[0].caption is not None
    assert sent[0].caption.startswith("#Python潮流周刊\n\n🐱🐱🐱🐱  第 106 期  🐱🐱🐱🐱")
    assert any(e.type == "text_link" for e in sent[0].caption_entities)
    assert sent[1].text is not None
    assert "X thread as it will be posted" in sent[1].text
    assert await bot.queued() == []  # nothing goes out before an editor decides


async def test_a_redelivered_issue_makes_no_second_card(bot: Bot) -> None:
    await bot.new_issue()
    count = len(bot.tg.sent(EDITORS_GROUP))
    await bot.new_issue()
    assert len(bot.tg.sent(EDITORS_GROUP)) == count


async def test_a_reader_pressing_is_told_only_editors_and_nothing_changes(bot: Bot) -> None:
    await bot.new_issue()
    before = bot.card()
    bot.press(READER_ID, "pv:now:1")
    assert await bot.answered() == "Only editors can decide this."
    assert bot.tg.answers[-1].show_alert
    assert await bot.queued() == []
    preview = await bot.store.previews.get(1)
    assert preview is not None
    assert preview.status == "pending"
    assert bot.tg.message(EDITORS_GROUP, before.message_id).edits == 0


async def test_publish_now_queues_the_digests_now_and_items_per_plan(bot: Bot) -> None:
    await bot.new_issue()
    pressed_at = dt.datetime.now(dt.UTC).timestamp()
    bot.press(EDITOR_ID, "pv:now:1")
    assert await bot.answered() == "✅ Published now by you."
    rows = await bot.queued()
    digests = [r for r in rows if r.kind == "digest"]
    items = [r for r in rows if r.kind == "item"]
    assert {r.target for r in digests} == {TELEGRAM, X}
    assert all(r.next_attempt_at <= pressed_at + 5 for r in digests)
    assert len(items) == 8  # four items on each target
    assert all(r.next_attempt_at > min(d.next_attempt_at for d in digests) for r in items)
    await until(lambda: bot.card().edits == 1)
    card = bot.card()
    assert card.text is not None
    assert "Published now by @editor [1001]" in card.text
    # The wake-up jobs for the items' future slots are there.
    assert bot.app.job_queue is not None
    assert any(j.name.startswith("wake:") for j in bot.app.job_queue.jobs() if j.name)


async def test_a_double_press_is_a_no_op(bot: Bot) -> None:
    await bot.new_issue()
    card = bot.card()
    # Two presses reach the bot before it handled the first (a double tap).
    bot.tg.press(EDITOR_ID, EDITORS_GROUP, card.message_id, "pv:now:1")
    bot.tg.press(EDITOR_ID, EDITORS_GROUP, card.message_id, "pv:now:1")
    await until(lambda: len(bot.tg.answers) == 2)
    assert [a.text for a in bot.tg.answers] == ["✅ Published now by you.", "Already decided."]
    rows = await bot.queued()
    assert len(rows) == len({(r.target, r.idempotency_key) for r in rows})
    events = await bot.store.list_audit(action="preview.published")
    assert len(events) == 1
    await until(lambda: bot.tg.message(EDITORS_GROUP, card.message_id).edits == 1)
    assert bot.tg.message(EDITORS_GROUP, card.message_id).callback_data() == frozenset()


async def test_skip_queues_nothing(bot: Bot) -> None:
    await bot.new_issue()
    bot.press(EDITOR_ID, "pv:skip:1")
    assert await bot.answered() == "⏭ Skipped by you: nothing was queued."
    assert await bot.queued() == []
    preview = await bot.store.previews.get(1)
    assert preview is not None
    assert preview.status == "skipped"
    assert preview.decided_by == "@editor [1001]"


async def test_schedule_as_planned_times_the_items_in_the_window(bot: Bot) -> None:
    await bot.new_issue()
    bot.press(EDITOR_ID, "pv:plan:1")
    assert await bot.answered() == "🗓 Scheduled as planned by you."
    items = [r for r in await bot.queued() if r.kind == "item"]
    assert len(items) == 8
    local = [dt.datetime.fromtimestamp(r.next_attempt_at, dt.UTC) for r in items]
    # 09:00, 15:00 or 21:00 in Asia/Shanghai (UTC+8): 01:00, 07:00, 13:00 UTC.
    assert {t.hour for t in local} <= {1, 7, 13}


async def test_edit_x_rejects_a_too_long_text_then_uses_the_valid_one(bot: Bot) -> None:
    await bot.new_issue()
    bot.press(EDITOR_ID, "pv:edit:1")
    assert await bot.answered() == "Which platform's digest?"
    await until(lambda: "pv:ed:x:1" in bot.card().callback_data())
    assert bot.card().callback_data() == {"pv:ed:telegram:1", "pv:ed:x:1", "pv:back:1"}
    bot.press(EDITOR_ID, "pv:ed:x:1")
    assert await bot.answered() == "Send the new X digest."
    await until(lambda: "Send the new X digest" in (bot.tg.sent(EDITORS_GROUP)[-1].text or ""))

    too_long = "Python Trending Weekly 106 " + "很长" * 150
    assert x_weighted_length(too_long) > 280
    bot.tg.user_sends(EDITOR_ID, too_long, chat_id=EDITORS_GROUP)
    await until(lambda: "Not saved" in (bot.tg.sent(EDITORS_GROUP)[-1].text or ""))
    error = bot.tg.sent(EDITORS_GROUP)[-1].text or ""
    assert "Too long for X" in error
    assert "/280" in error

    good = "Python Trending Weekly #106 is out: GPUs and AI https://example.com/106"
    bot.tg.user_sends(EDITOR_ID, good, chat_id=EDITORS_GROUP)
    await until(lambda: "Saved" in (bot.tg.sent(EDITORS_GROUP)[-1].text or ""))
    card = bot.card()
    await until(lambda: "edited by" in (bot.tg.message(EDITORS_GROUP, card.message_id).text or ""))
    shown = bot.tg.message(EDITORS_GROUP, card.message_id)
    assert shown.text is not None
    assert "X digest, edited by @editor [1001]" in shown.text
    assert good in shown.text
    assert shown.callback_data() == {"pv:now:1", "pv:plan:1", "pv:edit:1", "pv:skip:1"}

    bot.press(EDITOR_ID, "pv:now:1")
    await bot.answered()
    digests = [r for r in await bot.queued() if r.kind == "digest"]
    x_digest = [r for r in digests if r.target == X]
    assert [XPost.from_payload(r.payload).text for r in x_digest] == [good]
    # The other platform keeps the formatted digest.
    (telegram_digest,) = [r for r in digests if r.target == TELEGRAM]
    (part,) = TelegramPost.from_payload(telegram_digest.payload).parts
    assert isinstance(part, TelegramPhoto)
    assert "GPU" in part.caption_html


async def test_an_editor_text_without_a_pending_edit_is_left_alone(bot: Bot) -> None:
    await bot.new_issue()
    count = len(bot.tg.sent(EDITORS_GROUP))
    bot.tg.user_sends(EDITOR_ID, "hello", chat_id=EDITORS_GROUP)
    # Updates are handled in order: once a later press is answered, "hello" was handled.
    bot.press(READER_ID, "pv:now:1")
    await bot.answered()
    assert len(bot.tg.sent(EDITORS_GROUP)) == count


async def test_full_text_release_queues_one_notice_per_target_once(bot: Bot) -> None:
    released = issues(56)
    event = FullTextReleased(56, MappingProxyType(released), MappingProxyType({}))
    first = await publish_event(event, bot=bot.app.bot, svc=bot.svc, job_queue=bot.app.job_queue)
    again = await publish_event(event, bot=bot.app.bot, svc=bot.svc, job_queue=bot.app.job_queue)
    rows = await bot.queued()
    assert len(first.ids) == 2
    assert again.ids == ()
    assert sorted((r.target, r.idempotency_key, r.kind) for r in rows) == [
        (TELEGRAM, "release:56:zh", "notice"),
        (X, "release:56:en", "notice"),
    ]
    assert not [r for r in rows if r.kind == "item"]  # never a repost of the items


async def test_wake_up_jobs_are_rebuilt_from_the_database_after_a_restart(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = settings_for(fake_telegram, tmp_path / "restart.db")
    now = dt.datetime.now(dt.UTC)
    due = [now.timestamp() + 3600, now.timestamp() + 7200]
    async with Database.open(settings.database_path) as db:
        await migrate(db, now=T0)
        store = Store(db)
        for n, ts in enumerate([*due, now.timestamp() - 10]):
            await store.outbox.enqueue(
                idempotency_key=f"k{n}",
                target=TELEGRAM,
                kind="item",
                payload={"platform": "telegram", "parts": []},
                now=now,
                not_before=ts,
            )
    # A new process: a new Application with an empty JobQueue, the same database file.
    async with Database.open(settings.database_path) as db:
        store = Store(db)
        app: App = (
            ApplicationBuilder().token(fake_telegram.token).base_url(fake_telegram.base_url).build()  # type: ignore[assignment]
        )
        pool = DeliveryPool()
        attach(app, BotServices(settings=settings, store=store, delivery=pool))
        async with app:
            await app.start()
            assert app.job_queue is not None
            assert await rebuild_wakeups(app.job_queue, store, pool) == 2
            assert await rebuild_wakeups(app.job_queue, store, pool) == 0  # once per due time
            jobs = sorted(
                (j for j in app.job_queue.jobs() if (j.name or "").startswith("wake:")),
                key=lambda j: j.next_t or now,
            )
            assert [round(j.next_t.timestamp()) for j in jobs if j.next_t] == [
                round(t) for t in due
            ]
            assert all(j.data is pool for j in jobs)  # what each wake-up wakes
            await app.stop()


async def test_the_editors_group_hears_of_an_alarm_once(bot: Bot) -> None:
    failing = SourceState("git:weekly", consecutive_failures=99, last_error="<boom>")
    await bot.store.put_source_state(failing, now=T0)
    now = dt.datetime.now(dt.UTC)

    assert len(await announce_alarms(bot.app.bot, bot.svc, now=now)) == 1
    assert await announce_alarms(bot.app.bot, bot.svc, now=now) == []

    told = [m.text for m in bot.tg.sent(EDITORS_GROUP) if m.text and "git:weekly" in m.text]
    assert told == ["🚨 Source git:weekly failed 99 polls in a row.\nLast error: <boom>"]


async def test_edit_telegram_takes_markdown_bold_and_keeps_the_cover(bot: Bot) -> None:
    await bot.new_issue()
    bot.press(EDITOR_ID, "pv:edit:1")
    await bot.answered()
    await until(lambda: "pv:ed:telegram:1" in bot.card().callback_data())
    bot.press(EDITOR_ID, "pv:ed:telegram:1")
    assert await bot.answered() == "Send the new Telegram digest."
    await until(lambda: "Send the new Telegram" in (bot.tg.sent(EDITORS_GROUP)[-1].text or ""))
    typed = "#Python潮流周刊\n\n**第 106 期** [全文链接](https://xiaobot.net/post/106)"
    bot.tg.user_sends(EDITOR_ID, typed, chat_id=EDITORS_GROUP)
    await until(lambda: "Saved" in (bot.tg.sent(EDITORS_GROUP)[-1].text or ""))
    card = bot.card()
    await until(lambda: "edited by" in (bot.tg.message(EDITORS_GROUP, card.message_id).text or ""))
    bot.press(EDITOR_ID, "pv:now:1")
    await bot.answered()
    (row,) = [r for r in await bot.queued() if r.kind == "digest" and r.target == TELEGRAM]
    (part,) = TelegramPost.from_payload(row.payload).parts
    assert isinstance(part, TelegramPhoto)
    assert part.caption_html == (
        '#Python潮流周刊\n\n<b>第 106 期</b> <a href="https://xiaobot.net/post/106">全文链接</a>'
    )
