"""Backups: the daily copy with retention, the run lock, and `weeklybot db restore`.

The daily job (`schedule_backups`, PTB's JobQueue like the other periodic jobs) writes
`weeklybot-YYYYmmddTHHMMSSZ.db` into `backups.dir` with SQLite's online backup API
(`Database.backup`, the same copy `weeklybot db backup PATH` makes) and keeps the
newest `backups.keep` of them.

The run lock: the running bot holds a shared `flock` on `<database>.lock` for its
whole life (`hold_run_lock`, taken by `bot.app.bot_running`); the kernel lets it go
when the process dies, kill -9 included, so a stale lock cannot exist. `restore`
takes the same lock exclusively, without waiting: while any bot runs on the
database, the restore is refused, and a bot started during a restore refuses to run.

`restore` checks the backup before it touches anything: `PRAGMA integrity_check`,
and a schema version this code knows and is not older than (a newer one was written
by newer code: `data.migrations.SchemaTooNewError`). The database it replaces is kept
beside it as `<database>.before-restore`, and the old WAL files are removed with it,
so SQLite cannot replay the old log onto the restored file.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from data.db import StorageError, check_usable
from data.migrations import MIGRATIONS
from data.outbox import OutboxStore

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import JobQueue

    from bot.config import Settings
    from bot.delivery.jobs import JobContext
    from bot.editors.kit import EditorChats
    from data.store import Store

log = logging.getLogger(__name__)

BACKUP_NAME = re.compile(r"weeklybot-\d{8}T\d{6}Z\.db")
BEFORE_RESTORE_SUFFIX = ".before-restore"


class BackupRefused(StorageError):
    """A restore that was not done, and why, in one line a person can act on."""


# ---- the run lock ------------------------------------------------------------------


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def _try_lock(handle: IO[str], exclusive: bool) -> bool:
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        fcntl.flock(handle.fileno(), mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def hold_run_lock(database: Path) -> Iterator[None]:
    """Mark `database` as in use by a running bot for the duration (a shared lock).

    Several bots may hold it at once (the second one is stopped by Telegram's
    409 on polling); only a restore needs it alone.
    """
    if str(database) == ":memory:":  # a throwaway database nobody can restore into
        yield
        return
    check_usable(database)  # the folder's problems in the database's words, first
    path = lock_path(database)
    with path.open("a+", encoding="utf-8") as handle:
        if not _try_lock(handle, exclusive=False):
            raise StorageError(
                f"{database} is being restored from a backup (`weeklybot db restore`); "
                "start the bot when the restore has finished"
            )
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _exclusive(database: Path) -> Iterator[None]:
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        if not _try_lock(handle, exclusive=True):
            raise BackupRefused(
                f"a weeklybot is running on {database}; stop it first (docker compose stop, "
                "or SIGTERM), then restore"
            )
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# ---- checking a backup -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackupCheck:
    """What `check_backup` found in a file that can be restored."""

    path: Path
    version: int  # its schema version
    to_apply: int  # migrations the bot applies on its next start


def check_backup(path: Path) -> BackupCheck:
    """Refuse (`BackupRefused`) a file that is not a sound weeklybot database this code runs."""
    if not path.is_file():
        raise BackupRefused(f"no backup file at {path}")
    try:
        # Read-only and immutable: the check writes nothing, not even a -wal beside it.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise BackupRefused(f"{path}: cannot be opened as SQLite ({exc})") from exc
    try:
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise BackupRefused(f"{path}: not a SQLite database ({exc})") from exc
        found = [str(r[0]) for r in rows]
        if found != ["ok"]:
            raise BackupRefused(f"{path}: damaged, integrity_check says: {'; '.join(found[:3])}")
        try:
            versions = [int(r[0]) for r in conn.execute("SELECT version FROM schema_version")]
        except sqlite3.Error as exc:
            raise BackupRefused(f"{path}: not a weeklybot database (no schema_version)") from exc
    finally:
        conn.close()
    known = {m.version for m in MIGRATIONS}
    newest = max(known, default=0)
    version = max(versions, default=0)
    if version > newest:
        raise BackupRefused(
            f"{path}: schema version {version} was written by a newer weeklybot (this one "
            f"knows up to {newest}); restore it with the newer version"
        )
    unknown = sorted(set(versions) - known)
    if unknown:
        raise BackupRefused(f"{path}: schema versions {unknown} are not this weeklybot's")
    return BackupCheck(path, version, sum(1 for v in known if v > version))


# ---- restore -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Restored:
    check: BackupCheck
    kept: Path | None  # the replaced database, kept beside it


def restore(backup: Path, database: Path, *, heartbeat_limit: float | None = None) -> Restored:
    """Replace `database` with a copy of `backup`, if the backup is sound and no bot runs.

    `heartbeat_limit`: also refuse while the database's heartbeat is younger than
    this (a bot on another machine sharing the file, whose lock we cannot see).
    """
    found = check_backup(backup)
    if backup.resolve() == database.resolve():
        raise BackupRefused("the backup is the database itself")
    with _exclusive(database):
        if heartbeat_limit is not None and database.exists():
            age = _heartbeat_age(database)
            if age is not None and age < heartbeat_limit:
                raise BackupRefused(
                    f"{database}: the bot's heartbeat is {age:.0f}s old: a bot may still be "
                    f"running; stop it, wait {heartbeat_limit - age:.0f}s and restore again"
                )
        partial = database.with_name(database.name + ".restoring")
        partial.unlink(missing_ok=True)
        _copy(backup, partial, readonly_source=True)
        kept = None
        if database.exists():
            kept = database.with_name(database.name + BEFORE_RESTORE_SUFFIX)
            kept.unlink(missing_ok=True)
            _copy(database, kept, readonly_source=False)  # WAL included: what it last said
        for companion in ("-wal", "-shm"):
            database.with_name(database.name + companion).unlink(missing_ok=True)
        partial.replace(database)
        _fsync_dir(database.parent)
    return Restored(found, kept)


@dataclass(frozen=True, slots=True)
class AfterRestore:
    waiting: dict[str, dict[str, int]]  # target → state → rows not final (queued, in_doubt…)
    paused: tuple[str, ...]  # targets paused now


async def after_restore(database: Path, *, pause: bool) -> AfterRestore:
    """Migrate the restored file, and pause every target that has posts waiting.

    Posts sent after the backup was taken are `queued` again in it: paused, the
    editors check the channel first, skip those (`/skip`), then `/resume`.
    """
    from bot.platforms import PLATFORMS
    from data.db import Database
    from data.migrations import migrate

    async with Database.open(database, create=False) as db:
        await migrate(db, now=time.time())
        outbox = OutboxStore(db)
        counts = await outbox.counts()
        waiting: dict[str, dict[str, int]] = {
            target: {str(state): n for state, n in states.items() if n and state in _WAITING}
            for target, states in counts.items()
        }
        waiting = {target: found for target, found in waiting.items() if found}
        paused: list[str] = []
        if pause and waiting:
            names = [t for t in PLATFORMS.names if t in waiting]
            paused = await outbox.pause(names, actor="db restore", now=time.time())
    return AfterRestore(waiting, tuple(paused))


_WAITING = frozenset({"queued", "sending", "in_doubt", "failed"})


def _copy(source: Path, dest: Path, *, readonly_source: bool) -> None:
    uri = f"{source.resolve().as_uri()}?mode=ro" + ("&immutable=1" if readonly_source else "")
    src = sqlite3.connect(uri, uri=True)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)
            # A standalone file: no -wal beside it for the bot to miss.
            out.execute("PRAGMA journal_mode = DELETE")
        finally:
            out.close()
    finally:
        src.close()
    with dest.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _heartbeat_age(database: Path) -> float | None:
    try:
        conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT max(beat_at) FROM heartbeat WHERE component = 'bot'")
            value = row.fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None  # nothing readable to replace carefully: the lock was enough
    if not value or value[0] is None:
        return None
    return time.time() - float(value[0])


# ---- the daily backup --------------------------------------------------------------


def backup_name(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("weeklybot-%Y%m%dT%H%M%SZ.db")


def to_prune(names: list[str], keep: int) -> list[str]:
    """The backups to delete: all but the newest `keep` (names sort by time)."""
    ours = sorted(n for n in names if BACKUP_NAME.fullmatch(n))
    return ours[: max(len(ours) - keep, 0)]


async def take_backup(store: Store, folder: Path, keep: int, *, now: dt.datetime) -> Path:
    """One daily backup into `folder`, then the oldest beyond `keep` deleted."""
    dest = folder / backup_name(now)
    await store.backup(dest, force=True)
    names = await asyncio.to_thread(lambda: [p.name for p in folder.iterdir()])
    for name in to_prune(names, keep):
        await asyncio.to_thread((folder / name).unlink, missing_ok=True)
    return dest


def backup_dir(settings: Settings) -> Path:
    return settings.backups.dir or settings.database_path.parent / "backups"


def schedule_backups(
    job_queue: JobQueue[Any],
    settings: Settings,
    store: Store,
    editor_chats: Callable[[Bot], EditorChats],
) -> None:
    """The daily backup at `backups.time`, local to `publishing.timezone`."""
    from bot.texts import text

    if not settings.backups.enabled:
        return
    folder, keep = backup_dir(settings), settings.backups.keep
    at = settings.backups.time.replace(tzinfo=ZoneInfo(settings.publishing.timezone))

    async def backup_job(context: JobContext) -> None:
        try:
            dest = await take_backup(store, folder, keep, now=dt.datetime.now(dt.UTC))
        except (OSError, sqlite3.Error, StorageError, ValueError) as exc:
            log.error("daily backup failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            notice = text("backup.failed", folder=str(folder), error=type(exc).__name__)
            editors = editor_chats(context.bot)
            await editors.send(notice, html=False, best_effort=True, what="a backup notice")
            return
        log.info("daily backup written", extra={"path": str(dest), "keep": keep})

    job_queue.run_daily(backup_job, time=at, name="backup")
