"""What the Sunday roundups listed: one row per slot that ran, one per issue listed.

`record` is the roundup's one write: the slot's row, its entries and its outbox rows in
one transaction, so a roundup is queued once (a second run of the slot, after a restart
or beside the scheduled one, finds the row and queues nothing) and an issue it listed
is remembered exactly when its post is queued. An empty week is recorded too, so the
editors hear "nothing new" once per slot.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.domain.roundup import Roundup
from data.db import Database, When, to_ts
from data.outbox import NewPost, OutboxStore

RoundupOutcome = Literal["posted", "empty"]


@dataclass(frozen=True, slots=True)
class RoundupRun:
    date: dt.date
    outcome: RoundupOutcome
    entries: int
    created_at: float


class RoundupStore:
    """The `roundups` and `roundup_entries` tables of one `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def posted(self) -> dict[str, dict[str, dt.date]]:
        """Per newsletter, every issue key a roundup listed and that roundup's date.

        All of it: a handful of rows a week, so one read is cheaper than a filter.
        """
        rows = await self._db.fetchall(
            "SELECT newsletter, issue_key, roundup_date FROM roundup_entries"
        )
        found: dict[str, dict[str, dt.date]] = {}
        for row in rows:
            issues = found.setdefault(row["newsletter"], {})
            issues[row["issue_key"]] = dt.date.fromisoformat(row["roundup_date"])
        return found

    async def record(self, roundup: Roundup, posts: Sequence[NewPost], *, now: When) -> bool:
        """Record the slot's roundup and queue its posts, all or nothing; False (and
        nothing written) when this slot already ran."""
        at = to_ts(now)
        outcome: RoundupOutcome = "posted" if posts else "empty"
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "INSERT INTO roundups (date, outcome, entries, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (date) DO NOTHING RETURNING date",
                (roundup.date.isoformat(), outcome, len(roundup.entries) if posts else 0, at),
            )
            if row is None:
                return False
            if posts:
                for entry in roundup.entries:
                    await tx.execute(
                        "INSERT INTO roundup_entries (newsletter, issue_key, roundup_date,"
                        " title, url) VALUES (?, ?, ?, ?, ?)"
                        " ON CONFLICT (newsletter, issue_key) DO NOTHING",
                        (
                            entry.newsletter,
                            entry.issue_key,
                            roundup.date.isoformat(),
                            entry.title,
                            entry.url,
                        ),
                    )
                for post in posts:
                    await OutboxStore._insert(tx, post, at)
        return True

    async def get(self, date: dt.date) -> RoundupRun | None:
        rows = await self._db.fetchall("SELECT * FROM roundups WHERE date = ?", (date.isoformat(),))
        return _run(rows[0]) if rows else None

    async def latest(self) -> RoundupRun | None:
        """The last slot that ran, if any (whether a missed slot is caught up at start)."""
        rows = await self._db.fetchall("SELECT * FROM roundups ORDER BY date DESC LIMIT 1")
        return _run(rows[0]) if rows else None


def _run(row: sqlite3.Row) -> RoundupRun:
    return RoundupRun(
        date=dt.date.fromisoformat(row["date"]),
        outcome=row["outcome"],
        entries=int(row["entries"]),
        created_at=float(row["created_at"]),
    )
