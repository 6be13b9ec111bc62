"""Typed access to the services the handlers and jobs need.

`bot.app.bot_running` builds one `BotServices` per run: the settings, the store (with
its repositories), the delivery pool and the publication workflow over them; nothing
else builds a store or a `Publication` for a handler. PTB builds `bot_data` itself, so
the services live under one key and are read through `services()` alone; handlers
never index `bot_data` directly.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import httpx
from telegram import Bot, User
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.alerts.service import AlertService
from bot.config import Settings
from bot.delivery.workers import DeliveryPool
from bot.domain.urls import Resolver, load_public_suffixes
from bot.editors.kit import ChatSpacer, EditorChats, is_editor
from bot.extra.queue import ExtraQueue
from bot.ops.storage_guard import StorageGuard
from bot.platforms import PLATFORMS, Platforms
from bot.roundup.service import RoundupService
from bot.submissions.intake import SubmissionService, targets_of
from bot.weekly.publication import Publication
from bot.weekly.watch import WatchBoard
from data.extras import QueueStore
from data.store import Store
from data.submissions import SubmissionStore
from handlers.turns import ChatTurns
from publishers.templates import PostTemplates, bundled_templates

# As ApplicationBuilder types them: the Application's bot is ExtBot[int] (it runs with
# AIORateLimiter, whose rate-limit args are ints), the context's stays ExtBot[None].
Context: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
App: TypeAlias = Application[
    ExtBot[int], Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[Context]
]

_KEY = "weeklybot.services"


@dataclass(frozen=True, slots=True)
class BotServices:
    settings: Settings
    store: Store
    delivery: DeliveryPool
    platforms: Platforms = PLATFORMS  # the targets; a test adds a toy one
    # The run's post templates (`publishing.templates_dir` over the bundled ones); the
    # platforms above are bound to them (`Platforms.with_templates`) by whoever builds this.
    templates: PostTemplates = field(default_factory=bundled_templates)
    # Readers' links: `bot.app.bot_running` builds it once; left out, it is built here
    # from the settings and the store (tests that need no special resolver).
    submissions: SubmissionService = field(default=None)  # type: ignore[assignment]
    # The Sunday roundup (`/roundup` previews it); left out, built with the wall clock.
    roundup: RoundupService = field(default=None)  # type: ignore[assignment]
    # Built from the ones above, once: the workflow the preview buttons and events drive.
    publication: Publication = field(init=False)
    # One per run, shared by every `editor_chats`: a burst of review cards (readers
    # submitting at once) is spaced as one stream per chat. Spaced per card instead,
    # they all left at once and Telegram refused the ones past its per-chat burst
    # (429): links no editor was shown.
    spacer: ChatSpacer = field(init=False, default_factory=ChatSpacer)
    # The sources' last and next polls (`/status`) and the lock on the repository
    # mirror, shared by the run's `Watcher` and `/backfill`.
    watch: WatchBoard = field(default_factory=WatchBoard)
    # The extra edition's queue (`/extra`, `/queue`, 🕒 Queue), over the same store.
    extra: ExtraQueue = field(init=False)
    # One per run: a reader's messages answered in their order, though a link is
    # handled as a task (`handlers.submissions`).
    turns: ChatTurns = field(init=False, default_factory=ChatTurns)
    # Writes no reply waits for (a reader's client language seen): kept referenced
    # until done, so the loop cannot drop them.
    background: set[asyncio.Task[None]] = field(init=False, default_factory=set)
    # The receipts of a burst of links go out one at a time, in the order their
    # updates came: concurrent, each opened a connection of its own, and the
    # connections cost more than the replies (the bench: 0.35 of the echo at 16 at
    # once, 0.95 one at a time). Their writes still share one group commit.
    replies: asyncio.Semaphore = field(init=False, default_factory=lambda: asyncio.Semaphore(1))
    # Keyword alerts (`/follow`; an issue's or an extra post's alerts), over the same store.
    alerts: AlertService = field(init=False)
    # Up or down: the database's "disk full / read-only / I/O error" seen at run time
    # (`bot.ops.storage_guard`); it listens on the store's database from here on.
    storage: StorageGuard = field(init=False)

    def __post_init__(self) -> None:
        publication = Publication(self.store, self.settings, platforms=self.platforms)
        object.__setattr__(self, "publication", publication)
        if self.submissions is None:
            built = submission_service(self.settings, self.store, platforms=self.platforms)
            object.__setattr__(self, "submissions", built)
        extra = ExtraQueue(
            QueueStore(self.store.db), self.settings, self.submissions, platforms=self.platforms
        )
        object.__setattr__(self, "extra", extra)
        alerts = AlertService(self.store, self.settings.alerts, wake=self.delivery.wake)
        object.__setattr__(self, "alerts", alerts)
        object.__setattr__(self, "storage", StorageGuard(self.store.db))
        if self.roundup is None:
            built_roundup = RoundupService(self.settings, self.store, platforms=self.platforms)
            object.__setattr__(self, "roundup", built_roundup)

    def editor_chats(self, bot: Bot) -> EditorChats:
        """The review chats, spaced by the run's one `spacer`."""
        return EditorChats.of(bot, self.settings.telegram, spacer=self.spacer)

    def is_editor(self, user_id: int | None) -> bool:
        """Asked on every privileged press and command (`bot.editors.kit.is_editor`)."""
        return is_editor(self.settings.telegram, user_id)


def submission_service(
    settings: Settings,
    store: Store,
    *,
    resolver: Resolver = socket.getaddrinfo,
    platforms: Platforms = PLATFORMS,
    clock: Callable[[], float] = time.time,
) -> SubmissionService:
    """The submissions service over the store's database, with the settings' targets.

    `resolver` is how the preview resolves a link's host (the demo maps its page's name).
    The TLS trust is loaded once here: building it per fetch (httpx's `verify=True`)
    costs ~40 ms of the event loop's time for every submitted link. The public suffix
    list is parsed here too, not on the first link.
    """
    load_public_suffixes()
    return SubmissionService(
        SubmissionStore(store.db),
        settings.submissions,
        targets=targets_of(settings),
        resolver=resolver,
        verify=httpx.create_ssl_context(),
        pages=settings.repo.pages,
        platforms=platforms,
        clock=clock,
    )


def actor_of(user: User) -> str:
    """How an editor appears on cards and in the audit log: name and id."""
    name = f"@{user.username}" if user.username else user.first_name
    return f"{name} [{user.id}]"


def attach(application: App, services: BotServices) -> None:
    application.bot_data[_KEY] = services


def services(context: Context) -> BotServices:
    found = context.bot_data[_KEY]
    assert isinstance(found, BotServices)
    return found
