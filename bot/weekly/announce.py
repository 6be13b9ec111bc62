"""From ingest events to the editors and the outbox: preview cards, queued rows, wake-ups.

`event_sink` is what the watcher delivers ingest events to. A `NewIssue` becomes a
preview (cards to the editor chats) or, with previews off, queued rows; a
`FullTextReleased` becomes the release notices; a `LanguageRefused` re-renders the
issue's preview cards with that language refused; a `FileNotice` (a refused or
suspicious file) becomes one message to the editors per file revision, recorded so a
replay or a restart never sends it again; a `BackfillAvailable` (files of
old issues, stored quietly) one list with a [Backfill] button per issue. Whatever is
queued wakes the delivery workers now and gets a wake-up job for each later due time.
The same
`after_enqueue` follows an editor's decision (`handlers.preview`).

`announce_alarms` runs the alarm check (`bot.weekly.alarm`) and tells the editor chats of
each change.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from telegram import Bot
from telegram.ext import JobQueue

from bot.alerts.service import AlertService
from bot.config import Settings
from bot.delivery.jobs import schedule_wakeups
from bot.delivery.workers import DeliveryPool
from bot.domain.issue import Issue, Lang
from bot.editors.kit import EditorChats
from bot.editors.preview_cards import (
    backfill_keyboard,
    backfill_text,
    file_notice_text,
    refresh_preview,
    send_preview_cards,
)
from bot.extra.queue import ExtraQueue, schedule_replan
from bot.platforms import Platforms
from bot.weekly.alarm import AlarmChange, check_alarms
from bot.weekly.ingest import (
    BackfillAvailable,
    EventSink,
    FileNotice,
    FullTextReleased,
    IssueEvent,
    LanguageRefused,
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
    def publication(self) -> Publication: ...

    @property
    def platforms(self) -> Platforms: ...

    @property
    def extra(self) -> ExtraQueue: ...

    @property
    def alerts(self) -> AlertService: ...

    @property
    def background(self) -> set[asyncio.Task[None]]: ...


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
    publication = svc.publication
    editors = EditorChats.of(bot, svc.settings.telegram)
    if isinstance(event, FileNotice):  # told, never published
        await tell_file_notice(event, bot=bot, svc=svc, now=now)
        return Queued()
    if isinstance(event, LanguageRefused):  # the preview's cards show it; nothing queued
        outcome = await publication.on_language_refused(event, now=now)
        if outcome.preview is not None and outcome.refresh:
            await refresh_preview(bot, publication, outcome.preview, now=now)
        return Queued()
    if isinstance(event, BackfillAvailable):  # listed once, never announced as new
        await editors.send(backfill_text(event), backfill_keyboard(event), what="a backfill list")
        return Queued()
    if isinstance(event, NewIssue):
        outcome = await publication.on_new_issue(event, now=now)
        if outcome.notice is not None:
            await editors.send(html.escape(outcome.notice), what="a publication notice")
        if outcome.preview is not None and outcome.refresh:  # the cards already out
            await refresh_preview(bot, publication, outcome.preview, now=now)
        if outcome.preview is not None and outcome.show_cards:
            await send_preview_cards(bot, publication, outcome.preview, editors.chat_ids, now=now)
        queued = outcome.queued
        # The issue is stored after its events are delivered: the alerts read it here.
        after_enqueue(svc, job_queue, queued, issues=event.issues)
        return queued
    assert isinstance(event, FullTextReleased)
    queued = await publication.on_full_text_released(event, now=now)
    after_enqueue(svc, job_queue, queued)
    return queued


async def tell_file_notice(
    notice: FileNotice, *, bot: Bot, svc: Services, now: dt.datetime
) -> None:
    """One message per editor chat per file revision, across replays and restarts.

    Claim, then send and record chat by chat, then finish (`data.notices`): a revision
    told already is skipped, and a crash part-way tells only the chats not yet told.
    """
    notices = svc.store.file_notices
    claim = await notices.claim(
        notice.path, notice.blob, refused=notice.refused, reasons=notice.reasons, now=now
    )
    if claim is None:
        return
    message = file_notice_text(notice)
    editors = EditorChats.of(bot, svc.settings.telegram)
    for chat_id in editors.chat_ids:
        if chat_id in claim.told:
            continue
        await editors.send_to(chat_id, message)  # None: blocked the bot; nothing more to do
        await notices.told_chat(notice.path, notice.blob, chat_id)
    await notices.finish(notice.path, notice.blob, now=now)


def event_sink(bot: Bot, svc: Services, job_queue: JobQueue[Any] | None) -> EventSink:
    """What `bot.weekly.ingest` delivers its events to."""

    async def deliver(events: Sequence[IssueEvent]) -> None:
        for event in events:
            await publish_event(event, bot=bot, svc=svc, job_queue=job_queue)

    return deliver


def after_enqueue(
    svc: Services,
    job_queue: JobQueue[Any] | None,
    queued: Queued,
    *,
    issues: Mapping[Lang, Issue] | None = None,
) -> None:
    """Rows were queued: the workers look now, and again when each later row is due; a
    new issue's readers who follow its words are alerted (`issues`: the event's, when
    the store does not hold them yet)."""
    if not queued.ids:
        return
    svc.delivery.wake()
    if job_queue is not None:
        schedule_wakeups(job_queue, queued.due, svc.delivery)
        # The issue's schedule is fixed; the extra edition's queue moves around it.
        schedule_replan(job_queue, svc.extra, svc.delivery)
    # A new issue's rows: the readers whose words match hear once (`bot.alerts`).
    task = asyncio.get_running_loop().create_task(_alert(svc, queued.ids, issues or {}))
    svc.background.add(task)
    task.add_done_callback(svc.background.discard)


async def _alert(svc: Services, ids: tuple[int, ...], issues: Mapping[Lang, Issue]) -> None:
    try:
        await svc.alerts.after_queued(ids, issues=issues)
    except Exception:  # alerts must never stop a publication; the log says why
        logging.getLogger(__name__).exception("keyword alerts failed")


async def announce_alarms(bot: Bot, svc: Services, *, now: dt.datetime) -> list[AlarmChange]:
    """Check the silence and failing-source alarms; tell the editors of any change."""

    editors = EditorChats.of(bot, svc.settings.telegram)

    async def notify(text: str) -> None:
        await editors.send(text, what="an alarm")

    return await check_alarms(svc.store, svc.settings.publishing, notify=notify, now=now)
