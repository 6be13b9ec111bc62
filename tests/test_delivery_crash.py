"""A worker that dies between sending and recording, and the worker that comes after it.

The process "dies" by cancelling the worker task while its request is in flight
(the fake answers slowly); a new worker with a new owner then opens the same
database file. Proven: a live lease is left alone; once it has expired, a
Telegram row is `in_doubt` with a card for the editors ([Post again] /
[Mark as sent]) and the post exists exactly once; an X row is resent and exists
exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.delivery.workers import DeliveryWorker
from bot.fakes.telegram import Fault
from bot.fakes.x import CREATE_POST, FakeX, FaultKind
from publishers.x_client import XClient
from tests.conftest import CHANNEL_ID, EDITOR_ID, X_CREDENTIALS
from tests.delivery_support import (
    cards,
    channel_fake,
    enqueue,
    eventually,
    has_message,
    opened_store,
    run_workers_until,
    sent,
    settled,
    states,
    telegram_bot,
    telegram_payload,
    telegram_worker,
    texts,
    x_payload,
    x_worker,
)

pytestmark = pytest.mark.slow  # each test waits out a dead worker's lease

LEASE = 1.5  # long enough to see it respected, short enough to wait out


async def die_mid_send(worker: DeliveryWorker, in_flight: asyncio.Future[None]) -> None:
    """Run the worker until its request is in flight, then kill it like a crash would."""
    task = asyncio.create_task(worker.run(asyncio.Event()))
    try:
        await asyncio.wait_for(asyncio.shield(in_flight), timeout=10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_telegram_row_is_in_doubt_with_a_card_after_the_dead_workers_lease(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "weeklybot.db"
    async with channel_fake() as tg:
        async with opened_store(db_path) as store:
            row_id, later_id = await enqueue(
                store.outbox,
                "telegram",
                [telegram_payload("caught mid-send"), telegram_payload("the next post")],
            )
        tg.inject(Fault.slow(3.0), method="sendMessage")  # Telegram acts, then answers late

        # First life: the post reaches the channel, the answer never reaches the bot.
        async with opened_store(db_path) as store, telegram_bot(tg, read_timeout=10) as bot:
            in_channel = asyncio.ensure_future(eventually(lambda: has_message(tg)))
            await die_mid_send(telegram_worker(store, bot, lease=LEASE), in_channel)
            assert (await states(store.outbox, [row_id]))[row_id] == "sending"

        # Second life: a new owner on the same file.
        async with opened_store(db_path) as store, telegram_bot(tg) as bot:
            successor = telegram_worker(store, bot, lease=LEASE)
            await successor.step()
            row = await store.outbox.get(row_id)
            assert row is not None
            assert row.state == "sending", "a live lease was disturbed"
            assert row.lease_owner != successor.owner

            await run_workers_until(
                [successor],
                lambda: settled(store.outbox, [row_id, later_id]),
                within=LEASE + 8,
            )

            row = await store.outbox.get(row_id)
            assert row is not None
            assert row.state == "in_doubt"
            assert row.last_error is not None
            assert "expired mid-send" in row.last_error
            assert (await states(store.outbox, [later_id]))[later_id] == "sent"
            for _ in range(3):  # nothing resends it on its own
                await successor.step()
            assert (await states(store.outbox, [row_id]))[row_id] == "in_doubt"

        assert texts(tg.sent(CHANNEL_ID)) == ["caught mid-send", "the next post"]
        (card,) = cards(tg, EDITOR_ID)
        assert card.callback_data() == {f"ob:again:{row_id}", f"ob:sent:{row_id}"}
        assert "May have been posted" in (card.text or "")
        assert "caught mid-send" in (card.text or "")


async def test_x_row_is_resent_once_after_the_dead_workers_lease(tmp_path: Path) -> None:
    db_path = tmp_path / "weeklybot.db"
    async with FakeX(**X_CREDENTIALS) as fx:
        async with opened_store(db_path) as store:
            (row_id,) = await enqueue(store.outbox, "x", [x_payload("caught mid-send on X")])
        fx.inject(FaultKind.SLOW, endpoint=CREATE_POST, delay=1.0)

        async with (
            opened_store(db_path) as store,
            XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=10) as client,
        ):
            in_flight = asyncio.ensure_future(eventually(x_acted(fx)))
            await die_mid_send(x_worker(store, client, lease=LEASE), in_flight)
            assert (await states(store.outbox, [row_id]))[row_id] == "sending"

        async with (
            opened_store(db_path) as store,
            XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=10) as client,
        ):
            successor = x_worker(store, client, lease=LEASE)
            await run_workers_until([successor], lambda: sent(store, row_id), within=LEASE + 8)
            events = [e.to_state for e in await store.outbox.events(row_id)]

        assert [p.text for p in fx.posts()] == ["caught mid-send on X"]
        assert events == ["queued", "sending", "in_doubt", "queued", "sending", "sent"]


def x_acted(fx: FakeX) -> Callable[[], Awaitable[bool]]:
    """X recorded the post (a slow answer is logged before its delay): the bot waits."""

    async def condition() -> bool:
        return bool(fx.posts())

    return condition
