"""Restart hygiene: what a crash or a dead predecessor leaves behind is found and settled.

Through real PTB and tweepy against the fakes: the start-up sweep cards a doubt
nobody was told about, a crash while waiting for the pacer requeues without a
false card, a platform's hold outlives a restart, a dead predecessor's leases end
at once, a stranded group gets a card, a 502 page is retried, a handled 429 logs
one WARNING line.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.delivery.workers import DeliveryWorker
from bot.editors.outbox_cards import EditorNotices
from bot.fakes.telegram import FakeTelegram, Fault
from bot.fakes.x import CREATE_POST, FakeX
from data.store import Store
from publishers.pacing import TelegramPacer
from publishers.telegram import TelegramPublisher
from publishers.x_client import XClient
from tests.conftest import CHANNEL_ID, EDITOR_ID, X_CREDENTIALS
from tests.delivery_support import (
    FAST_RETRY,
    cards,
    channel_fake,
    enqueue,
    eventually,
    opened_store,
    run_workers_until,
    sent,
    states,
    telegram_bot,
    telegram_payload,
    telegram_worker,
    texts,
    x_payload,
    x_worker,
)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with channel_fake() as fake:
        yield fake


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with opened_store(tmp_path / "weeklybot.db") as opened:
        yield opened


def dead_pid() -> int:
    """The pid of a process that has ended (reaped, so it is not running)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def begun(store: Store, target: str, owner: str, lease: float = 120.0) -> int:
    """Claim the next row of `target` as `owner` and begin its send, as a worker does."""
    row = await store.outbox.claim_next(target, owner=owner, lease_seconds=lease, now=time.time())
    assert row is not None
    assert await store.outbox.mark_started(
        row.id, owner=owner, lease_seconds=lease, now=time.time()
    )
    return row.id


async def test_x_doubt_and_requeue_are_one_write(store: Store) -> None:
    (row_id,) = await enqueue(store.outbox, "x", [x_payload("once")])
    await begun(store, "x", "w")
    assert await store.outbox.mark_in_doubt(
        row_id, owner="w", error="timed out", now=time.time(), requeue=True
    )
    row = await store.outbox.get(row_id)
    assert row is not None
    assert (row.state, row.lease_owner) == ("queued", None)
    doubt, requeue = (await store.outbox.events(row_id))[-2:]
    assert (doubt.from_state, doubt.to_state, requeue.to_state) == ("sending", "in_doubt", "queued")
    assert doubt.at == requeue.at  # one transaction: there is no moment in between
    # A second report of the same lost lease changes nothing.
    assert not await store.outbox.mark_in_doubt(
        row_id, owner="w", error="again", now=time.time(), requeue=True
    )


async def test_the_start_sweep_cards_rows_whose_card_was_lost(
    tg: FakeTelegram, store: Store
) -> None:
    doubt_id, failed_id = await enqueue(
        store.outbox, "telegram", [telegram_payload("maybe out"), telegram_payload("refused")]
    )
    # A crash right after each write: the state is recorded, the card never sent.
    await begun(store, "telegram", "gone")
    assert await store.outbox.mark_in_doubt(doubt_id, owner="gone", error="e", now=time.time())
    await begun(store, "telegram", "gone")
    assert await store.outbox.mark_failed(failed_id, owner="gone", error="e", now=time.time())
    assert {r.id for r in await store.outbox.unnoticed("telegram")} == {doubt_id, failed_id}

    async with telegram_bot(tg) as bot:
        worker = telegram_worker(store, bot)
        await worker.recover()
        await worker.recover()  # a second start finds nothing left unseen

    buttons = sorted(sorted(card.callback_data()) for card in cards(tg, EDITOR_ID))
    assert buttons == [
        sorted({f"ob:again:{doubt_id}", f"ob:sent:{doubt_id}"}),
        sorted({f"ob:cancel:{failed_id}", f"ob:retry:{failed_id}"}),
    ]
    assert await store.outbox.unnoticed("telegram") == []
    assert tg.sent(CHANNEL_ID) == []  # nothing was posted behind the editors' back


