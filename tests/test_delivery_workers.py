"""Several workers on one database, leases, the pool's lifecycle, and the retry policy.

Proven: two workers on two connections to one file never send the same row; a
worker that starts while another's send is in flight leaves that lease alone; a
slow (not dead) worker whose lease ran out still records the truth; the pool's
stop lets a send in flight finish and be recorded, or cancels it after the grace;
`wake()` ends idling at once; backoff stays within its bounds.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.delivery.workers import DeliveryPool, DeliveryWorker, RetryPolicy
from bot.fakes.telegram import FakeTelegram, Fault
from bot.fakes.x import FakeX
from data.store import Store
from publishers.pacing import TelegramPacer, XPacer
from publishers.telegram import TelegramPublisher
from publishers.x import XPublisher
from publishers.x_client import XClient
from tests.conftest import CHANNEL_ID, EDITOR_ID, X_CREDENTIALS
from tests.delivery_support import (
    ShiftedClock,
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
)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with channel_fake(scale=100) as fake:
        yield fake


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "weeklybot.db"


async def test_two_workers_on_one_database_never_send_the_same_row(
    tg: FakeTelegram, db_path: Path
) -> None:
    wanted = [f"post {n}" for n in range(40)]
    async with (
        opened_store(db_path) as first_store,
        opened_store(db_path) as second_store,
        telegram_bot(tg) as first_bot,
        telegram_bot(tg) as second_bot,
    ):
        ids = await enqueue(first_store.outbox, "telegram", map(telegram_payload, wanted))
        first = telegram_worker(first_store, first_bot)
        second = telegram_worker(second_store, second_bot)

        await run_workers_until([first, second], lambda: settled(first_store.outbox, ids))

        assert set((await states(second_store.outbox, ids)).values()) == {"sent"}
        events = [e for row_id in ids for e in await first_store.outbox.events(row_id)]
        senders = Counter(e.actor for e in events if e.to_state == "sent")
    assert Counter(texts(tg.sent(CHANNEL_ID))) == Counter(wanted)
    assert len(tg.calls_of("sendMessage")) == len(wanted)
    assert set(senders) == {first.owner, second.owner}, "both workers should have sent rows"


@pytest.mark.slow  # waits out real time
async def test_a_worker_starting_during_a_live_lease_leaves_it_alone(
    tg: FakeTelegram, db_path: Path
) -> None:
    async with (
        opened_store(db_path) as first_store,
        opened_store(db_path) as second_store,
        telegram_bot(tg) as first_bot,
        telegram_bot(tg) as second_bot,
    ):
        (row_id,) = await enqueue(first_store.outbox, "telegram", [telegram_payload("slow one")])
        tg.inject(Fault.slow(1.0), method="sendMessage")
        holder = asyncio.create_task(
            run_workers_until(
                [telegram_worker(first_store, first_bot)],
                lambda: settled(first_store.outbox, [row_id]),
            )
        )
        await eventually(lambda: has_message(tg))  # the holder's send is in flight
        newcomer = telegram_worker(second_store, second_bot, lease=0.1)
        steps = 0
        async with asyncio.timeout(10):
            while not holder.done():  # every step while the holder's send is in flight
                assert not await newcomer.step()
                steps += 1
                await asyncio.sleep(0.02)
        await holder
        assert steps >= 2

        events = [e.to_state for e in await second_store.outbox.events(row_id)]
    assert events == ["queued", "sending", "sent"]
    assert texts(tg.sent(CHANNEL_ID)) == ["slow one"]
    assert cards(tg, EDITOR_ID) == []


@pytest.mark.slow  # waits out real time
async def test_a_slow_worker_whose_lease_ran_out_still_records_the_truth(
    tg: FakeTelegram, db_path: Path
) -> None:
    """The other worker reaps the row and tells the editors; the slow one then reports sent."""
    async with (
        opened_store(db_path) as first_store,
        opened_store(db_path) as second_store,
        telegram_bot(tg) as first_bot,
        telegram_bot(tg) as second_bot,
    ):
        (row_id,) = await enqueue(first_store.outbox, "telegram", [telegram_payload("late")])
        tg.inject(Fault.slow(1.0), method="sendMessage")
        slow = asyncio.create_task(
            run_workers_until(
                [telegram_worker(first_store, first_bot, lease=0.3)],
                lambda: sent(first_store, row_id),
            )
        )
        await eventually(lambda: has_message(tg))
        reaper = telegram_worker(second_store, second_bot)
        await eventually(lambda: reaped(reaper, second_store, row_id))
        await asyncio.wait_for(slow, timeout=10)

        events = [e.to_state for e in await second_store.outbox.events(row_id)]
    assert events == ["queued", "sending", "in_doubt", "sent"]
    assert texts(tg.sent(CHANNEL_ID)) == ["late"]
    (card,) = cards(tg, EDITOR_ID)
    assert f"ob:again:{row_id}" in card.callback_data()


async def idling(worker: DeliveryWorker) -> bool:
    return worker.idling


async def reaped(worker: DeliveryWorker, store: Store, row_id: int) -> bool:
    await worker.reap()
    return (await states(store.outbox, [row_id]))[row_id] in ("in_doubt", "sent")


@pytest.mark.parametrize(("grace", "final"), [(5.0, "sent"), (0.1, "sending")])
@pytest.mark.slow  # waits out real time
async def test_pool_stop_lets_a_send_finish_within_the_grace_only(
    tg: FakeTelegram, db_path: Path, grace: float, final: str
) -> None:
    async with opened_store(db_path) as store, telegram_bot(tg) as bot:
        (row_id,) = await enqueue(store.outbox, "telegram", [telegram_payload("in flight")])
        tg.inject(Fault.slow(0.8), method="sendMessage")
        pool = DeliveryPool()
        pool.add(telegram_worker(store, bot))
        pool.start()
        await eventually(lambda: has_message(tg))

        await asyncio.wait_for(pool.stop(grace=grace), timeout=10)

        assert (await states(store.outbox, [row_id]))[row_id] == final
    assert texts(tg.sent(CHANNEL_ID)) == ["in flight"]


async def test_wake_ends_idling_at_once(tg: FakeTelegram, db_path: Path) -> None:
    async with opened_store(db_path) as store, telegram_bot(tg) as bot:
        pool = DeliveryPool()
        pool.add(telegram_worker(store, bot, idle_poll=30.0))
        pool.start()
        try:
            await eventually(lambda: idling(pool.workers[0]))  # it found nothing: 30 s idle
            (row_id,) = await enqueue(store.outbox, "telegram", [telegram_payload("woken")])
            pool.wake()
            await eventually(lambda: sent(store, row_id), within=5)
        finally:
            await pool.stop(grace=1)
    assert texts(tg.sent(CHANNEL_ID)) == ["woken"]


def test_backoff_grows_with_equal_jitter_and_stays_under_the_cap() -> None:
    policy = RetryPolicy(base=2.0, factor=2.0, cap=60.0)
    rng = random.Random(7)
    for attempts in range(1, 12):
        ceiling = min(60.0, 2.0 * 2.0 ** (attempts - 1))
        delays = [policy.delay(attempts, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert policy.delay(0, rng) <= 2.0


async def test_a_held_target_never_blocks_the_other(tmp_path: Path) -> None:
    """Telegram says "retry after 30 s"; X keeps posting meanwhile."""
    clock = ShiftedClock()
    async with (
        opened_store(tmp_path / "weeklybot.db") as store,
        FakeTelegram(limits_scale=50) as tg,
        FakeX(**X_CREDENTIALS, clock=clock) as fx,
        telegram_bot(tg) as bot,
        XClient(**X_CREDENTIALS, api_base_url=fx.base_url) as client,
    ):
        tg.add_channel(CHANNEL_ID, "held", "Held channel")
        tg.inject(Fault.retry_after(30), method="sendMessage")
        telegram_ids = await enqueue(store.outbox, "telegram", [telegram_payload("held back")])
        x_ids = await enqueue(store.outbox, "x", [x_payload(f"x post {n}") for n in range(3)])
        x_pacer = XPacer(posts_per_15min=100, posts_per_24h=1000, clock=clock)
        workers = [
            DeliveryWorker(
                outbox=store.outbox,
                publisher=TelegramPublisher(bot, CHANNEL_ID),
                pacer=TelegramPacer(posts_per_minute=600),
                idle_poll=0.05,
            ),
            DeliveryWorker(
                outbox=store.outbox,
                publisher=XPublisher(client, x_pacer, clock=clock),
                pacer=x_pacer,
                idle_poll=0.05,
                clock=clock,
            ),
        ]

        async def x_done() -> bool:
            return set((await states(store.outbox, x_ids)).values()) == {"sent"}

        await run_workers_until(workers, x_done, within=10)

        assert [p.text for p in fx.posts()] == [f"x post {n}" for n in range(3)]
        assert set((await states(store.outbox, telegram_ids)).values()) == {"queued"}
        assert tg.sent(CHANNEL_ID) == []
