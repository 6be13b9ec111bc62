"""The publication plan: which posts an issue becomes on each target, and when.

Pure: it formats, names and times rows; the caller enqueues them. Each row's
idempotency key is derived from what it is (issue, lang, section, index; the
target is the key's other half in the outbox), so planning the same issue twice,
after a restart or a re-parse, queues nothing new.

Two steps, so that a preview can hold the formatted posts while an editor
decides: `plan_posts` formats (untimed `PlannedPost`s: the digest, then the
items in order), `schedule_issue` gives them times from a `PostingWindow`:

- the digest goes at `now` when published now, else at `now` if the posting
  window is open, or when it next opens (with `digest_in_window`);
- items take the window's free slots strictly after the digest's time, one
  slot each (a photo item's photo and text share one), rolling over to the
  following days; none is dropped, none is planned after the last. An issue gets
  enough slots a day to finish within `spread_days` (the next issue is expected
  by then), never more than the day cap (`items_per_day`);
- an older issue's queued items (a backfill) never delay a newer issue's: the
  newer one is timed as if they were not there, and they move out of its way
  (`schedule_issue`'s `moves`), in order and never earlier.

Summary-form issues (the newest 50, FORMAT.md §1.3) carry no links, so no item
can stand alone: their plan is the digest only, whatever the target's settings.
Their items are never posted one by one: when the full text is released 50 issues
later, each target gets a single "now free to read" notice (`plan_release`) with the
issue's link, so readers are not sent a second run of items they already saw.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.domain.issue import Issue, IssuePages, Lang
from bot.platforms import PLATFORMS, Platforms
from bot.weekly.windows import MAX_SLOTS_PER_DAY, PostingWindow, next_free_slots
from data.db import When
from data.outbox import NewPost
from publishers.format_common import NotPostable
from publishers.format_telegram import ChannelStyle


def issue_url(issue: Issue, pages: IssuePages | None) -> str | None:
    """Where a reader finds the whole issue: its file on the repository's web page."""
    return None if pages is None else pages.url(issue.lang, issue.date)


def issue_key(issue: Issue) -> str:
    number = issue.number if issue.number is not None else issue.date
    return f"issue:{number}:{issue.lang}"


@dataclass(frozen=True, slots=True)
class Plan:
    """What one target gets of a new issue."""

    target: str
    digest: bool = True
    items: bool = True
    style: ChannelStyle | None = None  # the channel digest's settings (Telegram only)
    pages: IssuePages | None = None  # where the issue's file is read; None: no such link


def plan_issue(
    issue: Issue,
    plans: Sequence[Plan],
    *,
    not_before: When | None = None,
    platforms: Platforms = PLATFORMS,
) -> list[NewPost]:
    """Outbox rows for `issue` on each planned target, in posting order."""
    rows: list[NewPost] = []
    base = issue_key(issue)
    for plan in plans:
        url = issue_url(issue, plan.pages)
        if plan.digest:
            rows.extend(_digest_rows(issue, plan, url, base, not_before, platforms))
        if plan.items:
            rows.extend(_item_rows(issue, plan.target, url, base, not_before, platforms))
    return rows


def _digest_rows(
    issue: Issue,
    plan: Plan,
    url: str | None,
    base: str,
    not_before: When | None,
    platforms: Platforms,
) -> list[NewPost]:
    group = f"{base}:digest"
    target = plan.target
    platform = platforms[target]
    payloads = [post.to_payload() for post in platform.format_digest(issue, url, plan.style)]
    return [
        NewPost(
            idempotency_key=f"{group}:{seq}",
            target=target,
            kind="digest",
            payload=payload,
            group_key=group,
            seq=seq,
            not_before=not_before,
        )
        for seq, payload in enumerate(payloads, start=1)
    ]


def _item_rows(
    issue: Issue,
    target: str,
    url: str | None,
    base: str,
    not_before: When | None,
    platforms: Platforms,
) -> list[NewPost]:
    rows: list[NewPost] = []
    platform = platforms[target]
    for section, item in issue.items():
        if not item.postable:
            continue
        key = f"{base}:{section.kind}:{item.index}"
        try:
            post = platform.format_item(item, section.kind, issue, url)
        except NotPostable:
            continue
        # A post of several messages (Telegram's photo, then text) is one row each,
        # ordered in a group, so a part that went out is never resent with the next.
        parts = platform.split_item(post)
        grouped = len(parts) > 1
        for seq, single in enumerate(parts, start=1):
            rows.append(
                NewPost(
                    f"{key}:{seq}" if grouped else key,
                    target,
                    "item",
                    single.to_payload(),
                    group_key=key if grouped else None,
                    seq=seq if grouped else None,
                    not_before=not_before,
                )
            )
    return rows


