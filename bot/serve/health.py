"""/healthz, judged: pure over what was read (the write probe, the board, the outbox).

Healthy means the database took a write just now, every source polled successfully
within `stale_poll_factor` of its interval (counted from the run's start until its first
success), and, when `server.outbox_lag_seconds` is set, no due post has waited longer.
The process being up is the answer itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.weekly.watch import PollRecord, WatchedSource


@dataclass(frozen=True, slots=True)
class SourceHealth:
    source: str  # the label: "repo", "feed:<url>"
    last_ok_age_seconds: float | None  # None: no successful poll in this run
    last_error: str | None
    stale: bool


@dataclass(frozen=True, slots=True)
class Health:
    database_writable: bool
    database_error: str | None
    sources: tuple[SourceHealth, ...]
    oldest_due_age_seconds: float | None  # None: no post is due
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "unhealthy",
            "process": "up",
            "database": {"writable": self.database_writable, "error": self.database_error},
            "sources": {
                s.source: {
                    "last_ok_age_seconds": _round(s.last_ok_age_seconds),
                    "last_error": s.last_error,
                    "stale": s.stale,
                }
                for s in self.sources
            },
            "outbox": {"oldest_due_age_seconds": _round(self.oldest_due_age_seconds)},
            "problems": list(self.problems),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def judge_health(
    *,
    now: float,
    started_at: float,
    database_error: str | None,
    sources: Sequence[WatchedSource],
    records: Sequence[PollRecord],
    oldest_due_at: float | None,
    stale_factor: float,
    outbox_lag_seconds: float | None,
) -> Health:
    problems: list[str] = []
    if database_error is not None:
        problems.append(f"database not writable: {database_error}")
    by_name = {r.name: r for r in records}
    judged: list[SourceHealth] = []
    for source in sources:
        record = by_name.get(source.name, PollRecord(source.name))
        since = record.ok_at if record.ok_at is not None else started_at
        limit = stale_factor * source.interval
        stale = now - since > limit
        if stale:
            problems.append(f"{source.label}: no successful poll for {now - since:.0f}s")
        judged.append(
            SourceHealth(
                source.label,
                None if record.ok_at is None else now - record.ok_at,
                record.error,
                stale,
            )
        )
    lag = None if oldest_due_at is None else max(now - oldest_due_at, 0.0)
    if lag is not None and outbox_lag_seconds is not None and lag > outbox_lag_seconds:
        problems.append(f"a due post has waited {lag:.0f}s (limit {outbox_lag_seconds:.0f}s)")
    return Health(database_error is None, database_error, tuple(judged), lag, tuple(problems))
