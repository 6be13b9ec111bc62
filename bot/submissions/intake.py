"""The submissions service: what the `/submit` handler and the review card's buttons call.

`submit(user, text)` runs the whole intake and returns an `Outcome` at once (the reply
is immediate); the page preview is fetched afterwards, best effort
(`preview_in_background`), so a slow site never delays the reply and a page that
cannot be read is still reviewed. The decisions (`approve`, `draft_only`, `reject`,
`ban`, `withdraw`) are the store's compare-and-sets: `Decided.won` says whether this
press decided, and a lost one carries who did and when.

Who may decide is the handler's check (the editor list, at every press); this module
trusts its `editor` argument and records it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.config import Settings, SubmissionsSettings
from bot.domain.issue import LANGS, IssuePages
from bot.domain.urls import InvalidURLError, Resolver, parse_submission
from bot.platforms import PLATFORMS, TELEGRAM, Platforms, X
from bot.submissions.link_preview import PreviewOptions, fetch_preview
from bot.submissions.rules import (
    DAY_SECONDS,
    Accepted,
    Disabled,
    Limits,
    Note,
    Outcome,
    Refused,
    judge,
    parse_note,
)
from data.db import When
from data.outbox import NewPost
from data.readers import CreditSet, ForgetRequest, Forgotten, ReaderStore
from data.submissions import (
    SUBMISSION_KIND,
    CreditChoice,
    Decided,
    Edit,
    FeaturedIn,
    Fields,
    Gate,
    NewSubmission,
    Submission,
    SubmissionStore,
    submission_key,
)
from publishers.format_common import NotPostable
from publishers.format_submission import (
    SubmittedLinkPost,
    draft_credit,
    format_submission_telegram,
    format_submission_x,
)
from publishers.limits import x_weighted_length
from publishers.posts import TelegramText
from publishers.templates import PostTemplates

log = logging.getLogger(__name__)

# The reject menu's reasons; "other" comes with the editor's own words.
RejectReason = Literal["duplicate", "off_topic", "low_quality", "paywalled", "broken_link", "other"]
REJECT_REASONS: tuple[RejectReason, ...] = (
    "duplicate",
    "off_topic",
    "low_quality",
    "paywalled",
    "broken_link",
    "other",
)
BANNED_REASON = "banned"


@dataclass(frozen=True, slots=True)
class Submitter:
    """Who sent the link, as the handler read it from the update."""

    user_id: int
    display_name: str  # first and last name
    username: str | None = None  # without the @
    chat_id: int | None = None  # default: the user's private chat (= user_id)


MINE_LIMIT = 10  # submissions `/mysubmissions` lists


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """`/withdraw`'s result: `unknown` (no such id of theirs), `decided` (too late:
    `submission` says how it was decided), `withdrawn`."""

    outcome: Literal["unknown", "decided", "withdrawn"]
    submission: Submission | None


@dataclass(frozen=True, slots=True)
class PostTexts:
    """What a submission would post on each target now: the [Edit] screen shows it."""

    telegram_html: str
    x_text: str | None  # None when X cannot take the link (see format_submission_x)
    x_weight: int | None


def targets_of(settings: Settings, platforms: Platforms = PLATFORMS) -> tuple[str, ...]:
    """The registered targets that are on and take reader links (the channel always; X
    and GitHub when they are configured)."""
    return tuple(
        p.name for p in platforms if p.format_submission is not None and p.enabled(settings)
    )


def limits_of(settings: SubmissionsSettings) -> Limits:
    return Limits(
        daily_cap=settings.daily_cap,
        cooldown_seconds=settings.cooldown_seconds,
        max_pending_per_user=settings.max_pending_per_user,
        max_pending_total=settings.max_pending_total,
    )


def issue_link(featured: FeaturedIn, pages: IssuePages | None) -> str | None:
    """Where a reader reads the issue that featured a link: its file on the repository's
    pages (`repo.pages` in the settings); None when the repository has no public page."""
    if pages is None or featured.lang not in LANGS:
        return None
    return pages.url(featured.lang, featured.date)


def credit_of(
    choice: CreditChoice, *, display_name: str, username: str | None
) -> tuple[str | None, bool]:
    """The name a post credits and whether it is the @username, by the submitter's choice.

    One rule for every target and the draft: `username` needs one (else the display
    name), `name` is the display name (else the username, written plainly), `anonymous`
    is nobody.
    """
    name = display_name.strip() or None
    if choice == "anonymous":
        return None, False
    if choice == "username" and username:
        return username, True
    return name or username, False


def link_post(submission: Submission, *, anonymous: bool = False) -> SubmittedLinkPost:
    """The formatter's input: the page's title and description, the credit as chosen."""
    credit, handle = credit_of(
        "anonymous" if anonymous else submission.credit_as,
        display_name=submission.display_name,
        username=submission.username,
    )
    fields = submission.fields
    return SubmittedLinkPost(
        url=submission.canonical_url,
        title=submission.preview_title,
        comment=submission.preview_description,
        credit=credit,
        handle=handle,
        key=submission_key(submission.id),
        note=submission.note,
        fields=tuple(
            (label, value)
            for label, value in (
                ("For", fields.for_whom),
                ("Solves", fields.solves),
                ("Level", fields.level),
            )
            if value
        ),
    )


def submission_draft_credit(submission: Submission, lang: str) -> str:
    """What the next issue's draft writes after this link: `（@handle 投稿）` (zh),
    `(Submitted by @handle)` (en), by the credit the submitter chose; "" if anonymous."""
    return draft_credit(link_post(submission), lang)


def plan_submission_posts(
    submission: Submission,
    targets: Sequence[str],
    platforms: Platforms = PLATFORMS,
    *,
    anonymous: bool = False,
) -> list[NewPost]:
    """One outbox row per target, keyed `submission:<id>`, due now; the editor's edits used.

    A target that cannot take the link (X: a URL it does not shorten, too long) is left
    out and logged; the others still go.
    """
    post = link_post(submission, anonymous=anonymous)
    rows: list[NewPost] = []
    for target in targets:
        edit = submission.edits.get(target)
        title, comment = (edit.title, edit.comment) if edit else (None, None)
        formatter = platforms[target].format_submission
        if formatter is None:
            log.warning("submission %s: %s takes no reader links", submission.id, target)
            continue
        try:
            payload = formatter(post, title, comment).to_payload()
        except NotPostable as exc:
            log.warning("submission %s not posted on %s: %s", submission.id, target, exc)
            continue
        rows.append(NewPost(submission_key(submission.id), target, SUBMISSION_KIND, payload))
    return rows


def edit_problem(
    target: str,
    submission: Submission,
    *,
    title: str | None,
    comment: str | None,
    platforms: Platforms = PLATFORMS,
) -> str | None:
    """Why an editor's title/comment would not be posted as written on `target`, or None."""
    check = platforms[target].submission_problem
    return None if check is None else check(link_post(submission), title, comment)


