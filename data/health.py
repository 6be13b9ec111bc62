"""What /healthz and /metrics read at request time: counts and ages, no state of their own.

Each read is one SELECT (`Database.fetchall`); the write probe is the heartbeat upsert
the health check already uses (`Store.beat`), so a database that cannot take a write
transaction answers with the error SQLite gave.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.db import Database, When, to_ts


@dataclass(frozen=True, slots=True)
class Depths:
    """Rows by state, read in one go for a scrape."""

    outbox: dict[tuple[str, str], int]  # (target, state) -> rows
    submissions: dict[str, int]
    extra_queued: int


async def depths(db: Database) -> Depths:
    outbox = await db.fetchall("SELECT target, state, COUNT(*) AS n FROM outbox GROUP BY 1, 2")
    subs = await db.fetchall("SELECT state, COUNT(*) AS n FROM submissions GROUP BY 1")
    queued = await db.fetchone("SELECT COUNT(*) AS n FROM extra_queue WHERE state = 'queued'")
    return Depths(
        outbox={(str(r["target"]), str(r["state"])): int(r["n"]) for r in outbox},
        submissions={str(r["state"]): int(r["n"]) for r in subs},
        extra_queued=int(queued["n"]) if queued else 0,
    )


async def oldest_due(db: Database, *, now: When) -> float | None:
    """When the oldest queued row became due, of the targets not paused; None: none due.

    A paused target's rows wait by an editor's decision, which is not a delivery lag.
    """
    row = await db.fetchone(
        "SELECT MIN(o.next_attempt_at) AS due FROM outbox o"
        " WHERE o.state = 'queued' AND o.next_attempt_at <= ?"
        " AND NOT EXISTS (SELECT 1 FROM target_pauses tp WHERE tp.target = o.target)",
        (to_ts(now),),
    )
    return None if row is None or row["due"] is None else float(row["due"])
