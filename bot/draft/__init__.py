"""The next issue's draft for the editor: gather what was decided, format it (pure).

`gather_draft` reads the newest stored issue (its number + 1 is the draft's, its date
the default `since`) and `data.drafts.DraftStore.sources`, turns each link into a
`publishers.format_draft.DraftEntry` (a submission through `intake.link_post`, the one
credit rule; an editor's link uncredited) and returns `build_draft`'s frozen `Draft`.
`/draft` (`handlers.draft`) and `weeklybot draft` (`bot.cli`) both call it.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.submissions.intake import link_post
from data.db import Database
from data.drafts import DraftStore
from data.extras import ExtraItem, extra_key
from data.migrations import migrate
from data.store import Store
from data.submissions import Submission, submission_key
from publishers.format_draft import Draft, DraftEntry, DraftLang, build_draft

__all__ = [
    "draft_entry_of_extra",
    "draft_entry_of_submission",
    "draft_from_database",
    "gather_draft",
    "since_ts",
]


def draft_entry_of_submission(submission: Submission) -> DraftEntry:
    """A reader's link: the channel edit's title and comment if an editor wrote them,
    else the page's; credited as the submitter chose (`link_post`)."""
    post = link_post(submission)
    edit = submission.edits.get("telegram")
    title = (edit.title if edit is not None and edit.title else None) or post.title or ""
    comment = edit.comment if edit is not None and edit.comment is not None else post.comment
    return DraftEntry(
        url=post.url,
        title=title,
        description=comment or "",
        credit=post.credit,
        handle=post.handle,
        source=submission_key(submission.id),
    )


def draft_entry_of_extra(item: ExtraItem) -> DraftEntry:
    """An editor's extra-edition link: its title and comment, no credit."""
    return DraftEntry(
        url=item.canonical_url,
        title=item.title or "",
        description=item.comment or "",
        source=extra_key(item.id),
    )


def since_ts(day: dt.date | None, zone: ZoneInfo) -> float:
    """The start of `day` in the publishing time zone (None: the beginning of time)."""
    if day is None:
        return 0.0
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).timestamp()


async def gather_draft(
    store: Store, *, lang: DraftLang, zone: ZoneInfo, since: dt.date | None = None
) -> Draft:
    """The draft of the next issue from what was decided since `since` (default: the
    newest stored issue's date; nothing stored: everything)."""
    newest = await store.issues.newest_dated()
    number = newest[0] + 1 if newest is not None else 1
    day = since if since is not None else (newest[1] if newest is not None else None)
    sources = await DraftStore(store.db).sources(since=since_ts(day, zone))
    timed: list[tuple[float, DraftEntry]] = []
    seen: set[str] = set()
    for submission in sources.submissions:
        seen.add(submission.dedupe_key)
        timed.append(
            (submission.decided_at or submission.created_at, draft_entry_of_submission(submission))
        )
    for item in sources.extras:
        if item.dedupe_key in seen:
            continue
        seen.add(item.dedupe_key)
        timed.append((item.decided_at or item.created_at, draft_entry_of_extra(item)))
    timed.sort(key=lambda pair: pair[0])
    return build_draft([entry for _, entry in timed], number=number, lang=lang, since=day)


async def draft_from_database(
    database_path: Path, *, lang: DraftLang, zone: ZoneInfo, since: dt.date | None = None
) -> Draft:
    """`weeklybot draft`: `gather_draft` from outside the bot process (the database
    opened, migrated, read; nothing written but the migrations)."""
    async with Database.open(database_path) as db:
        await migrate(db, now=time.time())
        return await gather_draft(Store(db), lang=lang, zone=zone, since=since)
