"""The delivery worker publishing to the fake X through real tweepy and a real outbox.

What is proven: a 429 is waited out until the reset X reported (the 15-minute
window, or the 24-hour cap when that is what ran out) and never met twice; a
window the headers show as spent holds the target before any 429; faults at 20%
and refused connections still post everything exactly once, because a doubtful
attempt is resolved by a resend that X refuses as a duplicate when the first
went out, and the post's id is then looked up on the user's timeline so that a
thread continues under it; a duplicate on a first attempt fails at once.

FakeX's SLOW fault acts first and answers late, so a client timeout there is
"X acted, the answer was lost", like DROP_AFTER.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.delivery.workers import RetryPolicy
from bot.fakes.x import CREATE_POST, USER_POSTS, FakeX, FaultKind, XLimits
from data.store import Store
from publishers.x_client import XClient
from tests.conftest import X_CREDENTIALS
from tests.delivery_support import (
    RecordingNotices,
    ShiftedClock,
    enqueue,
    eventually,
    free_port,
    opened_store,
    run_workers_until,
    settled,
    states,
    x_payload,
    x_worker,
)


def post_texts(count: int, prefix: str = "post") -> list[str]:
    return [f"{prefix} {n}: a Python project worth a look" for n in range(count)]


def create_statuses(fx: FakeX) -> list[int | None]:
    return [call.status for call in fx.calls(CREATE_POST)]


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with opened_store(tmp_path / "weeklybot.db") as opened:
        yield opened


async def post_elsewhere(fx: FakeX, texts: list[str]) -> float:
    """Spend quota from another session of the same user; return when the window opened."""
    async with XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as other:
        for text in texts:
            await other.create_post(text)
    return fx.posts()[0].created_at


@pytest.mark.slow  # waits out real time
async def test_429_waits_for_the_15_minute_reset_and_is_not_met_twice(
    clock: ShiftedClock, store: Store
) -> None:
    async with FakeX(**X_CREDENTIALS, clock=clock, limits=XLimits(post_15m=2)) as fx:
        opened_at = await post_elsewhere(fx, ["elsewhere 1", "elsewhere 2"])
        clock.set_now(opened_at + 15 * 60 - 2)  # the window resets in about 2 s
        wanted = post_texts(2)
        ids = await enqueue(store.outbox, "x", map(x_payload, wanted))
        async with XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as client:
            worker = x_worker(store, client, clock=clock)
            await run_workers_until([worker], lambda: settled(store.outbox, ids), within=15)

        assert create_statuses(fx) == [201, 201, 429, 201, 201]
        first_after = fx.calls(CREATE_POST)[3]
        assert first_after.at >= opened_at + 15 * 60
        assert [p.text for p in fx.posts()[2:]] == wanted
    assert set((await states(store.outbox, ids)).values()) == {"sent"}


@pytest.mark.slow  # waits out real time
async def test_a_window_spent_per_the_headers_holds_before_any_429(
    clock: ShiftedClock, store: Store
) -> None:
    async with (
        FakeX(**X_CREDENTIALS, clock=clock, limits=XLimits(post_15m=2)) as fx,
        XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as client,
    ):
        worker = x_worker(store, client, clock=clock)
        first = await enqueue(store.outbox, "x", map(x_payload, post_texts(2)))
        await run_workers_until([worker], lambda: settled(store.outbox, first))
        opened_at = fx.posts()[0].created_at
        clock.set_now(opened_at + 15 * 60 - 2)
        (last,) = await enqueue(store.outbox, "x", [x_payload("the third")], prefix="late")

        await run_workers_until([worker], lambda: settled(store.outbox, [last]), within=15)

        assert create_statuses(fx) == [201, 201, 201]
        assert fx.calls(CREATE_POST)[2].at >= opened_at + 15 * 60
        assert fx.posts()[2].text == "the third"


@pytest.mark.slow  # waits out real time
async def test_a_spent_24_hour_cap_is_waited_out_until_its_own_reset(
    clock: ShiftedClock, store: Store
) -> None:
    """The 15-minute window has room, so tweepy's reset_time (its reset) is not the wait."""
    limits = XLimits(post_15m=100, post_user_24h=2, post_app_24h=100)
    async with FakeX(**X_CREDENTIALS, clock=clock, limits=limits) as fx:
        opened_at = await post_elsewhere(fx, ["elsewhere 1", "elsewhere 2"])
        clock.set_now(opened_at + 24 * 3600 - 2)  # the daily cap resets in about 2 s
        (row_id,) = await enqueue(store.outbox, "x", [x_payload("after the daily cap")])
        async with XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as client:
            worker = x_worker(store, client, clock=clock)
            await run_workers_until([worker], lambda: settled(store.outbox, [row_id]), within=15)

        assert create_statuses(fx) == [201, 201, 429, 201]
        assert fx.calls(CREATE_POST)[3].at >= opened_at + 24 * 3600
        assert fx.posts()[-1].text == "after the daily cap"
    assert (await states(store.outbox, [row_id]))[row_id] == "sent"


