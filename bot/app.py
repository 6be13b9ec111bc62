"""Wiring in one place: the PTB Application, its handlers, delivery, and the lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import httpx
from telegram import Update
from telegram.error import Conflict, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    TypeHandler,
)
from telegram.request import HTTPXRequest

from bot.alerts.delivery import reader_worker
from bot.config import Settings
from bot.delivery.jobs import rebuild_wakeups, schedule_wakeups
from bot.delivery.workers import DeliveryPool, DeliveryWorker
from bot.domain.urls import Resolver
from bot.editors.kit import EditorChats
from bot.editors.outbox_cards import EditorNotices
from bot.editors.template_notices import TemplateNotices
from bot.ops.backups import hold_run_lock, schedule_backups
from bot.ops.dry_run import DryRunBot, rehearsal
from bot.ops.maintenance import HEARTBEAT_COMPONENT
from bot.ops.render import try_overrides
from bot.ops.start_checks import run_start_checks
from bot.ops.storage_guard import PROBE_SECONDS, storage_probe_job
from bot.platforms import PLATFORMS, Delivery, Platforms, Wiring
from bot.roundup.schedule import RoundupScheduler
from bot.roundup.service import RoundupService
from bot.serve.webhook import start_webhook
from bot.texts import text
from bot.weekly.announce import announce_alarms, event_sink
from bot.weekly.watch import Watcher
from data.db import Database, StorageUnavailable
from data.migrations import migrate
from data.outbox import OutboxRow
from data.store import Store
from handlers.admin import add_admin_handlers
from handlers.alerts import add_alert_handlers
from handlers.commands import command_menus
from handlers.context import App, BotServices, Context, attach, services, submission_service
from handlers.draft import add_draft_handlers
from handlers.extra import add_extra_handlers
from handlers.fallback import add_fallback_handler
from handlers.lang import add_lang_handlers
from handlers.latest import add_latest_handlers
from handlers.outbox import outbox_callback, outbox_cmd
from handlers.preview import add_publication_handlers
from handlers.reminders import add_reminder_handlers
from handlers.roundup import roundup_cmd
from handlers.search import add_search_handlers
from handlers.start import help_cmd, start_cmd
from handlers.stats import add_stats_handlers
from handlers.storage import add_storage_gate, refuse_unrecordable
from handlers.submissions import add_submission_handlers, after_sent_hook, tell_untold
from handlers.submitters import add_submitter_handlers
from publishers.base import DryRunPublisher
from publishers.pacing import telegram_rate_limiter
from publishers.templates import load_templates

if TYPE_CHECKING:
    from bot.serve.server import OpsServer
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
    if isinstance(context.error, StorageUnavailable):
        # Nothing was recorded (rolled back): the sender hears so; the storage guard
        # tells the editors once (no error notice per update).
        log.warning(
            "storage unavailable", extra={"update_id": update_id, "error": str(context.error)}
        )
        await refuse_unrecordable(update, context)
        return
    log.error("handler failed", exc_info=context.error, extra={"update_id": update_id})
    now = time.time()
    if now - float(context.bot_data.get(_LAST_ERROR_NOTICE, 0.0)) < ERROR_NOTICE_SECONDS:
        return
    context.bot_data[_LAST_ERROR_NOTICE] = now
    kind = type(context.error).__name__ if context.error else "error"
    notice = text("error.notice", update_id=update_id, kind=kind)
    editors = services(context).editor_chats(context.bot)
    await editors.send(notice, html=False, best_effort=True, what="an error notice")


async def heartbeat_job(context: Context) -> None:
    await services(context).store.beat(HEARTBEAT_COMPONENT, now=time.time())


async def storage_probe(context: Context) -> None:
    """Periodic: while storage is down, probe for the recovery (`bot.ops.storage_guard`)."""
    await storage_probe_job(services(context).storage)


async def alarm_job(context: Context) -> None:
    """Periodic: the core checks the alarms and tells the editors of any change."""
    await announce_alarms(context.bot, services(context), now=dt.datetime.now(dt.UTC))


def _new_application(settings: Settings, *, dry_run: bool) -> App:
    """A fresh Application; a dry run's bot marks every message it sends (`bot.ops.dry_run`)."""
    tg = settings.telegram
    limiter = telegram_rate_limiter(
        global_per_second=tg.global_per_second, posts_per_minute=tg.posts_per_minute
    )
    file_url = tg.api_base_url.removesuffix("/bot") + "/file/bot"
    if dry_run:
        dry_bot = DryRunBot(
            tg.token.get_secret_value(),
            base_url=tg.api_base_url,
            base_file_url=file_url,
            rate_limiter=limiter,
            request=HTTPXRequest(connection_pool_size=256),
            get_updates_request=HTTPXRequest(connection_pool_size=1),
        )
        return cast(App, ApplicationBuilder().bot(dry_bot).build())
    return (
        ApplicationBuilder()
        .token(tg.token.get_secret_value())
        .base_url(tg.api_base_url)
        .base_file_url(file_url)
        .rate_limiter(limiter)
        .build()
    )


