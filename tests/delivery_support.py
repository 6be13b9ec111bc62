"""Shared pieces of the delivery tests: a real store on a file, real PTB and tweepy
clients pointed at the loopback fakes, and bounded ways to run the workers.

Nothing here waits without a limit: every loop runs under `asyncio.timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path

import telegram
from telegram.request import HTTPXRequest

from bot.delivery.workers import Clock, DeliveryNotices, DeliveryWorker, RetryPolicy, stop_workers
from bot.editors.outbox_cards import EditorNotices
from bot.fakes.telegram import ChatMessage, FakeTelegram
from data.db import Database
from data.migrations import migrate
from data.outbox import OutboxRow, OutboxState, OutboxStore
from data.store import Store
from publishers.base import DoubtSettler
from publishers.pacing import TelegramPacer, XPacer
from publishers.posts import TelegramPost, TelegramText, XPost
from publishers.telegram import TelegramPublisher
from publishers.x import XPublisher
from publishers.x_client import XClient
from tests.conftest import CHANNEL_ID, CHANNEL_USERNAME, EDITOR_ID

# Small enough that a retried row comes back within a test, large enough to count.
FAST_RETRY = RetryPolicy(base=0.05, factor=2.0, cap=0.2, max_attempts=8)
FINAL_STATES: frozenset[OutboxState] = frozenset({"sent", "failed", "in_doubt", "cancelled"})
# Where a resend is safe the worker settles a doubt itself: `in_doubt` is not final there.
RESENDS_ITSELF = {
    "telegram": TelegramPublisher.resend_is_safe,
    "x": XPublisher.resend_is_safe,
}


def final_states(target: str) -> frozenset[OutboxState]:
    """The states a worker of `target` will not move a row out of by itself."""
    if RESENDS_ITSELF[target]:
        return FINAL_STATES - {"in_doubt"}
    return FINAL_STATES


class ShiftedClock:
    """Wall-clock time plus an offset the test moves; shared by a fake and the bot."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def set_now(self, when: float) -> None:
        """Make the clock read `when` right now, and keep running from there."""
        self.offset = when - time.time()


class RecordingNotices:
    """Collects the rows the worker hands to editors (for targets without a chat here)."""

    def __init__(self) -> None:
        self.in_doubt_rows: list[OutboxRow] = []
        self.failed_rows: list[OutboxRow] = []
        self.stranded_rows: list[OutboxRow] = []
        self.without_id_rows: list[OutboxRow] = []

    async def in_doubt(self, row: OutboxRow) -> None:
        self.in_doubt_rows.append(row)

    async def failed(self, row: OutboxRow) -> None:
        self.failed_rows.append(row)

    async def stranded(self, row: OutboxRow) -> None:
        self.stranded_rows.append(row)

    async def posted_without_id(self, row: OutboxRow) -> None:
        self.without_id_rows.append(row)