@pytest.mark.slow  # waits out real time
async def test_faults_at_20_percent_and_refused_connections_post_everything_once(
    clock: ShiftedClock, store: Store
) -> None:
    """5xx, timeouts and connections dropped before or after X acted, at 20%."""
    port = free_port()
    wanted = post_texts(25)
    ids = await enqueue(store.outbox, "x", map(x_payload, wanted))
    patient = RetryPolicy(base=0.05, factor=2.0, cap=0.2, max_attempts=30)
    fx = FakeX(**X_CREDENTIALS, clock=clock, port=port)
    fx.set_fault_rate(
        0.2,
        [FaultKind.SERVER_ERROR, FaultKind.SLOW, FaultKind.DROP_BEFORE, FaultKind.DROP_AFTER],
        seed=24,
        endpoint=CREATE_POST,
        delay=0.6,  # past the client's 0.3 s timeout: X acts after the client gave up
    )
    async with XClient(
        **X_CREDENTIALS, api_base_url=f"http://127.0.0.1:{port}", timeout=0.3
    ) as client:
        worker = x_worker(store, client, clock=clock, retry=patient)

        async def refused_then_served() -> None:
            async def refused_once() -> bool:
                row = await store.outbox.get(ids[0])
                return row is not None and row.attempts >= 2

            await eventually(refused_once)
            await fx.start()

        try:
            starter = asyncio.create_task(refused_then_served())
            await run_workers_until([worker], lambda: settled(store.outbox, ids), within=40)
            await starter
        finally:
            # aiohttp's graceful shutdown waits for handlers still running, so every
            # late slow answer has landed before the posts are counted.
            await fx.close()

    assert Counter(p.text for p in fx.posts()) == Counter(wanted)
    assert set((await states(store.outbox, ids)).values()) == {"sent"}
    faults = {call.fault for call in fx.calls(CREATE_POST) if call.fault}
    assert faults == {
        FaultKind.SERVER_ERROR,
        FaultKind.SLOW,
        FaultKind.DROP_BEFORE,
        FaultKind.DROP_AFTER,
    }
    assert 403 in create_statuses(fx), "no resend was refused as a duplicate"
    details = [
        (e.to_state, e.detail or "") for row_id in ids for e in await store.outbox.events(row_id)
    ]
    assert any("unreachable" in detail for _, detail in details)
    assert any(state == "in_doubt" and "TimeoutError" in detail for state, detail in details)
    assert any(state == "in_doubt" and "Disconnected" in detail for state, detail in details)


