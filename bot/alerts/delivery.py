"""The alerts' own delivery worker: target `readers`, one private message a row.

Not a `Platform` of the registry: it takes no issue posts and no readers' links, so
planning, previews and `/pause` never meet it (an editor may still `/retry` or `/skip`
its rows, and `/status` lists it beside the platforms). Its pacer spaces the
messages at `alerts.per_minute` (PTB's global throttle applies too); a reader who
blocked the bot loses their follows and the failed row is no editor's card.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Bot

from bot.config import Settings
from bot.delivery.workers import DeliveryNotices, DeliveryWorker
from data.alerts import FollowStore
from data.outbox import OutboxRow, OutboxStore
from publishers.base import DryRunPublisher, Publisher
from publishers.pacing import TelegramPacer
from publishers.reader import READERS_TARGET, UNREACHABLE, ReaderPublisher

log = logging.getLogger(__name__)


class ReaderNotices:
    """The editors hear of an alert in doubt or failed, not of a reader who left."""

    def __init__(self, editors: DeliveryNotices) -> None:
        self._editors = editors

    async def in_doubt(self, row: OutboxRow) -> None:
        await self._editors.in_doubt(row)

    async def failed(self, row: OutboxRow) -> None:
        if (row.last_error or "").startswith(UNREACHABLE):
            log.info("alert not sent: the reader left", extra={"outbox_id": row.id})
            return
        await self._editors.failed(row)

    async def stranded(self, row: OutboxRow) -> None:
        await self._editors.stranded(row)

    async def posted_without_id(self, row: OutboxRow) -> None:
        await self._editors.posted_without_id(row)


def reader_worker(
    settings: Settings,
    bot: Bot,
    outbox: OutboxStore,
    follows: FollowStore,
    editors: DeliveryNotices,
    *,
    after_sent: Callable[[OutboxRow], Awaitable[None]] | None = None,
    dry_run: bool = False,
) -> DeliveryWorker:
    """The `readers` worker; a dry run's logs each alert instead (`DryRunPublisher`)."""

    async def gone(user_id: int) -> None:
        pruned = await follows.prune(user_id)
        log.info("reader blocked the bot: follows deleted", extra={"count": pruned})

    publisher: Publisher = (
        DryRunPublisher(READERS_TARGET) if dry_run else ReaderPublisher(bot, gone=gone)
    )
    return DeliveryWorker(
        outbox=outbox,
        publisher=publisher,
        pacer=TelegramPacer(posts_per_minute=settings.alerts.per_minute),
        notices=ReaderNotices(editors),
        after_sent=after_sent,
    )
