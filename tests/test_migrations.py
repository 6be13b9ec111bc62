"""Opening the database and the migrations registry."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from data.db import MEMORY, Database, StorageError, Tx, to_ts
from data.migrations import (
    MIGRATIONS,
    Migration,
    SchemaTooNewError,
    current_version,
    migrate,
    pending,
    split_statements,
)

T0 = 1_700_000_000.0


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "state" / "weekly.db") as database:
        yield database


ALL = [m.version for m in MIGRATIONS]
LAST = ALL[-1]
NEXT = LAST + 1


async def _tables(db: Database) -> set[str]:
    async with db.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


async def test_migrate_from_empty_in_memory_leaves_nothing_pending() -> None:
    async with Database.open(MEMORY) as db:
        assert [m.version for m in await pending(db)] == ALL
        assert await migrate(db, now=T0) == ALL
        assert await pending(db) == []
        assert await current_version(db) == MIGRATIONS[-1].version
        assert {
            "schema_version",
            "source_state",
            "outbox",
            "outbox_events",
            "users",
            "audit_log",
            "heartbeat",
            "issues",
            "items",
        } <= await _tables(db)


async def test_rerunning_migrations_is_a_no_op(db: Database) -> None:
    await migrate(db, now=T0)
    assert await migrate(db, now=T0 + 1) == []
    async with db.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT version, name, applied_at FROM schema_version")
    assert [tuple(row) for row in rows] == [(m.version, m.name, T0) for m in MIGRATIONS]
    assert rows[0]["name"] == "foundation"


async def _pragma(db: Database, name: str) -> object:
    async with db.transaction(write=False) as tx:
        row = await tx.fetchone(f"PRAGMA {name}")
    return None if row is None else row[0]


async def test_file_database_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "weekly.db"
    async with Database.open(path, busy_timeout_ms=1234) as db:
        assert path.exists()  # parent directories were created
        assert await _pragma(db, "journal_mode") == "wal"
        assert await _pragma(db, "foreign_keys") == 1
        assert await _pragma(db, "busy_timeout") == 1234
        assert await _pragma(db, "synchronous") == 2  # FULL


async def test_synchronous_normal_can_be_chosen(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "n.db", synchronous="NORMAL") as db:
        assert await _pragma(db, "synchronous") == 1


async def test_foreign_keys_are_enforced(db: Database) -> None:
    await migrate(db, now=T0)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO outbox_events (outbox_id, at, to_state, actor)"
                " VALUES (999, 0, 'x', 'y')"
            )


async def test_a_failing_sql_migration_rolls_back_and_keeps_the_version(db: Database) -> None:
    broken = (
        *MIGRATIONS,
        Migration(
            NEXT, "broken", "CREATE TABLE half_done (x INTEGER);\nINSERT INTO missing VALUES (1);"
        ),
    )
    with pytest.raises(sqlite3.OperationalError, match="missing"):
        await migrate(db, broken, now=T0)
    # The real ones committed on their own; the broken one left no table and no version.
    assert await current_version(db) == LAST
    assert "half_done" not in await _tables(db)
    assert [m.version for m in await pending(db, broken)] == [NEXT]


async def test_a_failing_callable_migration_rolls_back_its_data(db: Database) -> None:
    await migrate(db, now=T0)

    async def half_then_fail(tx: Tx) -> None:
        await tx.execute("INSERT INTO heartbeat (component, beat_at) VALUES ('m3', 1)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await migrate(db, (*MIGRATIONS, Migration(NEXT, "data fix", half_then_fail)), now=T0)
    assert await current_version(db) == LAST
    async with db.transaction(write=False) as tx:
        assert await tx.fetchall("SELECT * FROM heartbeat") == []


async def test_a_callable_migration_is_applied_and_recorded(db: Database) -> None:
    async def seed(tx: Tx) -> None:
        await tx.execute("INSERT INTO heartbeat (component, beat_at) VALUES ('m3', 1)")

    registry = (*MIGRATIONS, Migration(NEXT, "seed", seed))
    assert await migrate(db, registry, now=T0) == [*ALL, NEXT]
    assert await migrate(db, registry, now=T0) == []
    async with db.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT component FROM heartbeat")
    assert [row["component"] for row in rows] == ["m3"]


async def test_a_database_newer_than_the_code_is_refused(db: Database) -> None:
    newer = (*MIGRATIONS, Migration(NEXT, "from the future", "CREATE TABLE future (x INTEGER);"))
    await migrate(db, newer, now=T0)
    with pytest.raises(SchemaTooNewError, match=f"version {NEXT}, this code knows up to {LAST}"):
        await migrate(db, now=T0)
    with pytest.raises(SchemaTooNewError):
        await pending(db)


def test_the_registry_must_be_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


async def test_a_registry_with_a_gap_is_rejected(db: Database) -> None:
    with pytest.raises(ValueError, match="1, 2, 3"):
        await migrate(db, (MIGRATIONS[0], Migration(3, "gap", "SELECT 1;")), now=T0)


async def test_two_connections_migrating_at_once_apply_each_migration_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "race.db"
    async with Database.open(path) as first, Database.open(path) as second:
        applied = await asyncio.gather(migrate(first, now=T0), migrate(second, now=T0))
        assert sorted(applied[0] + applied[1]) == ALL
        assert await pending(first) == []


def test_split_statements_respects_strings_comments_and_triggers() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE a (x TEXT DEFAULT 'semi;colon');
    CREATE TRIGGER t AFTER INSERT ON a BEGIN
        UPDATE a SET x = 'y;' WHERE x = 'z';
    END;
    INSERT INTO a VALUES ('1'); INSERT INTO a VALUES ('2');
    -- trailing comment
    """
    statements = list(split_statements(script))
    assert len(statements) == 4
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")
    conn = sqlite3.connect(":memory:")
    for statement in statements:
        conn.execute(statement)
    assert conn.execute("SELECT count(*) FROM a").fetchone() == (2,)