def post_texts(
    submission: Submission,
    *,
    proposed: tuple[str, Edit] | None = None,
    templates: PostTemplates | None = None,
) -> PostTexts:
    """The texts as they would go out now, with the X weight.

    `proposed` is an edit not saved yet, (target, Edit): the [Edit] screen shows what
    it would post before the editor saves it. `templates`: the run's (None: bundled).
    """
    post = link_post(submission)
    edits = dict(submission.edits)
    if proposed is not None:
        edits[proposed[0]] = proposed[1]
    edit_tg, edit_x = edits.get(TELEGRAM), edits.get(X)
    telegram = format_submission_telegram(
        post,
        title=edit_tg.title if edit_tg else None,
        comment=edit_tg.comment if edit_tg else None,
        templates=templates,
    )
    part = telegram.parts[0]
    assert isinstance(part, TelegramText)  # a submission's post is one text message
    try:
        x_text = format_submission_x(
            post,
            title=edit_x.title if edit_x else None,
            comment=edit_x.comment if edit_x else None,
            templates=templates,
        ).text
    except NotPostable:
        return PostTexts(telegram_html=part.html, x_text=None, x_weight=None)
    return PostTexts(telegram_html=part.html, x_text=x_text, x_weight=x_weighted_length(x_text))


def split_submission(text: str) -> tuple[str, str]:
    """The link (the first word) and the note (the rest) of `/submit <url> [note]`."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


class SubmissionService:
    """Readers' submissions on one store, with the settings' limits."""

    def __init__(
        self,
        store: SubmissionStore,
        settings: SubmissionsSettings,
        *,
        targets: Sequence[str] = (TELEGRAM,),
        resolver: Resolver = socket.getaddrinfo,
        preview_options: PreviewOptions | None = None,
        verify: ssl.SSLContext | bool = True,
        clock: Callable[[], float] = time.time,
        pages: IssuePages | None = None,
        platforms: Platforms = PLATFORMS,
        readers: ReaderStore | None = None,
    ) -> None:
        self.store = store
        self.platforms = platforms  # with the run's post templates
        self.readers = readers or ReaderStore(store.db)
        self._pages = pages
        self.settings = settings
        self.targets = tuple(targets)
        self._limits = limits_of(settings)
        self._allow: Collection[tuple[str, int]] = settings.preview_allow
        self._resolver = resolver
        self._preview_options = preview_options or PreviewOptions()
        self._verify = verify
        self._clock = clock
        self._tasks: set[asyncio.Task[Submission | None]] = set()

    # ---- intake ----------------------------------------------------------------

    async def submit(self, user: Submitter, text: str) -> Outcome:
        """Validate, check ban/limits/duplicates and store, in one transaction.

        Never raises for what the reader wrote: every refusal is an outcome.
        Call `preview_in_background(outcome.submission_id)` after an `Accepted`.
        """
        if not self.settings.enabled:
            return Disabled()
        raw_url, raw_note = split_submission(text)
        try:
            link = parse_submission(raw_url)
        except InvalidURLError as exc:
            return Refused(exc.rule, exc.message)
        note = parse_note(raw_note)
        if isinstance(note, Refused):
            return note
        return await self._store(user, raw_url, link.url, link.key, note)

    async def _store(
        self, user: Submitter, original: str, canonical: str, key: str, note: Note
    ) -> Outcome:
        now = self._clock()

        def check(gate: Gate) -> Outcome | None:
            return judge(
                gate,
                self._limits,
                now=now,
                canonical_url=canonical,
                user_id=user.user_id,
                issue_link=lambda featured: issue_link(featured, self._pages),
            )

        result: Submission | Outcome = await self.store.create(
            NewSubmission(
                user_id=user.user_id,
                display_name=user.display_name,
                username=user.username,
                chat_id=user.chat_id if user.chat_id is not None else user.user_id,
                original_url=original,
                canonical_url=canonical,
                dedupe_key=key,
                note=note.text,
                fields=note.fields,
            ),
            now=now,
            since=now - DAY_SECONDS,
            judge=check,
        )
        if isinstance(result, Submission):
            return Accepted(
                submission_id=result.id,
                canonical_url=result.canonical_url,
                fields=result.fields,
                credit=result.credit_as,
            )
        return result

    # ---- the preview -----------------------------------------------------------

    async def fetch_preview(self, submission_id: int) -> Submission | None:
        """Fetch the page's title and description and keep them, or why there are none.

        Never raises for the page (`fetch_preview` does not); None for an unknown id.
        """
        submission = await self.store.get(submission_id)
        if submission is None:
            return None
        preview = await fetch_preview(
            submission.canonical_url,
            allow=self._allow,
            resolver=self._resolver,
            options=self._preview_options,
            verify=self._verify,
        )
        return await self.store.set_preview(
            submission_id,
            title=preview.title,
            description=preview.description,
            error=preview.error,
            now=self._clock(),
        )

    def preview_in_background(self, submission_id: int) -> asyncio.Task[Submission | None]:
        """Start `fetch_preview` as a task (kept until done); await it to send the card."""
        task = asyncio.create_task(
            self.fetch_preview(submission_id), name=f"preview-submission-{submission_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait for the previews still being fetched (shutdown, tests)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- decisions -------------------------------------------------------------

    async def approve(self, submission_id: int, *, editor: str) -> Decided | None:
        """Publish now on every target and keep it for the draft: one row per target."""
        targets, platforms = self.targets, self.platforms
        return await self.store.approve(
            submission_id,
            actor=editor,
            now=self._clock(),
            posts=lambda row: plan_submission_posts(row, targets, platforms),
        )

    async def draft_only(self, submission_id: int, *, editor: str) -> Decided | None:
        """Keep it for the next issue's draft; nothing is posted."""
        return await self.store.approve_draft_only(submission_id, actor=editor, now=self._clock())

    async def reject(
        self, submission_id: int, *, editor: str, reason: RejectReason, text: str | None = None
    ) -> Decided | None:
        """Turn it down for a reason of the menu; "other" keeps the editor's words.

        Stored as the reason's code (`off_topic`), or `other: <words>`.
        """
        if reason not in REJECT_REASONS:
            raise ValueError(f"unknown reject reason {reason!r}; one of {REJECT_REASONS}")
        words = " ".join((text or "").split())
        stored = f"other: {words}" if reason == "other" and words else reason
        return await self.store.reject(
            submission_id, actor=editor, reason=stored, now=self._clock()
        )

    async def ban(self, submission_id: int, *, editor: str) -> Decided | None:
        """Reject it and ban its submitter (their other pending links are rejected too)."""
        return await self.store.ban(
            submission_id, actor=editor, reason=BANNED_REASON, now=self._clock()
        )

    async def set_reader_choices(
        self,
        submission_id: int,
        *,
        user_id: int,
        fields: Fields,
    ) -> Submission | None:
        """The submitter's fields, set by their buttons; None unless it is theirs and
        still pending (the store's compare-and-set)."""
        return await self.store.set_reader_choices(
            submission_id, user_id=user_id, fields=fields, now=self._clock()
        )

    async def withdraw(self, submission_id: int, *, user_id: int) -> Decided | None:
        return await self.store.withdraw(submission_id, user_id=user_id, now=self._clock())

    async def save_edit(
        self,
        submission_id: int,
        target: str,
        *,
        title: str | None,
        comment: str | None,
        editor: str,
    ) -> Submission | str | None:
        """Keep an editor's title/comment for `target` if it fits as written.

        Returns the updated submission, the reason it does not fit (nothing saved), or
        None when the submission is unknown or decided.
        """
        if target not in self.targets:
            return f"{target} is not a target of this bot"
        current = await self.store.get(submission_id)
        if current is None or current.state != "pending":
            return None
        problem = edit_problem(
            target, current, title=title, comment=comment, platforms=self.platforms
        )
        if problem is not None:
            return problem
        return await self.store.save_edit(
            submission_id, target, title=title, comment=comment, actor=editor, now=self._clock()
        )

    async def expire(self, *, older_than_seconds: float) -> list[int]:
        """Expire what waited too long for review; the ids (their cards can say so)."""
        now = self._clock()
        return await self.store.expire_pending(older_than=now - older_than_seconds, now=now)

    def now(self) -> float:
        """The service's clock (tests hand in one they move)."""
        return self._clock()

    # ---- reminders and expiry ----------------------------------------------------------

    async def expire_due(self) -> list[Submission]:
        """Expire what waited `expire_days` (never when 0); the rows, to tell and re-render."""
        days = self.settings.expire_days
        if days <= 0:
            return []
        ids = await self.expire(older_than_seconds=days * DAY_SECONDS)
        rows = [await self.store.get(i) for i in ids]
        return [r for r in rows if r is not None]

    async def reminders_due(self) -> list[Submission]:
        """Pending links older than `remind_after_hours`, oldest first (the digest)."""
        cutoff = self._clock() - self.settings.remind_after_hours * 3600
        return await self.store.pending_before(cutoff)

    # ---- the submitter's own tools -----------------------------------------------------

    async def mine(self, user_id: int, *, limit: int = MINE_LIMIT) -> list[Submission]:
        """Their latest submissions, newest first (`/mysubmissions`)."""
        return await self.store.of_user(user_id, limit=limit)

    async def withdraw_own(self, submission_id: int, *, user_id: int) -> Withdrawal:
        """`/withdraw <id>`: a compare-and-set ``pending → withdrawn`` on their own row.

        Someone else's id is answered as an unknown one (nobody learns what others sent).
        """
        current = await self.store.get(submission_id)
        if current is None or current.user_id != user_id:
            return Withdrawal("unknown", None)
        decided = await self.withdraw(submission_id, user_id=user_id)
        if decided is None:
            return Withdrawal("unknown", None)
        return Withdrawal("withdrawn" if decided.won else "decided", decided.submission)

    async def set_credit(self, user: Submitter, choice: CreditChoice) -> CreditSet:
        """Their credit for every future and pending link (the names as Telegram shows
        them now are kept beside it)."""
        return await self.readers.set_credit(
            user.user_id,
            choice,
            username=user.username,
            display_name=user.display_name,
            now=self._clock(),
        )

    async def credit_choice(self, user_id: int) -> CreditChoice:
        reader = await self.readers.get(user_id)
        return "name" if reader is None else reader.credit

    async def ask_forget(self, user_id: int) -> ForgetRequest:
        return await self.readers.ask_forget(user_id, now=self._clock())

    async def cancel_forget(self, request_id: int, *, user_id: int) -> bool:
        return await self.readers.cancel_forget(request_id, user_id=user_id, now=self._clock())

    async def forget(self, request_id: int, *, user_id: int) -> Forgotten | None:
        """Forget the submitter (`data.readers.ReaderStore.forget`), once per request.

        The stored copies of their posts are rewritten as every platform that takes
        links would post them without a credit (a target switched off since included).
        """
        every = tuple(p.name for p in self.platforms if p.format_submission is not None)

        def anonymous(row: Submission) -> dict[str, Mapping[str, object]]:
            return {
                p.target: p.payload
                for p in plan_submission_posts(row, every, self.platforms, anonymous=True)
            }

        return await self.readers.forget(
            request_id, user_id=user_id, now=self._clock(), anonymous_posts=anonymous
        )

    async def published(self, *, now: When | None = None) -> list[Submission]:
        """Approved links whose posts are all out, now marked published (tell submitters).

        A target that files the link for the editors (GitHub) is not waited for: its
        limits or a refusal there never keep a reader from hearing of the channel post.
        """
        filed = [t for t in self.targets if t in PLATFORMS and not PLATFORMS[t].publishes]
        return await self.store.promote_published(
            now=self._clock() if now is None else now, not_awaited=filed
        )
