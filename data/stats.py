"""What the editors' `/stats` reads: plain facts, no aggregation (that is `bot.stats.model`).

Three reads, each one SELECT (`Database.fetchall`, one trip to aiosqlite's thread):

- `submissions`: every reader's link with its state, when it came, its canonical URL and
  the submitter as they want to be credited now (`users.credit`, the choice `/credit`
  stores; a submitter with no `users` row falls back to the submission's `credit_as`);
- `sent_posts`: outbox rows recorded `sent`, counted per target and kind;
- `season_items`: the items of the stored issues numbered `first..last`, every language
  (the caller picks one per issue), deleted placeholders left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import cast

from data.db import Database
from data.submissions import CreditChoice, SubmissionState


@dataclass(frozen=True, slots=True)
class SubmissionFact:
    id: int
    created_at: float
    state: SubmissionState
    canonical_url: str
    user_id: int
    credit: CreditChoice  # the submitter's current choice
    display_name: str
    username: str | None


@dataclass(frozen=True, slots=True)
class SentCount:
    target: str
    kind: str
    count: int


@dataclass(frozen=True, slots=True)
class SeasonItem:
    issue: int
    date: str | None  # ISO date of the issue
    lang: str
    kind: str  # articles, projects, podcasts, discussions
    idx: int
    title: str
    url: str | None


class StatsStore:
    """Read-only queries over `submissions`, `users`, `outbox`, `issues` and `items`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def submissions(self) -> list[SubmissionFact]:
        rows = await self._db.fetchall(
            "SELECT s.id, s.created_at, s.state, s.canonical_url, s.user_id,"
            " coalesce(u.credit, s.credit_as) AS credit,"
            " coalesce(nullif(u.display_name, ''), s.display_name) AS display_name,"
            " coalesce(u.username, s.username) AS username"
            " FROM submissions s LEFT JOIN users u ON u.user_id = s.user_id"
            " ORDER BY s.id"
        )
        return [
            SubmissionFact(
                id=row["id"],
                created_at=row["created_at"],
                state=cast(SubmissionState, row["state"]),
                canonical_url=row["canonical_url"],
                user_id=row["user_id"],
                credit=cast(CreditChoice, row["credit"]),
                display_name=row["display_name"] or "",
                username=row["username"] or None,
            )
            for row in rows
        ]

    async def sent_posts(self) -> list[SentCount]:
        rows = await self._db.fetchall(
            "SELECT target, kind, count(*) AS n FROM outbox WHERE state = 'sent'"
            " GROUP BY target, kind ORDER BY target, kind"
        )
        return [SentCount(row["target"], row["kind"], row["n"]) for row in rows]

    async def season_items(self, first: int, last: int) -> list[SeasonItem]:
        rows = await self._db.fetchall(
            "SELECT i.number, i.date, i.lang, it.kind, it.idx, it.title, it.url, it.flags"
            " FROM items it JOIN issues i ON i.id = it.issue_id"
            " WHERE i.number BETWEEN ? AND ? ORDER BY i.number, i.lang, it.kind, it.idx",
            (first, last),
        )
        return [
            SeasonItem(
                issue=row["number"],
                date=row["date"],
                lang=row["lang"],
                kind=row["kind"],
                idx=row["idx"],
                title=row["title"],
                url=row["url"],
            )
            for row in rows
            if "deleted" not in json.loads(row["flags"])
        ]
