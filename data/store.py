"""The `Store` facade: every typed read and write the rest of weeklybot needs.

`Store(db)` is built once per open database (`bot.app.bot_running`); its `outbox`,
`issues`, `previews`, `alarms`, `file_notices` (the editors' notices of refused
files), `roundups` (what the Sunday roundups listed) and `langs` (each user's language)
are the larger repositories, each built here once; source state, users, the audit log,
the heartbeat and backups live here. Nothing returned is a cursor or a row object: only
frozen dataclasses and plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data.alarms import AlarmStore
from data.audit import AuditEntry, insert_audit, select_audit
from data.db import Database, When, to_ts
from data.issues import IssueStore
from data.langs import UserLangStore
from data.notices import FileNoticeStore
from data.outbox import OutboxStore
from data.previews import PreviewStore
from data.roundups import RoundupStore
from data.search import SearchStore
from data.stats import StatsStore


@dataclass(frozen=True, slots=True)
class SourceState:
    """Where a watched source was left: enough to ask it "anything new since?"."""

    name: str  # "github:chinesehuazhou/python-weekly", "rss:zh"
    cursor: str | None = None  # commit sha, revision, last entry id
    etag: str | None = None
    last_modified: str | None = None  # the HTTP header, verbatim
    last_success_at: float | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    updated_at: float = 0.0


def _source_state(row: Any) -> SourceState:
    return SourceState(
        name=row["name"],
        cursor=row["cursor"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_success_at=row["last_success_at"],
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        updated_at=row["updated_at"],
    )


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    username: str | None
    first_name: str | None
    blocked: bool
    first_seen_at: float
    last_seen_at: float


def _user(row: Any) -> User:
    return User(
        user_id=row["user_id"],
        username=row["username"],
        first_name=row["first_name"],
        blocked=bool(row["blocked"]),
        first_seen_at=row["first_seen_at"],
        last_seen_at=row["last_seen_at"],
    )


class Store:
    """Typed access to one opened and migrated `Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.outbox = OutboxStore(db)
        self.issues = IssueStore(db)
        self.previews = PreviewStore(db)
        self.alarms = AlarmStore(db)
        self.file_notices = FileNoticeStore(db)
        self.roundups = RoundupStore(db)
        self.langs = UserLangStore(db)  # the language each user is spoken to in
        self.search = SearchStore(db)  # the archive's full-text search (data.search)
        self.stats = StatsStore(db)  # what the editors' /stats reads

    # ---- sources ---------------------------------------------------------------

    async def get_source_state(self, name: str) -> SourceState | None:
        async with self.db.transaction(write=False) as tx:
            row = await tx.fetchone("SELECT * FROM source_state WHERE name = ?", (name,))
        return None if row is None else _source_state(row)

    async def source_states(self) -> list[SourceState]:
        """Every watched source's state, by name (what the failing-source alarm reads)."""
        async with self.db.transaction(write=False) as tx:
            rows = await tx.fetchall("SELECT * FROM source_state ORDER BY name")
        return [_source_state(row) for row in rows]

    async def put_source_state(self, state: SourceState, *, now: When) -> None:
        """Save the whole state of a source (`updated_at` is set to `now`)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO source_state (name, cursor, etag, last_modified, last_success_at,"
                " last_error, consecutive_failures, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor,"
                " etag = excluded.etag, last_modified = excluded.last_modified,"
                " last_success_at = excluded.last_success_at, last_error = excluded.last_error,"
                " consecutive_failures = excluded.consecutive_failures,"
                " updated_at = excluded.updated_at",
                (
                    state.name,
                    state.cursor,
                    state.etag,
                    state.last_modified,
                    state.last_success_at,
                    state.last_error,
                    state.consecutive_failures,
                    to_ts(now),
                ),
            )

    # ---- users -----------------------------------------------------------------

    async def upsert_user(
        self, user_id: int, *, username: str | None, first_name: str | None, now: When
    ) -> User:
        """Record that a Telegram user was seen; the blocked flag is kept."""
        at = to_ts(now)
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "INSERT INTO users (user_id, username, first_name, first_seen_at, last_seen_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " username = excluded.username, first_name = excluded.first_name,"
                " last_seen_at = excluded.last_seen_at RETURNING *",
                (user_id, username, first_name, at, at),
            )
        assert row is not None  # an upsert always returns its row
        return _user(row)

    async def get_user(self, user_id: int) -> User | None:
        async with self.db.transaction(write=False) as tx:
            row = await tx.fetchone("SELECT * FROM users WHERE user_id = ?", (user_id,))
        return None if row is None else _user(row)

    async def set_blocked(self, user_id: int, blocked: bool, *, actor: str, now: When) -> bool:
        """Block or unblock a known user (audited); False if unknown or already so."""
        action = "user.block" if blocked else "user.unblock"
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE users SET blocked = ? WHERE user_id = ? AND blocked <> ?",
                (int(blocked), user_id, int(blocked)),
            )
            if changed:
                await insert_audit(
                    tx, actor=actor, action=action, subject=f"user:{user_id}", now=to_ts(now)
                )
        return bool(changed)

    # ---- audit log -------------------------------------------------------------

    async def append_audit(
        self,
        *,
        actor: str,
        action: str,
        subject: str = "",
        details: Mapping[str, Any] | None = None,
        now: When,
    ) -> int:
        """Record a decision or an event worth explaining later; return its id."""
        async with self.db.transaction() as tx:
            return await insert_audit(
                tx, actor=actor, action=action, subject=subject, details=details, now=now
            )

    async def list_audit(
        self,
        *,
        subject: str | None = None,
        action: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[AuditEntry]:
        """Entries newest first; pass the last id seen as `before_id` for the next page."""
        async with self.db.transaction(write=False) as tx:
            return await select_audit(
                tx, subject=subject, action=action, before_id=before_id, limit=limit
            )

    # ---- heartbeat -------------------------------------------------------------

    async def beat(self, component: str, *, now: When) -> None:
        """Say `component` is alive; `weeklybot healthcheck` reads it from another process."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO heartbeat (component, beat_at) VALUES (?, ?)"
                " ON CONFLICT (component) DO UPDATE SET beat_at = excluded.beat_at",
                (component, to_ts(now)),
            )

    async def last_beat(self, component: str) -> float | None:
        async with self.db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT beat_at FROM heartbeat WHERE component = ?", (component,)
            )
        return None if row is None else float(row["beat_at"])

    # ---- backup ----------------------------------------------------------------

    async def backup(self, dest_path: str | Path, *, force: bool = False) -> None:
        """Write a consistent copy of the live database to `dest_path` (see `Database.backup`)."""
        await self.db.backup(dest_path, force=force)
