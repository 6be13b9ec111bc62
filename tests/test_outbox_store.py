"""The outbox state machine: legal moves only, leases, ordering, and races between workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from data.db import Database
from data.migrations import migrate
from data.outbox import OUTBOX_STATES, NewPost, OutboxRow, OutboxState, OutboxStore
from data.store import Store

T0 = 1_700_000_000.0
LEASE = 30.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Database.open(tmp_path / "weekly.db") as db:
        await migrate(db, now=T0)
        yield Store(db)


@pytest.fixture
def outbox(store: Store) -> OutboxStore:
    return store.outbox


async def _enqueue(
    outbox: OutboxStore,
    key: str,
    target: str = "telegram",
    *,
    group_key: str | None = None,
    seq: int | None = None,
    depends_on: int | None = None,
    not_before: float | None = None,
) -> int:
    outbox_id = await outbox.enqueue(
        idempotency_key=key,
        target=target,
        kind="item",
        payload={"text": f"post {key}"},
        now=T0,
        group_key=group_key,
        seq=seq,
        depends_on=depends_on,
        not_before=not_before,
    )
    assert outbox_id is not None
    return outbox_id


async def _claim(
    outbox: OutboxStore, owner: str = "w1", now: float = T0, lease: float = LEASE
) -> OutboxRow:
    row = await outbox.claim_next("telegram", owner=owner, lease_seconds=lease, now=now)
    assert row is not None
    return row


async def _sending(
    outbox: OutboxStore, key: str, owner: str = "w1", lease: float = LEASE
) -> OutboxRow:
    """Enqueue a row, claim it and begin its send: the usual start of a worker-side test."""
    outbox_id = await _enqueue(outbox, key)
    row = await _claim(outbox, owner, lease=lease)
    assert row.id == outbox_id
    assert await outbox.mark_started(row.id, owner=owner, lease_seconds=lease, now=T0)
    return row


# ---- enqueue -------------------------------------------------------------------------


async def test_enqueue_is_idempotent_per_key_and_target(outbox: OutboxStore) -> None:
    payload = {"text": "Python 周刊 #106 ✨", "buttons": [{"url": "https://x.test"}]}
    first = await outbox.enqueue(
        idempotency_key="issue:106:zh:articles:3",
        target="telegram",
        kind="item",
        payload=payload,
        now=T0,
    )
    again = await outbox.enqueue(
        idempotency_key="issue:106:zh:articles:3",
        target="telegram",
        kind="item",
        payload={"text": "different"},
        now=T0 + 5,
    )
    other_target = await outbox.enqueue(
        idempotency_key="issue:106:zh:articles:3", target="x", kind="item", payload={}, now=T0
    )
    assert first is not None
    assert other_target is not None
    assert first != other_target
    assert again is None
    row = await outbox.get(first)
    assert row is not None
    assert (row.target, row.idempotency_key) == ("telegram", "issue:106:zh:articles:3")
    assert row.payload == payload  # the first enqueue wins; JSON round-trips unicode
    assert (row.state, row.attempts, row.next_attempt_at, row.created_at) == ("queued", 0, T0, T0)


async def test_enqueue_many_is_all_or_nothing(outbox: OutboxStore) -> None:
    good = NewPost("digest:1", "telegram", "digest", {"n": 1}, group_key="g", seq=1)
    bad = NewPost("digest:2", "telegram", "digest", {"n": 2}, group_key="g")  # no seq
    with pytest.raises(ValueError, match="group_key and seq"):
        await outbox.enqueue_many([good, bad], now=T0)
    assert await outbox.counts() == {}  # not even the good one
    ids = await outbox.enqueue_many([good, good], now=T0)
    assert ids[0] is not None
    assert ids[1] is None


# ---- claiming ------------------------------------------------------------------------


async def test_claim_takes_the_oldest_due_row_of_its_target(outbox: OutboxStore) -> None:
    first = await _enqueue(outbox, "a")
    await _enqueue(outbox, "later", not_before=T0 + 60)
    await _enqueue(outbox, "for-x", target="x")
    second = await _enqueue(outbox, "b")

    row = await _claim(outbox, "w1")
    assert (row.id, row.state, row.attempts, row.lease_owner) == (first, "sending", 1, "w1")
    assert row.lease_expires_at == T0 + LEASE
    assert (await _claim(outbox, "w1")).id == second
    # "later" is not due and "for-x" belongs to another target.
    assert await outbox.claim_next("telegram", owner="w1", lease_seconds=LEASE, now=T0) is None
    late = await _claim(outbox, "w1", now=T0 + 60)
    assert late.idempotency_key == "later"


async def test_mark_sent_records_the_remote_id_once(outbox: OutboxStore) -> None:
    row = await _sending(outbox, "a")
    assert await outbox.mark_sent(row.id, owner="w1", remote_id="555", now=T0 + 1)
    assert not await outbox.mark_sent(row.id, owner="w1", remote_id="666", now=T0 + 2)
    sent = await outbox.get(row.id)
    assert sent is not None
    assert (sent.state, sent.remote_id, sent.sent_at, sent.lease_expires_at) == (
        "sent",
        "555",
        T0 + 1,
        None,
    )


async def test_only_the_lease_owner_can_move_a_sending_row(outbox: OutboxStore) -> None:
    row = await _sending(outbox, "a")
    assert not await outbox.mark_sent(row.id, owner="w2", remote_id="1", now=T0)
    assert not await outbox.mark_retry(
        row.id, owner="w2", error="e", next_attempt_at=T0 + 5, now=T0
    )
    assert not await outbox.mark_failed(row.id, owner="w2", error="e", now=T0)
    assert not await outbox.mark_in_doubt(row.id, owner="w2", error="e", now=T0)
    unchanged = await outbox.get(row.id)
    assert unchanged is not None
    assert (unchanged.state, unchanged.lease_owner) == ("sending", "w1")


async def test_worker_moves_are_refused_outside_sending(outbox: OutboxStore) -> None:
    queued = await _enqueue(outbox, "a")
    assert not await outbox.mark_sent(queued, owner="w1", remote_id="1", now=T0)
    assert not await outbox.mark_failed(queued, owner="w1", error="e", now=T0)
    assert not await outbox.mark_in_doubt(queued, owner="w1", error="e", now=T0)
    assert not await outbox.mark_retry(queued, owner="w1", error="e", next_attempt_at=T0, now=T0)
    row = await outbox.get(queued)
    assert row is not None
    assert row.state == "queued"


async def test_retry_requeues_with_a_delay_and_counts_attempts(outbox: OutboxStore) -> None:
    row = await _sending(outbox, "a")
    assert await outbox.mark_retry(
        row.id, owner="w1", error="429 retry after 30", next_attempt_at=T0 + 30, now=T0 + 1
    )
    back = await outbox.get(row.id)
    assert back is not None
    assert (back.state, back.lease_owner, back.last_error) == ("queued", None, "429 retry after 30")
    assert await outbox.claim_next("telegram", owner="w1", lease_seconds=LEASE, now=T0 + 29) is None
    again = await _claim(outbox, "w2", now=T0 + 30)
    assert (again.id, again.attempts, again.lease_owner) == (row.id, 2, "w2")
    # The first worker's lease is gone for good.
    assert not await outbox.mark_sent(row.id, owner="w1", remote_id="1", now=T0 + 31)


async def test_failed_rows_can_be_requeued_or_cancelled(store: Store) -> None:
    outbox = store.outbox
    row = await _sending(outbox, "a")
    assert await outbox.mark_failed(row.id, owner="w1", error="400 too long", now=T0 + 1)
    assert [r.id for r in await outbox.list_by_state("failed")] == [row.id]
    assert await outbox.requeue(row.id, actor="user:7", now=T0 + 2)
    assert not await outbox.requeue(row.id, actor="user:7", now=T0 + 2)  # not failed any more
    assert (await _claim(outbox, now=T0 + 2)).id == row.id
    assert await outbox.mark_failed(row.id, owner="w1", error="again", now=T0 + 3)
    assert await outbox.cancel(row.id, actor="user:7", now=T0 + 4, reason="not worth it")
    assert not await outbox.cancel(row.id, actor="user:7", now=T0 + 4)
    audit = await store.list_audit(subject=f"outbox:{row.id}")
    assert [entry.action for entry in audit] == ["outbox.cancel", "outbox.requeue"]
    assert audit[0].details == {"from": "failed", "reason": "not worth it"}


async def test_cancel_is_refused_while_sending_and_after_sent(outbox: OutboxStore) -> None:
    row = await _sending(outbox, "a")
    assert not await outbox.cancel(row.id, actor="user:7", now=T0)
    assert await outbox.mark_sent(row.id, owner="w1", remote_id="9", now=T0)
    assert not await outbox.cancel(row.id, actor="user:7", now=T0)
    queued = await _enqueue(outbox, "b")
    assert await outbox.cancel(queued, actor="user:7", now=T0)
    assert await outbox.claim_next("telegram", owner="w1", lease_seconds=LEASE, now=T0) is None


# ---- in doubt ------------------------------------------------------------------------


async def test_in_doubt_rows_wait_for_an_editor(store: Store) -> None:
    outbox = store.outbox
    first = await _sending(outbox, "a")
    second = await _sending(outbox, "b")
    assert first is not None
    assert second is not None
    assert await outbox.mark_in_doubt(first.id, owner="w1", error="timeout after send", now=T0)
    assert await outbox.mark_in_doubt(second.id, owner="w1", error="timeout", now=T0)
    assert [r.id for r in await outbox.list_by_state("in_doubt", "telegram")] == [
        first.id,
        second.id,
    ]
    assert await outbox.claim_next("telegram", owner="w1", lease_seconds=LEASE, now=T0) is None

    # [Mark as sent]: done, never sent again; a double press changes nothing.
    assert await outbox.resolve_in_doubt(
        first.id, as_sent=True, actor="user:7", now=T0 + 5, remote_id="77"
    )
    assert not await outbox.resolve_in_doubt(first.id, as_sent=False, actor="user:7", now=T0)
    done = await outbox.get(first.id)
    assert done is not None
    assert (done.state, done.remote_id, done.sent_at) == ("sent", "77", T0 + 5)

    # [Post again]: back in the queue, due now, for any worker.
    assert await outbox.resolve_in_doubt(second.id, as_sent=False, actor="user:7", now=T0 + 6)
    again = await _claim(outbox, "w2", now=T0 + 6)
    assert (again.id, again.attempts) == (second.id, 2)

    actions = [e.action for e in await store.list_audit()]
    assert actions == ["outbox.post_again", "outbox.mark_sent"]


async def test_resolve_is_refused_unless_in_doubt(outbox: OutboxStore) -> None:
    queued = await _enqueue(outbox, "a")
    assert not await outbox.resolve_in_doubt(queued, as_sent=True, actor="user:7", now=T0)
    row = await outbox.get(queued)
    assert row is not None
    assert row.state == "queued"


async def test_expired_leases_become_in_doubt_and_live_ones_are_untouched(
    outbox: OutboxStore,
) -> None:
    await _enqueue(outbox, "dead")
    await _enqueue(outbox, "alive")
    dead = await outbox.claim_next("telegram", owner="w-dead", lease_seconds=10, now=T0)
    alive = await outbox.claim_next("telegram", owner="w-alive", lease_seconds=100, now=T0)
    assert dead is not None
    assert alive is not None
    assert await outbox.mark_started(dead.id, owner="w-dead", lease_seconds=10, now=T0)
    assert await outbox.mark_started(alive.id, owner="w-alive", lease_seconds=100, now=T0)

    assert await outbox.reap_expired_leases(now=T0 + 9) == []
    reaped = await outbox.reap_expired_leases(now=T0 + 50)
    assert [(r.id, r.state) for r in reaped] == [(dead.id, "in_doubt")]
    assert reaped[0].last_error == "lease of w-dead expired mid-send"
    still = await outbox.get(alive.id)
    assert still is not None
    assert (still.state, still.lease_owner, still.lease_expires_at) == (
        "sending",
        "w-alive",
        T0 + 100,
    )
    assert await outbox.mark_sent(alive.id, owner="w-alive", remote_id="1", now=T0 + 51)
    assert await outbox.reap_expired_leases(now=T0 + 1000) == []
    # A reaped row is not retried behind the editor's back.
    assert await outbox.claim_next("telegram", owner="w", lease_seconds=1, now=T0 + 99) is None


async def test_a_slow_worker_may_still_report_success_until_an_editor_decides(
    outbox: OutboxStore,
) -> None:
    slow = await _sending(outbox, "a", "slow", lease=10)
    assert slow is not None
    await outbox.reap_expired_leases(now=T0 + 11)
    # Only success is accepted from the expired owner, and only from that owner.
    assert not await outbox.mark_failed(slow.id, owner="slow", error="e", now=T0 + 12)
    assert not await outbox.mark_sent(slow.id, owner="other", remote_id="1", now=T0 + 12)
    assert await outbox.mark_sent(slow.id, owner="slow", remote_id="42", now=T0 + 12)
    row = await outbox.get(slow.id)
    assert row is not None
    assert (row.state, row.remote_id) == ("sent", "42")
    events = await outbox.events(slow.id)
    assert [(e.from_state, e.to_state) for e in events][-2:] == [
        ("sending", "in_doubt"),
        ("in_doubt", "sent"),
    ]


async def test_a_late_worker_cannot_overwrite_after_post_again(outbox: OutboxStore) -> None:
    slow = await _sending(outbox, "a", "slow", lease=10)
    assert slow is not None
    await outbox.reap_expired_leases(now=T0 + 11)
    assert await outbox.resolve_in_doubt(slow.id, as_sent=False, actor="user:7", now=T0 + 12)
    fresh = await _claim(outbox, "fresh", now=T0 + 12)
    assert fresh.id == slow.id
    assert not await outbox.mark_sent(slow.id, owner="slow", remote_id="1", now=T0 + 13)
    assert await outbox.mark_sent(slow.id, owner="fresh", remote_id="2", now=T0 + 13)
    row = await outbox.get(slow.id)
    assert row is not None
    assert row.remote_id == "2"


# ---- ordering ------------------------------------------------------------------------


async def test_group_parts_are_claimed_strictly_in_seq_order(outbox: OutboxStore) -> None:
    # Enqueued out of order on purpose: seq decides, not insertion.
    ids: dict[int, int] = {}
    for seq in (3, 1, 2):
        ids[seq] = await _enqueue(outbox, f"thread:{seq}", target="x", group_key="t", seq=seq)
    loose = await _enqueue(outbox, "loose", target="x")

    async def claim() -> OutboxRow | None:
        return await outbox.claim_next("x", owner="w", lease_seconds=LEASE, now=T0)

    async def claim_ok() -> OutboxRow:
        row = await claim()
        assert row is not None
        return row

    part1 = await claim_ok()
    assert (part1.id, part1.parent_remote_id) == (ids[1], None)
    # Part 2 waits for part 1 to be *sent*; unrelated rows still flow.
    assert (await claim_ok()).id == loose
    assert await claim() is None

    # A retry of part 1 keeps part 2 blocked.
    assert await outbox.mark_retry(part1.id, owner="w", error="e", next_attempt_at=T0, now=T0)
    assert (await claim_ok()).id == ids[1]
    assert await claim() is None
    assert await outbox.mark_sent(part1.id, owner="w", remote_id="tweet-1", now=T0)

    part2 = await claim_ok()
    assert part2.id == ids[2]
    assert part2.parent_remote_id == "tweet-1"  # what the X reply needs
    parts = [await outbox.get(ids[seq]) for seq in (1, 2)]
    assert [row.remote_id for row in parts if row] == ["tweet-1", None]  # 2: not sent yet
    assert await outbox.mark_sent(part2.id, owner="w", remote_id="tweet-2", now=T0)
    part3 = await claim_ok()
    assert (part3.id, part3.parent_remote_id) == (ids[3], "tweet-2")


async def test_groups_are_per_target(outbox: OutboxStore) -> None:
    await _enqueue(outbox, "d:1", target="x", group_key="digest", seq=1)
    tg2 = await _enqueue(outbox, "d:2", target="telegram", group_key="digest", seq=2)
    tg1 = await _enqueue(outbox, "d:1", target="telegram", group_key="digest", seq=1)
    assert (await _claim(outbox)).id == tg1
    assert await outbox.claim_next("telegram", owner="w1", lease_seconds=LEASE, now=T0) is None
    assert await outbox.mark_sent(tg1, owner="w1", remote_id="m1", now=T0)
    assert (await _claim(outbox)).id == tg2  # the unsent X part 1 does not block Telegram


async def test_depends_on_waits_for_the_other_row_and_exposes_its_remote_id(
    outbox: OutboxStore,
) -> None:
    post = await _enqueue(outbox, "submission:42", target="x")
    reply = await _enqueue(outbox, "submission:42:source", target="x", depends_on=post)
    first = await outbox.claim_next("x", owner="w", lease_seconds=LEASE, now=T0)
    assert first is not None
    assert first.id == post
    assert await outbox.claim_next("x", owner="w", lease_seconds=LEASE, now=T0) is None
    assert await outbox.mark_sent(post, owner="w", remote_id="1800", now=T0)
    second = await outbox.claim_next("x", owner="w", lease_seconds=LEASE, now=T0)
    assert second is not None
    assert (second.id, second.depends_on, second.parent_remote_id) == (reply, post, "1800")


async def test_cancel_group_cancels_the_unsent_parts(store: Store) -> None:
    outbox = store.outbox
    for seq in (1, 2, 3):
        await _enqueue(outbox, f"g:{seq}", group_key="g", seq=seq)
    part1 = await _claim(outbox)
    assert await outbox.mark_sent(part1.id, owner="w1", remote_id="1", now=T0)
    part2 = await _claim(outbox)
    assert await outbox.mark_failed(part2.id, owner="w1", error="400", now=T0)
    cancelled = await outbox.cancel_group("telegram", "g", actor="user:7", now=T0)
    assert len(cancelled) == 2
    assert part2.id in cancelled
    assert await outbox.counts() == {"telegram": {"sent": 1, "cancelled": 2}}
    assert (await store.list_audit())[0].action == "outbox.cancel_group"


# ---- reading -------------------------------------------------------------------------


async def test_counts_next_due_and_history(outbox: OutboxStore) -> None:
    assert await outbox.counts() == {}
    assert await outbox.next_due_at("telegram") is None
    a = await _enqueue(outbox, "a", not_before=T0 + 20)
    await _enqueue(outbox, "b", not_before=T0 + 10)
    await _enqueue(outbox, "c", target="x")
    assert await outbox.next_due_at("telegram") == T0 + 10
    row = await _claim(outbox, "w1", now=T0 + 20)
    assert row.id == a
    assert await outbox.mark_retry(a, owner="w1", error="503", next_attempt_at=T0 + 25, now=T0 + 21)
    assert (await _claim(outbox, "w1", now=T0 + 25)).id == a
    assert await outbox.mark_sent(a, owner="w1", remote_id="9", now=T0 + 26)
    assert await outbox.counts() == {"telegram": {"queued": 1, "sent": 1}, "x": {"queued": 1}}
    history = await outbox.events(a)
    assert [(e.from_state, e.to_state, e.actor) for e in history] == [
        (None, "queued", "enqueue"),
        ("queued", "sending", "w1"),
        ("sending", "queued", "w1"),
        ("queued", "sending", "w1"),
        ("sending", "sent", "w1"),
    ]
    assert history[2].detail == "503"
    assert await outbox.get(10_000) is None


# ---- races ---------------------------------------------------------------------------


async def _drain(outbox: OutboxStore, owner: str, barrier: asyncio.Barrier | None) -> list[int]:
    """Claim and send until nothing is left; with a barrier, all claimers go in lockstep."""
    claimed: list[int] = []
    while True:
        row = await outbox.claim_next("telegram", owner=owner, lease_seconds=60, now=T0)
        if row is None:
            return claimed
        claimed.append(row.id)
        assert await outbox.mark_sent(row.id, owner=owner, remote_id=owner, now=T0)
        if barrier is not None:
            await barrier.wait()


@pytest.mark.parametrize("lockstep", [False, True], ids=["free-for-all", "lockstep"])
async def test_two_connections_claiming_at_once_never_share_a_row(
    tmp_path: Path, lockstep: bool
) -> None:
    """Two claimers on each of two connections to one file drain the queue.

    Free-for-all: whoever wins the write lock claims. Lockstep: every claimer claims once
    per round, so each round is four simultaneous claims and each claimer gets exactly
    rows / 4 (SQLite's busy handler is not fair, so without rounds one connection can
    take nearly everything).
    """
    path = tmp_path / "race.db"
    owners = ("a1", "a2", "b1", "b2")
    rows = 52 if lockstep else 50
    async with Database.open(path) as db_a, Database.open(path) as db_b:
        await migrate(db_a, now=T0)
        outbox_a, outbox_b = OutboxStore(db_a), OutboxStore(db_b)
        await outbox_a.enqueue_many(
            [NewPost(f"item:{n}", "telegram", "item", {"n": n}) for n in range(rows)], now=T0
        )
        barrier = asyncio.Barrier(len(owners)) if lockstep else None
        stores = (outbox_a, outbox_a, outbox_b, outbox_b)
        results = await asyncio.gather(
            *(_drain(store, owner, barrier) for store, owner in zip(stores, owners, strict=True))
        )

        claimed = [outbox_id for result in results for outbox_id in result]
        assert len(claimed) == len(set(claimed)) == rows  # disjoint and complete
        if lockstep:
            assert [len(result) for result in results] == [rows // len(owners)] * len(owners)
        sent = await outbox_b.list_by_state("sent", limit=rows + 1)
        assert len(sent) == rows
        assert all(row.attempts == 1 for row in sent)
        remote_ids = {row.id: row.remote_id for row in sent}
        for owner, result in zip(owners, results, strict=True):
            assert all(remote_ids[outbox_id] == owner for outbox_id in result)


async def test_reaping_can_be_limited_to_one_target(outbox: OutboxStore) -> None:
    tg = await _sending(outbox, "a", lease=10)
    await _enqueue(outbox, "b", target="x")
    x_row = await outbox.claim_next("x", owner="wx", lease_seconds=10, now=T0)
    assert x_row is not None
    assert await outbox.mark_started(x_row.id, owner="wx", lease_seconds=10, now=T0)
    reaped = await outbox.reap_expired_leases(now=T0 + 11, target="x")
    assert [row.id for row in reaped] == [x_row.id]
    still = await outbox.get(tg.id)
    assert still is not None
    assert still.state == "sending"
    assert [row.id for row in await outbox.reap_expired_leases(now=T0 + 11)] == [tg.id]


# ---- every operation from every state ------------------------------------------------

Operation = Callable[[OutboxStore, int], Awaitable[bool]]


async def _claim_op(outbox: OutboxStore, outbox_id: int) -> bool:
    row = await outbox.claim_next("telegram", owner="w1", lease_seconds=LEASE, now=T0)
    return row is not None and row.id == outbox_id


OPERATIONS: dict[str, tuple[Operation, OutboxState]] = {
    "claim_next": (_claim_op, "sending"),
    "mark_sent": (
        lambda o, i: o.mark_sent(i, owner="w1", remote_id="r", now=T0),
        "sent",
    ),
    "mark_retry": (
        lambda o, i: o.mark_retry(i, owner="w1", error="e", next_attempt_at=T0, now=T0),
        "queued",
    ),
    "mark_failed": (lambda o, i: o.mark_failed(i, owner="w1", error="e", now=T0), "failed"),
    "mark_in_doubt": (lambda o, i: o.mark_in_doubt(i, owner="w1", error="e", now=T0), "in_doubt"),
    "resolve_as_sent": (
        lambda o, i: o.resolve_in_doubt(i, as_sent=True, actor="user:7", now=T0),
        "sent",
    ),
    "resolve_post_again": (
        lambda o, i: o.resolve_in_doubt(i, as_sent=False, actor="user:7", now=T0),
        "queued",
    ),
    "requeue": (lambda o, i: o.requeue(i, actor="user:7", now=T0), "queued"),
    "cancel": (lambda o, i: o.cancel(i, actor="user:7", now=T0), "cancelled"),
}

# The transition table of data/outbox.py, written out independently.
LEGAL: set[tuple[OutboxState, str]] = {
    ("queued", "claim_next"),
    ("queued", "cancel"),
    ("sending", "mark_sent"),
    ("sending", "mark_retry"),
    ("sending", "mark_failed"),
    ("sending", "mark_in_doubt"),
    ("in_doubt", "resolve_as_sent"),
    ("in_doubt", "resolve_post_again"),
    ("in_doubt", "mark_sent"),  # by the owner of the lost lease (w1 here)
    ("in_doubt", "cancel"),
    ("failed", "requeue"),
    ("failed", "cancel"),
}


async def _row_in(outbox: OutboxStore, state: OutboxState) -> int:
    outbox_id = await _enqueue(outbox, "subject")
    if state == "cancelled":
        assert await outbox.cancel(outbox_id, actor="user:7", now=T0)
    elif state != "queued":
        await _claim(outbox, "w1")
        moves = {
            "sending": None,
            "sent": lambda: outbox.mark_sent(outbox_id, owner="w1", remote_id="r", now=T0),
            "failed": lambda: outbox.mark_failed(outbox_id, owner="w1", error="e", now=T0),
            "in_doubt": lambda: outbox.mark_in_doubt(outbox_id, owner="w1", error="e", now=T0),
        }
        move = moves[state]
        if move is not None:
            assert await move()
    row = await outbox.get(outbox_id)
    assert row is not None
    assert row.state == state
    return outbox_id


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("state", OUTBOX_STATES)
async def test_only_legal_transitions_happen(
    outbox: OutboxStore, state: OutboxState, operation: str
) -> None:
    outbox_id = await _row_in(outbox, state)
    run, to_state = OPERATIONS[operation]
    events_before = len(await outbox.events(outbox_id))

    done = await run(outbox, outbox_id)

    row = await outbox.get(outbox_id)
    assert row is not None
    assert done == ((state, operation) in LEGAL)
    assert row.state == (to_state if done else state)
    assert len(await outbox.events(outbox_id)) == events_before + int(done)


# ---- pauses (/pause, /resume) and the extra-edition queue's summary -----------------


async def test_a_paused_target_has_nothing_claimed_and_the_other_goes_on(
    outbox: OutboxStore,
) -> None:
    paused_row = await _enqueue(outbox, "p", "x")
    free_row = await _enqueue(outbox, "f", "telegram")
    assert await outbox.pause(["x"], actor="ed", now=T0) == ["x"]
    assert await outbox.pause(["x"], actor="ed", now=T0) == []  # already: no second row
    assert await outbox.claim_next("x", owner="w", lease_seconds=LEASE, now=T0 + 1) is None
    claimed = await outbox.claim_next("telegram", owner="w", lease_seconds=LEASE, now=T0 + 1)
    assert claimed is not None
    assert claimed.id == free_row
    assert await outbox.paused() == {"x": ("ed", T0)}
    assert await outbox.resume(["x", "telegram"], actor="ed", now=T0 + 2) == ["x"]
    again = await outbox.claim_next("x", owner="w", lease_seconds=LEASE, now=T0 + 3)
    assert again is not None
    assert again.id == paused_row
