"""Open the SQLite database and run transactions on it; the only owner of the connection.

One `Database` wraps one aiosqlite connection. Every statement runs inside
`Database.transaction()`, which holds an asyncio lock: aiosqlite funnels all calls of a
connection through one thread, but two tasks sharing it would otherwise interleave their
statements inside each other's transactions. Separate processes (or a second `Database`
on the same file) are serialised by SQLite itself: writers start with `BEGIN IMMEDIATE`,
so they queue on the write lock (for up to `busy_timeout`) instead of failing halfway
through when a read transaction tries to upgrade.

Usage::

    async with Database.open(settings.db_path) as db:
        await migrate(db)
        store = Store(db)

or ``db = await Database.open(path)`` … ``await db.close()``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Generator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeAlias

import aiosqlite

MEMORY = ":memory:"

# A point in time given by the caller (the store has no clock of its own): Unix
# seconds, or an aware datetime. Stored as REAL Unix seconds.
When: TypeAlias = float | int | dt.datetime

Params: TypeAlias = Sequence[Any] | dict[str, Any]

Synchronous = Literal["NORMAL", "FULL"]

# STRICT tables need 3.37; RETURNING needs 3.35.
MIN_SQLITE_VERSION = (3, 37, 0)


class StorageError(Exception):
    """The database cannot be used as asked (wrong journal mode, schema too new...)."""


def to_ts(when: When) -> float:
    """Turn a caller-supplied time into the Unix seconds stored in the database.

    Naive datetimes are refused: guessing their zone is how times drift by hours.
    """
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            raise ValueError(f"naive datetime {when!r}: pass an aware datetime or Unix seconds")
        return when.timestamp()
    return float(when)


class Tx:
    """Statements of one open transaction; handed out by `Database.transaction` only.

    Results are plain lists of `sqlite3.Row`, never cursors, so nothing outlives the
    transaction that produced it.
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return how many rows it changed."""
        async with self._conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT and return the new rowid."""
        async with self._conn.execute(sql, params) as cursor:
            rowid = cursor.lastrowid
        if rowid is None:  # pragma: no cover - sqlite3 always sets it after an INSERT
            raise StorageError("INSERT returned no rowid")
        return rowid

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement (SELECT or … RETURNING) and return all its rows."""
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Run one statement and return its first row, if any."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


class Database:
    """One connection to the weeklybot database, with its pragmas set."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        """Wrap an open connection; use `Database.open` instead."""
        self._conn = conn
        self._lock = asyncio.Lock()
        self._closed = False
        self.path = path

    @staticmethod
    def open(
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        synchronous: Synchronous = "FULL",
    ) -> _Opening:
        """Open (creating it and its parent directories) the database at `path`.

        Await the result, or use it with ``async with`` to close it on exit.

        Args:
            path: a file outside the source tree (from settings), or ``":memory:"``
                for throwaway databases in tests.
            busy_timeout_ms: how long a writer waits for another connection's write
                lock before giving up with "database is locked".
            synchronous: ``FULL`` (default) fsyncs the WAL at every commit, so a
                `mark_sent` survives a power cut; with ``NORMAL`` the last commits
                before a power cut may be lost (never corrupted), and a post whose
                "sent" mark was lost would be sent twice. The bot commits a few times
                per post, so one fsync each costs nothing that matters.
        """
        return _Opening(str(path), busy_timeout_ms, synchronous)

    @classmethod
    async def _connect(cls, path: str, busy_timeout_ms: int, synchronous: Synchronous) -> Database:
        if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
            raise StorageError(f"SQLite {sqlite3.sqlite_version} is too old; 3.37+ is required")
        if path != MEMORY:
            await asyncio.to_thread(Path(path).parent.mkdir, parents=True, exist_ok=True)
        # isolation_level=None: the sqlite3 module must not open transactions behind our
        # back; `transaction()` issues BEGIN/COMMIT itself.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await conn.execute("PRAGMA foreign_keys = ON")
            async with conn.execute("PRAGMA journal_mode = WAL") as cursor:
                row = await cursor.fetchone()
            mode = str(row[0]).lower() if row else ""
            if path != MEMORY and mode != "wal":
                raise StorageError(f"{path}: journal_mode is {mode!r}, WAL is required")
            await conn.execute(f"PRAGMA synchronous = {synchronous}")
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path)

    async def close(self) -> None:
        """Close the connection; pending statements finish first."""
        async with self._lock:
            if not self._closed:
                self._closed = True
                await self._conn.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"database {self.path} is closed")

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Tx]:
        """Run the body in one transaction: committed on exit, rolled back on any error.

        `write=False` takes a read snapshot (plain BEGIN) for multi-statement reads.
        """
        async with self._lock:
            self._check_open()
            try:
                await self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield Tx(self._conn)
                await self._conn.commit()
            except BaseException:
                # Also on cancellation: aiosqlite queues this behind whatever statement
                # is still running, so the connection is never left mid-transaction.
                # (A rollback with no transaction open is a no-op.)
                await self._conn.rollback()
                raise

    async def pragma(self, name: str) -> Any:
        """Read one pragma's value (for checks and tests)."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a pragma name: {name!r}")
        async with self._lock:
            self._check_open()
            async with self._conn.execute(f"PRAGMA {name}") as cursor:
                row = await cursor.fetchone()
        return row[0] if row else None

    async def total_changes(self) -> int:
        """Rows written through this connection since it opened (idle-cost checks)."""
        async with self.transaction(write=False) as tx:
            row = await tx.fetchone("SELECT total_changes() AS n")
        return int(row["n"]) if row else 0

    async def backup(self, dest: str | Path) -> None:
        """Copy the whole database to `dest` with SQLite's online backup API.

        The copy is written next to `dest` and renamed over it, so a reader never sees
        a half-written backup. The copy is a standalone single-file database.
        """
        dest_path = Path(dest)
        tmp_path = await asyncio.to_thread(_prepare_backup_target, dest_path, self.path)
        # check_same_thread=False: the copy runs on aiosqlite's worker thread.
        target = sqlite3.connect(tmp_path, check_same_thread=False)
        try:
            try:
                async with self._lock:
                    self._check_open()
                    await self._conn.backup(target)
            finally:
                target.close()
            await asyncio.to_thread(tmp_path.replace, dest_path)
        except BaseException:
            await asyncio.to_thread(tmp_path.unlink, missing_ok=True)  # no half copy left
            raise


def _prepare_backup_target(dest: Path, source: str) -> Path:
    if source != MEMORY and dest.resolve() == Path(source).resolve():
        raise ValueError("backup destination is the database itself")
    if dest.is_dir():
        raise IsADirectoryError(f"backup destination {dest} is a directory; name a file in it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = dest.with_name(dest.name + ".partial")
    tmp_path.unlink(missing_ok=True)
    return tmp_path


class _Opening:
    """What `Database.open` returns: awaitable, or an async context manager that closes."""

    def __init__(self, path: str, busy_timeout_ms: int, synchronous: Synchronous) -> None:
        self._args = (path, busy_timeout_ms, synchronous)
        self._db: Database | None = None

    def __await__(self) -> Generator[Any, None, Database]:
        return Database._connect(*self._args).__await__()

    async def __aenter__(self) -> Database:
        self._db = await Database._connect(*self._args)
        return self._db

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._db is not None:
            await self._db.close()
