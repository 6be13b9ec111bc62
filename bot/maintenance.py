"""Database chores for the CLI: migrate, back up, and the health check Docker runs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from data.db import Database
from data.migrations import migrate as apply_migrations
from data.migrations import pending
from data.store import Store

HEARTBEAT_COMPONENT = "bot"


async def migrate(path: Path) -> list[int]:
    async with Database.open(path) as db:
        return await apply_migrations(db, now=time.time())


async def backup(path: Path, dest: Path) -> None:
    if not await asyncio.to_thread(path.exists):
        raise FileNotFoundError(f"no database at {path}")
    async with Database.open(path) as db:
        await Store(db).backup(dest)


async def health(path: Path, *, max_age: float) -> list[str]:
    """Problems that make the running bot unhealthy; empty when all is well.

    Healthy means: the database opens, its schema is current, a write
    transaction can be taken, and the bot's heartbeat is younger than `max_age`.
    """
    if not await asyncio.to_thread(path.exists):
        return [f"no database at {path}"]
    problems: list[str] = []
    async with Database.open(path) as db:
        missing = await pending(db)
        if missing:
            problems.append(f"{len(missing)} migration(s) not applied")
        store = Store(db)
        await store.beat("healthcheck", now=time.time())  # a real write proves writable
        beat = await store.last_beat(HEARTBEAT_COMPONENT)
    if beat is None:
        problems.append("the bot has never recorded a heartbeat")
    elif (age := time.time() - beat) > max_age:
        problems.append(f"last heartbeat {age:.0f}s ago (limit {max_age:.0f}s)")
    return problems
