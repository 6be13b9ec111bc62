"""When the extra edition's queued items go out: a pure planner, and an editor's time read.

Pure: values in, frozen dataclasses out; nothing reads a clock or the database
(`data.extras.QueueStore` hands in what it read and writes what this returns, in one
transaction).

The rules, per target (every queued item is one post on each target, so one time per
item serves them all):

- at most `max_per_day` extra items a local day, the ones already sent that day
  counted;
- inside the posting window (`bot.weekly.windows.PostingWindow`, the channel's zone),
  on a grid of `gap` steps from the window's start;
- at least `spacing` apart from each other (the window's length over `max_per_day`,
  never less than `gap`), so a day's items are spread, not bunched;
- never within `gap` of any other planned post (an issue's digest or items, a
  notice): the issue's schedule is fixed, the extra edition moves around it;
- in queue order: an item never goes before the one above it;
- an item an editor gave a time goes at that time (or at once, if the bot was down
  past it); it still counts in its day and the others keep their distance from it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.weekly.windows import PostingWindow

HORIZON_DAYS = 400  # a plan further out than this is a bug, not a queue
MAX_AHEAD_DAYS = 60  # an editor's time further out is refused as a typo


@dataclass(frozen=True, slots=True)
class QueueRules:
    window: PostingWindow  # its start, end and zone; `per_day` is the issues'
    max_per_day: int
    gap: dt.timedelta

    def __post_init__(self) -> None:
        if self.max_per_day < 1:
            raise ValueError(f"max_per_day must be at least 1, got {self.max_per_day}")
        if self.gap <= dt.timedelta(0):
            raise ValueError("gap must be positive")

    @property
    def spacing(self) -> float:
        """Seconds between two extra items: the window shared by a day's items."""
        opens = dt.datetime.combine(dt.date(2000, 1, 3), self.window.start)
        closes = dt.datetime.combine(dt.date(2000, 1, 3), self.window.end)
        length = (closes - opens).total_seconds()
        return max(self.gap.total_seconds(), length / self.max_per_day)


@dataclass(frozen=True, slots=True)
class QueuedEntry:
    """One item of the queue, in queue order; `pinned_at` is a time an editor gave."""

    id: int
    pinned_at: float | None = None


@dataclass(frozen=True, slots=True)
class QueuePlan:
    """The planned time (Unix) of every queued item, in queue order."""

    times: tuple[tuple[int, float], ...]

    def at(self, entry_id: int) -> float:
        return dict(self.times)[entry_id]


def _near(sorted_times: Sequence[float], t: float, distance: float) -> bool:
    """Some time in `sorted_times` is closer to `t` than `distance`."""
    i = bisect.bisect_left(sorted_times, t - distance)
    return i < len(sorted_times) and abs(sorted_times[i] - t) < distance


def _candidates(rules: QueueRules, after: dt.datetime) -> Iterator[dt.datetime]:
    """The grid's times at or after `after`, day by day, up to the horizon."""
    window, step = rules.window, rules.gap
    day = after.astimezone(window.zone).date()
    for _ in range(HORIZON_DAYS):
        opens, closes = window.day_bounds(day)
        t, last = opens.astimezone(dt.UTC), closes.astimezone(dt.UTC)
        while t <= last:
            if t >= after:
                yield t
            t += step
        day += dt.timedelta(days=1)


def plan_queue(
    entries: Sequence[QueuedEntry],
    *,
    now: dt.datetime,
    rules: QueueRules,
    occupied: Collection[float] = (),
    sent: Collection[float] = (),
) -> QueuePlan:
    """Time every queued item (see the module docstring).

    `occupied` are the Unix times of every other post planned on any target (an issue's
    rows); `sent` the times extra items already went out (each item once), for the day
    counts and the spacing.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    zone: ZoneInfo = rules.window.zone
    gap, spacing = rules.gap.total_seconds(), rules.spacing
    busy = sorted(occupied)
    start = now.timestamp()
    pinned = {e.id: max(e.pinned_at, start) for e in entries if e.pinned_at is not None}
    ours = sorted([*sent, *pinned.values()])
    per_day: Counter[dt.date] = Counter(dt.datetime.fromtimestamp(t, zone).date() for t in ours)
    loose = [e for e in entries if e.pinned_at is None]
    times: dict[int, float] = dict(pinned)
    grid = _candidates(rules, now)
    for entry in loose:
        for slot in grid:
            t = slot.timestamp()
            day = slot.astimezone(zone).date()
            if per_day[day] >= rules.max_per_day:
                continue
            if _near(busy, t, gap) or _near(ours, t, spacing):
                continue
            times[entry.id] = t
            bisect.insort(ours, t)
            per_day[day] += 1
            break
        else:
            raise ValueError(f"no time for queued item {entry.id} within {HORIZON_DAYS} days")
    return QueuePlan(times=tuple((e.id, times[e.id]) for e in entries))


# ---- an editor's time --------------------------------------------------------------------

_CLOCK = r"(?P<h>[01]?\d|2[0-3])[:.](?P<m>[0-5]\d)"
_FORMS = (
    re.compile(rf"(?P<y>\d{{4}})-(?P<mo>\d{{1,2}})-(?P<d>\d{{1,2}})[ T]+{_CLOCK}"),
    re.compile(rf"(?P<mo>\d{{1,2}})-(?P<d>\d{{1,2}})[ T]+{_CLOCK}"),
    re.compile(rf"(?P<tomorrow>tomorrow)\s+{_CLOCK}", re.IGNORECASE),
    re.compile(_CLOCK),
)


@dataclass(frozen=True, slots=True)
class BadTime:
    """Why an editor's text is not a time the bot can use (one line, for the reply)."""

    reason: str


def parse_time(text: str, *, now: dt.datetime, zone: ZoneInfo) -> dt.datetime | BadTime:
    """An editor's time in the channel's zone: ``HH:MM`` (the next one), ``tomorrow HH:MM``,
    ``MM-DD HH:MM`` or ``YYYY-MM-DD HH:MM``; it must be in the future, within 60 days."""
    raw = " ".join(text.split())
    match = next((m for form in _FORMS if (m := form.fullmatch(raw))), None)
    if match is None:
        return BadTime("not a time")
    parts = match.groupdict()
    local_now = now.astimezone(zone)
    clock = dt.time(int(parts["h"]), int(parts["m"]))
    try:
        if parts.get("y"):
            day = dt.date(int(parts["y"]), int(parts["mo"]), int(parts["d"]))
        elif parts.get("mo"):
            day = dt.date(local_now.year, int(parts["mo"]), int(parts["d"]))
        elif parts.get("tomorrow"):
            day = local_now.date() + dt.timedelta(days=1)
        else:
            day = local_now.date()
            if dt.datetime.combine(day, clock, tzinfo=zone) <= now:
                day += dt.timedelta(days=1)
    except ValueError:
        return BadTime("no such date")
    when = dt.datetime.combine(day, clock, tzinfo=zone)
    if when <= now:
        return BadTime("that time has passed")
    if when - now > dt.timedelta(days=MAX_AHEAD_DAYS):
        return BadTime(f"more than {MAX_AHEAD_DAYS} days ahead")
    return when
