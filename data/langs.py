"""The language each user is spoken to in (`user_langs`): seen from Telegram, or chosen.

A reader's Telegram client sends its `language_code` with every update; the handlers
keep the last one seen (`observe`), so a notice sent without an update (a publication,
hours later) still speaks the reader's language. `/lang` records a choice (`choose`)
that the client's code no longer overrides. Only the language is kept: no name, no note.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.db import Database, SyncTx, When, to_ts


@dataclass(frozen=True, slots=True)
class UserLang:
    user_id: int
    lang: str  # "zh" or "en" (the table's CHECK)
    chosen: bool  # picked with /lang, not just seen from the client
    set_at: float


class UserLangStore:
    """Reads and writes `user_langs`; one row per user."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> UserLang | None:
        row = await self.db.fetchone("SELECT * FROM user_langs WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        return UserLang(row["user_id"], row["lang"], bool(row["chosen"]), row["set_at"])

    async def observe(self, user_id: int, lang: str, *, now: When) -> None:
        """The client's language, kept unless the user chose one (a choice wins).

        A batched write (`Database.write_batched`): a reader's first message of a burst
        shares the commit of the others' submissions instead of paying its own."""
        at = to_ts(now)

        def body(tx: SyncTx) -> None:
            tx.execute(
                "INSERT INTO user_langs (user_id, lang, chosen, set_at) VALUES (?, ?, 0, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang,"
                " set_at = excluded.set_at"
                " WHERE user_langs.chosen = 0 AND user_langs.lang <> excluded.lang",
                (user_id, lang, at),
            )

        await self.db.write_batched(body)

    async def choose(self, user_id: int, lang: str, *, now: When) -> None:
        """The user's own choice (/lang): kept until they choose again."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO user_langs (user_id, lang, chosen, set_at) VALUES (?, ?, 1, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang, chosen = 1,"
                " set_at = excluded.set_at",
                (user_id, lang, to_ts(now)),
            )
