"""Wiring in one place: the PTB Application, its handlers, delivery, and the lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    TypeHandler,
)

from bot.announce import event_sink
from bot.config import Settings
from bot.delivery import DeliveryPool, DeliveryWorker
from bot.jobs import rebuild_wakeups
from bot.maintenance import HEARTBEAT_COMPONENT
from bot.watch import Watcher
from data.db import Database
from data.migrations import migrate
from data.store import Store
from handlers.commands import COMMANDS
from handlers.context import App, BotServices, Context, attach, services
from handlers.outbox import EditorNotices, outbox_callback, outbox_cmd
from handlers.preview import add_publication_handlers
from handlers.start import help_cmd, start_cmd
from publishers.base import DryRunPublisher, Publisher
from publishers.pacing import Pacer, TelegramPacer, XPacer, telegram_rate_limiter
from publishers.telegram import TelegramPublisher
from publishers.telegram_probe import TelegramProbe
from publishers.x import XPublisher
from publishers.x_client import XClient

log = logging.getLogger(__name__)


async def log_update(update: object, context: Context) -> None:
    if isinstance(update, Update):
        log.debug("update received", extra={"update_id": update.update_id})


ERROR_NOTICE_SECONDS = 600.0  # at most one error notice to the editors per 10 minutes
_LAST_ERROR_NOTICE = "weeklybot.last_error_notice"


async def error_handler(update: object, context: Context) -> None:
    """Log first, then tell the editors (throttled); one bad update never stops the bot.

    The notice names only the error's type: its text may carry data that the
    log scrubs but a chat would not.
    """
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("handler failed", exc_info=context.error, extra={"update_id": update_id})
    now = time.time()
    if now - float(context.bot_data.get(_LAST_ERROR_NOTICE, 0.0)) < ERROR_NOTICE_SECONDS:
        return
    context.bot_data[_LAST_ERROR_NOTICE] = now
    kind = type(context.error).__name__ if context.error else "error"
    text = f"⚠️ The bot failed on update {update_id} ({kind}); the details are in its log."
    for chat_id in services(context).settings.telegram.review_chats():
        with contextlib.suppress(TelegramError):  # telling editors is best effort
            await context.bot.send_message(chat_id, text)


async def heartbeat_job(context: Context) -> None:
    await services(context).store.beat(HEARTBEAT_COMPONENT, now=time.time())


def build_application(settings: Settings, services: BotServices) -> App:
    """Register every handler on a fresh Application; tests call this with fakes."""
    tg = settings.telegram
    application: App = (
        ApplicationBuilder()
        .token(tg.token.get_secret_value())
        .base_url(tg.api_base_url)
        .base_file_url(tg.api_base_url.removesuffix("/bot") + "/file/bot")
        .rate_limiter(
            telegram_rate_limiter(
                global_per_second=tg.global_per_second, posts_per_minute=tg.posts_per_minute
            )
        )
        .build()
    )
    attach(application, services)
    application.add_handler(TypeHandler(Update, log_update), group=-1)
    application.add_handler(CommandHandler("start", start_cmd))
    application.add_handler(CommandHandler("help", help_cmd))
    # block=False: its replies are spaced out, other updates need not wait for them
    application.add_handler(CommandHandler("outbox", outbox_cmd, block=False))
    application.add_handler(CallbackQueryHandler(outbox_callback, pattern=r"^ob:"))
    add_publication_handlers(application, settings)
    application.add_error_handler(error_handler)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            heartbeat_job, interval=settings.heartbeat_seconds, first=0, name="heartbeat"
        )
    return application


def build_workers(
    settings: Settings,
    store: Store,
    application: App,
    x_client: XClient | None,
    *,
    dry_run: bool,
) -> list[DeliveryWorker]:
    """One delivery worker per configured target, each with its own pacing."""
    tg = settings.telegram
    notices = EditorNotices(application.bot, settings.telegram.review_chats(), store.outbox)
    telegram_pacer = TelegramPacer(
        posts_per_minute=tg.posts_per_minute, min_spacing=tg.min_spacing_seconds
    )
    targets: list[tuple[Publisher, Pacer]] = [
        (
            DryRunPublisher("telegram")
            if dry_run
            else TelegramPublisher(application.bot, tg.channel_id),
            telegram_pacer,
        )
    ]
    x_pacer = XPacer(
        posts_per_15min=settings.x.posts_per_15min, posts_per_24h=settings.x.posts_per_24h
    )
    if dry_run and settings.x.enabled:
        targets.append((DryRunPublisher("x"), x_pacer))
    elif x_client is not None:
        targets.append((XPublisher(x_client, x_pacer), x_pacer))
    probe = (
        None
        if dry_run or tg.log_chat_id is None
        else TelegramProbe(application.bot, tg.channel_id, tg.log_chat_id)
    )
    return [
        DeliveryWorker(
            outbox=store.outbox,
            publisher=publisher,
            pacer=pacer,
            notices=notices,
            settler=probe if publisher.target == "telegram" else None,
        )
        for publisher, pacer in targets
    ]


def x_client_for(settings: Settings) -> XClient | None:
    keys = settings.x.oauth1()
    if keys is None:
        return None
    return XClient(
        consumer_key=keys["consumer_key"],
        consumer_secret=keys["consumer_secret"],
        access_token=keys["access_token"],
        access_token_secret=keys["access_token_secret"],
        api_base_url=settings.x.api_base_url,
    )


@dataclass(frozen=True, slots=True)
class Runtime:
    """A running bot: what the demo and end-to-end tests drive."""

    application: App
    services: BotServices
    watcher: Watcher


@contextlib.asynccontextmanager
async def bot_running(settings: Settings, *, dry_run: bool = False) -> AsyncIterator[Runtime]:
    """Open the store, start polling and delivery; on exit stop in reverse order.

    Delivery stops first (in-flight sends get 10 s to finish and be recorded),
    then polling, then the X session and the database.
    """
    async with contextlib.AsyncExitStack() as stack:
        db = await stack.enter_async_context(Database.open(settings.database_path))
        applied = await migrate(db, now=time.time())
        if applied:
            log.info("migrations applied", extra={"versions": applied})
        store = Store(db)
        pool = DeliveryPool()
        svc = BotServices(settings=settings, store=store, delivery=pool)
        application = build_application(settings, svc)
        http = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=True))
        x_client = None if dry_run else x_client_for(settings)
        if x_client is not None:
            await stack.enter_async_context(x_client)
        await stack.enter_async_context(application)
        await set_commands(application)
        await application.start()
        stack.push_async_callback(application.stop)
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=10)
        stack.push_async_callback(application.updater.stop)
        assert application.job_queue is not None
        rebuilt = await rebuild_wakeups(application.job_queue, store, pool)
        watcher = Watcher(
            settings, store, http, event_sink(application.bot, svc, application.job_queue)
        )
        watcher.schedule(application.job_queue)
        for worker in build_workers(settings, store, application, x_client, dry_run=dry_run):
            pool.add(worker)
        pool.start()
        stack.push_async_callback(pool.stop)
        log.info(
            "bot running",
            extra={
                "dry_run": dry_run,
                "targets": [w.target for w in pool.workers],
                "wakeups_rebuilt": rebuilt,
            },
        )
        yield Runtime(application=application, services=svc, watcher=watcher)


async def set_commands(application: App) -> None:
    public = [BotCommand(c.name, c.description) for c in COMMANDS if not c.editors_only]
    await application.bot.set_my_commands(public)


async def serve(settings: Settings, *, dry_run: bool = False) -> None:
    """Run until SIGINT or SIGTERM, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with bot_running(settings, dry_run=dry_run):
        await stop.wait()
        log.info("stopping")


def run_bot(settings: Settings, *, dry_run: bool = False) -> int:
    asyncio.run(serve(settings, dry_run=dry_run))
    return 0