def build_application(settings: Settings, services: BotServices, *, dry_run: bool = False) -> App:
    """Register every handler and periodic job on a fresh Application; tests call this
    with fakes. The one-shot wake-ups and the watcher's polls are scheduled by
    `bot_running`, which owns what they need (the rebuilt due times, the HTTP client)."""
    application = _new_application(settings, dry_run=dry_run)
    attach(application, services)
    application.add_handler(TypeHandler(Update, log_update), group=-1)
    add_storage_gate(application)  # group -2: refuses work while storage is down
    application.add_handler(CommandHandler("start", start_cmd))
    application.add_handler(CommandHandler("help", help_cmd))
    # block=False: its replies are spaced out, other updates need not wait for them
    application.add_handler(CommandHandler("outbox", outbox_cmd, block=False))
    application.add_handler(CallbackQueryHandler(outbox_callback, pattern=r"^ob:"))
    # block=False: it reads the roundup's feeds (seconds) before it answers
    application.add_handler(CommandHandler("roundup", roundup_cmd, block=False))
    add_publication_handlers(application)
    add_submission_handlers(application)
    add_submitter_handlers(application)
    add_reminder_handlers(application, settings)
    add_admin_handlers(application)
    add_extra_handlers(application)
    add_lang_handlers(application)
    add_search_handlers(application)  # /search, its sr:1: buttons, inline mode
    add_alert_handlers(application)
    add_latest_handlers(application)
    add_draft_handlers(application)
    add_stats_handlers(application)
    add_fallback_handler(application)  # last: answers a press no pattern above routes
    application.add_error_handler(error_handler)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            heartbeat_job, interval=settings.heartbeat_seconds, first=0, name="heartbeat"
        )
        application.job_queue.run_repeating(
            alarm_job,
            interval=settings.publishing.alarm_check_seconds,
            first=60,
            name="alarms",
        )
        schedule_backups(application.job_queue, settings, services.store, services.editor_chats)
        application.job_queue.run_repeating(
            storage_probe, interval=PROBE_SECONDS, first=PROBE_SECONDS, name="storage-probe"
        )
    return application


def build_workers(
    settings: Settings,
    store: Store,
    application: App,
    x_client: XClient | None,
    *,
    dry_run: bool,
    platforms: Platforms = PLATFORMS,
    http: httpx.AsyncClient | None = None,
    after_sent: Callable[[OutboxRow], Awaitable[None]] | None = None,
) -> list[DeliveryWorker]:
    """One delivery worker per configured target, each with its own pacing.

    Each platform builds its publisher (`Platform.build`); a dry run gives every target
    its settings turn on a `DryRunPublisher` with the same pacing instead.
    """
    notices = EditorNotices(application.bot, settings.telegram.review_chats(), store.outbox)
    wiring = Wiring(settings=settings, bot=application.bot, x_client=x_client, http=http)
    deliveries: list[Delivery] = []
    for platform in platforms:
        pacer = platform.pacer(settings)
        if not dry_run:
            delivery = platform.build(wiring, pacer)
            if delivery is not None:
                deliveries.append(delivery)
        elif platform.enabled(settings):
            deliveries.append(Delivery(DryRunPublisher(platform.name), pacer))
    return [
        DeliveryWorker(
            outbox=store.outbox,
            publisher=d.publisher,
            pacer=d.pacer,
            notices=notices,
            settler=d.settler,
            after_sent=after_sent,
        )
        for d in deliveries
    ]


def x_client_for(settings: Settings) -> XClient | None:
    keys = settings.x.oauth1()
    if keys is None:
        return None
    from publishers.x_client import XClient  # tweepy: loaded only when X is configured

    return XClient(
        consumer_key=keys["consumer_key"],
        consumer_secret=keys["consumer_secret"],
        access_token=keys["access_token"],
        access_token_secret=keys["access_token_secret"],
        api_base_url=settings.x.api_base_url,
    )


def alerting(
    hook: Callable[[OutboxRow], Awaitable[None]], svc: BotServices
) -> Callable[[OutboxRow], Awaitable[None]]:
    """The workers' after-sent hook, then the alerts of an extra-edition post sent."""

    async def after_sent(row: OutboxRow) -> None:
        try:
            await hook(row)
        finally:
            await svc.alerts.after_sent(row)

    return after_sent


