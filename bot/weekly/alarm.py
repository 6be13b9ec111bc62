"""Editor alarms: no new issue for too long, or a source failing poll after poll.

`decide_alarms` is pure: it compares what the store says with which alarms are
raised and returns the changes. `check_alarms` reads, decides, then persists each
change with a conditional update (raised once, cleared once) and tells the editors
only of the changes it persisted itself. So a restart, or two checks at once, never
repeat a message; a message that could not be delivered is not retried (the alarm
is at most once, like a pager's, and the next change is still told).

"No new issue" is measured from the later of the newest stored issue's date (its
midnight in the channel's zone) and the last `NewIssue` the bot handled; with
neither (an empty database) there is nothing to be late against, and no alarm.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from bot.texts import text
from bot.weekly.publication import NEW_ISSUE_ACTION
from bot.weekly.settings import PublishingSettings
from data.store import SourceState, Store

SILENCE = "silence"
SOURCE_PREFIX = "source:"
DAY = 86_400.0
_ERROR_SHOWN_MAX = 300

Notify = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AlarmInputs:
    now: float
    last_issue_at: float | None  # when the newest issue arrived, as well as is known
    newest_issue: tuple[int, dt.date] | None
    sources: tuple[SourceState, ...]
    raised: frozenset[str]


@dataclass(frozen=True, slots=True)
class AlarmChange:
    name: str
    action: Literal["raise", "clear"]
    message: str  # Telegram HTML, escaped


def last_issue_at(
    newest: tuple[int, dt.date] | None, last_event_at: float | None, zone: ZoneInfo
) -> float | None:
    dated = (
        None
        if newest is None
        else dt.datetime.combine(newest[1], dt.time(), tzinfo=zone).timestamp()
    )
    known = [t for t in (dated, last_event_at) if t is not None]
    return max(known) if known else None


def decide_alarms(
    inputs: AlarmInputs, *, silence_days: float, failing_polls: int
) -> list[AlarmChange]:
    """The alarms to raise and to clear now; nothing when nothing changed."""
    changes: list[AlarmChange] = []
    if inputs.last_issue_at is not None:
        days = (inputs.now - inputs.last_issue_at) / DAY
        newest = (
            text(
                "alarm.newest",
                number=inputs.newest_issue[0],
                date=inputs.newest_issue[1].isoformat(),
            )
            if inputs.newest_issue
            else text("alarm.newest_unknown")
        )
        if days > silence_days and SILENCE not in inputs.raised:
            changes.append(
                AlarmChange(
                    SILENCE,
                    "raise",
                    text(
                        "alarm.silence",
                        days=days,
                        limit=silence_days,
                        newest=html.escape(newest),
                    ),
                )
            )
        elif days <= silence_days and SILENCE in inputs.raised:
            changes.append(
                AlarmChange(SILENCE, "clear", text("alarm.silence_clear", newest=newest))
            )
    for source in inputs.sources:
        name = SOURCE_PREFIX + source.name
        failing = source.consecutive_failures >= failing_polls
        label = html.escape(source.name)
        if failing and name not in inputs.raised:
            error = (source.last_error or text("alarm.unknown_error"))[:_ERROR_SHOWN_MAX]
            changes.append(
                AlarmChange(
                    name,
                    "raise",
                    text(
                        "alarm.source_failing",
                        source=label,
                        count=source.consecutive_failures,
                        error=html.escape(error),
                    ),
                )
            )
        elif not failing and name in inputs.raised:
            changes.append(AlarmChange(name, "clear", text("alarm.source_clear", source=label)))
    return changes


async def check_alarms(
    store: Store,
    publishing: PublishingSettings,
    *,
    notify: Notify,
    now: dt.datetime,
) -> list[AlarmChange]:
    """Read, decide, persist, then tell the editors; returns the changes told."""
    alarms = store.alarms
    states = await alarms.states()
    newest = await store.issues.newest_dated()
    events = await store.list_audit(action=NEW_ISSUE_ACTION, limit=1)
    inputs = AlarmInputs(
        now=now.timestamp(),
        last_issue_at=last_issue_at(newest, events[0].at if events else None, publishing.zone),
        newest_issue=newest,
        sources=tuple(await store.source_states()),
        raised=frozenset(name for name, state in states.items() if state.raised),
    )
    told: list[AlarmChange] = []
    for change in decide_alarms(
        inputs, silence_days=publishing.silence_days, failing_polls=publishing.failing_polls
    ):
        if change.action == "raise":
            mine = await alarms.raise_alarm(change.name, detail=change.message, now=now)
        else:
            mine = await alarms.clear_alarm(change.name, detail=change.message, now=now)
        if mine:
            await notify(change.message)
            told.append(change)
    return told
