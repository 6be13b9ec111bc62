"""The extra edition's queue: editors' links and queued submissions, in order, with times.

One source of truth: an item's posts are outbox rows (key `extra:<id>` per target, or
the submission's own `submission:<id>`), and their `next_attempt_at` is the planned
time; this table keeps what the outbox cannot: the draft shown on the card, the queue
order (`position`) and a time an editor gave (`pinned_at`). Every change that moves a
time (queueing, moving, a given time, cancelling) re-plans the whole queue and writes
the new times in the transaction that made the change, with the caller's pure planner
(`bot.extra.pacing`) judging what this transaction read.

States and moves, each a compare-and-set (``… WHERE id = ? AND state = ?``), audited::

    from     method                    to
    (new)    create                    draft       (the editor's card)
    draft    post_now                  posted      (+ rows due now)
    draft    enqueue                   queued      (+ rows, timed by the planner)
    draft    drop                      dropped
    queued   cancel                    cancelled   (its rows still queued are cancelled)
    (new)    add_submission            queued      (inside the submission's approval)
    queued   (its rows left the queue) posted      (settled at each re-plan)

An item is in the queue while one of its rows is `queued`: `summary` and `queued`
read it so, whatever the state column says between two re-plans.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from data.audit import insert_audit
from data.db import Database, Reader, Tx, When, to_ts
from data.outbox import NewPost, OutboxStore, _event
from data.submissions import Duplicates, Submission, _duplicates, submission_key

ExtraState = Literal["draft", "queued", "posted", "dropped", "cancelled"]
Source = Literal["link", "submission"]
EXTRA_KIND = "extra"  # the outbox rows' kind of an editor's link
# A link in one of these states is taken: the same link again is a duplicate.
TAKEN_STATES: tuple[ExtraState, ...] = ("draft", "queued", "posted")
SENT_LOOKBACK = 2 * 86400.0  # seconds of sent extra items the planner needs (a local day)

R = TypeVar("R")


def extra_key(item_id: int) -> str:
    """The idempotency key of an editor's link on every target: one row per target."""
    return f"extra:{item_id}"


@dataclass(frozen=True, slots=True)
class NewExtra:
    original_url: str
    canonical_url: str
    dedupe_key: str
    title: str | None
    comment: str | None
    created_by: str


@dataclass(frozen=True, slots=True)
class ExtraItem:
    id: int
    source: Source
    submission_id: int | None
    outbox_key: str
    original_url: str
    canonical_url: str
    dedupe_key: str
    title: str | None
    comment: str | None
    state: ExtraState
    position: int | None
    pinned_at: float | None
    created_by: str
    decided_by: str | None
    decided_at: float | None
    cards: tuple[tuple[int, int], ...]
    created_at: float


@dataclass(frozen=True, slots=True)
class ExtraGate:
    """What `create` read inside its transaction, for the caller's `judge`."""

    duplicates: Duplicates  # stored issues' items and submissions with the link
    extras: tuple[ExtraItem, ...]  # extra items with the link, draft, queued or posted


@dataclass(frozen=True, slots=True)
class RowTime:
    outbox_id: int
    target: str
    state: str
    at: float  # next_attempt_at


@dataclass(frozen=True, slots=True)
class InQueue:
    """One item of the queue and its rows still queued, in queue order."""

    item: ExtraItem
    rows: tuple[RowTime, ...]

    @property
    def at(self) -> float:
        return min(r.at for r in self.rows)


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """What the planner is given: the queue in order, the other planned posts' times
    (every target), and when extra items already went out (each item once)."""

    entries: tuple[InQueue, ...]
    occupied: tuple[float, ...]
    sent: tuple[float, ...]
    now: float


# The planner: entry id -> its time (Unix), for every entry of the snapshot.
Planner = Callable[[QueueSnapshot], dict[int, float]]


@dataclass(frozen=True, slots=True)
class QueueSummary:
    """The queue's length and its next time: what `/status` shows."""

    length: int
    next_at: float | None


@dataclass(frozen=True, slots=True)
class ExtraDecided:
    """A decision's result; `won` False: another press got there first (the row as the
    winner left it). `due` are the times of rows queued or moved (for wake-ups)."""

    won: bool
    item: ExtraItem
    outbox_ids: tuple[int, ...] = ()
    due: tuple[float, ...] = ()


