"""The audit log: who did what to which thing, appended inside the caller's transaction.

Shared by the store facade and the outbox so an editor's decision and the state change
it caused commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from data.db import SyncTx, Tx, When, to_ts


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    actor: str  # "user:123", "system", a worker's lease owner
    action: str  # "outbox.resolve_in_doubt", "user.block"…
    subject: str  # "outbox:17", "user:123"
    details: Mapping[str, Any]


_INSERT = "INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)"


def _row(
    actor: str, action: str, subject: str, details: Mapping[str, Any] | None, now: When
) -> tuple[Any, ...]:
    return (to_ts(now), actor, action, subject, json.dumps(dict(details or {}), ensure_ascii=False))


async def insert_audit(
    tx: Tx,
    *,
    actor: str,
    action: str,
    subject: str = "",
    details: Mapping[str, Any] | None = None,
    now: When,
) -> int:
    """Append one entry in the open transaction `tx`; return its id."""
    return await tx.insert(_INSERT, _row(actor, action, subject, details, now))


def insert_audit_batched(
    tx: SyncTx,
    *,
    actor: str,
    action: str,
    subject: str = "",
    details: Mapping[str, Any] | None = None,
    now: When,
) -> int:
    """`insert_audit` inside a batched write's body (`Database.write_batched`)."""
    return tx.insert(_INSERT, _row(actor, action, subject, details, now))


async def select_audit(
    tx: Tx,
    *,
    subject: str | None = None,
    action: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """Return entries newest first, optionally filtered; `before_id` pages backwards."""
    rows = await tx.fetchall(
        "SELECT * FROM audit_log"
        " WHERE (:subject IS NULL OR subject = :subject)"
        " AND (:action IS NULL OR action = :action)"
        " AND (:before IS NULL OR id < :before)"
        " ORDER BY id DESC LIMIT :limit",
        {"subject": subject, "action": action, "before": before_id, "limit": limit},
    )
    return [
        AuditEntry(
            id=row["id"],
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            subject=row["subject"],
            details=json.loads(row["details"]),
        )
        for row in rows
    ]
