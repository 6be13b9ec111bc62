"""Readers submitting at once: the first link does not pay for the start-up work, and
every review card reaches the editors within Telegram's per-chat limits (the fake's
flood limits on), the run's cards spaced as one stream."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.domain import urls
from bot.fakes.telegram import FakeTelegram
from data.db import Database
from data.store import Store
from handlers.context import submission_service
from tests.conftest import settings_for
from tests.test_submissions_bot import until, world_with

BURST = 8  # well past Telegram's burst of 3 per second in one chat


async def test_the_public_suffix_list_is_parsed_at_start_not_on_the_first_link(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    urls._public_suffixes.cache_clear()
    async with Database.open(tmp_path / "db.sqlite") as db:
        submission_service(settings_for(fake_telegram, tmp_path), Store(db))
    assert urls._public_suffixes.cache_info().currsize == 1


async def test_a_burst_of_submissions_shows_every_card_without_a_flood(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    readers = range(5000, 5000 + BURST)
    for reader in readers:
        fake_telegram.add_user(reader, f"Reader {reader}", None)
    async with world_with(fake_telegram, tmp_path, flood=True) as world:
        for reader in readers:
            fake_telegram.user_sends(reader, f"/submit {world.page(f'burst{reader}')}")
        # 0.5 s apart: the last card comes about 4 s after the first.
        await until(lambda: len(world.cards()) == BURST, within=20)
        assert fake_telegram.violations == []
        store = world.runtime.services.submissions.store

        async def carded() -> int:
            return sum(1 for row in await store.list_by_state("pending") if row.cards)

        async with asyncio.timeout(10):
            while await carded() < BURST:  # noqa: ASYNC110 - a predicate over the store
                await asyncio.sleep(0.01)
        assert len(world.cards()) == BURST  # one card each, none resent
