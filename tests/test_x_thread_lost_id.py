"""A thread part whose answer was lost, through the running bot, end to end.

The real PTB Application and the real tweepy client talk to the fake Telegram
and the fake X. Part 2 of a 3-part thread is recorded by X, then the connection
drops, and the account posts N times elsewhere before the bot resends; X refuses
the resend as duplicate content, so the bot looks the post up by its text on
the user's timeline (3 pages of 100, following `next_token`). Within 300 newer
posts it is found and part 3 replies under it; past them the lookup misses, part
2 is `sent` without an id, part 3 goes out as a post of its own and the editors
get exactly one "Posted, but its id was not found" card. Nothing is doubled.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from bot.app import bot_running
from bot.fakes.telegram import FakeTelegram
from bot.fakes.x import CREATE_POST, USER_POSTS, FakeX, FaultKind
from data.db import Database
from data.migrations import migrate
from data.outbox import OutboxRow
from data.store import Store
from tests.conftest import EDITOR_ID, X_CREDENTIALS, settings_for
from tests.delivery_support import enqueue, eventually, x_payload

THREAD = [f"{n}/3 Python Trending Weekly: https://example.com/issue/{n}" for n in (1, 2, 3)]
CARD_TITLE = "Posted, but its id was not found"


@pytest.mark.parametrize(
    ("elsewhere", "pages_read", "found"),
    [
        (150, 2, True),  # part 2 is on the second page
        (299, 3, True),  # the last post the lookup reads
        (300, 3, False),  # one past it: the lookup misses
    ],
)
async def test_a_lost_thread_part_is_looked_up_or_carded(
    fake_telegram: FakeTelegram, tmp_path: Path, elsewhere: int, pages_read: int, found: bool
) -> None:
    async with FakeX(**X_CREDENTIALS) as fx:
        settings = settings_for(
            fake_telegram, tmp_path, x={"api_base_url": fx.base_url, **X_CREDENTIALS}
        )
        async with Database.open(settings.database_path) as db:
            await migrate(db, now=time.time())
            ids = await enqueue(
                Store(db).outbox,
                "x",
                map(x_payload, THREAD),
                prefix="thread",
                kind="thread_part",
                group="thread",
            )
        # part 1 passes; part 2 is recorded, N posts land elsewhere, the answer is lost
        fx.inject(FaultKind.DROP_AFTER, endpoint=CREATE_POST, after=1, elsewhere=elsewhere)

        async with bot_running(settings) as runtime:
            outbox = runtime.services.store.outbox

            async def thread_sent() -> bool:
                rows = [await outbox.get(row_id) for row_id in ids]
                return all(r is not None and r.state == "sent" for r in rows)

            await eventually(thread_sent, within=20)
            if not found:  # the card is sent before part 3 is claimed; wait anyway

                async def carded() -> bool:
                    return bool(without_id_cards(fake_telegram))

                await eventually(carded)
            rows = [await outbox.get(row_id) for row_id in ids]

        posts = fx.posts()
        statuses = [c.status for c in fx.calls(CREATE_POST)]
        lookups = fx.calls(USER_POSTS)

    ours = [p for p in posts if p.text in THREAD]
    assert Counter(p.text for p in posts) == Counter(THREAD) + Counter(
        f"posted elsewhere {n}/{elsewhere}" for n in range(1, elsewhere + 1)
    )  # each part exactly once, nothing doubled
    assert [p.text for p in ours] == THREAD
    first, second, third = ours
    assert statuses == [201, None, 403, 201]  # the resend was refused as a duplicate
    assert second.reply_to == first.id
    assert len(lookups) == pages_read
    assert [c.status for c in lookups] == [200] * pages_read
    assert all(isinstance(r, OutboxRow) for r in rows)
    states = [(r.state, r.remote_id) for r in rows if r is not None]
    cards = without_id_cards(fake_telegram)
    if found:
        assert states == [("sent", first.id), ("sent", second.id), ("sent", third.id)]
        assert third.reply_to == second.id
        assert cards == []
    else:
        assert states == [("sent", first.id), ("sent", ""), ("sent", third.id)]
        assert third.reply_to is None  # a post of its own, as the card says
        assert len(cards) == 1
        assert f"outbox #{ids[1]}" in cards[0]
        assert "2/3 Python Trending Weekly" in cards[0]
        assert "posts of their own" in cards[0]


def without_id_cards(tg: FakeTelegram) -> list[str]:
    return [m.text or "" for m in tg.sent(EDITOR_ID) if CARD_TITLE in (m.text or "")]
