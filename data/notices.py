"""Which refused or suspicious issue files the editors were told of: once per revision.

A file revision is (path, git blob id). Telling is claim → send → record, per editor
chat: `claim` makes the row (or finds it) and says which chats were already told, the
caller sends to the others and records each one with `told_chat`, then `finish` marks
the revision done. A crash before a send leaves the chat untold, so the next delivery
tells it (nothing lost); a finished revision is never told again, whether it comes
back in a replayed poll, after a restart, or in a backfill. The one window left is a
crash between Telegram accepting a message and `told_chat` (a send has no idempotency
key): that chat may get the message twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from data.db import Database, When, to_ts


@dataclass(frozen=True, slots=True)
class NoticeClaim:
    """A revision still to be told: the chats that already have its message."""

    told: frozenset[int]


class FileNoticeStore:
    """The `file_notices` table of one `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(
        self, path: str, blob: str, *, refused: bool, reasons: Sequence[str], now: When
    ) -> NoticeClaim | None:
        """Start (or resume) telling this revision; None when it was told already."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO file_notices (path, blob, refused, reasons, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (path, blob) DO NOTHING",
                (path, blob, int(refused), json.dumps(list(reasons)), to_ts(now)),
            )
            row = await tx.fetchone(
                "SELECT told, told_at FROM file_notices WHERE path = ? AND blob = ?",
                (path, blob),
            )
        assert row is not None  # inserted, or there already
        if row["told_at"] is not None:
            return None
        return NoticeClaim(frozenset(int(c) for c in json.loads(row["told"])))

    async def told_chat(self, path: str, blob: str, chat_id: int) -> None:
        """Record that `chat_id` has the message (or cannot get it: it blocked the bot)."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT told FROM file_notices WHERE path = ? AND blob = ?", (path, blob)
            )
            if row is None:
                return
            told = [int(c) for c in json.loads(row["told"])]
            if chat_id not in told:
                await tx.execute(
                    "UPDATE file_notices SET told = ? WHERE path = ? AND blob = ?",
                    (json.dumps([*told, chat_id]), path, blob),
                )

    async def finish(self, path: str, blob: str, *, now: When) -> None:
        """Every editor chat was told: this revision is never told again."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE file_notices SET told_at = ? WHERE path = ? AND blob = ?"
                " AND told_at IS NULL",
                (to_ts(now), path, blob),
            )

    async def is_told(self, path: str, blob: str) -> bool:
        """Whether this revision was told to every editor chat (the ingest plan skips it)."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT 1 FROM file_notices WHERE path = ? AND blob = ? AND told_at IS NOT NULL",
                (path, blob),
            )
        return row is not None

    async def was_refused(self, path: str) -> bool:
        """Whether the editors were told a revision of `path` was refused: its next good
        revision is the file's arrival, not a quiet edit of something stored."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT 1 FROM file_notices WHERE path = ? AND refused = 1 LIMIT 1", (path,)
            )
        return row is not None
