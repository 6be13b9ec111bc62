"""`/status`: what the bot is doing, in one compact message for the editors.

`gather_status` reads it all at once (the sources' polls from the `WatchBoard` and their
errors from `source_state`, the outbox counts, pauses and holds, each worker's quota as
its pacer last heard it, the extra-edition queue's outbox rows); `render_status` is pure
and words it as Telegram HTML in the channel's time zone.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.platforms import Platforms
from bot.texts import text
from bot.weekly.watch import PollRecord, WatchBoard
from data.extras import QueueSummary
from data.outbox import OUTBOX_STATES, OutboxState
from data.store import SourceState, Store
from publishers.pacing import Pacer, ReportsQuota
from publishers.x_quota import RateWindow, XQuota


@dataclass(frozen=True, slots=True)
class SourceLine:
    name: str
    last_poll_at: float | None  # this run's; None before the first poll
    next_poll_at: float | None
    last_error: str | None  # source_state's: kept across restarts, cleared by a success
    failures: int = 0
    last_success_at: float | None = None


@dataclass(frozen=True, slots=True)
class TargetLine:
    target: str
    display: str
    counts: Mapping[OutboxState, int]
    paused_by: str | None = None
    hold_until: float | None = None  # a platform's "wait until" still ahead
    quota: XQuota | None = None  # what the platform last reported, when it does
    reports_quota: bool = False  # its pacer hears the quota (X): "not reported yet" till then


@dataclass(frozen=True, slots=True)
class Status:
    now: float
    sources: tuple[SourceLine, ...]
    targets: tuple[TargetLine, ...]
    queue_length: int
    queue_next_at: float | None


def source_lines(
    records: Sequence[PollRecord], states: Sequence[SourceState]
) -> tuple[SourceLine, ...]:
    """The watched sources (this run's board) with what `source_state` keeps of them."""
    by_name = {s.name: s for s in states}
    lines = []
    for record in records:
        state = by_name.get(record.name)
        lines.append(
            SourceLine(
                name=record.name,
                last_poll_at=record.last_at,
                next_poll_at=record.next_at,
                last_error=state.last_error if state else record.error,
                failures=state.consecutive_failures if state else int(record.error is not None),
                last_success_at=state.last_success_at if state else None,
            )
        )
    return tuple(lines)


async def gather_status(
    store: Store,
    board: WatchBoard,
    platforms: Platforms,
    pacers: Mapping[str, Pacer],
    *,
    queue: QueueSummary,
    now: float,
) -> Status:
    """Read everything `/status` shows; `pacers` are the running workers' by target,
    `queue` the extra edition's (`QueueStore.summary`: what counts as in the queue)."""
    outbox = store.outbox
    counts = await outbox.counts()
    paused = await outbox.paused()
    holds = await outbox.holds()
    length, next_at = queue.length, queue.next_at
    names = [p.name for p in platforms]
    names += sorted(set(counts) - set(names))  # rows of a target no longer registered
    targets = []
    for name in names:
        pacer = pacers.get(name)
        quota = pacer.quota() if isinstance(pacer, ReportsQuota) else None
        hold = holds.get(name)
        platform = platforms.get(name)
        targets.append(
            TargetLine(
                target=name,
                display=platform.display if platform else name,
                counts=counts.get(name, {}),
                paused_by=paused[name][0] if name in paused else None,
                hold_until=hold if hold is not None and hold > now else None,
                quota=quota,
                reports_quota=isinstance(pacer, ReportsQuota),
            )
        )
    sources = source_lines(board.records(), await store.source_states())
    return Status(now, sources, tuple(targets), length, next_at)


def _when(at: float | None, now: float, zone: ZoneInfo) -> str:
    if at is None:
        return text("status.never")
    moment = dt.datetime.fromtimestamp(at, zone)
    today = dt.datetime.fromtimestamp(now, zone).date()
    return moment.strftime("%H:%M" if moment.date() == today else "%m-%d %H:%M")


def _source(line: SourceLine, now: float, zone: ZoneInfo) -> str:
    error = (
        text("status.source_error", error=html.escape(line.last_error), failures=line.failures)
        if line.last_error
        else text("status.source_ok")
    )
    return text(
        "status.source",
        name=html.escape(line.name),
        last=_when(line.last_poll_at, now, zone),
        next=_when(line.next_poll_at, now, zone),
        error=error,
    )


def _window(label: str, window: RateWindow | None, now: float, zone: ZoneInfo) -> str | None:
    if window is None:
        return None
    return text(
        "status.quota_window",
        window=label,
        remaining=window.remaining,
        limit=window.limit,
        reset=_when(float(window.reset), now, zone),
    )


def _target(line: TargetLine, now: float, zone: ZoneInfo) -> str:
    counts = ", ".join(
        f"{line.counts[state]} {state}" for state in OUTBOX_STATES if line.counts.get(state)
    )
    parts = [
        text("status.target", target=html.escape(line.display), counts=counts or "—"),
    ]
    if line.paused_by is not None:
        parts.append(text("status.paused_by", who=html.escape(line.paused_by)))
    if line.hold_until is not None:
        parts.append(text("status.held", until=_when(line.hold_until, now, zone)))
    if line.quota is not None:
        windows = [
            w
            for w in (
                _window("15 min", line.quota.window_15m, now, zone),
                _window("24 h", line.quota.user_24h, now, zone),
                _window("24 h app", line.quota.app_24h, now, zone),
            )
            if w
        ]
        parts.append(text("status.quota", windows="; ".join(windows)))
    return "; ".join(parts)


def render_status(status: Status, zone: ZoneInfo) -> str:
    """The `/status` message (Telegram HTML), times in `zone` (the channel's)."""
    now = status.now
    sources = [_source(s, now, zone) for s in status.sources] or [text("status.no_sources")]
    targets = []
    for line in status.targets:
        rendered = _target(line, now, zone)
        if line.quota is None and line.reports_quota:
            rendered += "; " + text("status.quota_unknown")
        targets.append(rendered)
    paused = [t.display for t in status.targets if t.paused_by is not None]
    queue = (
        text(
            "status.queue",
            length=status.queue_length,
            next=_when(status.queue_next_at, now, zone),
        )
        if status.queue_length
        else text("status.queue_empty")
    )
    return text(
        "status.message",
        zone=html.escape(str(zone)),
        now=_when(now, now, zone),
        sources="\n".join(sources),
        targets="\n".join(targets),
        paused=html.escape(", ".join(paused)) if paused else text("status.none_paused"),
        queue=queue,
    )
