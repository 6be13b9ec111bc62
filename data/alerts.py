"""The words readers follow (`follows`, migration 15): `/follow`, `/following`,
`/unfollow`, and the alert's read of every follower with their language.

A reader's words are theirs alone: `/forgetme` deletes them (`data.readers`), and a
reader who blocked the bot loses them (`prune`) when an alert to them is refused.
Adding is one write transaction that counts what the reader has, so two `/follow`s
at once never pass the limit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from data.db import Database, When, to_ts


@dataclass(frozen=True, slots=True)
class Follow:
    id: int
    user_id: int
    word: str


@dataclass(frozen=True, slots=True)
class Followed:
    """What `/follow` did: new words, words already followed, words past the limit."""

    added: tuple[str, ...]
    already: tuple[str, ...]
    over_limit: tuple[str, ...]
    total: int  # the reader's words now


@dataclass(frozen=True, slots=True)
class Follower:
    user_id: int
    word: str
    lang: str  # the language they are spoken to in (`user_langs`), "en" when unknown


@dataclass(frozen=True, slots=True)
class ExtraPost:
    """An extra-edition item as an alert reads it."""

    id: int
    title: str
    url: str
    comment: str


class FollowStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def follow(
        self, user_id: int, words: Sequence[str], *, limit: int, now: When
    ) -> Followed:
        at = to_ts(now)
        added: list[str] = []
        already: list[str] = []
        over: list[str] = []
        async with self._db.transaction() as tx:
            rows = await tx.fetchall("SELECT word FROM follows WHERE user_id = ?", (user_id,))
            have = {row["word"] for row in rows}
            for word in words:
                if word in have:
                    already.append(word)
                elif len(have) >= limit:
                    over.append(word)
                else:
                    await tx.execute(
                        "INSERT INTO follows (user_id, word, created_at) VALUES (?, ?, ?)",
                        (user_id, word, at),
                    )
                    have.add(word)
                    added.append(word)
        return Followed(tuple(added), tuple(already), tuple(over), len(have))

    async def of_user(self, user_id: int) -> tuple[Follow, ...]:
        rows = await self._db.fetchall(
            "SELECT id, user_id, word FROM follows WHERE user_id = ? ORDER BY id", (user_id,)
        )
        return tuple(Follow(r["id"], r["user_id"], r["word"]) for r in rows)

    async def unfollow(
        self, user_id: int, *, words: Sequence[str] = (), ids: Sequence[int] = ()
    ) -> tuple[str, ...]:
        """Delete the reader's own words named or numbered; the words deleted."""
        removed: list[str] = []
        async with self._db.transaction() as tx:
            for word in words:
                rows = await tx.fetchall(
                    "DELETE FROM follows WHERE user_id = ? AND word = ? RETURNING word",
                    (user_id, word),
                )
                removed += [r["word"] for r in rows]
            for follow_id in ids:
                rows = await tx.fetchall(
                    "DELETE FROM follows WHERE user_id = ? AND id = ? RETURNING word",
                    (user_id, follow_id),
                )
                removed += [r["word"] for r in rows]
        return tuple(removed)

    async def prune(self, user_id: int) -> int:
        """The reader is gone (blocked the bot): every word of theirs is deleted."""
        async with self._db.transaction() as tx:
            return await tx.execute("DELETE FROM follows WHERE user_id = ?", (user_id,))

    async def followers(self) -> tuple[Follower, ...]:
        """Every follow with its reader's language, by reader then in the order added."""
        rows = await self._db.fetchall(
            "SELECT f.user_id, f.word, coalesce(l.lang, 'en') AS lang FROM follows f"
            " LEFT JOIN user_langs l ON l.user_id = f.user_id ORDER BY f.user_id, f.id"
        )
        return tuple(Follower(r["user_id"], r["word"], r["lang"]) for r in rows)

    async def extra_item(self, outbox_key: str) -> ExtraPost | None:
        """The extra-edition item whose rows carry `outbox_key` (`extra:<id>`, or a queued
        reader's `submission:<id>`), None for any other row."""
        row = await self._db.fetchone(
            "SELECT id, title, canonical_url, comment FROM extra_queue WHERE outbox_key = ?",
            (outbox_key,),
        )
        if row is None:
            return None
        url = str(row["canonical_url"])
        return ExtraPost(int(row["id"]), row["title"] or url, url, row["comment"] or "")

    async def alerted(self, key_prefix: str) -> frozenset[int]:
        """The readers an alert keyed `<key_prefix><lang>:<user id>` was queued for, in
        any language (one alert per reader per issue, though they changed language)."""
        rows = await self._db.fetchall(
            "SELECT idempotency_key FROM outbox WHERE target = 'readers'"
            " AND substr(idempotency_key, 1, ?) = ?",
            (len(key_prefix), key_prefix),
        )
        return frozenset(int(r["idempotency_key"].rsplit(":", 1)[1]) for r in rows)
