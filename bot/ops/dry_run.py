"""`weeklybot run --dry-run`: a rehearsal that leaves the real database exactly as it was.


The rehearsal runs on a copy: the database file is copied (SQLite's online backup,
from a read-only connection, so even a live bot's file is copied consistently and
never written) into a temporary folder that is deleted on exit. Everything the bot
records while rehearsing (posts "sent" by the dry-run publisher, decisions, cursors)
lands in the copy, so a real run afterwards finds every post still to send.

Every message the rehearsing bot sends (preview cards, outbox cards, notices,
replies) starts with `DRY_RUN_MARK`: `DryRunBot` adds it in the one place all of
them pass through, the bot's send and edit methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from telegram import Message
from telegram.ext import ExtBot

from bot.config import Settings
from bot.texts import text

log = logging.getLogger(__name__)

DRY_RUN_MARK = text("dry_run.mark")


def mark(text: str) -> str:
    """`text` with the dry-run mark in front (once); plain text, safe in HTML and Markdown."""
    return text if text.startswith(DRY_RUN_MARK) else DRY_RUN_MARK + text


class DryRunBot(ExtBot[int]):
    """The bot of a dry run: every text and caption it sends or edits is marked.

    The channel never sees it (the dry-run publisher sends nothing); what the
    editors and readers see is marked as a rehearsal.
    """

    async def send_message(
        self, chat_id: int | str, text: str, *args: Any, **kwargs: Any
    ) -> Message:
        return await super().send_message(chat_id, mark(text), *args, **kwargs)

    async def edit_message_text(self, text: str, *args: Any, **kwargs: Any) -> Message | bool:
        return await super().edit_message_text(mark(text), *args, **kwargs)

    async def send_photo(
        self, chat_id: int | str, photo: Any, caption: str | None = None, *args: Any, **kwargs: Any
    ) -> Message:
        return await super().send_photo(chat_id, photo, mark(caption or ""), *args, **kwargs)

    async def edit_message_caption(self, *args: Any, **kwargs: Any) -> Message | bool:
        kwargs["caption"] = mark(kwargs.get("caption") or "")
        return await super().edit_message_caption(*args, **kwargs)


def copy_database(source: Path, dest: Path) -> None:
    """Copy `source` to `dest` through a read-only connection (the source is never written)."""
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        writer = sqlite3.connect(dest)
        try:
            reader.backup(writer)
        finally:
            writer.close()
    finally:
        reader.close()


@contextlib.asynccontextmanager
async def rehearsal(settings: Settings) -> AsyncIterator[Settings]:
    """Settings pointing at a temporary copy of the database, deleted on exit.

    The repository mirror stays where the real run keeps it (it is a cache of
    the newsletter's repository, not state: the cursor lives in the database),
    so a rehearsal does not clone the repository again.
    """
    real = settings.database_path
    with tempfile.TemporaryDirectory(prefix="weeklybot-dry-run-") as folder:
        copy = Path(folder) / (real.name or "weeklybot.db")
        if await asyncio.to_thread(real.exists):
            await asyncio.to_thread(copy_database, real, copy)
            log.info("dry run: working on a copy", extra={"database": str(real), "copy": str(copy)})
        else:
            log.info(
                "dry run: no database yet, starting from an empty copy", extra={"copy": str(copy)}
            )
        repo = settings.repo.model_copy(update={"mirror_dir": settings.mirror_dir})
        yield settings.model_copy(update={"database_path": copy, "repo": repo})