class Halt:
    """Why the running bot must stop on its own; `serve` waits for it beside SIGTERM."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.reason: str | None = None

    def __call__(self, reason: str) -> None:
        if self.reason is None:
            log.critical("weeklybot run: %s", reason)
            self.reason = reason
            self.event.set()


# A Conflict this soon after polling began means this instance is the newcomer:
# the one already running re-polls within a second of being cut off.
CONFLICT_GRACE_SECONDS = 30.0
ANOTHER_INSTANCE = (
    "another weeklybot is polling with this token; stop it (or give this one its own bot "
    "token), then start again"
)


def polling_errors(
    halt: Halt, *, clock: Callable[[], float] = time.monotonic
) -> Callable[[TelegramError], None]:
    """PTB's polling error callback: one line per error, never a traceback.

    Telegram ends a long poll with 409 "terminated by other getUpdates request"
    when another client polls with the same token. The newer instance stops; the
    one that ran first keeps going and warns (at most once a minute).
    """
    started = clock()
    last_warning = -60.0

    def on_error(exc: TelegramError) -> None:
        nonlocal last_warning
        if isinstance(exc, Conflict) and "other getUpdates" in exc.message:
            if clock() - started < CONFLICT_GRACE_SECONDS:
                halt(ANOTHER_INSTANCE)
                return
            if clock() - last_warning < 60.0:
                return
            last_warning = clock()
        log.warning("polling failed, retrying", extra={"error": f"{type(exc).__name__}: {exc}"})

    return on_error


@dataclass(frozen=True, slots=True)
class Runtime:
    """A running bot: what the demo and end-to-end tests drive."""

    application: App
    services: BotServices
    watcher: Watcher
    roundup: RoundupScheduler | None = None  # None: the roundup is switched off
    halt: Halt = field(default_factory=Halt)
    ops: OpsServer | None = None  # /healthz, /metrics, /github: when server.port is set


@contextlib.asynccontextmanager
async def bot_running(
    settings: Settings,
    *,
    dry_run: bool = False,
    resolver: Resolver = socket.getaddrinfo,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[Runtime]:
    """Open the store, start polling and delivery; on exit stop in reverse order.

    `resolver` resolves submitted links' hosts for their preview (the demo and tests
    map their local page's name; `getaddrinfo` otherwise). `clock` is the run's "now"
    for the submissions (limits, reminders, expiry) and the roundup (its slot and its
    previews): tests and the demo move it.

    Delivery stops first (in-flight sends get 10 s to finish and be recorded),
    then polling, then the X session and the database.
    """
    async with contextlib.AsyncExitStack() as stack:
        if dry_run:
            settings = await stack.enter_async_context(rehearsal(settings))
        # Held while the bot runs: `weeklybot db restore` refuses to replace the file.
        stack.enter_context(hold_run_lock(settings.database_path))
        db = await stack.enter_async_context(Database.open(settings.database_path))
        applied = await migrate(db, now=time.time())
        if applied:
            log.info("migrations applied", extra={"versions": applied})
        store = Store(db)
        pool = DeliveryPool()
        # The post templates, read once: a broken override is told to the editors (once,
        # when the bot can send) and its bundled default posts instead.
        template_notices = TemplateNotices()
        templates = load_templates(
            settings.publishing.templates_dir, report=template_notices.report
        )
        platforms = PLATFORMS.with_templates(templates)
        try_overrides(templates, platforms)  # a broken one is told before its post is due
        svc = BotServices(
            settings=settings,
            store=store,
            delivery=pool,
            platforms=platforms,
            templates=templates,
            submissions=submission_service(
                settings, store, resolver=resolver, platforms=platforms, clock=clock
            ),
            roundup=RoundupService(settings, store, clock=clock, platforms=platforms),
        )
        application = build_application(settings, svc, dry_run=dry_run)
        http = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=True))
        # The publishers' own client: no redirects followed (a POST must not be replayed
        # elsewhere, nor a token sent there).
        publishing_http = await stack.enter_async_context(httpx.AsyncClient())
        x_client = x_client_for(settings)  # a dry run checks the keys, never posts
        if x_client is not None:
            await stack.enter_async_context(x_client)
        await stack.enter_async_context(application)
        await run_start_checks(application.bot, settings, x_client, http=publishing_http)
        await set_commands(application, settings)
        await application.start()
        stack.push_async_callback(application.stop)
        # The heartbeat job's first run (first=0) was due when it was scheduled: a start
        # slower than APScheduler's 1 s misfire grace skips it, so beat once here.
        await store.beat(HEARTBEAT_COMPONENT, now=time.time())
        template_notices.attach(svc.editor_chats(application.bot))
        stack.push_async_callback(template_notices.drain)
        # Storage full or read-only at run time: the editors hear it directly, the
        # workers wait on the guard, a recovery wakes them.
        pool.gate = svc.storage
        svc.storage.attach(_storage_notice(svc.editor_chats(application.bot)), wake=pool.wake)
        stack.push_async_callback(svc.storage.drain)
        assert application.updater is not None
        halt = Halt()
        if settings.telegram.webhook_url is not None:
            await start_webhook(application.updater, settings.telegram)
        else:
            await application.updater.start_polling(
                poll_interval=0.0, timeout=10, error_callback=polling_errors(halt)
            )
        stack.push_async_callback(application.updater.stop)
        assert application.job_queue is not None
        rebuilt = await rebuild_wakeups(application.job_queue, store, pool)
        # The extra edition re-planned around what is planned now: items overdue while
        # the bot was down go at the pace, not in one burst.
        schedule_wakeups(application.job_queue, await svc.extra.replan(), pool)
        watcher = Watcher(
            settings,
            store,
            http,
            event_sink(application.bot, svc, application.job_queue),
            board=svc.watch,
        )
        watcher.schedule(application.job_queue)
        stack.push_async_callback(watcher.close)
        ops = None
        if settings.server.port is not None:
            from bot.serve.server import OpsServer  # aiohttp's server: only when asked for

            ops = OpsServer(
                settings,
                store,
                watcher,
                update_queue_length=application.update_queue.qsize,
                storage_problem=svc.storage.current_problem,
            )
            await ops.start()
            stack.push_async_callback(ops.stop)
        roundup = None
        if settings.roundup.enabled:
            roundup = RoundupScheduler(svc.roundup, pool, settings.telegram, spacer=svc.spacer)
            roundup.schedule(application.job_queue)
            await roundup.catch_up(application.job_queue)
        hook = alerting(after_sent_hook(application, svc), svc)
        for worker in build_workers(
            settings,
            store,
            application,
            x_client,
            dry_run=dry_run,
            platforms=svc.platforms,
            after_sent=hook,
            http=publishing_http,
        ):
            pool.add(worker)
        if svc.settings.alerts.enabled:  # the readers' private messages: their own worker
            editors = EditorNotices(application.bot, settings.telegram.review_chats(), store.outbox)
            follows = svc.alerts.follows
            pool.add(
                reader_worker(
                    settings, application.bot, store.outbox, follows, editors, dry_run=dry_run
                )
            )
        pool.start()
        stack.push_async_callback(pool.stop)
        stack.push_async_callback(svc.submissions.drain)
        # Submitters a crash left untold hear now (their posts may have gone out meanwhile).
        application.create_task(tell_untold(application.bot, svc), name="tell-untold")
        log.info(
            "bot running",
            extra={
                "dry_run": dry_run,
                "targets": [w.target for w in pool.workers],
                "wakeups_rebuilt": rebuilt,
            },
        )
        yield Runtime(
            application=application,
            services=svc,
            watcher=watcher,
            roundup=roundup,
            halt=halt,
            ops=ops,
        )


def _storage_notice(editors: EditorChats) -> Callable[[str], Awaitable[object]]:
    async def tell(notice: str) -> None:
        await editors.send(notice, html=False, best_effort=True, what="a storage notice")

    return tell


async def set_commands(application: App, settings: Settings) -> None:
    """Set each scope's command menu (`handlers.commands.command_menus`).

    One scope Telegram refuses (an editor who never opened the bot: "chat not found")
    is one warning; the other menus are still set and the bot runs.
    """
    for menu in command_menus(settings.telegram):
        try:
            await application.bot.set_my_commands(
                menu.commands, scope=menu.scope, language_code=menu.language_code
            )
        except TelegramError as exc:
            log.warning(
                "command menu not set",
                extra={
                    "scope": menu.scope.to_dict(),
                    "language_code": menu.language_code,
                    "error": f"{type(exc).__name__}: {exc}",
                },
            )


async def serve(settings: Settings, *, dry_run: bool = False) -> int:
    """Run until SIGINT or SIGTERM (exit 0) or a halt (exit 2), then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with bot_running(settings, dry_run=dry_run) as runtime:
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(runtime.halt.event.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        log.info("stopping")
    return 2 if runtime.halt.reason else 0


def run_bot(settings: Settings, *, dry_run: bool = False) -> int:
    return asyncio.run(serve(settings, dry_run=dry_run))
