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
import contextlib
import datetime as dt
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, TypeAlias, TypeVar

import aiosqlite

MEMORY = ":memory:"

T = TypeVar("T")

# A point in time given by the caller (the store has no clock of its own): Unix
# seconds, or an aware datetime. Stored as REAL Unix seconds.
When: TypeAlias = float | int | dt.datetime

Params: TypeAlias = Sequence[Any] | dict[str, Any]

Synchronous = Literal["NORMAL", "FULL"]

# STRICT tables need 3.37; RETURNING needs 3.35.
MIN_SQLITE_VERSION = (3, 37, 0)

# What `Database.fetchall` runs outside a transaction: a query, never a write.
_READ_ONLY = re.compile(r"\s*SELECT\b", re.IGNORECASE)


class StorageError(Exception):
    """The database cannot be used as asked (wrong journal mode, schema too new...)."""


StorageKind = Literal["full", "read-only", "io"]

# SQLite's primary result codes that mean "the storage cannot take this", not "this
# statement is wrong": SQLITE_READONLY (8), SQLITE_IOERR (10), SQLITE_FULL (13).
# Extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED...) share the low byte.
_STORAGE_CODES: dict[int, StorageKind] = {8: "read-only", 10: "io", 13: "full"}

_STORAGE_FIX: dict[StorageKind, str] = {
    "full": "the disk (or its quota) is full: free space on the disk that holds it",
    "read-only": (
        "the database is read-only: make the file, its -wal/-shm files and its folder "
        "writable by the bot's user (or remount the disk read-write)"
    ),
    "io": "the disk failed a read or write: check the disk and its mount (dmesg), and its space",
}


class StorageUnavailable(StorageError):
    """The database cannot record anything now: its disk is full, it is read-only, or
    the disk fails (SQLite's SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR).

    Raised by `Database` in place of the `sqlite3.OperationalError`, the one mapping of
    those errors. The transaction was rolled back: nothing of it was written. The
    message names what, the path and the fix.
    """

    def __init__(self, kind: StorageKind, path: str, detail: str) -> None:
        self.kind: StorageKind = kind
        self.path = path
        self.detail = detail
        self.fix = _STORAGE_FIX[kind]
        super().__init__(f"{path}: cannot write ({detail}); {self.fix}")


def storage_kind(exc: BaseException) -> StorageKind | None:
    """What storage failure a sqlite3 error is, or None when it is not one."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int):
            return _STORAGE_CODES.get(code & 0xFF)
    return None


def to_ts(when: When) -> float:
    """Turn a caller-supplied time into the Unix seconds stored in the database.

    Naive datetimes are refused: guessing their zone is how times drift by hours.
    """
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            raise ValueError(f"naive datetime {when!r}: pass an aware datetime or Unix seconds")
        return when.timestamp()
    return float(when)


class Reader(Protocol):
    """What a one-statement read needs: an open transaction (`Tx`), or the `Database`
    itself for a query that stands alone."""

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None: ...


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
        """Run one INSERT and return the new rowid (one trip to aiosqlite's thread)."""
        row = await self._conn.execute_insert(sql, params)
        if row is None:  # pragma: no cover - last_insert_rowid() always gives a row
            raise StorageError("INSERT returned no rowid")
        return int(row[0])

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement (SELECT or … RETURNING) and return all its rows.

        One trip to aiosqlite's thread (execute and fetch there), not three (execute,
        fetch, close): each trip is a wake-up of that thread and of the event loop.
        """
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Run one statement and return its first row, if any."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


class SyncTx:
    """Statements of a batched write (`Database.write_batched`), run on aiosqlite's thread.

    The body that gets one is plain synchronous code: the whole batch is one trip to
    that thread, however many statements its bodies run.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return how many rows it changed."""
        return self._conn.execute(sql, params).rowcount

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT and return the new rowid."""
        rowid = self._conn.execute(sql, params).lastrowid
        if rowid is None:  # pragma: no cover - an INSERT always sets it
            raise StorageError("INSERT returned no rowid")
        return rowid

    def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement (SELECT or … RETURNING) and return all its rows."""
        return list(self._conn.execute(sql, params).fetchall())

    def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None


# One queued batched write: its body and the future its caller awaits.
_Queued: TypeAlias = tuple[Callable[[SyncTx], Any], "asyncio.Future[Any]"]
_SAVEPOINT = "weeklybot_batched"


def _run_batch(conn: sqlite3.Connection, bodies: Sequence[Callable[[SyncTx], Any]]) -> list[Any]:
    """On aiosqlite's thread: the bodies in order in one write transaction, one commit.

    Each body runs in its own savepoint: one that raises is undone alone (its exception
    is its result) and the next sees the database as the ones before it left it.
    """
    tx = SyncTx(conn)
    results: list[Any] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for body in bodies:
            conn.execute(f"SAVEPOINT {_SAVEPOINT}")
            try:
                value = body(tx)
            except Exception as exc:  # the caller's own error: it gets it back
                if storage_kind(exc) is not None:
                    # Not the body's fault, and SQLITE_FULL/IOERR may have rolled the
                    # whole transaction back already: the batch fails as one.
                    raise
                conn.execute(f"ROLLBACK TO {_SAVEPOINT}")
                conn.execute(f"RELEASE {_SAVEPOINT}")
                results.append(_Failed(exc))
            else:
                conn.execute(f"RELEASE {_SAVEPOINT}")
                results.append(value)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return results


class _Failed:
    """A batched body's exception, carried back to its caller."""

    __slots__ = ("exc",)

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


