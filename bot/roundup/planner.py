"""Pure: from each feed's entries and a `now`, the week's `Roundup`.

The rules, as the editor's script (`resources/weekly_collection.py` in the newsletter's
repository) applies them, plus what it left out:

- each newsletter's latest entry of the last `lookback_days`, an entry numbered `#N`
  (the issue itself) preferred over any other entry (a sponsor note, a blog post);
- the newsletter's name goes in front of a title that does not carry it;
- a newsletter appears once: its feeds (one name may have several) are read as one,
  two entries of one issue (the same `#N`, or one link) are one issue, and an issue
  an earlier roundup listed (`posted`) is never listed again;
- every newsletter left out has a `FeedProblem` saying why, so nothing is dropped
  without the editors hearing of it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.domain.roundup import FeedProblem, Roundup, RoundupEntry
from bot.domain.urls import item_dedupe_key
from bot.weekly.sources.feed import FeedItem, issue_number_of

NUMBER_PATTERN = r"#(\d+)"


@dataclass(frozen=True, slots=True)
class FeedRead:
    """What reading one configured feed gave: its entries, or why there are none."""

    newsletter: str
    items: tuple[FeedItem, ...] | None  # None: the feed could not be read
    error: str | None = None


# newsletter -> issue key -> the date of the roundup that listed it
Posted = Mapping[str, Mapping[str, dt.date]]


def roundup_range(now: dt.datetime, zone: ZoneInfo, lookback_days: int) -> tuple[dt.date, dt.date]:
    """The local days a roundup made at `now` covers, both ends included (as the header)."""
    end = now.astimezone(zone).date()
    return end - dt.timedelta(days=lookback_days - 1), end


def plan_roundup(
    reads: Sequence[FeedRead],
    *,
    now: dt.datetime,
    zone: ZoneInfo,
    lookback_days: int,
    posted: Posted,
    number_pattern: str = NUMBER_PATTERN,
) -> Roundup:
    """The roundup of the `lookback_days` before `now`; newsletters in the order read."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    numbered = re.compile(number_pattern)
    since = now - dt.timedelta(days=lookback_days)
    start, end = roundup_range(now, zone, lookback_days)
    names = list(dict.fromkeys(read.newsletter for read in reads))
    entries: list[RoundupEntry] = []
    problems: list[FeedProblem] = []
    for name in names:
        own = [read for read in reads if read.newsletter == name]
        problems.extend(
            FeedProblem(name, "failed", read.error or "unreadable")
            for read in own
            if read.items is None
        )
        readable = [read for read in own if read.items is not None]
        if not readable:
            continue
        items = [item for read in readable for item in read.items or ()]
        entry, problem = _pick(name, items, since, posted.get(name, {}), numbered, zone)
        if entry is not None:
            entries.append(entry)
        if problem is not None:
            problems.append(problem)
    return Roundup(date=end, start=start, end=end, entries=tuple(entries), problems=tuple(problems))


def _pick(
    name: str,
    items: Sequence[FeedItem],
    since: dt.datetime,
    posted: Mapping[str, dt.date],
    numbered: re.Pattern[str],
    zone: ZoneInfo,
) -> tuple[RoundupEntry | None, FeedProblem | None]:
    linked = [item for item in items if item.link]
    if not linked:
        return None, FeedProblem(name, "empty")
    dated = [
        _entry(name, item, item.link, item.published, numbered)
        for item in linked
        if item.link and item.published is not None
    ]
    if not dated:
        return None, FeedProblem(name, "undated")
    recent = [entry for entry in dated if entry.published > since]
    # Issues first: once a numbered issue is in the window, other entries (a sponsor
    # note) are no fallback for it, even when that issue was listed already.
    recent = [entry for entry in recent if entry.number is not None] or recent
    fresh = [entry for entry in recent if entry.issue_key not in posted]
    if fresh:
        return max(fresh, key=_preference), None
    if recent:
        latest = max(recent, key=_preference)
        return None, FeedProblem(name, "posted", latest.title, posted[latest.issue_key])
    latest = max(dated, key=lambda entry: entry.published)
    return None, FeedProblem(name, "stale", latest.title, latest.published.astimezone(zone).date())


def _preference(entry: RoundupEntry) -> tuple[bool, dt.datetime, int]:
    """A numbered issue first, then the latest, then the higher number."""
    return (entry.number is not None, entry.published, entry.number or 0)


def _entry(
    name: str, item: FeedItem, link: str, published: dt.datetime, numbered: re.Pattern[str]
) -> RoundupEntry:
    title = " ".join(item.title.split())
    match = numbered.search(title)
    number = None
    if match is not None:
        digits = match.group(1) if match.groups() else re.sub(r"\D", "", match.group(0))
        number = issue_number_of(digits) if digits else None
    key = f"#{number}" if number is not None else item_dedupe_key(link) or item.guid
    if name.casefold() not in title.casefold():
        title = f"{name} {title}".strip()
    return RoundupEntry(
        newsletter=name,
        title=title,
        url=link,
        published=published,
        issue_key=key,
        number=number,
    )