async def test_an_x_doubt_left_by_a_crash_is_resent_at_start(store: Store) -> None:
    (row_id,) = await enqueue(store.outbox, "x", [x_payload("left in doubt")])
    await begun(store, "x", "gone")
    assert await store.outbox.mark_in_doubt(row_id, owner="gone", error="e", now=time.time())
    async with (
        FakeX(**X_CREDENTIALS) as fx,
        XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as client,
    ):
        worker = x_worker(store, client)
        await worker.recover()
        assert (await states(store.outbox, [row_id]))[row_id] == "queued"
        await run_workers_until([worker], lambda: sent(store, row_id))
        assert [p.text for p in fx.posts()] == ["left in doubt"]


async def test_a_crash_while_waiting_for_the_pacer_requeues_without_a_card(
    tg: FakeTelegram, store: Store
) -> None:
    first_id, second_id = await enqueue(
        store.outbox, "telegram", [telegram_payload("first"), telegram_payload("second")]
    )
    async with telegram_bot(tg) as bot:
        # One post a minute: the second row is claimed, then waits for the pacer.
        slow = DeliveryWorker(
            outbox=store.outbox,
            publisher=TelegramPublisher(bot, CHANNEL_ID),
            pacer=TelegramPacer(posts_per_minute=1),
            notices=EditorNotices(bot, [EDITOR_ID], store.outbox),
            lease_seconds=120,
            retry=FAST_RETRY,
            idle_poll=0.05,
        )
        task = asyncio.create_task(slow.run(asyncio.Event()))

        async def waiting() -> bool:
            row = await store.outbox.get(second_id)
            return row is not None and row.state == "sending"

        await eventually(waiting)
        task.cancel()  # the crash
        await asyncio.gather(task, return_exceptions=True)
        row = await store.outbox.get(second_id)
        assert row is not None
        assert row.started_at is None

        successor = telegram_worker(store, bot)
        await successor.recover()  # the dead run's lease ends now, not in 120 s
        assert (await states(store.outbox, [second_id]))[second_id] == "queued"
        await run_workers_until([successor], lambda: sent(store, second_id), within=10)

    assert texts(tg.sent(CHANNEL_ID)) == ["first", "second"]
    assert cards(tg, EDITOR_ID) == []  # no false "may have been posted"
    events = [e.to_state for e in await store.outbox.events(second_id)]
    assert events == ["queued", "sending", "queued", "sending", "sent"]
    assert (await states(store.outbox, [first_id]))[first_id] == "sent"


async def test_a_platform_hold_outlives_a_restart(tg: FakeTelegram, store: Store) -> None:
    first_id, second_id = await enqueue(
        store.outbox, "telegram", [telegram_payload("held"), telegram_payload("after")]
    )
    tg.inject(Fault.retry_after(2), method="sendMessage")
    async with telegram_bot(tg) as bot:
        first_life = telegram_worker(store, bot)
        assert await first_life.step()  # answered 429, retry_after 2
        hold = await store.outbox.hold_of("telegram")
        assert hold >= time.time() + 1

        restarted = telegram_worker(store, bot)  # a new pacer that knows nothing
        await run_workers_until([restarted], lambda: all_sent(store, [first_id, second_id]))

    assert sorted(texts(tg.sent(CHANNEL_ID))) == ["after", "held"]
    assert tg.violations == []  # nothing reached the chat inside the announced wait
    assert all(call.at >= hold for call in tg.calls_of("sendMessage") if call.status == 200)


async def all_sent(store: Store, ids: list[int]) -> bool:
    return set((await states(store.outbox, ids)).values()) == {"sent"}


