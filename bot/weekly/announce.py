"""From ingest events to the editors and the outbox: preview cards, queued rows, wake-ups.

`event_sink` is what the watcher delivers ingest events to. A `NewIssue` becomes a
preview (cards to the editor chats) or, with previews off, queued rows; a
`FullTextReleased` becomes the release notices; a `FileNotice` (a refused or
suspicious file) becomes one message to the editors; a `BackfillAvailable` (files of
old issues, stored quietly) one list with a [Backfill] button per issue. Whatever is
queued wakes the delivery workers now and gets a wake-up job for each later due time.
The same
`after_enqueue` follows an editor's decision (`handlers.preview`).

`announce_alarms` runs the alarm check (`bot.weekly.alarm`) and tells the editor chats of
each change.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any, Protocol

from telegram import Bot
from telegram.ext import JobQueue

from bot.config import Settings
from bot.delivery.jobs import schedule_wakeups
from bot.delivery.workers import DeliveryPool
from bot.editors.preview_cards import (
    backfill_keyboard,
    backfill_text,
    file_notice_text,
    send_html,
    send_preview_cards,
)
from bot.platforms import Platforms
from bot.weekly.alarm import AlarmChange, check_alarms
from bot.weekly.ingest import (
    BackfillAvailable,
    EventSink,
    FileNotice,
    FullTextReleased,
    IssueEvent,
    NewIssue,
)
from bot.weekly.publication import Publication, Queued
from data.store import Store


class Services(Protocol):
    """What announcing needs of the bot's services (`handlers.context.BotServices`)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    @property
    def delivery(self) -> DeliveryPool: ...

    @property
    def platforms(self) -> Platforms: ...


async def publish_event(
    event: IssueEvent,
    *,
    bot: Bot,
    svc: Services,
    job_queue: JobQueue[Any] | None,
    now: dt.datetime | None = None,
) -> Queued:
    """React to one ingest event: preview cards, or rows queued and workers woken."""
    now = now or dt.datetime.now(dt.UTC)
    publication = Publication(svc.store, svc.settings, platforms=svc.platforms)
    chats = svc.settings.telegram.review_chats()
    if isinstance(event, FileNotice):  # told, never published
        for chat_id in chats:
            await send_html(bot, chat_id, file_notice_text(event))
        return Queued()
    if isinstance(event, BackfillAvailable):  # listed once, never announced as new
        for chat_id in chats:
            await send_html(
                bot, chat_id, backfill_text(event), reply_markup=backfill_keyboard(event)
            )
        return Queued()
    if isinstance(event, NewIssue):
        outcome = await publication.on_new_issue(event, now=now)
        if outcome.notice is not None:
            for chat_id in chats:
                await send_html(bot, chat_id, html.escape(outcome.notice))
        if outcome.preview is not None and outcome.show_cards:
            await send_preview_cards(bot, publication, outcome.preview, chats, now=now)
        queued = outcome.queued
    else:
        assert isinstance(event, FullTextReleased)
        queued = await publication.on_full_text_released(event, now=now)
    after_enqueue(svc, job_queue, queued)
    return queued


def event_sink(bot: Bot, svc: Services, job_queue: JobQueue[Any] | None) -> EventSink:
    """What `bot.weekly.ingest` delivers its events to."""

    async def deliver(events: Sequence[IssueEvent]) -> None:
        for event in events:
            await publish_event(event, bot=bot, svc=svc, job_queue=job_queue)

    return deliver


def after_enqueue(svc: Services, job_queue: JobQueue[Any] | None, queued: Queued) -> None:
    """Rows were queued: the workers look now, and again when each later row is due."""
    if not queued.ids:
        return
    svc.delivery.wake()
    if job_queue is not None:
        schedule_wakeups(job_queue, queued.due, svc.delivery)


async def announce_alarms(bot: Bot, svc: Services, *, now: dt.datetime) -> list[AlarmChange]:
    """Check the silence and failing-source alarms; tell the editors of any change."""

    async def notify(text: str) -> None:
        for chat_id in svc.settings.telegram.review_chats():
            await send_html(bot, chat_id, text)

    return await check_alarms(svc.store, svc.settings.publishing, notify=notify, now=now)
