"""Chores: migrate, back up, the health check Docker runs, and backfill (CLI and `/backfill`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from data.db import Database, StorageError
from data.migrations import migrate as apply_migrations
from data.migrations import pending
from data.store import Store

if TYPE_CHECKING:  # the health check Docker runs imports this module: keep it light
    from telegram import Bot

    from bot.platforms import Platforms
    from bot.weekly.publication import Queued

HEARTBEAT_COMPONENT = "bot"


async def migrate(path: Path) -> list[int]:
    async with Database.open(path) as db:
        return await apply_migrations(db, now=time.time())


async def backup(path: Path, dest: Path, *, force: bool = False) -> None:
    async with Database.open(path, create=False) as db:
        await Store(db).backup(dest, force=force)


async def health(path: Path, *, max_age: float) -> list[str]:
    """Problems that make the running bot unhealthy; empty when all is well.

    Healthy means: the database opens, its schema is current, a write
    transaction can be taken, and the bot's heartbeat is younger than `max_age`.
    A database that cannot be opened or written is one problem, in one line.
    """
    problems: list[str] = []
    try:
        beat = await _check_store(path, problems)
    except (StorageError, sqlite3.Error, OSError) as exc:
        return [str(exc)]
    if beat is None:
        problems.append("the bot has never recorded a heartbeat")
    elif (age := time.time() - beat) > max_age:
        problems.append(f"last heartbeat {age:.0f}s ago (limit {max_age:.0f}s)")
    return problems


def endpoint_url(listen: str, port: int) -> str:
    """Where the health check asks the running bot: its server's /healthz, on loopback when
    the server binds every address."""
    host = "127.0.0.1" if listen in ("", "0.0.0.0") else "::1" if listen == "::" else listen  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/healthz"


async def endpoint_health(url: str, *, seconds: float = 5.0) -> list[str]:
    """Problems the running bot's /healthz reports (or that it cannot be asked); empty: ok."""
    import httpx  # only when the server is configured: the check stays light otherwise

    try:
        async with httpx.AsyncClient(timeout=seconds, trust_env=False) as http:
            answer = await http.get(url)
    except httpx.HTTPError as exc:
        return [f"{url}: no answer ({type(exc).__name__})"]
    if answer.status_code == 200:
        return []
    try:
        problems = [str(p) for p in answer.json().get("problems", [])]
    except (ValueError, AttributeError):
        problems = []
    return problems or [f"{url}: HTTP {answer.status_code}"]


@dataclass(frozen=True, slots=True)
class Backfilled:
    """What a backfill did: an error, or what was queued or shown to the editors."""

    error: str | None = None
    queued: int = 0
    preview_id: int | None = None
    preview_status: str | None = None  # "pending", or how the editors decided before
    cards: int = 0  # preview cards sent now
    cards_before: int = 0  # cards of the preview sent by an earlier run
    rows: Queued | None = None  # the outbox rows queued now, for the running bot's wake-ups


async def backfill_issue(settings: Settings, number: int, *, preview: bool = True) -> Backfilled:
    """`weeklybot backfill N`: `backfill_into` from outside the bot process.

    Opens the database and a Bot API client of its own, so the cards are sent from
    here and the command says whether they got through; the buttons are answered by
    the running bot, which reads the preview from the database.
    """
    from telegram import Bot

    tg = settings.telegram

    def bot() -> Bot:  # only opened (getMe) when there are cards to send
        return Bot(tg.token.get_secret_value(), base_url=tg.api_base_url)

    async with Database.open(settings.database_path) as db:
        await apply_migrations(db, now=time.time())
        return await backfill_into(Store(db), settings, number, bot=bot, preview=preview)


async def backfill_into(
    store: Store,
    settings: Settings,
    number: int,
    *,
    bot: Callable[[], AbstractAsyncContextManager[Bot]],
    preview: bool = True,
    platforms: Platforms | None = None,
    lock: asyncio.Lock | None = None,
) -> Backfilled:
    """Ingest issue `number` and give it to the editors (preview) or queue it at once.

    The one backfill: the CLI's `backfill` and the editors' `/backfill` both call it.
    With `preview`, the issue gets the usual preview card, sent through the Bot that
    `bot()` opens (the CLI's own; the running bot's, `contextlib.nullcontext`).
    Re-running resends cards that never went out. Rows that exist already (sent or
    not) are left alone by their idempotency keys, so a repeat is harmless. Its items
    never hold up a newer issue's (`bot.weekly.planning.schedule_issue`). `lock` is
    the running bot's lock on the repository mirror (`WatchBoard.repo_lock`), so a
    backfill's `git fetch` never runs beside a poll's.
    """
    from bot.editors.preview_cards import send_preview_cards
    from bot.platforms import PLATFORMS
    from bot.weekly.ingest import Ingester, IssueEvent, NewIssue, backfill
    from bot.weekly.publication import Publication
    from bot.weekly.sources.git_repo import GitRepoSource
    from bot.weekly.watch import repo_options

    if not settings.repo.enabled:
        return Backfilled(error="the repository is not watched (repo.enabled is off)")
    found: list[Backfilled] = []
    source = GitRepoSource(repo_options(settings))
    publication = Publication(
        store,
        settings,
        settings.publishing.model_copy(update={"preview": preview}),
        platforms=platforms or PLATFORMS,
    )

    async def deliver(events: Sequence[IssueEvent]) -> None:
        for event in events:
            if not isinstance(event, NewIssue):
                continue
            now = dt.datetime.now(dt.UTC)
            outcome = await publication.on_new_issue(event, now=now)
            cards = 0
            if outcome.preview is not None and outcome.show_cards:
                async with bot() as opened:
                    sent = await send_preview_cards(
                        opened,
                        publication,
                        outcome.preview,
                        settings.telegram.review_chats(),
                        now=now,
                    )
                cards = len(sent)
            found.append(
                Backfilled(
                    queued=len(outcome.queued.ids),
                    preview_id=outcome.preview.id if outcome.preview else None,
                    preview_status=outcome.preview.status if outcome.preview else None,
                    cards=cards,
                    cards_before=len(outcome.preview.cards) if outcome.preview else 0,
                    rows=outcome.queued,
                )
            )

    ingester = Ingester(store, source_name=source.name)
    async with lock or asyncio.Lock():
        result = await backfill(source, ingester, number, deliver)
    if result.error:
        return Backfilled(error=result.error)
    return found[0] if found else Backfilled()


async def _check_store(path: Path, problems: list[str]) -> float | None:
    async with Database.open(path, create=False) as db:
        missing = await pending(db)
        if missing:
            problems.append(f"{len(missing)} migration(s) not applied")
        store = Store(db)
        await store.beat("healthcheck", now=time.time())  # a real write proves writable
        return await store.last_beat(HEARTBEAT_COMPONENT)