def free_port() -> int:
    """A loopback port nothing listens on (yet): connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def opened_store(path: Path) -> AsyncIterator[Store]:
    """A migrated store on a database file, closed on exit."""
    async with Database.open(path) as db:
        await migrate(db, now=time.time())
        yield Store(db)


def telegram_bot(
    tg: FakeTelegram, *, read_timeout: float = 5.0, base_url: str | None = None
) -> telegram.Bot:
    """A real PTB Bot talking HTTP to the fake (enter it with ``async with``)."""
    request = HTTPXRequest(read_timeout=read_timeout, connect_timeout=1.0)
    return telegram.Bot(tg.token, base_url=base_url or tg.base_url, request=request)


def channel_fake(*, scale: float = 50, port: int = 0, seed: int = 0) -> FakeTelegram:
    """A fake with the editor and the channel; flood limits ×`scale`, far above the pacing."""
    fake = FakeTelegram(limits_scale=scale, port=port, seed=seed)
    fake.add_user(EDITOR_ID, "Editor", "editor")
    fake.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Python Trending Weekly")
    return fake


def telegram_worker(
    store: Store,
    bot: telegram.Bot,
    *,
    lease: float = 30.0,
    retry: RetryPolicy = FAST_RETRY,
    idle_poll: float = 0.05,
    settler: DoubtSettler | None = None,
) -> DeliveryWorker:
    """A worker posting to the channel, with cards for the editor; seeded, so it repeats."""
    return DeliveryWorker(
        outbox=store.outbox,
        publisher=TelegramPublisher(bot, CHANNEL_ID),
        pacer=TelegramPacer(posts_per_minute=3000),  # one post every 20 ms
        notices=EditorNotices(bot, [EDITOR_ID], store.outbox),
        settler=settler,
        lease_seconds=lease,
        retry=retry,
        idle_poll=idle_poll,
        rng=random.Random(1),
    )


def x_worker(
    store: Store,
    client: XClient,
    *,
    clock: Clock = time.time,
    notices: DeliveryNotices | None = None,
    lease: float = 120.0,
    retry: RetryPolicy = FAST_RETRY,
) -> DeliveryWorker:
    """A worker posting to X, its pacer, publisher and itself all reading `clock`."""
    pacer = XPacer(posts_per_15min=100, posts_per_24h=1000, clock=clock)
    return DeliveryWorker(
        outbox=store.outbox,
        publisher=XPublisher(client, pacer, clock=clock),
        pacer=pacer,
        notices=notices,
        lease_seconds=lease,
        retry=retry,
        idle_poll=0.05,
        clock=clock,
        rng=random.Random(1),
    )


def telegram_payload(html: str) -> dict[str, object]:
    return TelegramPost(parts=(TelegramText(html=html),)).to_payload()


def x_payload(text: str) -> dict[str, object]:
    return XPost(text=text).to_payload()


async def enqueue(
    outbox: OutboxStore,
    target: str,
    payloads: Iterable[dict[str, object]],
    *,
    prefix: str = "t",
    kind: str = "item",
    group: str | None = None,
) -> list[int]:
    """Queue one row per payload; with `group`, as that ordered group's parts in order."""
    ids: list[int] = []
    for n, payload in enumerate(payloads):
        row_id = await outbox.enqueue(
            idempotency_key=f"{prefix}:{n}",
            target=target,
            kind=kind,
            payload=payload,
            now=time.time(),
            group_key=group,
            seq=n if group is not None else None,
        )
        assert row_id is not None
        ids.append(row_id)
    return ids


async def states(outbox: OutboxStore, ids: Sequence[int]) -> dict[int, OutboxState]:
    result: dict[int, OutboxState] = {}
    for row_id in ids:
        row = await outbox.get(row_id)
        assert row is not None
        result[row_id] = row.state
    return result


async def sent(store: Store, row_id: int) -> bool:
    return (await states(store.outbox, [row_id]))[row_id] == "sent"


async def has_message(tg: FakeTelegram) -> bool:
    """Something reached the channel (with a slow fault: Telegram acted, the answer is late)."""
    return bool(tg.sent(CHANNEL_ID))


async def settled(outbox: OutboxStore, ids: Sequence[int]) -> bool:
    """Every row reached a state its target's worker will not move it out of by itself."""
    for row_id in ids:
        row = await outbox.get(row_id)
        assert row is not None
        if row.state not in final_states(row.target):
            return False
    return True


async def run_workers_until(
    workers: Sequence[DeliveryWorker],
    condition: Callable[[], asyncio.Future[bool] | object],
    *,
    within: float = 20.0,
    grace: float = 5.0,
) -> None:
    """Run the workers concurrently until `condition()` (awaited if needed) holds."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        async with asyncio.timeout(within):
            while True:
                value = condition()
                if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
                    value = await value
                if value:
                    break
                for task in tasks:
                    if task.done():
                        task.result()  # a crashed worker fails the test with its error
                        raise AssertionError("a worker stopped by itself")
                await asyncio.sleep(0.02)
    finally:
        await stop_workers(tasks, stop, grace=grace)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise AssertionError("a worker crashed") from task.exception()


async def eventually(condition: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """Wait until `condition()` holds; it lives in a database or a fake, not in an event."""
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110 - nothing to wait on but the state
            await asyncio.sleep(0.02)


async def step_until_idle(worker: DeliveryWorker, *, within: float = 10.0) -> int:
    """Call `step()` until it finds nothing to do; return how many rows it handled."""
    handled = 0
    async with asyncio.timeout(within):
        while await worker.step():
            handled += 1
    return handled


def texts(messages: Iterable[ChatMessage]) -> list[str]:
    return [m.text or m.caption or "" for m in messages]


def cards(tg: FakeTelegram, chat_id: int) -> list[ChatMessage]:
    """The editor cards in a chat: bot messages with outbox buttons."""
    return [m for m in tg.sent(chat_id) if any(d.startswith("ob:") for d in m.callback_data())]
