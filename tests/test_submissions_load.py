"""Readers submitting at once: the first link does not pay for the start-up work, and
every review card reaches the editors within Telegram's per-chat limits (the fake's
flood limits on), the run's cards spaced as one stream."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.domain import urls
from bot.fakes.telegram import FakeTelegram, Fault
from data.db import Database
from data.store import Store
from data.submissions import SubmissionStore
from handlers.context import submission_service
from tests.conftest import READER_ID, settings_for
from tests.test_submissions_bot import EDITORS_GROUP, World, until, world_with

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


# ---- links handled as tasks (`handlers.submissions._take_in_background`) ------------------


def send_together(tg: FakeTelegram, *messages: tuple[int, str]) -> None:
    """Queued with no await between: the bot gets them in one getUpdates, dispatched
    one after the other before any of their tasks runs."""
    for user_id, message in messages:
        tg.user_sends(user_id, message)


async def test_ten_readers_sending_one_link_together_store_it_once_in_fewer_commits(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    readers = range(6000, 6010)
    for reader in readers:
        fake_telegram.add_user(reader, f"Reader {reader}", None)
    async with world_with(fake_telegram, tmp_path) as world:
        url = world.page("same")
        db = world.runtime.services.store.db
        before = db.batches_committed
        send_together(fake_telegram, *((reader, f"/submit {url}") for reader in readers))
        await until(lambda: all(fake_telegram.sent(r) for r in readers))
        commits = db.batches_committed - before
        replies = [fake_telegram.sent(r)[0].text or "" for r in readers]
        store = world.runtime.services.submissions.store
        [row] = await store.list_by_state("pending")
        assert replies[0] == f"Received, #{row.id}: an editor will look at it."
        assert replies[1:] == [f"Already submitted (#{row.id}), waiting for review."] * 9
        # Twenty batched writes (ten creates, ten first-seen languages) shared commits.
        assert commits < 2 * len(readers)


async def test_one_readers_burst_of_links_is_judged_in_order_and_answered_in_order(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world_with(fake_telegram, tmp_path, daily_cap=3, max_pending_per_user=10) as world:
        links = [world.page(f"mine{n}") for n in range(6)]
        send_together(fake_telegram, *((READER_ID, f"/submit {link}") for link in links))
        await until(lambda: len(fake_telegram.sent(READER_ID)) == len(links))
        replies = [m.text or "" for m in fake_telegram.sent(READER_ID)]
        rows = await world.runtime.services.submissions.store.list_by_state("pending")
        assert sorted(r.canonical_url for r in rows) == sorted(links[:3])  # the first three
        ids = sorted(r.id for r in rows)
        assert replies[:3] == [f"Received, #{i}: an editor will look at it." for i in ids]
        assert all(r.startswith("You sent 3 links in the last 24 hours") for r in replies[3:]), (
            replies
        )


async def test_a_bare_submit_the_link_and_cancel_sent_together_are_answered_in_order(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world_with(fake_telegram, tmp_path) as world:
        await answered_in_order(world)


async def answered_in_order(world: World) -> None:
    tg = world.tg
    send_together(
        tg,
        (READER_ID, f"/submit {world.page('first')}"),
        (READER_ID, "/submit"),
        (READER_ID, world.page("second")),
        (READER_ID, "/cancel"),
    )
    await until(lambda: len(tg.sent(READER_ID)) == 4)
    replies = [m.text or "" for m in tg.sent(READER_ID)]
    assert replies[0].startswith("Received, #"), replies
    assert replies[1].startswith("Send me the link"), replies
    assert replies[2].startswith("Received, #"), replies
    assert replies[3] == "Nothing to cancel.", replies
    assert len(await world.runtime.services.submissions.store.list_by_state("pending")) == 2


async def test_an_error_in_a_links_task_reaches_the_error_handler(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world_with(fake_telegram, tmp_path) as world:
        await error_reported(world)


async def error_reported(world: World) -> None:
    tg = world.tg
    tg.inject(Fault.server_error(502, "Bad Gateway"), method="sendMessage")  # the receipt
    tg.user_sends(READER_ID, f"/submit {world.page('failing')}")
    await until(
        lambda: any(
            (m.text or "").startswith("⚠️ The bot failed on update") for m in tg.sent(EDITORS_GROUP)
        )
    )
    turns = world.runtime.services.turns
    await until(lambda: not turns.waiting(READER_ID))  # its turn is over all the same
    reply = await world.say(READER_ID, "/cancel")
    assert reply.text == "Nothing to cancel."


async def test_shutdown_waits_for_a_links_task_in_flight(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world_with(fake_telegram, tmp_path) as world:
        fake_telegram.inject(Fault.slow(1.0), method="sendMessage")  # the receipt, late
        fake_telegram.user_sends(READER_ID, f"/submit {world.page('late')}")
        store = world.runtime.services.submissions.store

        async def stored() -> bool:
            return bool(await store.list_by_state("pending"))

        async with asyncio.timeout(10):
            while not await stored():  # noqa: ASYNC110 - a predicate over the store
                await asyncio.sleep(0.01)
        assert not world.cards()
    # Stopped while the receipt was on its way: the task still ran to the review card.
    async with Database.open(tmp_path / "state" / "weeklybot.db") as db:
        [row] = await SubmissionStore(db).list_by_state("pending")
    assert row.cards
    assert len(world.cards()) == 1
