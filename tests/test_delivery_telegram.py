"""The delivery worker publishing to the fake Telegram through real PTB and a real outbox.

What is proven: a 429 is waited out for the announced time and never repeated;
errors and refused connections end with every post in the channel exactly once;
timeouts and dropped connections leave rows `in_doubt` (never resent) with a card
for the editors; a post Telegram refuses fails after one call, with a card.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import telegram

from bot.delivery.workers import RetryPolicy
from bot.fakes.telegram import FakeTelegram, Fault
from data.outbox import OutboxStore
from data.store import Store
from tests.conftest import CHANNEL_ID, EDITOR_ID
from tests.delivery_support import (
    cards,
    channel_fake,
    enqueue,
    eventually,
    free_port,
    opened_store,
    run_workers_until,
    settled,
    states,
    telegram_bot,
    telegram_payload,
    telegram_worker,
    texts,
)


def post_texts(count: int, prefix: str = "post") -> list[str]:
    return [f"{prefix} {n}: a project worth a look" for n in range(count)]


def channel_sends(tg: FakeTelegram) -> list[tuple[float, int, str | None]]:
    return [
        (c.at, c.status, c.fault) for c in tg.calls_of("sendMessage") if c.chat_id == CHANNEL_ID
    ]


async def attempted_twice(outbox: OutboxStore, row_id: int) -> bool:
    row = await outbox.get(row_id)
    return row is not None and row.attempts >= 2


def all_done(outbox: OutboxStore, ids: list[int]) -> object:
    return lambda: settled(outbox, ids)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with channel_fake() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with telegram_bot(tg, read_timeout=0.5) as real_bot:
        yield real_bot


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with opened_store(tmp_path / "weeklybot.db") as opened:
        yield opened


@pytest.mark.slow  # waits out real time
async def test_retry_after_is_waited_out_and_never_met_twice(
    tg: FakeTelegram, bot: telegram.Bot, store: Store
) -> None:
    wanted = post_texts(3)
    ids = await enqueue(store.outbox, "telegram", map(telegram_payload, wanted))
    tg.inject(Fault.retry_after(1), method="sendMessage")

    await run_workers_until([telegram_worker(store, bot)], all_done(store.outbox, ids))

    sends = channel_sends(tg)
    statuses = [status for _, status, _ in sends]
    assert statuses == [429, 200, 200, 200]
    refused_at, next_at = sends[0][0], sends[1][0]
    assert next_at - refused_at >= 1.0
    assert tg.violations == []
    assert texts(tg.sent(CHANNEL_ID)) == wanted
    assert set((await states(store.outbox, ids)).values()) == {"sent"}


@pytest.mark.slow  # waits out real time
async def test_errors_and_refused_connections_still_deliver_every_post_once(
    tmp_path: Path, store: Store
) -> None:
    """20% of sends answer 429 or 500; before that, the port refuses connections."""
    port = free_port()
    wanted = post_texts(25)
    ids = await enqueue(store.outbox, "telegram", map(telegram_payload, wanted))
    patient = RetryPolicy(base=0.05, factor=2.0, cap=0.2, max_attempts=30)

    # The bot is initialised (getMe) against a first fake, which then goes away.
    async with channel_fake(port=port) as first:
        bot = telegram_bot(first, read_timeout=0.5)
        await bot.initialize()
    async with bot:
        worker = telegram_worker(store, bot, retry=patient)

        async def refused_then_served() -> None:
            await eventually(lambda: attempted_twice(store.outbox, ids[0]))
            fake.inject_rate(Fault.retry_after(1), 0.1, method="sendMessage")
            fake.inject_rate(Fault.server_error(500), 0.1 / 0.9, method="sendMessage")
            await fake.start()

        fake = channel_fake(port=port, seed=3)
        try:
            starter = asyncio.create_task(refused_then_served())
            await run_workers_until([worker], all_done(store.outbox, ids), within=40)
            await starter
        finally:
            await fake.close()

    assert Counter(texts(fake.sent(CHANNEL_ID))) == Counter(wanted)
    assert set((await states(store.outbox, ids)).values()) == {"sent"}
    faults = Counter(fault for _, _, fault in channel_sends(fake) if fault)
    assert faults["retry_after"] >= 1
    assert faults["server_error"] >= 1
    assert fake.violations == []
    unreachable = [
        e
        for row_id in ids
        for e in await store.outbox.events(row_id)
        if e.detail and "unreachable" in e.detail
    ]
    assert unreachable, "no attempt met the refused connection"


@pytest.mark.slow  # waits out real time
async def test_timeouts_and_drops_leave_rows_in_doubt_and_never_resend(store: Store) -> None:
    """20% of calls time out or lose the connection, before or after Telegram acted.

    The editor cards go through the same faulty API: seed 7 loses one of them
    (dropped before Telegram saw it) and times out on another (delivered anyway).
    """
    wanted = post_texts(25)
    ids = await enqueue(store.outbox, "telegram", map(telegram_payload, wanted))
    async with channel_fake(seed=7) as tg, telegram_bot(tg, read_timeout=0.5) as bot:
        tg.inject_rate(Fault.timeout(1.0), 0.07, method="sendMessage")
        tg.inject_rate(Fault.drop_before(), 0.07, method="sendMessage")
        tg.inject_rate(Fault.drop_after(), 0.07, method="sendMessage")
        await run_workers_until([telegram_worker(store, bot)], all_done(store.outbox, ids))

    final = await states(store.outbox, ids)
    doubtful = {row_id for row_id, state in final.items() if state == "in_doubt"}
    assert set(final.values()) <= {"sent", "in_doubt"}
    sends = channel_sends(tg)
    assert len(sends) == len(wanted), "a row was sent more than once"
    faulted = [fault for _, _, fault in sends if fault]
    assert len(doubtful) == len(faulted) > 0
    assert {"slow", "drop_before", "drop_after"} <= set(faulted)
    in_channel = Counter(texts(tg.sent(CHANNEL_ID)))
    assert max(in_channel.values()) == 1
    assert len(in_channel) == len(wanted) - faulted.count("drop_before")
    for row_id, text in zip(ids, wanted, strict=True):
        if row_id not in doubtful:
            assert in_channel[text] == 1
    # One card per doubtful row, except where the card itself never reached the chat.
    editor_calls = [c for c in tg.calls_of("sendMessage") if c.chat_id == EDITOR_ID]
    lost_cards = sum(1 for c in editor_calls if c.fault == "drop_before")
    card_ids = [_outbox_id(card.callback_data()) for card in cards(tg, EDITOR_ID)]
    assert len(card_ids) == len(set(card_ids)) == len(doubtful) - lost_cards
    assert set(card_ids) <= doubtful


async def test_bad_entities_fail_after_one_call_and_editors_get_the_card(
    tg: FakeTelegram, bot: telegram.Bot, store: Store
) -> None:
    ids = await enqueue(
        store.outbox,
        "telegram",
        [telegram_payload("<b>unclosed bold"), telegram_payload("a good post")],
    )

    await run_workers_until([telegram_worker(store, bot)], all_done(store.outbox, ids))

    assert await states(store.outbox, ids) == {ids[0]: "failed", ids[1]: "sent"}
    statuses = [status for _, status, _ in channel_sends(tg)]
    assert statuses == [400, 200]
    row = await store.outbox.get(ids[0])
    assert row is not None
    assert row.attempts == 1
    assert row.last_error is not None
    assert "can't parse entities" in row.last_error.lower()
    (card,) = cards(tg, EDITOR_ID)
    assert card.callback_data() == {f"ob:retry:{ids[0]}", f"ob:cancel:{ids[0]}"}
    assert "Not posted" in (card.text or "")
    assert texts(tg.sent(CHANNEL_ID)) == ["a good post"]


async def test_server_errors_give_up_after_max_attempts_with_a_card(
    tg: FakeTelegram, bot: telegram.Bot, store: Store
) -> None:
    (row_id,) = await enqueue(store.outbox, "telegram", [telegram_payload("never lands")])
    tg.inject(Fault.server_error(502, "Bad Gateway"), method="sendMessage", times=3)
    worker = telegram_worker(store, bot, retry=RetryPolicy(base=0.02, cap=0.05, max_attempts=3))

    await run_workers_until([worker], all_done(store.outbox, [row_id]))

    row = await store.outbox.get(row_id)
    assert row is not None
    assert (row.state, row.attempts) == ("failed", 3)
    assert row.last_error is not None
    assert row.last_error.startswith("gave up after 3 attempts")
    assert [status for _, status, _ in channel_sends(tg)] == [502, 502, 502]
    (card,) = cards(tg, EDITOR_ID)
    assert f"ob:retry:{row_id}" in card.callback_data()
    assert tg.sent(CHANNEL_ID) == []


def _outbox_id(callback_data: frozenset[str]) -> int:
    (row_id,) = {int(data.rsplit(":", 1)[1]) for data in callback_data}
    return row_id


@pytest.mark.slow  # waits out real time
async def test_repeated_flood_limits_are_bounded_too(
    tg: FakeTelegram, bot: telegram.Bot, store: Store
) -> None:
    (row_id,) = await enqueue(store.outbox, "telegram", [telegram_payload("always too soon")])
    tg.inject(Fault.retry_after(1), method="sendMessage", times=2)
    worker = telegram_worker(store, bot, retry=RetryPolicy(base=0.02, cap=0.05, max_attempts=2))

    await run_workers_until([worker], all_done(store.outbox, [row_id]))

    row = await store.outbox.get(row_id)
    assert row is not None
    assert (row.state, row.attempts) == ("failed", 2)
    assert [status for _, status, _ in channel_sends(tg)] == [429, 429]
    assert tg.violations == []  # the second try still waited out the first retry_after
