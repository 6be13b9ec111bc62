"""`weeklybot run --dry-run`: a rehearsal that leaves the real database exactly as it was.


The rehearsal runs on a copy: the database file is copied (SQLite's online backup,
from a read-only connection, so even a live bot's file is copied consistently and
never written) into a temporary folder that is deleted on exit. Everything the bot
records while rehearsing (posts "sent" by the dry-run publisher, decisions, cursors)
lands in the copy, so a real run afterwards finds every post still to send.

Every message the rehearsing bot sends (preview cards, outbox cards, notices,
replies) starts with `DRY_RUN_MARK`: `DryRunBot` adds it in the one place all of
them pass through, the bot's send and edit methods. The mark never pushes a text
past Telegram's limit (4,096, a caption 1,024, measured by `publishers.limits`),
nor shifts explicit entities: such a message goes unmarked, with a short marked
note of its own just before it (or, for an edit, as a reply under it).
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

from telegram import Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.config import Settings
from bot.texts import text
from publishers.limits import TELEGRAM_CAPTION_MAX, TELEGRAM_TEXT_MAX, telegram_length

log = logging.getLogger(__name__)

DRY_RUN_MARK = text("dry_run.mark")
NOTE_BEFORE = text("dry_run.note_before")
NOTE_EDITED = text("dry_run.note_edited")


def mark(text: str) -> str:
    """`text` with the dry-run mark in front (once); plain text, safe in HTML and Markdown."""
    return text if text.startswith(DRY_RUN_MARK) else DRY_RUN_MARK + text


def fits_marked(text: str, parse_mode: object, limit: int) -> bool:
    """Whether `mark(text)` stays within `limit`, as Telegram counts it.

    HTML is measured exactly (`telegram_length`); any other text by its raw
    length, an upper bound of what Telegram counts (markup and trimmed spaces
    only ever add). HTML Telegram would refuse is left to Telegram to refuse.
    """
    marked = mark(text)
    if parse_mode == ParseMode.HTML:
        try:
            return telegram_length(marked) <= limit
        except ValueError:
            return True
    return len(marked) <= limit


class DryRunBot(ExtBot[int]):
    """The bot of a dry run: every text and caption it sends or edits is marked.

    The channel never sees it (the dry-run publisher sends nothing); what the
    editors and readers see is marked as a rehearsal. A text the mark would push
    over its limit, or one with explicit entities (their offsets would shift),
    goes as it is, marked by a note of its own. (A call with positional extras,
    which no caller makes, is marked in place as before.)
    """

    def _fits(self, text: str, kwargs: dict[str, Any], limit: int, entities: str) -> bool:
        if kwargs.get(entities):
            return False
        parse_mode = kwargs.get("parse_mode", self.defaults.parse_mode if self.defaults else None)
        return fits_marked(text, parse_mode, limit)

    async def _note(self, chat_id: int | str | None, text: str, reply_to: int | None) -> None:
        if chat_id is None:  # an inline message: there is no chat to write to
            log.info("dry run: an edited inline message goes unmarked")
            return
        replying = (
            None
            if reply_to is None
            else ReplyParameters(reply_to, allow_sending_without_reply=True)
        )
        await super().send_message(chat_id, text, reply_parameters=replying)

    async def send_message(
        self, chat_id: int | str, text: str, *args: Any, **kwargs: Any
    ) -> Message:
        if args or self._fits(text, kwargs, TELEGRAM_TEXT_MAX, "entities"):
            return await super().send_message(chat_id, mark(text), *args, **kwargs)
        await self._note(chat_id, NOTE_BEFORE, None)
        return await super().send_message(chat_id, text, **kwargs)

    async def edit_message_text(self, text: str, *args: Any, **kwargs: Any) -> Message | bool:
        if args or self._fits(text, kwargs, TELEGRAM_TEXT_MAX, "entities"):
            return await super().edit_message_text(mark(text), *args, **kwargs)
        edited = await super().edit_message_text(text, **kwargs)
        await self._note(kwargs.get("chat_id"), NOTE_EDITED, kwargs.get("message_id"))
        return edited

    async def send_photo(
        self, chat_id: int | str, photo: Any, caption: str | None = None, *args: Any, **kwargs: Any
    ) -> Message:
        caption = caption or ""
        if args or self._fits(caption, kwargs, TELEGRAM_CAPTION_MAX, "caption_entities"):
            return await super().send_photo(chat_id, photo, mark(caption), *args, **kwargs)
        await self._note(chat_id, NOTE_BEFORE, None)
        return await super().send_photo(chat_id, photo, caption, **kwargs)

    async def send_document(
        self,
        chat_id: int | str,
        document: Any,
        caption: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Message:
        """A file to an editor (the next issue's draft): its caption marked, as a photo's."""
        caption = caption or ""
        if args or self._fits(caption, kwargs, TELEGRAM_CAPTION_MAX, "caption_entities"):
            return await super().send_document(chat_id, document, mark(caption), *args, **kwargs)
        await self._note(chat_id, NOTE_BEFORE, None)
        return await super().send_document(chat_id, document, caption, **kwargs)

    async def edit_message_caption(self, *args: Any, **kwargs: Any) -> Message | bool:
        caption = kwargs.get("caption") or ""
        if args or self._fits(caption, kwargs, TELEGRAM_CAPTION_MAX, "caption_entities"):
            kwargs["caption"] = mark(caption)
            return await super().edit_message_caption(*args, **kwargs)
        edited = await super().edit_message_caption(**kwargs)
        await self._note(kwargs.get("chat_id"), NOTE_EDITED, kwargs.get("message_id"))
        return edited


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