def test_split_statements_rejects_an_unterminated_statement() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        list(split_statements("CREATE TABLE a (x);\nCREATE TABLE b (y)"))


async def test_a_closed_database_refuses_work(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "c.db")
    await db.close()
    with pytest.raises(StorageError, match="closed"):
        await current_version(db)
    await db.close()  # closing twice is harmless


def test_times_are_unix_seconds_or_aware_datetimes() -> None:
    aware = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert to_ts(aware) == aware.timestamp()
    assert to_ts(5) == 5.0
    with pytest.raises(ValueError, match="naive"):
        to_ts(dt.datetime(2024, 1, 2))


async def test_a_cancelled_transaction_is_rolled_back_and_the_connection_stays_usable(
    db: Database,
) -> None:
    await migrate(db, now=T0)
    inside = asyncio.Event()

    async def write_then_hang() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO heartbeat (component, beat_at) VALUES ('lost', 1)")
            inside.set()
            await asyncio.Event().wait()  # cancelled here, mid-transaction

    task = asyncio.create_task(write_then_hang())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.transaction() as tx:
        assert await tx.fetchall("SELECT * FROM heartbeat") == []
        await tx.execute("INSERT INTO heartbeat (component, beat_at) VALUES ('kept', 2)")
    async with db.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT component FROM heartbeat")
    assert [row["component"] for row in rows] == ["kept"]


async def test_an_error_inside_a_transaction_rolls_it_back(db: Database) -> None:
    await migrate(db, now=T0)

    async def insert_then_fail() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO heartbeat (component, beat_at) VALUES ('x', 1)")
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        await insert_then_fail()
    async with db.transaction(write=False) as tx:
        assert await tx.fetchall("SELECT * FROM heartbeat") == []


async def test_the_unused_user_role_is_dropped_and_the_users_kept(db: Database) -> None:
    before_role = [m for m in MIGRATIONS if m.version < 6]
    await migrate(db, before_role, now=T0)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO users (user_id, username, role, blocked, first_seen_at, last_seen_at)"
            " VALUES (7, 'ann', 'editor', 1, 1, 2)"
        )
    assert 6 in await migrate(db, now=T0)
    async with db.transaction(write=False) as tx:
        columns = [row["name"] for row in await tx.fetchall("PRAGMA table_info(users)")]
        rows = await tx.fetchall("SELECT user_id, username, blocked, last_seen_at FROM users")
        indexes = await tx.fetchall("SELECT name FROM sqlite_master WHERE name = 'users_by_role'")
    assert "role" not in columns
    assert [tuple(row) for row in rows] == [(7, "ann", 1, 2.0)]
    assert indexes == []
