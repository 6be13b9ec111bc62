"""Readers' submitted links: stored once, deduped, limited, and decided by compare-and-set.

States and the only legal moves, each one ``UPDATE … WHERE id = ? AND state = ?``, so a
second press, a second editor or a late job changes nothing and learns who won::

    from       method                          to
    (new)      create                          pending
    pending    approve (mode publish|draft)    approved   (+ outbox rows, same transaction)
    approved   promote_published               published  (its outbox rows are all sent)
    pending    reject, ban                     rejected
    pending    withdraw (the submitter)        withdrawn
    pending    expire_pending                  expired

Every move is audited (who, when, state before and after) in the transaction that made
it. `create` reads the submitter's ban, limits and the link's duplicates and inserts in
one write transaction, handing what it read to the caller's pure `judge`: two quick
`/submit`s of one link, or a reader racing the daily cap, cannot both get in. Creates
arriving together are group-committed (`Database.write_batched`): judged one after the
other in one transaction with one fsync, not one fsync each.

Dedupe is by `bot.domain.urls.dedupe_key`: against submissions (any state; the caller's
rules decide which block) and against the `items.dedupe_key` of every stored issue, in
one indexed query.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast, get_args

from data.audit import insert_audit, insert_audit_batched
from data.db import Database, Reader, SyncTx, Tx, When, to_ts
from data.outbox import NewPost, OutboxStore

SubmissionState = Literal["pending", "approved", "published", "rejected", "withdrawn", "expired"]
SUBMISSION_STATES: tuple[SubmissionState, ...] = get_args(SubmissionState)
Mode = Literal["publish", "draft"]
# How a submitter wants the posts to credit them (`/credit`): their @username, their
# display name, or nobody. Theirs per user (`users.credit`); a pending row follows it.
CreditChoice = Literal["username", "name", "anonymous"]
CREDIT_CHOICES: tuple[CreditChoice, ...] = get_args(CreditChoice)
# A link in one of these states is taken: a new submission of it is a duplicate.
ACTIVE_STATES: tuple[SubmissionState, ...] = ("pending", "approved", "published")
SUBMISSION_KIND = "submission"  # the outbox rows' kind
SYSTEM = "system"

R = TypeVar("R")


def submission_key(submission_id: int) -> str:
    """The idempotency key of a submission's post on every target: one row per target."""
    return f"submission:{submission_id}"


@dataclass(frozen=True, slots=True)
class Fields:
    """The optional structured fields readers ask for (`for: … solves: … level: …`)."""

    for_whom: str | None = None
    solves: str | None = None
    level: str | None = None


@dataclass(frozen=True, slots=True)
class NewSubmission:
    user_id: int
    display_name: str
    username: str | None  # without the @
    chat_id: int  # where the submitter hears the outcome
    original_url: str  # as written
    canonical_url: str
    dedupe_key: str
    note: str = ""
    fields: Fields = Fields()


@dataclass(frozen=True, slots=True)
class Edit:
    """An editor's title and comment for one target; None keeps the default."""

    title: str | None = None
    comment: str | None = None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    id: int
    user_id: int
    display_name: str
    username: str | None
    chat_id: int
    original_url: str
    canonical_url: str
    dedupe_key: str
    note: str
    fields: Fields
    credit_as: CreditChoice  # the submitter's choice while pending; what the posts used after
    preview_title: str | None
    preview_description: str | None
    preview_error: str | None
    previewed_at: float | None
    edits: Mapping[str, Edit]  # target -> the editor's title/comment
    state: SubmissionState
    mode: Mode | None  # set once approved
    decided_by: str | None
    decided_at: float | None
    reason: str | None
    cards: tuple[tuple[int, int], ...]
    told_at: float | None
    created_at: float
    updated_at: float
    forgotten_at: float | None = None  # /forgetme emptied its personal fields

    @property
    def subject(self) -> str:
        return f"submission:{self.id}"


@dataclass(frozen=True, slots=True)
class FeaturedIn:
    """A stored issue's item with the same link."""

    issue_number: int
    lang: str
    date: dt.date | None
    section_kind: str
    title: str
    url: str  # as the issue wrote it


@dataclass(frozen=True, slots=True)
class SubmittedBefore:
    """An earlier submission of the same link."""

    submission_id: int
    state: SubmissionState
    user_id: int
    created_at: float
    decided_by: str | None
    decided_at: float | None