async def test_a_dead_predecessors_leases_end_at_once(store: Store) -> None:
    """A thread's first part was mid-send when the bot died; 120 s leases do not stall it."""
    parts = [x_payload("1/2 thread"), x_payload("2/2 thread")]
    thread = await enqueue(
        store.outbox, "x", parts, prefix="thread", kind="thread_part", group="thread"
    )
    (other_id,) = await enqueue(store.outbox, "x", [x_payload("another host's")], prefix="o")
    dead_owner = f"x@{socket.gethostname()}:{dead_pid()}:abc123"
    assert await begun(store, "x", dead_owner) == thread[0]
    other_owner = "x@elsewhere:1:def456"  # another host: its lease runs out by itself
    assert await begun(store, "x", other_owner) == other_id

    async with (
        FakeX(**X_CREDENTIALS) as fx,
        XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as client,
    ):
        worker = x_worker(store, client, lease=120)
        started = time.monotonic()
        await worker.recover()
        await run_workers_until([worker], lambda: all_sent(store, thread), within=10)
        elapsed = time.monotonic() - started
        posts = fx.posts()

    assert elapsed < 10
    assert [p.text for p in posts] == ["1/2 thread", "2/2 thread"]
    assert posts[1].reply_to == posts[0].id
    other = await store.outbox.get(other_id)
    assert other is not None
    assert (other.state, other.lease_owner) == ("sending", other_owner)
    assert len([c for c in fx.calls(CREATE_POST) if c.status == 201]) == 2


async def test_the_start_sweep_cards_a_stranded_group(tg: FakeTelegram, store: Store) -> None:
    parts = [telegram_payload(text) for text in ["photo", "text", "more"]]
    ids = await enqueue(store.outbox, "telegram", parts, prefix="item", group="item")
    # Older code dropped the first part alone: the rest can never be claimed.
    assert await store.outbox.cancel(ids[0], actor="user:1", now=time.time())
    assert [r.id for r in await store.outbox.stranded("telegram")] == [ids[0]]

    async with telegram_bot(tg) as bot:
        worker = telegram_worker(store, bot)
        await worker.recover()
        assert not await worker.step()  # still stranded until an editor chooses
        (card,) = cards(tg, EDITOR_ID)
        assert card.callback_data() == {f"ob:skip:{ids[0]}", f"ob:dropall:{ids[0]}"}
        assert "2 later part(s)" in (card.text or "")

        assert await store.outbox.skip_part(ids[0], actor="user:1", now=time.time())
        await run_workers_until([worker], lambda: sent(store, ids[2]))
    assert texts(tg.sent(CHANNEL_ID)) == ["text", "more"]
    assert await store.outbox.stranded("telegram") == []


async def test_a_502_page_is_retried_not_doubted(tg: FakeTelegram, store: Store) -> None:
    (row_id,) = await enqueue(store.outbox, "telegram", [telegram_payload("through the proxy")])
    tg.inject(Fault.gateway_page(), method="sendMessage")
    async with telegram_bot(tg) as bot:
        await run_workers_until([telegram_worker(store, bot)], lambda: sent(store, row_id))

    assert [c.status for c in tg.calls_of("sendMessage")] == [502, 200]
    events = [e.to_state for e in await store.outbox.events(row_id)]
    assert events == ["queued", "sending", "queued", "sending", "sent"]
    assert texts(tg.sent(CHANNEL_ID)) == ["through the proxy"]
    assert cards(tg, EDITOR_ID) == []


async def test_a_handled_429_logs_one_warning_line(
    tg: FakeTelegram, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    (row_id,) = await enqueue(store.outbox, "telegram", [telegram_payload("slow down")])
    tg.inject(Fault.retry_after(1), method="sendMessage")
    caplog.set_level(logging.DEBUG)
    async with telegram_bot(tg) as bot:
        await run_workers_until([telegram_worker(store, bot)], lambda: sent(store, row_id))

    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname, r.getMessage()) for r in loud] == [
        ("bot.delivery.workers", "WARNING", "retry later")
    ]
    assert loud[0].exc_info is None
