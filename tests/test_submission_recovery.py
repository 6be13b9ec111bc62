"""A link a crash left without its review card is shown to the editors at the next start.

A kill -9 between storing a reader's link and sending its card (bench/chaos.py
`submits`) used to leave it pending with no card: no editor saw it until the daily
reminder. The bot now sends those cards when it starts (`card_uncarded`), and only
those: a link whose card is out gets no second one.
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.fakes.telegram import FakeTelegram
from data.db import Database
from data.migrations import migrate
from data.submissions import Fields, NewSubmission, SubmissionStore
from tests.conftest import READER_ID
from tests.test_submissions_bot import until, world_with


def stored(n: int) -> NewSubmission:
    return NewSubmission(
        user_id=READER_ID,
        display_name="Reader",
        username="reader",
        chat_id=READER_ID,
        original_url=f"https://crash{n}.example.com/post",
        canonical_url=f"https://crash{n}.example.com/post",
        dedupe_key=f"crash{n}.example.com/post",
        note="",
        fields=Fields(),
    )


async def test_a_pending_link_without_a_card_gets_one_at_start(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    database = tmp_path / "state" / "weeklybot.db"
    database.parent.mkdir(parents=True)
    async with Database.open(database) as db:  # what a killed run left: rows, no card
        await migrate(db, now=time.time())
        store = SubmissionStore(db)
        now = time.time()
        lost = await store.create(stored(1), now=now, since=now - 86400, judge=lambda _: None)
        shown = await store.create(stored(2), now=now, since=now - 86400, judge=lambda _: None)
        await store.add_cards(shown.id, [(-100200300, 99)], now=now)
    async with world_with(fake_telegram, tmp_path) as world:
        await until(lambda: any(f"#{lost.id}\n" in (c.text or "") for c in world.cards()))
        assert (await world.row(lost.id)).cards  # recorded: the next start sends none
        assert not any(f"#{shown.id}\n" in (c.text or "") for c in world.cards())
