"""The Store facade: source state, users, audit log, heartbeat and backups."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from data.db import Database, StorageError, SyncTx
from data.migrations import MIGRATIONS, migrate
from data.store import SourceState, Store

T0 = 1_700_000_000.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Database.open(tmp_path / "weekly.db") as db:
        await migrate(db, now=T0)
        yield Store(db)


async def test_source_state_round_trips_and_is_overwritten(store: Store) -> None:
    assert await store.get_source_state("rss:zh") is None
    state = SourceState(
        name="rss:zh",
        cursor="entry-106",
        etag='W/"abc"',
        last_modified="Sat, 01 Jun 2024 00:00:00 GMT",
        last_success_at=T0,
    )
    await store.put_source_state(state, now=T0)
    assert await store.get_source_state("rss:zh") == replace(state, updated_at=T0)

    failing = replace(state, last_error="HTTP 502", consecutive_failures=3)
    await store.put_source_state(failing, now=T0 + 60)
    assert await store.get_source_state("rss:zh") == replace(failing, updated_at=T0 + 60)
    assert await store.get_source_state("github") is None


async def test_users_are_upserted_keeping_the_block(store: Store) -> None:
    first = await store.upsert_user(7, username="ann", first_name="Ann", now=T0)
    assert (first.blocked, first.first_seen_at, first.last_seen_at) == (False, T0, T0)
    assert await store.set_blocked(7, True, actor="user:1", now=T0 + 2)
    again = await store.upsert_user(7, username="ann_new", first_name=None, now=T0 + 3)
    assert again.username == "ann_new"
    assert again.first_name is None
    assert (again.blocked, again.first_seen_at, again.last_seen_at) == (True, T0, T0 + 3)
    assert await store.get_user(7) == again
    assert await store.get_user(8) is None


async def test_setting_a_value_it_already_has_or_an_unknown_user_changes_nothing(
    store: Store,
) -> None:
    await store.upsert_user(7, username=None, first_name="Ann", now=T0)
    assert not await store.set_blocked(7, False, actor="user:1", now=T0)
    assert not await store.set_blocked(99, True, actor="user:1", now=T0)
    assert await store.list_audit() == []


async def test_user_changes_are_audited(store: Store) -> None:
    await store.upsert_user(7, username="ann", first_name=None, now=T0)
    await store.set_blocked(7, True, actor="user:1", now=T0 + 2)
    await store.set_blocked(7, False, actor="user:1", now=T0 + 3)
    audit = await store.list_audit(subject="user:7")
    assert [(e.actor, e.action, e.at) for e in audit] == [
        ("user:1", "user.unblock", T0 + 3),
        ("user:1", "user.block", T0 + 2),
    ]


async def test_audit_log_pages_newest_first_and_filters(store: Store) -> None:
    ids = [
        await store.append_audit(
            actor="user:1",
            action="submission.approve" if n % 2 else "submission.reject",
            subject=f"submission:{n}",
            details={"n": n, "note": "好的 ✓"},
            now=T0 + n,
        )
        for n in range(5)
    ]
    page1 = await store.list_audit(limit=2)
    assert [e.id for e in page1] == [ids[4], ids[3]]
    assert page1[0].details == {"n": 4, "note": "好的 ✓"}
    page2 = await store.list_audit(limit=2, before_id=page1[-1].id)
    assert [e.id for e in page2] == [ids[2], ids[1]]
    approvals = await store.list_audit(action="submission.approve")
    assert [e.subject for e in approvals] == ["submission:3", "submission:1"]
    bare = await store.append_audit(actor="system", action="boot", now=T0)
    assert (await store.list_audit(limit=1))[0].id == bare
    assert (await store.list_audit(limit=1))[0].details == {}


async def test_heartbeat_keeps_the_last_beat_per_component(store: Store) -> None:
    assert await store.last_beat("worker") is None
    await store.beat("worker", now=T0)
    await store.beat("worker", now=T0 + 30)
    await store.beat("poller", now=T0 + 5)
    assert await store.last_beat("worker") == T0 + 30
    assert await store.last_beat("poller") == T0 + 5


async def test_heartbeat_is_visible_to_another_connection(tmp_path: Path, store: Store) -> None:
    """`weeklybot healthcheck` runs as its own process with its own connection."""
    await store.beat("worker", now=T0)
    async with Database.open(store.db.path) as other:
        assert await Store(other).last_beat("worker") == T0


async def test_backup_is_a_readable_copy_with_the_same_rows(tmp_path: Path, store: Store) -> None:
    await store.upsert_user(7, username="ann", first_name="Ann", now=T0)
    await store.outbox.enqueue(
        idempotency_key="submission:1", target="telegram", kind="item", payload={}, now=T0
    )
    await store.beat("worker", now=T0)
    dest = tmp_path / "backups" / "2024-06-01.db"

    await store.backup(dest)
    await store.upsert_user(8, username="bob", first_name="Bob", now=T0)  # after the backup

    assert not dest.with_name(dest.name + ".partial").exists()
    copy = sqlite3.connect(dest)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT user_id, username FROM users").fetchall() == [(7, "ann")]
        assert copy.execute("SELECT idempotency_key FROM outbox").fetchall() == [("submission:1",)]
        assert copy.execute("SELECT max(version) FROM schema_version").fetchone() == (
            MIGRATIONS[-1].version,
        )
    finally:
        copy.close()

    # A backup can be opened as a weeklybot database again.
    async with Database.open(dest) as restored:
        assert await migrate(restored, now=T0) == []
        assert await Store(restored).last_beat("worker") == T0


async def test_backup_refuses_to_overwrite_the_live_database(store: Store) -> None:
    with pytest.raises(ValueError, match="itself"):
        await store.backup(store.db.path)


async def test_a_lone_query_reads_outside_any_transaction_and_refuses_writes(
    store: Store,
) -> None:
    db = store.db
    await store.beat("poller", now=T0)
    row = await db.fetchone(
        "SELECT component, beat_at FROM heartbeat WHERE component = ?", ("poller",)
    )
    assert row is not None
    assert (row["component"], row["beat_at"]) == ("poller", T0)
    assert await db.fetchone("SELECT * FROM heartbeat WHERE component = 'none'") is None
    for write in (
        "DELETE FROM heartbeat",
        " update heartbeat SET beat_at = 0",
        "WITH x AS (SELECT 1) DELETE FROM heartbeat",
    ):
        with pytest.raises(ValueError, match="SELECT only"):
            await db.fetchall(write)
    assert len(await db.fetchall("SELECT * FROM heartbeat")) == 1  # nothing was written


# ---- batched writes (group commit) ------------------------------------------------------


async def _heartbeats(db: Database) -> int:
    row = await db.fetchone("SELECT count(*) AS n FROM heartbeat")
    return int(row["n"]) if row else 0


async def test_batched_writes_queued_together_share_one_commit_in_order(store: Store) -> None:
    """Writes queued at once run in one transaction, in order, each seeing the ones before."""
    db = store.db
    seen: list[int] = []

    def beat(n: int) -> Callable[[SyncTx], int]:
        def body(tx: SyncTx) -> int:
            row = tx.fetchone("SELECT count(*) AS n FROM heartbeat")
            assert row is not None
            seen.append(int(row["n"]))
            return tx.execute(
                "INSERT INTO heartbeat (component, beat_at) VALUES (?, ?)", (f"c{n}", T0 + n)
            )

        return body

    before = db.batches_committed
    results = await asyncio.gather(*(db.write_batched(beat(n)) for n in range(10)))
    assert results == [1] * 10
    assert seen == list(range(10))  # in the order queued, each sees the earlier ones
    assert db.batches_committed - before == 1  # one transaction, one commit
    assert await _heartbeats(db) == 10


async def test_a_failing_batched_write_is_undone_alone(store: Store) -> None:
    db = store.db

    def insert(name: str) -> Callable[[SyncTx], None]:
        def body(tx: SyncTx) -> None:
            tx.execute("INSERT INTO heartbeat (component, beat_at) VALUES (?, ?)", (name, T0))

        return body

    def half_then_fail(tx: SyncTx) -> None:
        tx.execute("INSERT INTO heartbeat (component, beat_at) VALUES ('half', 1)")
        raise ValueError("the caller's own bug")

    results = await asyncio.gather(
        db.write_batched(insert("a")),
        db.write_batched(half_then_fail),
        db.write_batched(insert("b")),
        return_exceptions=True,
    )
    assert results[0] is None
    assert results[2] is None
    assert isinstance(results[1], ValueError)
    rows = await db.fetchall("SELECT component FROM heartbeat ORDER BY component")
    assert [r["component"] for r in rows] == ["a", "b"]  # 'half' rolled back to its savepoint


async def test_a_batched_write_is_visible_to_another_connection_once_it_returns(
    tmp_path: Path, store: Store
) -> None:
    await store.db.write_batched(
        lambda tx: tx.execute("INSERT INTO heartbeat (component, beat_at) VALUES ('x', 1)")
    )
    with sqlite3.connect(tmp_path / "weekly.db") as other:
        assert other.execute("SELECT component FROM heartbeat").fetchall() == [("x",)]


async def test_a_batched_write_on_a_closed_database_is_refused(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "closed.db")
    await db.close()
    with pytest.raises(StorageError, match="closed"):
        await db.write_batched(lambda tx: tx.execute("SELECT 1"))