@dataclass(frozen=True, slots=True)
class Duplicates:
    """Everything already known about a link: issue items (oldest issue first), submissions."""

    featured: tuple[FeaturedIn, ...] = ()
    submissions: tuple[SubmittedBefore, ...] = ()

    @property
    def active(self) -> tuple[SubmittedBefore, ...]:
        """The submissions that make a new one a duplicate (not rejected, withdrawn, expired)."""
        return tuple(s for s in self.submissions if s.state in ACTIVE_STATES)

    def __bool__(self) -> bool:
        return bool(self.featured or self.submissions)


@dataclass(frozen=True, slots=True)
class LimitCounts:
    """What the submission limits are judged on, for one submitter at one moment."""

    recent: tuple[float, ...]  # their submission times since the window's start, oldest first
    last_at: float | None  # their latest submission, for the cooldown
    pending_for_user: int
    pending_total: int


@dataclass(frozen=True, slots=True)
class Banned:
    user_id: int
    banned_by: str
    banned_at: float
    reason: str | None


@dataclass(frozen=True, slots=True)
class Gate:
    """What `create` read inside its transaction, for the caller's `judge`."""

    banned: Banned | None
    counts: LimitCounts
    duplicates: Duplicates


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision's result: `won` False means another press got there first.

    `submission` is the row after the change when won, else as the winner left it
    (`decided_by`, `decided_at`: who to name in "already approved by … at …").
    """

    won: bool
    submission: Submission
    outbox_ids: tuple[int, ...] = ()
    also_rejected: tuple[int, ...] = field(default=())  # a ban's other pending submissions


def _edits(text: str) -> dict[str, Edit]:
    return {
        target: Edit(title=raw.get("title"), comment=raw.get("comment"), by=raw.get("by"))
        for target, raw in json.loads(text).items()
    }


def _submission(row: Any) -> Submission:
    return Submission(
        id=row["id"],
        user_id=row["user_id"],
        display_name=row["display_name"],
        username=row["username"],
        chat_id=row["chat_id"],
        original_url=row["original_url"],
        canonical_url=row["canonical_url"],
        dedupe_key=row["dedupe_key"],
        note=row["note"],
        fields=Fields(for_whom=row["for_whom"], solves=row["solves"], level=row["level"]),
        credit_as=cast(CreditChoice, row["credit_as"]),
        preview_title=row["preview_title"],
        preview_description=row["preview_description"],
        preview_error=row["preview_error"],
        previewed_at=row["previewed_at"],
        edits=_edits(row["edits"]),
        state=cast(SubmissionState, row["state"]),
        mode=cast("Mode | None", row["mode"]),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        reason=row["reason"],
        cards=tuple((int(c), int(m)) for c, m in json.loads(row["cards"])),
        told_at=row["told_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        forgotten_at=row["forgotten_at"],
    )


async def _fetch(tx: Reader, submission_id: int) -> Submission | None:
    row = await tx.fetchone("SELECT * FROM submissions WHERE id = ?", (submission_id,))
    return None if row is None else _submission(row)


# One query over both sources; columns that a source lacks are NULL.
_DUPLICATES = """
SELECT 'item' AS source, i.number AS number, i.lang AS lang, i.date AS date,
       it.kind AS kind, it.title AS title, it.url AS url,
       NULL AS sub_id, NULL AS state, NULL AS user_id, NULL AS created_at,
       NULL AS decided_by, NULL AS decided_at
FROM items it JOIN issues i ON i.id = it.issue_id
WHERE it.dedupe_key = :key
UNION ALL
SELECT 'submission', NULL, NULL, NULL, NULL, NULL, NULL,
       s.id, s.state, s.user_id, s.created_at, s.decided_by, s.decided_at
