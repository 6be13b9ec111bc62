"""The extra-edition queue's service: what `/extra`, `/queue`, their buttons and the
submission card's 🕒 Queue call.

One queue, two inputs, one paced output. An editor's link (`/extra <url> [comment]`, or
a forwarded message with a link) is checked by the submissions' link rules
(`bot.domain.urls.parse_submission`) and refused when the same canonical link was seen
before: in a stored issue, in a pending, approved or published submission, or as an
extra item drafted, queued or posted (`judge_link`, pure, on what `QueueStore.create`
read in its write transaction). It becomes a draft; its card shows the post as each
target will get it ([Post now] [Queue] [Edit] [Drop]). A reader's submission joins
the queue when an editor presses 🕒 Queue on its review card (`queue_submission`,
inside the approval's transaction). Every change of the queue re-plans it with
`bot.extra.pacing.plan_queue` and writes the times into the outbox rows, where the
delivery workers find them: exactly-once is the outbox's.

Who may decide is the handler's check (the editor list, at every press); this module
trusts its `editor` argument and records it.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from telegram.ext import JobQueue

from bot.config import Settings
from bot.delivery.jobs import JobContext, job_data, schedule_wakeups
from bot.delivery.workers import DeliveryPool
from bot.domain.urls import InvalidURLError, parse_submission
from bot.extra.pacing import QueuedEntry, QueueRules, plan_queue
from bot.platforms import PLATFORMS, Platforms
from bot.submissions.intake import SubmissionService
from data.db import Tx
from data.extras import (
    EXTRA_KIND,
    ExtraDecided,
    ExtraGate,
    ExtraItem,
    InQueue,
    NewExtra,
    QueueSnapshot,
    QueueStore,
    QueueSummary,
)
from data.outbox import NewPost
from data.submissions import Decided, Submission
from publishers.format_common import NotPostable
from publishers.format_submission import SubmittedLinkPost
from publishers.posts import TelegramPost, TelegramText

log = logging.getLogger(__name__)

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
TITLE_MAX = 200
COMMENT_MAX = 600


@dataclass(frozen=True, slots=True)
class Seen:
    """The link was seen before: in issue #N (its date), a submission, or an extra item."""

    where: Literal["issue", "submission", "extra"]
    number: int  # the issue's number, the submission's or the extra item's id
    state: str = ""  # the submission's or the item's state
    date: dt.date | None = None  # the issue's


@dataclass(frozen=True, slots=True)
class BadLink:
    """The link breaks a rule of `bot.domain.urls` (or there is none)."""

    rule: str
    message: str


AddOutcome = ExtraItem | Seen | BadLink


def judge_link(gate: ExtraGate) -> Seen | None:
    """Where the link was seen first, or None: the link may join the extra edition."""
    featured = gate.duplicates.featured
    if featured:
        first = featured[0]
        return Seen("issue", first.issue_number, date=first.date)
    active = gate.duplicates.active
    if active:
        return Seen("submission", active[0].submission_id, state=active[0].state)
    if gate.extras:
        return Seen("extra", gate.extras[0].id, state=gate.extras[0].state)
    return None


def split_extra(text: str) -> tuple[str, str]:
    """The link (the first word) and the comment (the rest) of `/extra <url> [comment]`."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def link_in(text: str, entity_urls: Sequence[str] = ()) -> str | None:
    """The first link of a forwarded message: a text link's target, else a URL in it."""
    if entity_urls:
        return entity_urls[0]
    found = _URL.search(text)
    return found.group(0).rstrip(".,;:!?)]}") if found else None


@dataclass(frozen=True, slots=True)
class Shown:
    """What one target will post, as a card shows it (Telegram HTML)."""

    target: str
    display: str
    html: str | None  # None: this target cannot take the link (the reason in `problem`)
    problem: str | None = None


