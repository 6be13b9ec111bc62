"""Wiring in one place: the PTB Application, its handlers, and the bot's lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CommandHandler,
    TypeHandler,
)

from bot.config import Settings
from data.db import Database
from data.migrations import migrate
from data.store import Store
from handlers.commands import COMMANDS
from handlers.context import App, BotServices, Context, attach
from handlers.start import help_cmd, start_cmd

log = logging.getLogger(__name__)


async def log_update(update: object, context: Context) -> None:
    if isinstance(update, Update):
        log.debug("update received", extra={"update_id": update.update_id})


async def error_handler(update: object, context: Context) -> None:
    """Log first, then tell the editors; never let one bad update stop the bot."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("handler failed", exc_info=context.error, extra={"update_id": update_id})


async def heartbeat_job(context: Context) -> None:
    from handlers.context import services

    await services(context).store.heartbeat.beat("bot", now=time.time())


def build_application(settings: Settings, services: BotServices) -> App:
    """Register every handler on a fresh Application; tests call this with fakes."""
    base = settings.telegram.api_base_url
    application: App = (
        ApplicationBuilder()
        .token(settings.telegram.token.get_secret_value())
        .base_url(base)
        .base_file_url(base.removesuffix("/bot") + "/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=0))
        .build()
    )
    attach(application, services)
    application.add_handler(TypeHandler(Update, log_update), group=-1)
    application.add_handler(CommandHandler("start", start_cmd))
    application.add_handler(CommandHandler("help", help_cmd))
    application.add_error_handler(error_handler)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            heartbeat_job, interval=settings.heartbeat_seconds, first=0, name="heartbeat"
        )
    return application


async def set_commands(application: App) -> None:
    public = [BotCommand(c.name, c.description) for c in COMMANDS if not c.editors_only]
    await application.bot.set_my_commands(public)


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[BotServices]:
    """Open the database, bring its schema up to date, and hand out the services."""
    async with Database.open(settings.database_path) as db:
        applied = await migrate(db)
        if applied:
            log.info("migrations applied", extra={"versions": applied})
        yield BotServices(settings=settings, store=Store(db))


@contextlib.asynccontextmanager
async def running(application: App) -> AsyncIterator[App]:
    """Start polling; on exit stop taking updates, then shut down in order."""
    async with application:
        await set_commands(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0, timeout=10, drop_pending_updates=False
        )
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


async def serve(settings: Settings, *, dry_run: bool = False) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as services:
        application = build_application(settings, services)
        async with running(application):
            log.info("bot running", extra={"dry_run": dry_run})
            await stop.wait()
            log.info("stopping")


def run_bot(settings: Settings, *, dry_run: bool = False) -> int:
    asyncio.run(serve(settings, dry_run=dry_run))
    return 0