FROM submissions s
WHERE s.dedupe_key = :key AND (:exclude IS NULL OR s.id <> :exclude)
"""


def _duplicates_of(rows: Sequence[Any]) -> Duplicates:
    featured: list[FeaturedIn] = []
    submitted: list[SubmittedBefore] = []
    for row in rows:
        if row["source"] == "item":
            featured.append(
                FeaturedIn(
                    issue_number=row["number"],
                    lang=row["lang"],
                    date=dt.date.fromisoformat(row["date"]) if row["date"] else None,
                    section_kind=row["kind"],
                    title=row["title"],
                    url=row["url"],
                )
            )
        else:
            submitted.append(
                SubmittedBefore(
                    submission_id=row["sub_id"],
                    state=cast(SubmissionState, row["state"]),
                    user_id=row["user_id"],
                    created_at=row["created_at"],
                    decided_by=row["decided_by"],
                    decided_at=row["decided_at"],
                )
            )
    featured.sort(key=lambda f: (f.issue_number, f.lang))
    submitted.sort(key=lambda s: s.submission_id)
    return Duplicates(featured=tuple(featured), submissions=tuple(submitted))


async def _duplicates(tx: Reader, key: str, exclude: int | None) -> Duplicates:
    return _duplicates_of(await tx.fetchall(_DUPLICATES, {"key": key, "exclude": exclude}))


_RECENT = (
    "SELECT created_at FROM submissions WHERE user_id = ? AND created_at > ? ORDER BY created_at"
)
_TALLIES = (
    "SELECT (SELECT max(created_at) FROM submissions WHERE user_id = :user) AS last_at,"
    " (SELECT count(*) FROM submissions WHERE user_id = :user AND state = 'pending') AS mine,"
    " (SELECT count(*) FROM submissions WHERE state = 'pending') AS total"
)


def _counts_of(recent: Sequence[Any], row: Any) -> LimitCounts:
    assert row is not None  # an aggregate always gives a row
    return LimitCounts(
        recent=tuple(float(r["created_at"]) for r in recent),
        last_at=row["last_at"],
        pending_for_user=int(row["mine"]),
        pending_total=int(row["total"]),
    )


async def _counts(tx: Tx, user_id: int, since: float) -> LimitCounts:
    recent = await tx.fetchall(_RECENT, (user_id, since))
    return _counts_of(recent, await tx.fetchone(_TALLIES, {"user": user_id}))


_BANNED = "SELECT * FROM banned_users WHERE user_id = ?"


def _banned_of(row: Any) -> Banned | None:
    if row is None:
        return None
    return Banned(
        user_id=row["user_id"],
        banned_by=row["banned_by"],
        banned_at=row["banned_at"],
        reason=row["reason"],
    )


async def _banned(tx: Reader, user_id: int) -> Banned | None:
    return _banned_of(await tx.fetchone(_BANNED, (user_id,)))


async def _audit(
    tx: Tx,
    *,
    actor: str,
    action: str,
    submission_id: int,
    before: SubmissionState | None,
    after: SubmissionState,
    at: float,
    **details: Any,
) -> None:
    await insert_audit(
        tx,
        actor=actor,
        action=action,
        subject=submission_key(submission_id),
        details={"before": before, "after": after, **details},
        now=at,
    )


_SEEN = (
    "INSERT INTO users (user_id, username, display_name, first_seen_at,"
    " last_seen_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
    " username = excluded.username, display_name = excluded.display_name,"
    " last_seen_at = excluded.last_seen_at"
)
_CREATE = (
    "INSERT INTO submissions (user_id, display_name, username, chat_id,"
    " original_url, canonical_url, dedupe_key, note, for_whom, solves, level,"
    " credit_as, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " (SELECT credit FROM users WHERE user_id = ?), ?, ?) RETURNING *"
)


def _create_params(new: NewSubmission, at: float) -> tuple[Any, ...]:
    return (
        new.user_id,
        new.display_name,
        new.username,
        new.chat_id,
        new.original_url,
        new.canonical_url,
        new.dedupe_key,
        new.note,
        new.fields.for_whom,
        new.fields.solves,
        new.fields.level,
        new.user_id,
        at,
        at,
    )


class SubmissionStore:
    """Submissions and banned readers of one `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.db = db  # for the stores beside it (`data.readers.ReaderStore`)

    # ---- reading ---------------------------------------------------------------
    # One query each, so each is its own snapshot (`Database.fetchall`); `limit_counts`
    # reads twice and takes a read transaction.

    async def get(self, submission_id: int) -> Submission | None:
        return await _fetch(self._db, submission_id)

    async def find_duplicates(self, key: str, *, exclude_id: int | None = None) -> Duplicates:
        """Items and submissions sharing the dedupe key (`exclude_id`: the card's own)."""
        return await _duplicates(self._db, key, exclude_id)

    async def limit_counts(self, user_id: int, *, since: When) -> LimitCounts:
        """A submitter's submissions since `since`, their latest, and the pending counts."""
        async with self._db.transaction(write=False) as tx:
            return await _counts(tx, user_id, to_ts(since))

    async def banned(self, user_id: int) -> Banned | None:
        return await _banned(self._db, user_id)

    async def accepted_count(self, user_id: int) -> int:
        """How many of a submitter's links editors approved (the card shows it)."""
        row = await self._db.fetchone(
            "SELECT count(*) AS n FROM submissions"
            " WHERE user_id = ? AND state IN ('approved', 'published')",
            (user_id,),
        )
        return int(row["n"]) if row else 0

    async def list_by_state(self, state: SubmissionState, *, limit: int = 100) -> list[Submission]:
        """Oldest first: the review queue (`pending`), the draft's links (`approved`)…"""
        rows = await self._db.fetchall(
            "SELECT * FROM submissions WHERE state = ? ORDER BY id LIMIT ?", (state, limit)
        )
        return [_submission(row) for row in rows]

    async def of_user(self, user_id: int, *, limit: int = 10) -> list[Submission]:
        """A submitter's latest submissions, newest first (`/mysubmissions`)."""
        rows = await self._db.fetchall(
            "SELECT * FROM submissions WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (user_id, limit),
        )
        return [_submission(row) for row in rows]

    async def pending_before(self, before: When, *, limit: int = 200) -> list[Submission]:
        """Pending submissions created before `before`, oldest first (the reminders)."""
        rows = await self._db.fetchall(
            "SELECT * FROM submissions WHERE state = 'pending' AND created_at < ?"
            " ORDER BY created_at, id LIMIT ?",
            (to_ts(before), limit),
        )
        return [_submission(row) for row in rows]

    async def untold(self, *, limit: int = 100) -> list[Submission]:
        """Decided submissions whose submitter was not told yet (a crash lost the message)."""
        rows = await self._db.fetchall(
            "SELECT * FROM submissions WHERE told_at IS NULL"
            " AND (state IN ('published', 'rejected', 'expired')"
            " OR (state = 'approved' AND mode = 'draft')) ORDER BY id LIMIT ?",
            (limit,),
        )
        return [_submission(row) for row in rows]

    # ---- creating --------------------------------------------------------------

    async def create(
        self,
        new: NewSubmission,
        *,
        now: When,
        since: When,
        judge: Callable[[Gate], R | None],
    ) -> Submission | R:
        """Insert `new` unless `judge` refuses it, judged on what its write transaction read.

        `since` starts the window of `LimitCounts.recent`. `judge` is pure: it gets the
        submitter's ban, counts and the link's duplicates and returns a refusal (given
        back as it is; nothing is written) or None (the row is inserted and returned).
        Creates queued together share one transaction and one commit
        (`Database.write_batched`): each is judged in turn on what the ones before it
        stored, so two of one link still store it once. `judge` runs on the database's
        thread, so it must be pure and quick (it is: `bot.submissions.rules.judge`).
        """
        at = to_ts(now)
        window = to_ts(since)

        def body(tx: SyncTx) -> Submission | R:
            gate = Gate(
                banned=_banned_of(tx.fetchone(_BANNED, (new.user_id,))),
                counts=_counts_of(
                    tx.fetchall(_RECENT, (new.user_id, window)),
                    tx.fetchone(_TALLIES, {"user": new.user_id}),
                ),
                duplicates=_duplicates_of(
                    tx.fetchall(_DUPLICATES, {"key": new.dedupe_key, "exclude": None})
                ),
            )
            refusal = judge(gate)
            if refusal is not None:
                return refusal
            # The submitter as last seen (their credit choice kept), then the row, which
            # takes that choice.
            tx.execute(_SEEN, (new.user_id, new.username, new.display_name, at, at))
            rows = tx.fetchall(_CREATE, _create_params(new, at))
            created = _submission(rows[0])  # the row as stored, defaults included
            insert_audit_batched(
                tx,
                actor=f"user:{new.user_id}",
                action="submission.create",
                subject=submission_key(created.id),
                details={"before": None, "after": "pending"},
                now=at,
            )
            return created

        return await self._db.write_batched(body)

    async def set_preview(
        self,
        submission_id: int,
        *,
        title: str | None,
        description: str | None,
        error: str | None,
        now: When,
    ) -> Submission | None:
        """Keep what the preview fetch found (or why it found nothing), in any state.

        A batched write (`Database.write_batched`): the previews of a burst of
        submissions share commits with each other and with the intake.
        """
        at = to_ts(now)

        def body(tx: SyncTx) -> list[Any]:
            return tx.fetchall(
                "UPDATE submissions SET preview_title = ?, preview_description = ?,"
                " preview_error = ?, previewed_at = ?, updated_at = ? WHERE id = ? RETURNING *",
                (title, description, error, at, at, submission_id),
            )

        rows = await self._db.write_batched(body)
        return _submission(rows[0]) if rows else None

    async def add_cards(
        self, submission_id: int, cards: Sequence[tuple[int, int]], *, now: When
    ) -> None:
        """Remember where the review cards went, so each one can show the decision.

        A batched write, read and written in one body: no other write comes between.
        """
        at = to_ts(now)

        def body(tx: SyncTx) -> None:
            row = tx.fetchone("SELECT cards FROM submissions WHERE id = ?", (submission_id,))
            if row is None:
                return
            known = [tuple(c) for c in json.loads(row["cards"])]
            known += [tuple(c) for c in cards if tuple(c) not in known]
            tx.execute(
                "UPDATE submissions SET cards = ?, updated_at = ? WHERE id = ?",
                (json.dumps(known), at, submission_id),
            )

        await self._db.write_batched(body)

    async def save_edit(
        self,
        submission_id: int,
        target: str,
        *,
        title: str | None,
        comment: str | None,
        actor: str,
        now: When,
    ) -> Submission | None:
        """Store an editor's title/comment for one target; None once it is decided."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT edits FROM submissions WHERE id = ? AND state = 'pending'",
                (submission_id,),
            )
            if row is None:
                return None
            edits = json.loads(row["edits"])
            edits[target] = {"title": title, "comment": comment, "by": actor}
            await tx.execute(
                "UPDATE submissions SET edits = ?, updated_at = ?"
                " WHERE id = ? AND state = 'pending'",
                (json.dumps(edits, ensure_ascii=False, sort_keys=True), at, submission_id),
            )
            await insert_audit(
                tx,
                actor=actor,
                action="submission.edit",
                subject=submission_key(submission_id),
                details={"target": target},
                now=at,
            )
            return await _fetch(tx, submission_id)

    async def set_reader_choices(
        self,
        submission_id: int,
        *,
        user_id: int,
        fields: Fields,
        now: When,
    ) -> Submission | None:
        """The submitter's own fields, set by buttons while it waits (their credit is
        theirs per user: `data.readers.ReaderStore.set_credit`).

        None unless it is theirs and still pending. `fields` replaces all three.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            params: dict[str, Any] = {
                "id": submission_id,
                "user": user_id,
                "at": at,
                "for_whom": fields.for_whom,
                "solves": fields.solves,
                "level": fields.level,
            }
            changed = await tx.execute(
                "UPDATE submissions SET updated_at = :at,"
                " for_whom = :for_whom, solves = :solves, level = :level"
                " WHERE id = :id AND user_id = :user AND state = 'pending'",
                params,
            )
            return await _fetch(tx, submission_id) if changed else None

    # ---- deciding --------------------------------------------------------------

    async def _move(
        self,
        tx: Tx,
        submission_id: int,
        *,
        before: SubmissionState,
        after: SubmissionState,
        actor: str,
        at: float,
        mode: Mode | None = None,
        reason: str | None = None,
        user_id: int | None = None,
    ) -> bool:
        """The compare-and-set every move is: True if this call changed the state.

        `user_id` limits the move to that submitter's own row (a withdrawal).
        """
        changed = await tx.execute(
            "UPDATE submissions SET state = :after, updated_at = :at, decided_by = :actor,"
            " decided_at = :at, mode = coalesce(:mode, mode), reason = coalesce(:reason, reason)"
            " WHERE id = :id AND state = :before AND (:user IS NULL OR user_id = :user)",
            {
                "after": after,
                "at": at,
                "actor": actor,
                "mode": mode,
                "reason": reason,
                "id": submission_id,
                "before": before,
                "user": user_id,
            },
        )
        return bool(changed)

    async def _decide(
        self,
        submission_id: int,
        *,
        after: SubmissionState,
        action: str,
        actor: str,
        now: When,
        mode: Mode | None = None,
        reason: str | None = None,
        posts: Callable[[Submission], Sequence[NewPost]] | None = None,
        user_id: int | None = None,
        then: Callable[[Tx, Submission, float], Awaitable[object]] | None = None,
    ) -> Decided | None:
        at = to_ts(now)
        async with self._db.transaction() as tx:
            won = await self._move(
                tx,
                submission_id,
                before="pending",
                after=after,
                actor=actor,
                at=at,
                mode=mode,
                reason=reason,
                user_id=user_id,
            )
            current = await _fetch(tx, submission_id)
            if current is None:
                return None
            if not won:
                return Decided(won=False, submission=current)
            ids: list[int] = []
            if posts is not None:
                # The outbox's own insert, inside this transaction: one decision, one
                # row per target, or nothing at all.
                for post in posts(current):
                    outbox_id = await OutboxStore._insert(tx, post, at)
                    if outbox_id is not None:
                        ids.append(outbox_id)
            if then is not None:  # the caller's part of the decision (the extra queue)
                await then(tx, current, at)
            await _audit(
                tx,
                actor=actor,
                action=action,
                submission_id=submission_id,
                before="pending",
                after=after,
                at=at,
                **({"mode": mode} if mode else {}),
                **({"reason": reason} if reason else {}),
                **({"queued": len(ids)} if posts is not None else {}),
            )
            return Decided(won=True, submission=current, outbox_ids=tuple(ids))

    async def approve(
        self,
        submission_id: int,
        *,
        actor: str,
        now: When,
        posts: Callable[[Submission], Sequence[NewPost]],
    ) -> Decided | None:
        """Approve to publish now: `posts(row)` (pure) gives the outbox rows to queue.

        They are formatted from the row as this transaction approved it (edits
        included) and inserted in the same transaction, keyed `submission:<id>` per
        target. None for an unknown id.
        """
        return await self._decide(
            submission_id,
            after="approved",
            action="submission.approve",
            actor=actor,
            now=now,
            mode="publish",
            posts=posts,
        )

    async def approve_queued(
        self,
        submission_id: int,
        *,
        actor: str,
        now: When,
        posts: Callable[[Submission], Sequence[NewPost]],
        then: Callable[[Tx, Submission, float], Awaitable[object]],
    ) -> Decided | None:
        """Approve into the extra edition's queue: as `approve`, and `then(tx, row, at)`
        (`data.extras.QueueStore.add_submission`: queue it, time its rows) in the same
        transaction. It is `published` once its rows are all sent, as an approval is."""
        return await self._decide(
            submission_id,
            after="approved",
            action="submission.queue",
            actor=actor,
            now=now,
            mode="publish",
            posts=posts,
            then=then,
        )

    async def approve_draft_only(
        self, submission_id: int, *, actor: str, now: When
    ) -> Decided | None:
        """Approve for the next issue's draft only: nothing is posted."""
        return await self._decide(
            submission_id,
            after="approved",
            action="submission.draft_only",
            actor=actor,
            now=now,
            mode="draft",
        )

    async def reject(
        self, submission_id: int, *, actor: str, reason: str, now: When
    ) -> Decided | None:
        return await self._decide(
            submission_id,
            after="rejected",
            action="submission.reject",
            actor=actor,
            now=now,
            reason=reason,
        )

    async def withdraw(self, submission_id: int, *, user_id: int, now: When) -> Decided | None:
        """The submitter takes back a pending link; anyone else's call changes nothing."""
        return await self._decide(
            submission_id,
            after="withdrawn",
            action="submission.withdraw",
            actor=f"user:{user_id}",
            now=now,
            user_id=user_id,
        )

    async def ban(
        self, submission_id: int, *, actor: str, reason: str, now: When
    ) -> Decided | None:
        """Reject a pending submission and ban its submitter, with their other pending ones.

        A compare-and-set on the pressed submission like every decision: when it was
        decided meanwhile, nobody is banned.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            won = await self._move(
                tx,
                submission_id,
                before="pending",
                after="rejected",
                actor=actor,
                at=at,
                reason=reason,
            )
            current = await _fetch(tx, submission_id)
            if current is None:
                return None
            if not won:
                return Decided(won=False, submission=current)
            await self._insert_ban(tx, current.user_id, actor=actor, reason=reason, at=at)
            await _audit(
                tx,
                actor=actor,
                action="submission.ban",
                submission_id=submission_id,
                before="pending",
                after="rejected",
                at=at,
                reason=reason,
            )
            others = await tx.fetchall(
                "UPDATE submissions SET state = 'rejected', reason = ?, decided_by = ?,"
                " decided_at = ?, updated_at = ? WHERE user_id = ? AND state = 'pending'"
                " RETURNING id",
                (reason, actor, at, at, current.user_id),
            )
            also = tuple(sorted(int(row["id"]) for row in others))
            for other in also:
                await _audit(
                    tx,
                    actor=actor,
                    action="submission.reject",
                    submission_id=other,
                    before="pending",
                    after="rejected",
                    at=at,
                    reason=reason,
                    banned_with=submission_id,
                )
            return Decided(won=True, submission=current, also_rejected=also)

    @staticmethod
    async def _insert_ban(
        tx: Tx, user_id: int, *, actor: str, reason: str | None, at: float
    ) -> bool:
        changed = await tx.execute(
            "INSERT INTO banned_users (user_id, banned_by, banned_at, reason) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO NOTHING",
            (user_id, actor, at, reason),
        )
        if changed:
            await insert_audit(
                tx,
                actor=actor,
                action="user.ban",
                subject=f"user:{user_id}",
                details={"reason": reason},
                now=at,
            )
        return bool(changed)

    async def ban_user(
        self, user_id: int, *, actor: str, reason: str | None = None, now: When
    ) -> bool:
        """Ban a reader by id (a command, not a card); False if they already were."""
        async with self._db.transaction() as tx:
            return await self._insert_ban(tx, user_id, actor=actor, reason=reason, at=to_ts(now))

    async def unban_user(self, user_id: int, *, actor: str, now: When) -> bool:
        at = to_ts(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute("DELETE FROM banned_users WHERE user_id = ?", (user_id,))
            if changed:
                await insert_audit(
                    tx, actor=actor, action="user.unban", subject=f"user:{user_id}", now=at
                )
            return bool(changed)

    async def expire_pending(self, *, older_than: When, now: When) -> list[int]:
        """Expire the pending submissions created before `older_than`; their ids."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE submissions SET state = 'expired', decided_by = ?, decided_at = ?,"
                " updated_at = ? WHERE state = 'pending' AND created_at < ? RETURNING id",
                (SYSTEM, at, at, to_ts(older_than)),
            )
            ids = sorted(int(row["id"]) for row in rows)
            for submission_id in ids:
                await _audit(
                    tx,
                    actor=SYSTEM,
                    action="submission.expire",
                    submission_id=submission_id,
                    before="pending",
                    after="expired",
                    at=at,
                )
            return ids

    async def promote_published(
        self, *, now: When, not_awaited: Collection[str] = ()
    ) -> list[Submission]:
        """Mark `published` the approved-to-publish submissions whose rows are all sent.

        Rows of the `not_awaited` targets (filed for the editors, like a GitHub issue,
        not posted to readers) are not waited for. Idempotent and crash-safe: it reads
        the outbox, so calling it after every send (or at start) finds exactly the ones
        that went out since. Returns them.
        """
        at = to_ts(now)
        skipped = json.dumps(sorted(set(not_awaited)))
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE submissions SET state = 'published', updated_at = :at"
                " WHERE state = 'approved' AND mode = 'publish'"
                " AND EXISTS (SELECT 1 FROM outbox o"
                "   WHERE o.idempotency_key = 'submission:' || submissions.id"
                "   AND o.target NOT IN (SELECT value FROM json_each(:skipped)))"
                " AND NOT EXISTS (SELECT 1 FROM outbox o"
                "   WHERE o.idempotency_key = 'submission:' || submissions.id"
                "   AND o.state <> 'sent'"
                "   AND o.target NOT IN (SELECT value FROM json_each(:skipped)))"
                " RETURNING id",
                {"at": at, "skipped": skipped},
            )
            published: list[Submission] = []
            for submission_id in sorted(int(row["id"]) for row in rows):
                await _audit(
                    tx,
                    actor=SYSTEM,
                    action="submission.published",
                    submission_id=submission_id,
                    before="approved",
                    after="published",
                    at=at,
                )
                found = await _fetch(tx, submission_id)
                assert found is not None  # updated just above
                published.append(found)
            return published

    async def mark_told(self, submission_id: int, *, now: When) -> bool:
        """Record that the submitter heard the outcome; False if they already had."""
        async with self._db.transaction() as tx:
            return bool(
                await tx.execute(
                    "UPDATE submissions SET told_at = ? WHERE id = ? AND told_at IS NULL",
                    (to_ts(now), submission_id),
                )
            )
