"""Posting windows: when, in the channel's own time zone, a spread-out post may go out.

Pure: every function takes `now` and returns aware datetimes; nothing reads a clock.

A window is the closed interval [start, end] of local wall-clock time, the same every
day, with `per_day` slots evenly spaced in it, both ends included: 3 a day between
09:00 and 21:00 gives 09:00, 15:00 and 21:00; one a day gives the start. Spacing is
measured in real elapsed time between the day's start and end instants, so on a day
when the clocks change the slots stay evenly spaced and inside the window. A window
never spans midnight (start < end); one that should, is two windows' worth of
trouble for readers in the channel's zone and is refused.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MAX_SLOTS_PER_DAY = 96  # one every 15 minutes over a whole day is already a flood


@dataclass(frozen=True, slots=True)
class PostingWindow:
    start: dt.time
    end: dt.time
    per_day: int
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"window start {self.start} must be before its end {self.end}")
        if not 1 <= self.per_day <= MAX_SLOTS_PER_DAY:
            raise ValueError(f"per_day must be 1..{MAX_SLOTS_PER_DAY}, got {self.per_day}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are local wall-clock times: give them no tzinfo")

    def day_bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The window's first and last instant on local `day`."""
        return (
            dt.datetime.combine(day, self.start, tzinfo=self.zone),
            dt.datetime.combine(day, self.end, tzinfo=self.zone),
        )

    def day_slots(self, day: dt.date) -> list[dt.datetime]:
        """The `per_day` slots of local `day`, earliest first."""
        opens, closes = self.day_bounds(day)
        if self.per_day == 1:
            return [opens]
        # Arithmetic on aware datetimes of one zone is wall-clock arithmetic; go through
        # UTC so that the spacing is real time on days when the clocks change.
        first, last = opens.astimezone(dt.UTC), closes.astimezone(dt.UTC)
        step = (last - first) / (self.per_day - 1)
        return [(first + step * k).astimezone(self.zone) for k in range(self.per_day)]

    def open_at_or_after(self, now: dt.datetime) -> dt.datetime:
        """`now` if the window is open, else the moment it next opens."""
        local = _aware(now).astimezone(self.zone)
        opens, closes = self.day_bounds(local.date())
        if now < opens:
            return opens
        if now <= closes:
            return local
        return self.day_bounds(local.date() + dt.timedelta(days=1))[0]


def _aware(when: dt.datetime) -> dt.datetime:
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: pass an aware datetime")
    return when


def slots_from(
    window: PostingWindow, after: dt.datetime, *, strict: bool = False
) -> Iterator[dt.datetime]:
    """Every slot at or after `after` (strictly after with `strict`), forever, in order."""
    day = _aware(after).astimezone(window.zone).date()
    while True:
        for slot in window.day_slots(day):
            if slot > after or (slot == after and not strict):
                yield slot
        day += dt.timedelta(days=1)


def next_free_slots(
    window: PostingWindow,
    count: int,
    *,
    after: dt.datetime,
    strict: bool = False,
    busy: Collection[float] = (),
    day_cap: int | None = None,
) -> list[dt.datetime]:
    """The first `count` slots at or after `after` whose time is not in `busy`.

    `busy` holds Unix timestamps of slots already taken (earlier issues' items still
    queued), so two issues' items never share a slot. With `day_cap`, a local day that
    already holds that many (busy and chosen together) takes no more. Items beyond a
    day's slots roll over to the next days: nothing is dropped, and nothing is planned
    past the last.
    """
    if count <= 0:
        return []
    if day_cap is not None and day_cap < 1:
        raise ValueError(f"day_cap must be at least 1, got {day_cap}")
    taken = {round(ts) for ts in busy}
    per_day: Counter[dt.date] = Counter(
        dt.datetime.fromtimestamp(ts, window.zone).date() for ts in taken
    )
    chosen: list[dt.datetime] = []
    for slot in slots_from(window, after, strict=strict):
        if round(slot.timestamp()) in taken:
            continue
        day = slot.date()
        if day_cap is not None and per_day[day] >= day_cap:
            continue
        per_day[day] += 1
        chosen.append(slot)
        if len(chosen) == count:
            break
    return chosen