@pytest.mark.parametrize(
    ("fault", "posted_by"),
    [(FaultKind.DROP_AFTER, "the first attempt"), (FaultKind.DROP_BEFORE, "the resend")],
)
async def test_a_doubtful_attempt_is_settled_by_one_resend(
    clock: ShiftedClock, store: Store, fault: FaultKind, posted_by: str
) -> None:
    notices = RecordingNotices()
    async with (
        FakeX(**X_CREDENTIALS, clock=clock) as fx,
        XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as client,
    ):
        (row_id,) = await enqueue(store.outbox, "x", [x_payload("posted exactly once")])
        fx.inject(fault, endpoint=CREATE_POST)

        await run_workers_until(
            [x_worker(store, client, clock=clock, notices=notices)],
            lambda: settled(store.outbox, [row_id]),
        )

        (post,) = fx.posts()
        row = await store.outbox.get(row_id)
        assert row is not None
        assert row.state == "sent"
        assert [e.to_state for e in await store.outbox.events(row_id)] == [
            "queued",
            "sending",
            "in_doubt",
            "queued",
            "sending",
            "sent",
        ]
        if posted_by == "the first attempt":
            assert create_statuses(fx) == [None, 403]
            assert len(fx.calls(USER_POSTS)) == 1  # the 403 names no post: looked up
        else:
            assert create_statuses(fx) == [None, 201]
            assert fx.calls(USER_POSTS) == []
        assert row.remote_id == post.id
        assert notices.in_doubt_rows == []  # X settles it; no editor needed


async def test_duplicate_content_on_a_first_attempt_fails_without_a_retry(
    clock: ShiftedClock, store: Store
) -> None:
    notices = RecordingNotices()
    async with FakeX(**X_CREDENTIALS, clock=clock) as fx:
        await post_elsewhere(fx, ["already on X"])
        (row_id,) = await enqueue(store.outbox, "x", [x_payload("already on X")])
        async with XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as client:
            worker = x_worker(store, client, clock=clock, notices=notices)
            await run_workers_until([worker], lambda: settled(store.outbox, [row_id]))
            assert not await worker.step()  # a failed row is never claimed again

        assert create_statuses(fx) == [201, 403]
        assert len(fx.posts()) == 1
    row = await store.outbox.get(row_id)
    assert row is not None
    assert (row.state, row.attempts) == ("failed", 1)
    assert row.last_error == "X refused the post as duplicate content"
    assert [r.id for r in notices.failed_rows] == [row_id]


async def enqueue_thread(store: Store, texts: list[str]) -> list[int]:
    payloads = [x_payload(text) for text in texts]
    return await enqueue(
        store.outbox, "x", payloads, prefix="thread", kind="thread_part", group="thread"
    )


@pytest.mark.parametrize("lookup", ["found", "failed"])
async def test_a_thread_continues_under_a_part_whose_answer_was_lost(
    clock: ShiftedClock, store: Store, lookup: str
) -> None:
    """Part 2 is recorded by X, then the connection drops; its resend is a duplicate."""
    texts = [f"{n}/3 Python Trending Weekly: https://example.com/issue/{n}" for n in (1, 2, 3)]
    async with (
        FakeX(**X_CREDENTIALS, clock=clock) as fx,
        XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as client,
    ):
        ids = await enqueue_thread(store, texts)
        worker = x_worker(store, client, clock=clock)
        assert await worker.step()  # part 1 goes out cleanly
        fx.inject(FaultKind.DROP_AFTER, endpoint=CREATE_POST)
        if lookup == "failed":
            fx.inject(FaultKind.SERVER_ERROR, endpoint=USER_POSTS)

        await run_workers_until([worker], lambda: settled(store.outbox, ids))

        rows = [await store.outbox.get(row_id) for row_id in ids]
        posts = fx.posts()
    assert [p.text for p in posts] == texts  # each part exactly once
    assert create_statuses(fx) == [201, None, 403, 201]
    first, second, third = posts
    assert second.reply_to == first.id
    # part 2's id is known only if the lookup worked; without it part 3 stands alone
    expected_second_id = second.id if lookup == "found" else ""
    assert [(r.state, r.remote_id) if r else None for r in rows] == [
        ("sent", first.id),
        ("sent", expected_second_id),
        ("sent", third.id),
    ]
    assert third.reply_to == (second.id if lookup == "found" else None)