def _item(row: Any) -> ExtraItem:
    return ExtraItem(
        id=row["id"],
        source=cast(Source, row["source"]),
        submission_id=row["submission_id"],
        outbox_key=row["outbox_key"],
        original_url=row["original_url"],
        canonical_url=row["canonical_url"],
        dedupe_key=row["dedupe_key"],
        title=row["title"],
        comment=row["comment"],
        state=cast(ExtraState, row["state"]),
        position=row["position"],
        pinned_at=row["pinned_at"],
        created_by=row["created_by"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        cards=tuple((int(c), int(m)) for c, m in json.loads(row["cards"])),
        created_at=row["created_at"],
    )


async def _fetch(tx: Reader, item_id: int) -> ExtraItem | None:
    row = await tx.fetchone("SELECT * FROM extra_queue WHERE id = ?", (item_id,))
    return None if row is None else _item(row)


async def _audit(
    tx: Tx, item_id: int, *, actor: str, action: str, at: float, **details: Any
) -> None:
    await insert_audit(
        tx, actor=actor, action=action, subject=extra_key(item_id), details=details, now=at
    )


_IN_QUEUE = """
SELECT e.*, o.id AS outbox_id, o.target AS target, o.state AS row_state,
       o.next_attempt_at AS row_at
FROM extra_queue e JOIN outbox o ON o.idempotency_key = e.outbox_key
WHERE e.state = 'queued' AND o.state = 'queued'
ORDER BY e.position, e.id, o.target
"""


async def _gate(tx: Reader, key: str) -> ExtraGate:
    extras = await tx.fetchall(
        "SELECT * FROM extra_queue WHERE dedupe_key = ? AND state IN (?, ?, ?) ORDER BY id",
        (key, *TAKEN_STATES),
    )
    return ExtraGate(
        duplicates=await _duplicates(tx, key, None), extras=tuple(_item(r) for r in extras)
    )


async def _in_queue(tx: Reader) -> list[InQueue]:
    found: dict[int, tuple[ExtraItem, list[RowTime]]] = {}
    for row in await tx.fetchall(_IN_QUEUE):
        entry = found.setdefault(row["id"], (_item(row), []))
        entry[1].append(RowTime(row["outbox_id"], row["target"], row["row_state"], row["row_at"]))
    return [InQueue(item, tuple(rows)) for item, rows in found.values()]


async def _snapshot(tx: Reader, now: float) -> QueueSnapshot:
    entries = await _in_queue(tx)
    occupied = await tx.fetchall(
        "SELECT next_attempt_at AS at FROM outbox o WHERE (state IN ('queued', 'sending')"
        "   OR (state = 'sent' AND sent_at > :recent))"
        " AND NOT EXISTS (SELECT 1 FROM extra_queue e WHERE e.outbox_key = o.idempotency_key)",
        {"recent": now - 86400.0},
    )
    sent = await tx.fetchall(
        "SELECT min(coalesce(o.sent_at, o.started_at, o.next_attempt_at)) AS at"
        " FROM extra_queue e JOIN outbox o ON o.idempotency_key = e.outbox_key"
        " WHERE (o.state IN ('sent', 'sending') OR (e.state = 'posted' AND o.state = 'queued'))"
        " AND coalesce(o.sent_at, :now) > :since"
        " GROUP BY e.id",
        {"now": now, "since": now - SENT_LOOKBACK},
    )
    return QueueSnapshot(
        entries=tuple(entries),
        occupied=tuple(float(r["at"]) for r in occupied),
        sent=tuple(float(r["at"]) for r in sent),
        now=now,
    )


async def _replan(tx: Tx, plan: Planner, at: float) -> tuple[float, ...]:
    """Settle what left the queue, then give every queued row its planned time."""
    await tx.execute(
        "UPDATE extra_queue SET state = 'posted', updated_at = ? WHERE state = 'queued'"
        " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.idempotency_key = outbox_key"
        "   AND o.state = 'queued')",
        (at,),
    )
    snapshot = await _snapshot(tx, at)
    times = plan(snapshot)
    due: list[float] = []
    for entry in snapshot.entries:
        planned = times[entry.item.id]
        due.append(planned)
        for row in entry.rows:
            if round(row.at) == round(planned):
                continue
            await tx.execute(
                "UPDATE outbox SET next_attempt_at = ?, updated_at = ?"
                " WHERE id = ? AND state = 'queued'",
                (planned, at, row.outbox_id),
            )
            await _event(
                tx,
                row.outbox_id,
                at=at,
                from_state="queued",
                to_state="queued",
                actor="extra-queue",
                detail=f"planned at {planned:.0f}",
            )
    return tuple(due)


async def _replanned(
    tx: Tx, item_id: int, *, plan: Planner, at: float, actor: str, action: str, **details: Any
) -> ExtraDecided:
    """How a change of the queue's order or times ends: the queue re-planned, the change
    audited, the item as it is now."""
    due = await _replan(tx, plan, at)
    await _audit(tx, item_id, actor=actor, action=action, at=at, **details)
    item = await _fetch(tx, item_id)
    assert item is not None
    return ExtraDecided(won=True, item=item, due=due)


async def _next_position(tx: Reader) -> int:
    row = await tx.fetchone(
        "SELECT coalesce(max(position), 0) + 1 AS p FROM extra_queue WHERE state = 'queued'"
    )
    return int(row["p"]) if row else 1


async def _insert_posts(tx: Tx, posts: Sequence[NewPost], at: float) -> tuple[int, ...]:
    ids = [await OutboxStore._insert(tx, post, at) for post in posts]
    return tuple(i for i in ids if i is not None)


class QueueStore:
    """The extra-edition queue of one `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- reading ---------------------------------------------------------------

    async def get(self, item_id: int) -> ExtraItem | None:
        return await _fetch(self._db, item_id)

    async def queued(self) -> list[InQueue]:
        """The queue in order, each item with its rows still queued (their times)."""
        return await _in_queue(self._db)

    async def summary(self) -> QueueSummary:
        """How many items wait in the queue, and the next planned time (Unix), in one read.

        The same as counting the outbox's `queued` rows keyed `extra:<id>` or a queued
        submission's `submission:<id>` (distinct keys), with their least next_attempt_at.
        """
        row = await self._db.fetchone(
            "SELECT count(DISTINCT e.id) AS n, min(o.next_attempt_at) AS next_at"
            " FROM extra_queue e JOIN outbox o ON o.idempotency_key = e.outbox_key"
            " WHERE e.state = 'queued' AND o.state = 'queued'"
        )
        if row is None:
            return QueueSummary(0, None)
        return QueueSummary(int(row["n"]), row["next_at"])

    async def seen(self, dedupe_key: str) -> ExtraGate:
        """What is known of a link (a quick answer before the page is fetched; `create`
        reads it again in its write transaction)."""
        async with self._db.transaction(write=False) as tx:
            return await _gate(tx, dedupe_key)

    # ---- a new item ------------------------------------------------------------

    async def create(
        self, new: NewExtra, *, now: When, judge: Callable[[ExtraGate], R | None]
    ) -> ExtraItem | R:
        """Insert `new` as a draft unless `judge` (pure) refuses it on what this
        transaction read (the link's issue items, submissions and extra items)."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            gate = await _gate(tx, new.dedupe_key)
            refusal = judge(gate)
            if refusal is not None:
                return refusal
            row = await tx.fetchone(
                "INSERT INTO extra_queue (source, outbox_key, original_url, canonical_url,"
                " dedupe_key, title, comment, created_by, created_at, updated_at)"
                " VALUES ('link', '', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    new.original_url,
                    new.canonical_url,
                    new.dedupe_key,
                    new.title,
                    new.comment,
                    new.created_by,
                    at,
                    at,
                ),
            )
            assert row is not None
            item_id = int(row["id"])
            await tx.execute(
                "UPDATE extra_queue SET outbox_key = ? WHERE id = ?", (extra_key(item_id), item_id)
            )
            await _audit(tx, item_id, actor=new.created_by, action="extra.create", at=at)
            found = await _fetch(tx, item_id)
            assert found is not None
            return found

    @staticmethod
    async def add_submission(
        tx: Tx, submission: Submission, *, actor: str, at: float, plan: Planner
    ) -> tuple[float, ...]:
        """Queue an approved submission's rows (already inserted, `submission:<id>`), in
        the approval's transaction, and re-plan; the planned times."""
        position = await _next_position(tx)
        row = await tx.fetchone(
            "INSERT INTO extra_queue (source, submission_id, outbox_key, original_url,"
            " canonical_url, dedupe_key, title, comment, state, position, created_by,"
            " decided_by, decided_at, created_at, updated_at)"
            " VALUES ('submission', ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            (
                submission.id,
                submission_key(submission.id),
                submission.original_url,
                submission.canonical_url,
                submission.dedupe_key,
                submission.preview_title,
                submission.preview_description,
                position,
                actor,
                actor,
                at,
                at,
                at,
            ),
        )
        assert row is not None
        await _audit(
            tx,
            int(row["id"]),
            actor=actor,
            action="extra.queue",
            at=at,
            submission=submission.id,
            position=position,
        )
        return await _replan(tx, plan, at)

    async def add_cards(self, item_id: int, cards: Sequence[tuple[int, int]]) -> None:
        """Remember where an item's card went, so a decision re-renders every copy."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT cards FROM extra_queue WHERE id = ?", (item_id,))
            if row is None:
                return
            known = [tuple(c) for c in json.loads(row["cards"])]
            known += [tuple(c) for c in cards if tuple(c) not in known]
            await tx.execute(
                "UPDATE extra_queue SET cards = ? WHERE id = ?", (json.dumps(known), item_id)
            )

    async def set_text(
        self, item_id: int, *, title: str | None, comment: str | None, actor: str, now: When
    ) -> ExtraItem | None:
        """An editor's title and comment for a draft; None once it is decided."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE extra_queue SET title = ?, comment = ?, updated_at = ?"
                " WHERE id = ? AND state = 'draft'",
                (title, comment, at, item_id),
            )
            if not changed:
                return None
            await _audit(tx, item_id, actor=actor, action="extra.edit", at=at)
            return await _fetch(tx, item_id)

    # ---- the card's decisions --------------------------------------------------

    async def _decide(
        self,
        item_id: int,
        *,
        before: ExtraState,
        after: ExtraState,
        action: str,
        actor: str,
        now: When,
        posts: Callable[[ExtraItem], Sequence[NewPost]] | None = None,
        plan: Planner | None = None,
        then: Callable[[Tx, ExtraItem, float], Awaitable[None]] | None = None,
    ) -> ExtraDecided | None:
        at = to_ts(now)
        async with self._db.transaction() as tx:
            position = await _next_position(tx) if after == "queued" else None
            changed = await tx.execute(
                "UPDATE extra_queue SET state = :after, decided_by = :actor, decided_at = :at,"
                " updated_at = :at, position = coalesce(:position, position)"
                " WHERE id = :id AND state = :before",
                {
                    "after": after,
                    "actor": actor,
                    "at": at,
                    "position": position,
                    "id": item_id,
                    "before": before,
                },
            )
            current = await _fetch(tx, item_id)
            if current is None:
                return None
            if not changed:
                return ExtraDecided(won=False, item=current)
            ids = await _insert_posts(tx, posts(current), at) if posts is not None else ()
            if then is not None:
                await then(tx, current, at)
            due = await _replan(tx, plan, at) if plan is not None else ()
            await _audit(
                tx,
                item_id,
                actor=actor,
                action=action,
                at=at,
                before=before,
                after=after,
                **({"queued": len(ids)} if posts is not None else {}),
            )
            return ExtraDecided(won=True, item=current, outbox_ids=ids, due=due)

    async def post_now(
        self,
        item_id: int,
        *,
        actor: str,
        now: When,
        posts: Callable[[ExtraItem], Sequence[NewPost]],
    ) -> ExtraDecided | None:
        """Post a draft at once: its rows (`posts(item)`, due now) in this transaction."""
        return await self._decide(
            item_id,
            before="draft",
            after="posted",
            action="extra.post_now",
            actor=actor,
            now=now,
            posts=posts,
        )

    async def enqueue(
        self,
        item_id: int,
        *,
        actor: str,
        now: When,
        posts: Callable[[ExtraItem], Sequence[NewPost]],
        plan: Planner,
    ) -> ExtraDecided | None:
        """Queue a draft last: its rows inserted and the queue re-planned, one transaction."""
        return await self._decide(
            item_id,
            before="draft",
            after="queued",
            action="extra.queue",
            actor=actor,
            now=now,
            posts=posts,
            plan=plan,
        )

    async def drop(self, item_id: int, *, actor: str, now: When) -> ExtraDecided | None:
        return await self._decide(
            item_id, before="draft", after="dropped", action="extra.drop", actor=actor, now=now
        )

    async def cancel(
        self, item_id: int, *, actor: str, now: When, plan: Planner
    ) -> ExtraDecided | None:
        """Take a queued item out: its rows still queued are cancelled, the rest re-planned.

        A row a worker already holds (`sending`) goes as it is: the outbox decides that.
        """

        async def cancel_rows(tx: Tx, item: ExtraItem, at: float) -> None:
            rows = await tx.fetchall(
                "UPDATE outbox SET state = 'cancelled', lease_owner = NULL, updated_at = ?"
                " WHERE idempotency_key = ? AND state = 'queued' RETURNING id",
                (at, item.outbox_key),
            )
            for row in rows:
                await _event(
                    tx,
                    int(row["id"]),
                    at=at,
                    from_state="queued",
                    to_state="cancelled",
                    actor=actor,
                    detail="taken out of the extra-edition queue",
                )

        return await self._decide(
            item_id,
            before="queued",
            after="cancelled",
            action="extra.cancel",
            actor=actor,
            now=now,
            plan=plan,
            then=cancel_rows,
        )

    # ---- the queue's order and times -------------------------------------------

    async def move(
        self, item_id: int, step: Literal[-1, 1], *, actor: str, now: When, plan: Planner
    ) -> ExtraDecided | None:
        """Swap a queued item with its neighbour above (-1) or below (1), then re-plan.

        A time an editor gave is dropped: a moved item goes at its new place's pace.
        `won` False when it is not queued, or already first (last).
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            current = await _fetch(tx, item_id)
            if current is None:
                return None
            order = [e.item for e in await _in_queue(tx)]
            ids = [i.id for i in order]
            if item_id not in ids:
                return ExtraDecided(won=False, item=current)
            here = ids.index(item_id)
            there = here + step
            if not 0 <= there < len(order):
                return ExtraDecided(won=False, item=current)
            other = order[there]
            mine, theirs = current.position, other.position
            await tx.execute(
                "UPDATE extra_queue SET position = ?, pinned_at = NULL, updated_at = ?"
                " WHERE id = ? AND state = 'queued'",
                (theirs, at, item_id),
            )
            await tx.execute(
                "UPDATE extra_queue SET position = ?, updated_at = ? WHERE id = ?",
                (mine, at, other.id),
            )
            return await _replanned(
                tx,
                item_id,
                plan=plan,
                at=at,
                actor=actor,
                action="extra.move",
                step=step,
                position=there + 1,
                swapped_with=other.id,
            )

    async def pin(
        self, item_id: int, when: float | None, *, actor: str, now: When, plan: Planner
    ) -> ExtraDecided | None:
        """Give a queued item an editor's time (None: back to the pace), then re-plan."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE extra_queue SET pinned_at = ?, updated_at = ?"
                " WHERE id = ? AND state = 'queued' AND EXISTS (SELECT 1 FROM outbox o"
                "   WHERE o.idempotency_key = outbox_key AND o.state = 'queued')",
                (when, at, item_id),
            )
            current = await _fetch(tx, item_id)
            if current is None:
                return None
            if not changed:
                return ExtraDecided(won=False, item=current)
            return await _replanned(
                tx, item_id, plan=plan, at=at, actor=actor, action="extra.pin", pinned_at=when
            )

    async def replan(self, *, now: When, plan: Planner) -> tuple[float, ...]:
        """Re-plan the whole queue (at start, after an issue's rows were queued)."""
        async with self._db.transaction() as tx:
            return await _replan(tx, plan, to_ts(now))