class ExtraQueue:
    """The queue on one store, paced by the settings, posted on the link-taking targets."""

    def __init__(
        self,
        store: QueueStore,
        settings: Settings,
        submissions: SubmissionService,
        *,
        platforms: Platforms = PLATFORMS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self.submissions = submissions
        self.platforms = platforms
        self._clock = clock

    @property
    def targets(self) -> tuple[str, ...]:
        """The submissions' targets that post to readers: an extra-edition link is a
        post, not a reader's suggestion to file (GitHub's `publishes` is False)."""
        return tuple(t for t in self.submissions.targets if self.platforms[t].publishes)

    def rules(self) -> QueueRules:
        extra = self.settings.extra
        return QueueRules(
            window=self.settings.publishing.window(),
            max_per_day=extra.max_per_day,
            gap=dt.timedelta(minutes=extra.gap_minutes),
        )

    def plan(self, snapshot: QueueSnapshot) -> dict[int, float]:
        """The pure planner over what the store read (`data.extras.Planner`)."""
        entries = [QueuedEntry(e.item.id, e.item.pinned_at) for e in snapshot.entries]
        now = dt.datetime.fromtimestamp(snapshot.now, dt.UTC)
        planned = plan_queue(
            entries,
            now=now,
            rules=self.rules(),
            occupied=snapshot.occupied,
            sent=snapshot.sent,
        )
        return dict(planned.times)

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    # ---- a new link ------------------------------------------------------------

    async def add_link(self, raw_url: str, comment: str, *, editor: str) -> AddOutcome:
        """Check the link, refuse a duplicate, fetch the page's title, keep it as a draft."""
        try:
            link = parse_submission(raw_url)
        except InvalidURLError as exc:
            return BadLink(exc.rule, exc.message)
        seen = judge_link(await self.store.seen(link.key))
        if seen is not None:  # answered before the page is fetched
            return seen
        words = " ".join(comment.split())[:COMMENT_MAX] or None
        preview = await self.submissions.preview_of(link.url)
        title = preview.title[:TITLE_MAX] if preview.title else None
        new = NewExtra(
            original_url=raw_url,
            canonical_url=link.url,
            dedupe_key=link.key,
            title=title,
            comment=words if words is not None else preview.description,
            created_by=editor,
        )
        return await self.store.create(new, now=self._now(), judge=judge_link)

    # ---- what it posts ---------------------------------------------------------

    def _post(self, item: ExtraItem) -> SubmittedLinkPost:
        return SubmittedLinkPost(url=item.canonical_url, title=item.title, comment=item.comment)

    def posts(self, item: ExtraItem) -> list[NewPost]:
        """One outbox row per target, keyed `extra:<id>`; a target that cannot take the
        link is left out and logged (the card said so)."""
        rows: list[NewPost] = []
        for target in self.targets:
            formatter = self.platforms[target].format_submission
            if formatter is None:
                continue
            try:
                payload = formatter(self._post(item), None, None).to_payload()
            except NotPostable as exc:
                log.warning("extra %s not posted on %s: %s", item.id, target, exc)
                continue
            rows.append(NewPost(item.outbox_key, target, EXTRA_KIND, payload))
        return rows

    def shown(
        self, item: ExtraItem, *, title: str | None = None, comment: str | None = None
    ) -> list[Shown]:
        """Each target's post as the card shows it: Telegram's in its own form, the others
        quoted. `title`/`comment` show an edit before it is saved."""
        post = SubmittedLinkPost(
            url=item.canonical_url,
            title=title if title is not None else item.title,
            comment=comment if comment is not None else item.comment,
        )
        found: list[Shown] = []
        for target in self.targets:
            platform = self.platforms[target]
            if platform.format_submission is None:
                continue
            try:
                made = platform.format_submission(post, None, None)
            except NotPostable as exc:
                found.append(Shown(target, platform.display, None, str(exc)))
                continue
            if isinstance(made, TelegramPost) and isinstance(made.parts[0], TelegramText):
                shown = made.parts[0].html
            else:
                shown = html.escape(platform.visible_text(made.to_payload()))
            found.append(Shown(target, platform.display, shown))
        return found

    def edit_problem(self, item: ExtraItem, title: str | None, comment: str | None) -> str | None:
        """Why an editor's title/comment would not go out as written on some target."""
        post = self._post(item)
        for target in self.targets:
            check = self.platforms[target].submission_problem
            problem = None if check is None else check(post, title, comment)
            if problem is not None:
                return f"{self.platforms.display(target)}: {problem}"
        return None

    # ---- the card's decisions --------------------------------------------------

    async def post_now(self, item_id: int, *, editor: str) -> ExtraDecided | None:
        return await self.store.post_now(item_id, actor=editor, now=self._now(), posts=self.posts)

    async def enqueue(self, item_id: int, *, editor: str) -> ExtraDecided | None:
        return await self.store.enqueue(
            item_id, actor=editor, now=self._now(), posts=self.posts, plan=self.plan
        )

    async def drop(self, item_id: int, *, editor: str) -> ExtraDecided | None:
        return await self.store.drop(item_id, actor=editor, now=self._now())

    async def edit(
        self, item_id: int, *, title: str | None, comment: str | None, editor: str
    ) -> ExtraItem | str | None:
        """Keep an editor's title/comment on a draft if it fits as written: the updated
        item, the reason it does not fit, or None once it is decided."""
        current = await self.store.get(item_id)
        if current is None or current.state != "draft":
            return None
        problem = self.edit_problem(current, title, comment)
        if problem is not None:
            return problem
        return await self.store.set_text(
            item_id, title=title, comment=comment, actor=editor, now=self._now()
        )

    async def queue_submission(
        self, submission_id: int, *, editor: str
    ) -> tuple[Decided | None, tuple[float, ...]]:
        """🕒 Queue on a review card: approve the submission into this queue, last; the
        decision and the queue's planned times (for wake-ups)."""
        store, plan = self.store, self.plan
        due: list[float] = []

        async def then(tx: Tx, row: Submission, at: float) -> None:
            due.extend(await store.add_submission(tx, row, actor=editor, at=at, plan=plan))

        decided = await self.submissions.approve_queued(submission_id, editor=editor, then=then)
        return decided, tuple(due)

    # ---- the queue -------------------------------------------------------------

    async def queued(self) -> list[InQueue]:
        return await self.store.queued()

    async def summary(self) -> QueueSummary:
        return await self.store.summary()

    async def move(self, item_id: int, step: Literal[-1, 1], *, editor: str) -> ExtraDecided | None:
        return await self.store.move(item_id, step, actor=editor, now=self._now(), plan=self.plan)

    async def pin(self, item_id: int, when: dt.datetime, *, editor: str) -> ExtraDecided | None:
        return await self.store.pin(
            item_id, when.timestamp(), actor=editor, now=self._now(), plan=self.plan
        )

    async def cancel(self, item_id: int, *, editor: str) -> ExtraDecided | None:
        return await self.store.cancel(item_id, actor=editor, now=self._now(), plan=self.plan)

    async def replan(self) -> tuple[float, ...]:
        """Re-plan around what is planned now (at start; after an issue's rows)."""
        return await self.store.replan(now=self._now(), plan=self.plan)


# ---- re-planning after an issue's rows were queued ------------------------------------

REPLAN_JOB = "extra-replan"


@dataclass(frozen=True, slots=True)
class Replan:
    """A replan job's data: the queue, and the pool to wake when its times change."""

    queue: ExtraQueue
    pool: DeliveryPool


async def replan_job(context: JobContext) -> None:
    """Re-plan the queue around the rows just queued, and wake the workers on time."""
    data = job_data(context, Replan)
    due = await data.queue.replan()
    if context.job_queue is not None:
        schedule_wakeups(context.job_queue, due, data.pool)


def schedule_replan(job_queue: JobQueue[Any], queue: ExtraQueue, pool: DeliveryPool) -> None:
    """Re-plan the queue at once, in a job (announcing is not held up by it)."""
    job_queue.run_once(replan_job, when=0, name=REPLAN_JOB, data=Replan(queue, pool))