class Database:
    """One connection to the weeklybot database, with its pragmas set."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        """Wrap an open connection; use `Database.open` instead."""
        self._conn = conn
        self._lock = asyncio.Lock()
        self._closed = False
        self._queued: list[_Queued] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches_committed = 0  # group commits of `write_batched` (tests, the bench)
        self.path = path
        # Told (synchronously, must not raise) of every `StorageUnavailable` raised, from
        # any caller: the bot's storage guard (`bot.ops.storage_guard`) sets it.
        self.on_unavailable: Callable[[StorageUnavailable], None] | None = None

    def _unavailable(self, exc: BaseException) -> StorageUnavailable | None:
        """`exc` as `StorageUnavailable` (the listener told), or None: not a storage error."""
        kind = storage_kind(exc)
        if kind is None:
            return None
        mapped = StorageUnavailable(kind, self.path, str(exc))
        if self.on_unavailable is not None:
            self.on_unavailable(mapped)
        return mapped

    @staticmethod
    def open(
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        synchronous: Synchronous = "FULL",
        create: bool = True,
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
            create: False for commands that only inspect an existing database
                (healthcheck, backup): a missing file is then an error, not a new one.

        Raises:
            StorageError: with one line naming the path and the fix, when the folder
                or the file cannot be written (or the file is missing and not `create`).
        """
        return _Opening(str(path), busy_timeout_ms, synchronous, create)

    @classmethod
    async def _connect(
        cls, path: str, busy_timeout_ms: int, synchronous: Synchronous, create: bool
    ) -> Database:
        if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
            raise StorageError(f"SQLite {sqlite3.sqlite_version} is too old; 3.37+ is required")
        if path != MEMORY:
            await asyncio.to_thread(check_usable, Path(path), create=create)
        # isolation_level=None: the sqlite3 module must not open transactions behind our
        # back; `transaction()` issues BEGIN/COMMIT itself.
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.OperationalError as exc:
            raise StorageError(f"{path}: cannot open the database ({exc})") from exc
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
        except sqlite3.OperationalError as exc:
            await conn.close()
            if "readonly" in str(exc) or "unable to open" in str(exc):
                raise StorageError(
                    f"{path}: SQLite cannot write it ({exc}); make the file and its folder "
                    "writable by the bot's user"
                ) from exc
            raise
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
            except BaseException as exc:
                # Also on cancellation: aiosqlite queues this behind whatever statement
                # is still running, so the connection is never left mid-transaction.
                # (A rollback with no transaction open is a no-op.)
                mapped = self._unavailable(exc)
                if mapped is None:
                    await self._conn.rollback()
                    raise
                with contextlib.suppress(sqlite3.Error):  # the disk may fail this too
                    await self._conn.rollback()
                raise mapped from exc

    async def write_batched(self, body: Callable[[SyncTx], T]) -> T:
        """Run `body` in a write transaction shared with the batched writes queued meanwhile.

        Group commit: the commit is an fsync (`synchronous = FULL`, milliseconds on a
        disk), so writes that arrive together (readers sending `/submit` at once) are
        run one after the other in one transaction with one commit, in the order they
        were queued; each sees what the ones before it wrote, so compare-and-sets and
        dedupe judge as in transactions of their own. A body that raises is undone
        alone (a savepoint) and its caller gets the exception; a failed commit fails
        them all. `body` is synchronous and runs on aiosqlite's thread (the whole batch
        is one trip there): it must be quick and pure apart from its statements.

        Returns once the commit is done. A caller cancelled after its body ran does not
        undo it (as with a cancellation just after a `transaction()`'s commit).
        """
        self._check_open()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queued.append((body, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name="db-group-commit")
        return await future

    async def _flush(self) -> None:
        """Commit the queued batched writes, a batch at a time, until none is left."""
        batch: list[_Queued] = []
        try:
            while self._queued:
                async with self._lock:
                    batch = [(body, fut) for body, fut in self._queued if not fut.done()]
                    self._queued = []
                    if not batch:
                        continue
                    try:
                        self._check_open()
                        bodies = [body for body, _ in batch]
                        results = await self._on_thread(_run_batch, bodies)
                    except Exception as exc:
                        failure = self._unavailable(exc) or exc
                        for _, fut in batch:
                            if not fut.done():
                                fut.set_exception(failure)
                        continue
                    self.batches_committed += 1
                    for (_, fut), result in zip(batch, results, strict=True):
                        if fut.done():
                            continue
                        if isinstance(result, _Failed):
                            fut.set_exception(result.exc)
                        else:
                            fut.set_result(result)
        except BaseException:  # cancelled (the loop is closing): nobody waits forever
            for _, fut in (*batch, *self._queued):
                fut.cancel()
            self._queued = []
            raise
        finally:
            self._flusher = None

    async def _on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Call `fn(sqlite3_connection, *args)` on aiosqlite's thread: one trip.

        aiosqlite has no public call for this; `_execute` is the queue every one of its
        own methods goes through (aiosqlite >= 0.20, pinned in pyproject.toml).
        """
        conn = self._conn

        def call() -> T:
            return fn(conn._conn, *args)

        result: T = await conn._execute(call)  # type: ignore[no-untyped-call]
        return result

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one SELECT on its own and return all its rows.

        A lone statement is its own snapshot (SQLite runs it in an implicit read
        transaction), so a one-query read needs no BEGIN … COMMIT around it: one trip to
        aiosqlite's thread, not three. Reads that must agree with each other go in one
        `transaction(write=False)`; writes always in `transaction()`.
        """
        if not _READ_ONLY.match(sql):
            raise ValueError("Database.fetchall runs SELECT only; write in a transaction()")
        async with self._lock:
            self._check_open()
            try:
                return list(await self._conn.execute_fetchall(sql, params))
            except sqlite3.Error as exc:
                mapped = self._unavailable(exc)  # a read fails only on I/O errors
                if mapped is None:
                    raise
                raise mapped from exc

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """`fetchall`'s first row, if any."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def probe_writable(
        self, *, now: When, pages: int = 2, min_free_bytes: int = 1 << 20
    ) -> None:
        """Prove the database can record again: raise `StorageUnavailable` if it cannot.

        For the storage guard's periodic check while storage is down; three checks, each
        for what the others miss:

        - a write that needs fresh pages: a row larger than the free list plus `pages`
          pages is inserted and rolled back (SQLite allocates, and refuses past a full
          disk or `max_page_count`, at the insert; nothing is kept, so probing never
          grows the file). `BEGIN IMMEDIATE; ROLLBACK` alone would prove nothing;
        - a committed write (the heartbeat row `storage-probe`): a read-only file or
          mount, and a disk that cannot take the WAL's frames;
        - the folder's free space (`os.statvfs`) is at least `min_free_bytes`: a WAL
          that reuses its own space can commit on a full disk while any growth fails,
          so "space returned" is asked of the file system itself.
        """
        async with self.transaction() as tx:
            row = await tx.fetchone(
                "SELECT (SELECT page_size FROM pragma_page_size) AS size,"
                " (SELECT freelist_count FROM pragma_freelist_count) AS free"
            )
            size, free = (int(row["size"]), int(row["free"])) if row else (4096, 0)
            await tx.execute("SAVEPOINT weeklybot_probe")
            await tx.execute(
                "INSERT INTO heartbeat (component, beat_at) VALUES"
                " ('storage-probe:' || hex(zeroblob(?)), 0)",
                ((free + pages) * size // 2 + size,),  # hex doubles it: > free + pages
            )
            await tx.execute("ROLLBACK TO weeklybot_probe")
            await tx.execute("RELEASE weeklybot_probe")
            await tx.execute(
                "INSERT INTO heartbeat (component, beat_at) VALUES ('storage-probe', ?)"
                " ON CONFLICT (component) DO UPDATE SET beat_at = excluded.beat_at",
                (to_ts(now),),
            )
        if self.path == MEMORY:
            return
        stat = await asyncio.to_thread(os.statvfs, Path(self.path).parent)
        free_bytes = stat.f_bavail * stat.f_frsize
        if free_bytes < min_free_bytes:
            raise StorageUnavailable("full", self.path, f"only {free_bytes} bytes free on its disk")

    async def set_limits(
        self, *, max_page_count: int | None = None, query_only: bool | None = None
    ) -> int:
        """Test and bench hook: set this connection's own SQLite limits; the page count.

        `max_page_count` (just above `page_count`: a full disk) and `query_only` (a
        read-only database) are per connection, so only the bot's own connection can
        be given them; the storage tests and `bench/chaos.py storage` fail the bot's
        storage through SQLite itself this way, not by a mock. `max_page_count` cannot
        go below the current size (SQLite keeps the larger). The bot never calls this.
        """
        async with self._lock:
            self._check_open()
            if max_page_count is not None:
                await self._conn.execute(f"PRAGMA max_page_count = {int(max_page_count)}")
            if query_only is not None:
                await self._conn.execute(f"PRAGMA query_only = {'ON' if query_only else 'OFF'}")
            rows = await self._conn.execute_fetchall("PRAGMA page_count")
            return int(next(iter(rows))[0])

    async def total_changes(self) -> int:
        """Rows written through this connection since it opened (idle-cost checks)."""
        async with self.transaction(write=False) as tx:
            row = await tx.fetchone("SELECT total_changes() AS n")
        return int(row["n"]) if row else 0

    async def backup(self, dest: str | Path, *, force: bool = False) -> None:
        """Copy the whole database to `dest` with SQLite's online backup API.

        The copy is written next to `dest` and renamed over it, so a reader never sees
        a half-written backup. The copy is a standalone single-file database. An
        existing `dest` is refused unless `force`: an older backup may be the only one.
        """
        dest_path = Path(dest)
        tmp_path = await asyncio.to_thread(_prepare_backup_target, dest_path, self.path, force)
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


def check_usable(path: Path, *, create: bool = True) -> None:
    """Refuse, in one line that names the path and the fix, a database the bot cannot write.

    SQLite in WAL mode writes the file and its `-wal`/`-shm` companions beside it,
    so the folder must be writable too; a probe file proves it (permission bits
    do not tell the whole story: read-only mounts, root). Without `create` a
    missing file is an error.
    """
    folder = path.parent
    if not create and not path.exists():
        raise StorageError(
            f"no database at {path}; start the bot or run `weeklybot db migrate` to create it, "
            "or fix WEEKLYBOT_DATABASE_PATH"
        )
    if folder.exists() and not folder.is_dir():
        raise StorageError(
            f"{path}: {folder} is not a folder; point WEEKLYBOT_DATABASE_PATH into a folder"
        )
    if not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"{path}: cannot create the folder {folder} ({exc.strerror or exc}); create it "
                "writable by the bot's user or point WEEKLYBOT_DATABASE_PATH elsewhere"
            ) from exc
    if path.exists() and not path.is_file():
        raise StorageError(f"{path} is not a file; point WEEKLYBOT_DATABASE_PATH at a file")
    probe = folder / f".weeklybot-write-probe-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise StorageError(
            f"{path}: the folder {folder} is not writable ({exc.strerror or exc}); SQLite "
            "writes its journal beside the database: make the folder writable by the bot's user"
        ) from exc
    if path.exists():
        try:
            with path.open("r+b"):
                pass
        except OSError as exc:
            raise StorageError(
                f"{path}: the database file is not writable ({exc.strerror or exc}); "
                "make it writable by the bot's user (chmod u+w, or chown)"
            ) from exc


def _prepare_backup_target(dest: Path, source: str, force: bool) -> Path:
    if source != MEMORY and dest.resolve() == Path(source).resolve():
        raise ValueError("backup destination is the database itself")
    if dest.is_dir():
        raise IsADirectoryError(f"backup destination {dest} is a directory; name a file in it")
    if dest.exists() and not force:
        raise FileExistsError(
            f"backup destination {dest} exists; name a new file, or pass --force to replace it"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = dest.with_name(dest.name + ".partial")
    tmp_path.unlink(missing_ok=True)
    return tmp_path


class _Opening:
    """What `Database.open` returns: awaitable, or an async context manager that closes."""

    def __init__(
        self, path: str, busy_timeout_ms: int, synchronous: Synchronous, create: bool
    ) -> None:
        self._args = (path, busy_timeout_ms, synchronous, create)
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