# ---- untimed posts and their schedule ----------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedPost:
    """An outbox row not yet timed: the digest (`slot` None) or the `slot`-th item."""

    post: NewPost
    slot: int | None = None

    def to_json(self) -> dict[str, Any]:
        post = self.post
        return {
            "key": post.idempotency_key,
            "target": post.target,
            "kind": post.kind,
            "payload": dict(post.payload),
            "group_key": post.group_key,
            "seq": post.seq,
            "slot": self.slot,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> PlannedPost:
        post = NewPost(
            idempotency_key=str(raw["key"]),
            target=str(raw["target"]),
            kind=str(raw["kind"]),
            payload=dict(raw["payload"]),
            group_key=raw["group_key"],
            seq=raw["seq"],
        )
        slot = raw["slot"]
        return cls(post=post, slot=None if slot is None else int(slot))


def plan_posts(issue: Issue, plan: Plan, *, platforms: Platforms = PLATFORMS) -> list[PlannedPost]:
    """Format what `plan` gives its target of `issue`: the digest first, then the items."""
    url = issue_url(issue, plan.pages)
    base = issue_key(issue)
    planned: list[PlannedPost] = []
    if plan.digest:
        planned += [PlannedPost(p) for p in _digest_rows(issue, plan, url, base, None, platforms)]
    if plan.items and issue.form != "summary":
        slot, last_key = -1, None
        for row in _item_rows(issue, plan.target, url, base, None, platforms):
            item_key = row.group_key or row.idempotency_key
            if item_key != last_key:  # the parts of one item share its slot
                slot, last_key = slot + 1, item_key
            planned.append(PlannedPost(row, slot))
    return planned


def edited_digest(
    planned: Sequence[PlannedPost], target: str, text: str, *, platforms: Platforms = PLATFORMS
) -> list[PlannedPost]:
    """Replace `target`'s digest by an editor's `text` (already validated).

    The platform makes the posts (`Platform.edited_digest`: on Telegram the text keeps
    the digest's photo, under it or after it as the caption rule says). The parts keep
    the digest's keys (`…:digest:1`, `:2`), so the digest is still queued once.
    """
    platform = platforms[target]
    digest = [p for p in planned if p.slot is None and p.post.target == target]
    if not digest:
        return list(planned)
    first = digest[0].post
    payloads = [post.to_payload() for post in platform.edited_digest(first.payload, text)]
    group = first.group_key or first.idempotency_key.rsplit(":", 1)[0]
    posts = [
        replace(first, payload=payload)
        if seq == 1
        else replace(first, payload=payload, idempotency_key=f"{group}:{seq}", seq=seq)
        for seq, payload in enumerate(payloads, start=1)
    ]
    rest = [p for p in planned if not (p.slot is None and p.post.target == target)]
    return [*(PlannedPost(post) for post in posts), *rest]


def items_per_day(count: int, *, least: int, spread_days: int, cap: int) -> int:
    """How many of an issue's `count` items a target gets a day.

    Enough to finish within `spread_days` (the next issue is expected by then), at
    least `least`, never more than `cap`; `spread_days` 0 keeps the fixed `least`.
    26 items, 3 at least, 7 days: 4 a day, done on day 7 rather than day 9.
    """
    rate = least if spread_days <= 0 else max(least, -(-count // spread_days))
    return max(1, min(rate, cap))


def issue_number_of(key: str) -> int | None:
    """The issue number in an item's idempotency key (`issue:106:zh:…`), if it has one."""
    parts = key.split(":")
    if len(parts) < 2 or parts[0] != "issue" or not parts[1].isdigit():
        return None
    return int(parts[1])


@dataclass(frozen=True, slots=True)
class QueuedItem:
    """An item row already in the outbox, still queued: where it sits now."""

    id: int
    target: str
    key: str
    at: float  # its next_attempt_at, Unix time


@dataclass(frozen=True, slots=True)
class Schedule:
    """Timed rows for the new posts, and new times for older issues' items that yield."""

    posts: list[NewPost]
    moves: dict[int, float]  # outbox id -> new next_attempt_at (Unix time)


def schedule_issue(
    planned: Sequence[PlannedPost],
    *,
    now: dt.datetime,
    window: PostingWindow,
    publish_now: bool = False,
    digest_in_window: bool = True,
    busy: Mapping[str, Collection[float]] | None = None,
    queued: Sequence[QueuedItem] = (),
    spread_days: int = 0,
    max_per_day: int | None = None,
) -> Schedule:
    """Time the planned posts of one issue, and say which older queued items move.

    Each post gets its `not_before`, per target (see the module docstring); `busy` maps
    a target to the Unix times of slots other rows already hold.

    `window.per_day` is the least items a day; with `spread_days` an issue's items are
    spread to finish within that many days, at most `max_per_day` a day (a target's
    day holds no more than that, all issues together).

    `queued` are the items already queued: those of this issue or a newer one (or of no
    number) keep their slots; those of an *older* issue (a backfill) never delay this
    one: this issue takes its slots as if they were not there, and they move, in their
    own order, into the capacity left (the day cap's grid, between this issue's items),
    never before `now`. So a backfill shares the days with a new issue, after it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    cap = max_per_day if max_per_day is not None else max(window.per_day, MAX_SLOTS_PER_DAY)
    number = next(
        (n for p in planned if (n := issue_number_of(p.post.idempotency_key)) is not None), None
    )
    rows: list[NewPost] = []
    moves: dict[int, float] = {}
    targets = list(dict.fromkeys(p.post.target for p in planned))
    for target in targets:
        mine = [p for p in planned if p.post.target == target]
        has_digest = any(p.slot is None for p in mine)
        start = now if publish_now or not digest_in_window else window.open_at_or_after(now)
        item_count = max((p.slot for p in mine if p.slot is not None), default=-1) + 1
        older = sorted(
            (
                q
                for q in queued
                if q.target == target
                and number is not None
                and (n := issue_number_of(q.key)) is not None
                and n < number
                and q.at > now.timestamp()
            ),
            key=lambda q: (q.at, q.id),
        )
        moving = {q.id for q in older}
        fixed = {round(ts) for ts in (busy or {}).get(target, ())}
        fixed |= {round(q.at) for q in queued if q.target == target and q.id not in moving}
        fixed -= {round(q.at) for q in older}  # a slot an older item held is free for us
        rate = items_per_day(item_count, least=window.per_day, spread_days=spread_days, cap=cap)
        slots = next_free_slots(
            replace(window, per_day=min(rate, MAX_SLOTS_PER_DAY)),
            item_count,
            after=start,
            strict=has_digest,  # never together with the digest
            busy=fixed,
            day_cap=cap,
        )
        for p in mine:
            at = start if p.slot is None else slots[p.slot]
            rows.append(replace(p.post, not_before=at))
        if older:
            taken = fixed | {round(s.timestamp()) for s in slots}
            moves |= _yield(older, taken, replace(window, per_day=min(cap, MAX_SLOTS_PER_DAY)), cap)
    return Schedule(posts=rows, moves=moves)


def _item_of(key: str) -> str:
    """An item row's key without its part number (`…:projects:1:2` → `…:projects:1`)."""
    parts = key.split(":")
    return ":".join(parts[:5]) if len(parts) > 5 else key


def _yield(
    older: Sequence[QueuedItem], taken: set[int], grid: PostingWindow, cap: int
) -> dict[int, float]:
    """New times for older issues' items around `taken` slots; unmoved ones are left out.

    In order, an item keeps its time when that slot is free and its day has room;
    otherwise it takes the next free slot of the cap's `grid` after it. Never earlier,
    so a backfill only ever waits for the newer issue, and its order is kept.
    """
    days: Counter[dt.date] = Counter(
        dt.datetime.fromtimestamp(ts, grid.zone).date() for ts in taken
    )
    moves: dict[int, float] = {}
    where: dict[str, float] = {}  # the parts of one item (a photo, its text) share a slot
    last = 0.0
    for q in older:
        item = _item_of(q.key)
        if item not in where:
            day = dt.datetime.fromtimestamp(q.at, grid.zone).date()
            if q.at > last and round(q.at) not in taken and days[day] < cap:
                at = q.at
            else:
                after = dt.datetime.fromtimestamp(max(q.at, last), grid.zone)
                (slot,) = next_free_slots(
                    grid, 1, after=after, strict=True, busy=taken, day_cap=cap
                )
                at = slot.timestamp()
            taken.add(round(at))
            days[dt.datetime.fromtimestamp(at, grid.zone).date()] += 1
            where[item], last = at, at
        if round(where[item]) != round(q.at):
            moves[q.id] = where[item]
    return moves


# ---- the full text of an old issue became free ---------------------------------


def release_key(number: int, lang: Lang) -> str:
    return f"release:{number}:{lang}"


def plan_release(
    issue: Issue, target: str, *, pages: IssuePages | None, platforms: Platforms = PLATFORMS
) -> NewPost | None:
    """The "now free to read" notice of a released full issue; None without a link."""
    platform = platforms[target]
    url = issue_url(issue, pages)
    if url is None or issue.number is None:
        return None
    post = platform.format_release(issue, url)
    return NewPost(
        idempotency_key=release_key(issue.number, issue.lang),
        target=target,
        kind="notice",
        payload=post.to_payload(),
    )
