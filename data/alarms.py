"""Editor alarms' state: which are raised, since when, with what message.

Alarms are raised once and cleared once (``WHERE raised = 0`` / ``= 1``), so a
restart, or two checks racing, never repeats a message to the editors.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.db import Database, When, to_ts


@dataclass(frozen=True, slots=True)
class AlarmState:
    name: str
    raised: bool
    changed_at: float
    detail: str | None


class AlarmStore:
    """Which editor alarms are raised (built once, as `Store.alarms`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def states(self) -> dict[str, AlarmState]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall("SELECT * FROM alarms")
        return {
            row["name"]: AlarmState(
                name=row["name"],
                raised=bool(row["raised"]),
                changed_at=row["changed_at"],
                detail=row["detail"],
            )
            for row in rows
        }

    async def raise_alarm(self, name: str, *, detail: str, now: When) -> bool:
        """Mark the alarm raised; True only for the caller that raised it."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "INSERT INTO alarms (name, raised, changed_at, detail) VALUES (?, 1, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET raised = 1, changed_at = excluded.changed_at,"
                " detail = excluded.detail WHERE alarms.raised = 0 RETURNING name",
                (name, to_ts(now), detail),
            )
        return row is not None

    async def clear_alarm(self, name: str, *, detail: str, now: When) -> bool:
        """Mark the alarm cleared; True only if it was raised."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE alarms SET raised = 0, changed_at = ?, detail = ?"
                " WHERE name = ? AND raised = 1",
                (to_ts(now), detail, name),
            )
        return bool(changed)
