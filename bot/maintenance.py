"""Database chores for the CLI: migrate, back up, and the health check Docker runs."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from data.db import Database, StorageError
from data.migrations import migrate as apply_migrations
from data.migrations import pending
from data.store import Store

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


async def _check_store(path: Path, problems: list[str]) -> float | None:
    async with Database.open(path, create=False) as db:
        missing = await pending(db)
        if missing:
            problems.append(f"{len(missing)} migration(s) not applied")
        store = Store(db)
        await store.beat("healthcheck", now=time.time())  # a real write proves writable
        return await store.last_beat(HEARTBEAT_COMPONENT)
