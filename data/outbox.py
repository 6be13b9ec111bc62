"""The outbox: one row per (post, target), so that nothing is lost and nothing is doubled.

States and the only legal moves. Each is a conditional UPDATE (``WHERE state = …``
and, for a worker, ``AND lease_owner = …``), so a racing, late or repeated caller
changes nothing and gets ``False``/``None``::

    from                     method                                   to
    (new)                    enqueue, enqueue_many                    queued
    queued                   claim_next                               sending
    sending                  mark_sent                                sent
    sending                  mark_retry                               queued
    sending                  mark_failed                              failed
    sending                  mark_in_doubt, reap_expired_leases       in_doubt
    sending (never begun)    reap_expired_leases                      queued
    sending                  mark_in_doubt/reap with requeue=True     in_doubt, then queued
    in_doubt                 resolve_in_doubt(as_sent=True)           sent
    in_doubt                 resolve_in_doubt(as_sent=False)          queued
    in_doubt                 mark_sent by the owner of the lost lease sent
    failed                   requeue                                  queued
    queued/failed/in_doubt   cancel, cancel_group, skip_part          cancelled

`sent` and `cancelled` are final. Every move is also written to `outbox_events`, and
the editor's moves (resolve, requeue, cancel) to the audit log.

`sending` means "a worker holds a lease and may be talking to the platform right now".
A worker claims, waits for its pacer, then records `mark_started` just before the call,
so a lease that runs out before that (a crash while waiting) puts the row back in the
queue: that send never began. If a begun send's lease runs out, nobody knows whether the
post went out, so `reap_expired_leases` moves it to `in_doubt` for an editor to decide
([Mark as sent] or [Post again]) instead of retrying and risking a double post. Where a
resend is safe (X refuses duplicates) the caller passes `requeue=True` and the doubt and
the requeue are one transaction, so a crash between them cannot leave a row nobody
handles. One exception, because the truth beats a guess: the worker that held the lease
may still report success with `mark_sent` while the row is `in_doubt` and no one has
resolved it yet.

`noticed_at` records that the editors got a card for the row's current state
(`mark_noticed`); `unnoticed` lists the rows whose card a crash lost.

Ordering: rows sharing a `group_key` (the parts of a digest, an X thread) are sent in
`seq` order; a part is claimable only when every earlier part of its group is `sent` or
was skipped on purpose (`skip_part`: cancelled, the rest goes out without it). A part
cancelled without that choice (`cancel`, or older code) strands the later parts;
`stranded` finds them so the editors can choose.
`depends_on` makes a row wait for another row (an X reply to an earlier post); the
claimed `OutboxRow.parent_remote_id` carries the platform id to reply to.

A target an editor paused (`pause`, a row of `target_pauses`) has nothing claimed until
`resume`; its rows stay `queued` with their times.

Workers pass an `owner` unique to the process run (host, pid and a random suffix), so a
restarted worker cannot mistake its predecessor's lease for its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from data.audit import insert_audit
from data.db import Database, Tx, When, to_ts

OutboxState = Literal["queued", "sending", "sent", "failed", "in_doubt", "cancelled"]
OUTBOX_STATES: tuple[OutboxState, ...] = get_args(OutboxState)
REAPER = "reaper"


@dataclass(frozen=True, slots=True)
class NewPost:
    """A post to enqueue: already formatted for its one target."""

    idempotency_key: str  # "issue:106:zh:articles:3", "submission:42"
    target: str  # "telegram", "x"
    kind: str  # "item", "digest", "notice"…
    payload: Mapping[str, Any]
    group_key: str | None = None  # with seq: parts sent strictly in order
    seq: int | None = None
    depends_on: int | None = None  # outbox id that must be sent first
    not_before: When | None = None  # earliest send time; default: now


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    idempotency_key: str
    target: str
    kind: str
    payload: Mapping[str, Any]
    state: OutboxState
    attempts: int
    next_attempt_at: float
    lease_owner: str | None
    lease_expires_at: float | None
    last_error: str | None
    remote_id: str | None  # the platform's message/post id once sent
    group_key: str | None
    seq: int | None
    depends_on: int | None
    # remote id of `depends_on`, else of the previous part of the group: what to reply to
    parent_remote_id: str | None
    created_at: float
    updated_at: float
    sent_at: float | None
    started_at: float | None = None  # the send of the current lease began
    noticed_at: float | None = None  # the editors got a card for the current state
    skipped: bool = False  # cancelled on purpose; the rest of its group goes on


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    id: int
    outbox_id: int
    at: float
    from_state: OutboxState | None
    to_state: OutboxState
    actor: str
    detail: str | None


_SELECT_ROW = """
SELECT o.*,
    CASE WHEN o.depends_on IS NOT NULL
        THEN (SELECT d.remote_id FROM outbox d WHERE d.id = o.depends_on)
        ELSE (SELECT p.remote_id FROM outbox p
              WHERE p.target = o.target AND p.group_key = o.group_key AND p.seq < o.seq
                AND p.state = 'sent'
              ORDER BY p.seq DESC LIMIT 1)
    END AS parent_remote_id
FROM outbox o
"""

# The oldest due queued row of a target whose group predecessors and dependency are sent,
# unless an editor paused the target (`pause`): the pause is read in the claim itself.
_CLAIM = """
UPDATE outbox
SET state = 'sending', lease_owner = :owner, lease_expires_at = :expires,
    attempts = attempts + 1, updated_at = :now, started_at = NULL
WHERE state = 'queued' AND id = (
    SELECT o.id FROM outbox o
    WHERE o.target = :target AND o.state = 'queued' AND o.next_attempt_at <= :now
      AND NOT EXISTS (SELECT 1 FROM target_pauses tp WHERE tp.target = o.target)
      AND (o.group_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM outbox p
            WHERE p.target = o.target AND p.group_key = o.group_key
              AND p.seq < o.seq AND p.state <> 'sent'
              AND NOT (p.state = 'cancelled' AND p.skipped = 1)))
      AND (o.depends_on IS NULL OR EXISTS (
            SELECT 1 FROM outbox d WHERE d.id = o.depends_on AND d.state = 'sent'))
    ORDER BY o.id
    LIMIT 1)
RETURNING id
"""


def _row(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        target=row["target"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        last_error=row["last_error"],
        remote_id=row["remote_id"],
        group_key=row["group_key"],
        seq=row["seq"],
        depends_on=row["depends_on"],
        parent_remote_id=row["parent_remote_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        sent_at=row["sent_at"],
        started_at=row["started_at"],
        noticed_at=row["noticed_at"],
        skipped=bool(row["skipped"]),
    )


async def _event(
    tx: Tx,
    outbox_id: int,
    *,
    at: float,
    from_state: OutboxState | None,
    to_state: OutboxState,
    actor: str,
    detail: str | None = None,
) -> None:
    await tx.execute(
        "INSERT INTO outbox_events (outbox_id, at, from_state, to_state, actor, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (outbox_id, at, from_state, to_state, actor, detail),
    )


async def _requeue_events(tx: Tx, outbox_id: int, *, at: float, actor: str, detail: str) -> None:
    """A doubtful send queued again at once: both moves, in the caller's transaction."""
    await _event(
        tx, outbox_id, at=at, from_state="sending", to_state="in_doubt", actor=actor, detail=detail
    )
    await _event(
        tx,
        outbox_id,
        at=at,
        from_state="in_doubt",
        to_state="queued",
        actor=actor,
        detail="resend is safe: the platform refuses duplicates",
    )


async def _fetch(tx: Tx, outbox_id: int) -> OutboxRow | None:
    row = await tx.fetchone(_SELECT_ROW + " WHERE o.id = ?", (outbox_id,))
    return _row(row) if row is not None else None


class OutboxStore:
    """Typed, race-safe operations on the outbox table of one `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- producing -------------------------------------------------------------

    async def enqueue(
        self,
        *,
        idempotency_key: str,
        target: str,
        kind: str,
        payload: Mapping[str, Any],
        now: When,
        group_key: str | None = None,
        seq: int | None = None,
        depends_on: int | None = None,
        not_before: When | None = None,
    ) -> int | None:
        """Queue a post once; return its id, or None if (key, target) was already queued.

        Re-enqueueing after a crash or a re-parse is therefore harmless.
        """
        post = NewPost(
            idempotency_key, target, kind, payload, group_key, seq, depends_on, not_before
        )
        async with self._db.transaction() as tx:
            return await self._insert(tx, post, to_ts(now))

    async def enqueue_many(self, posts: Sequence[NewPost], *, now: When) -> list[int | None]:
        """Queue several posts in one transaction (all or none); ids as in `enqueue`."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            return [await self._insert(tx, post, at) for post in posts]

    @staticmethod
    async def _insert(tx: Tx, post: NewPost, now: float) -> int | None:
        if (post.group_key is None) != (post.seq is None):
            raise ValueError("group_key and seq go together")
        due = now if post.not_before is None else to_ts(post.not_before)
        row = await tx.fetchone(
            "INSERT INTO outbox (idempotency_key, target, kind, payload, next_attempt_at,"
            " group_key, seq, depends_on, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (idempotency_key, target) DO NOTHING RETURNING id",
            (
                post.idempotency_key,
                post.target,
                post.kind,
                json.dumps(dict(post.payload), ensure_ascii=False),
                due,
                post.group_key,
                post.seq,
                post.depends_on,
                now,
                now,
            ),
        )
        if row is None:
            return None
        outbox_id = int(row["id"])
        await _event(tx, outbox_id, at=now, from_state=None, to_state="queued", actor="enqueue")
        return outbox_id

    async def retime(self, moves: Mapping[int, float], *, now: When) -> int:
        """Move queued rows to new due times (an older issue's items yield to a newer one's).

        Only rows still `queued` move (a claimed row goes as it is); returns how many did.
        """
        async with self._db.transaction() as tx:
            return await self._retime(tx, moves, to_ts(now))

    @staticmethod
    async def _retime(tx: Tx, moves: Mapping[int, float], now: float) -> int:
        moved = 0
        for outbox_id, due in sorted(moves.items()):
            if await tx.execute(
                "UPDATE outbox SET next_attempt_at = ?, updated_at = ?"
                " WHERE id = ? AND state = 'queued'",
                (due, now, outbox_id),
            ):
                moved += 1
                await _event(
                    tx,
                    outbox_id,
                    at=now,
                    from_state="queued",
                    to_state="queued",
                    actor="planner",
                    detail=f"retimed to {due:.0f}: a newer issue's items go first",
                )
        return moved

    # ---- the worker's side -----------------------------------------------------

    async def claim_next(
        self, target: str, *, owner: str, lease_seconds: float, now: When
    ) -> OutboxRow | None:
        """Take the oldest due, unblocked `queued` row of `target` for `owner`.

        The row becomes `sending` with a lease until now + `lease_seconds`; attempts
        goes up by one. Atomic across connections and processes: the UPDATE re-checks
        `state = 'queued'` under SQLite's write lock, so two workers never get one row.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            claimed = await tx.fetchone(
                _CLAIM,
                {"owner": owner, "expires": at + lease_seconds, "now": at, "target": target},
            )
            if claimed is None:
                return None
            outbox_id = int(claimed["id"])
            await _event(tx, outbox_id, at=at, from_state="queued", to_state="sending", actor=owner)
            return await _fetch(tx, outbox_id)

    async def mark_started(
        self, outbox_id: int, *, owner: str, lease_seconds: float, now: When
    ) -> bool:
        """Record that the send begins now (the pacer's wait is over); renew the lease.

        False when the lease is no longer `owner`'s: the row must not be sent then.
        Until this is recorded, an expired lease means the send never began.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE outbox SET started_at = :now, lease_expires_at = :expires,"
                " updated_at = :now WHERE id = :id AND state = 'sending' AND lease_owner = :owner",
                {"now": at, "expires": at + lease_seconds, "id": outbox_id, "owner": owner},
            )
            return bool(changed)

    async def mark_sent(self, outbox_id: int, *, owner: str, remote_id: str, now: When) -> bool:
        """Record that `owner` posted the row; False if the lease is no longer its own.

        Also accepted from `in_doubt` when `owner` held the lease that expired and no
        editor has decided yet: the worker was slow, not dead, and the post is out.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            # The write lock is held from BEGIN IMMEDIATE, so this read cannot go stale.
            before = await tx.fetchone(
                "SELECT state FROM outbox WHERE id = ? AND lease_owner = ?"
                " AND state IN ('sending', 'in_doubt')",
                (outbox_id, owner),
            )
            if before is None:
                return False
            await tx.execute(
                "UPDATE outbox SET state = 'sent', remote_id = ?, sent_at = ?, updated_at = ?,"
                " lease_expires_at = NULL WHERE id = ?",
                (remote_id, at, at, outbox_id),
            )
            await _event(
                tx,
                outbox_id,
                at=at,
                from_state=before["state"],
                to_state="sent",
                actor=owner,
                detail=f"remote_id={remote_id}",
            )
            return True

    async def mark_retry(
        self, outbox_id: int, *, owner: str, error: str, next_attempt_at: When, now: When
    ) -> bool:
        """Put the row back in the queue after a failure the platform says is temporary.

        Only for failures where the post certainly did not go out (a 429, a refused
        connection); anything ambiguous (a timeout after sending) is `mark_in_doubt`.
        """
        return await self._from_sending(
            outbox_id,
            owner=owner,
            to_state="queued",
            error=error,
            now=now,
            extra_sets="next_attempt_at = :next, lease_owner = NULL,",
            extra_params={"next": to_ts(next_attempt_at)},
        )

    async def mark_failed(self, outbox_id: int, *, owner: str, error: str, now: When) -> bool:
        """Give up on the row: the platform refused it for good (bad request, too long)."""
        return await self._from_sending(
            outbox_id, owner=owner, to_state="failed", error=error, now=now
        )

    async def mark_in_doubt(
        self,
        outbox_id: int,
        *,
        owner: str,
        error: str,
        now: When,
        requeue: bool = False,
    ) -> bool:
        """The send may or may not have reached the platform: `in_doubt`.

        With `requeue` (a target where a resend is safe) the row is queued again in
        the same transaction, to be resent at once.
        """
        if not requeue:
            return await self._from_sending(
                outbox_id, owner=owner, to_state="in_doubt", error=error, now=now
            )
        at = to_ts(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE outbox SET state = 'queued', last_error = :error, updated_at = :now,"
                " next_attempt_at = :now, lease_owner = NULL, lease_expires_at = NULL"
                " WHERE id = :id AND state = 'sending' AND lease_owner = :owner",
                {"error": error, "now": at, "id": outbox_id, "owner": owner},
            )
            if not changed:
                return False
            await _requeue_events(tx, outbox_id, at=at, actor=owner, detail=error)
            return True

    async def _from_sending(
        self,
        outbox_id: int,
        *,
        owner: str,
        to_state: OutboxState,
        error: str,
        now: When,
        extra_sets: str = "",
        extra_params: Mapping[str, Any] | None = None,
    ) -> bool:
        at = to_ts(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE outbox SET state = :to, last_error = :error, updated_at = :now,"  # noqa: S608 - fixed fragments only
                f" {extra_sets} lease_expires_at = NULL, noticed_at = NULL"
                " WHERE id = :id AND state = 'sending' AND lease_owner = :owner",
                {
                    "to": to_state,
                    "error": error,
                    "now": at,
                    "id": outbox_id,
                    "owner": owner,
                    **(extra_params or {}),
                },
            )
            if not changed:
                return False
            await _event(
                tx,
                outbox_id,
                at=at,
                from_state="sending",
                to_state=to_state,
                actor=owner,
                detail=error,
            )
            return True

    async def reap_expired_leases(
        self, *, now: When, target: str | None = None, requeue: bool = False
    ) -> list[OutboxRow]:
        """Settle `sending` rows whose lease ran out; return those now `in_doubt`.

        Their worker died or hung. A send that never began (no `mark_started`) goes
        back to the queue; a begun one is `in_doubt`, and with `requeue` (a resend is
        safe) queued again in the same transaction. Leases still running are not
        touched, whoever holds them. Pass `target` so that each target's worker reaps
        (and reports) only its own rows.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            expired = await tx.fetchall(
                "SELECT id, lease_owner, started_at FROM outbox"
                " WHERE state = 'sending' AND lease_expires_at <= :now"
                " AND (:target IS NULL OR target = :target) ORDER BY id",
                {"now": at, "target": target},
            )
            rows: list[OutboxRow] = []
            for item in expired:
                outbox_id = int(item["id"])
                if item["started_at"] is None:
                    await tx.execute(
                        "UPDATE outbox SET state = 'queued', lease_owner = NULL,"
                        " lease_expires_at = NULL, next_attempt_at = :now, updated_at = :now,"
                        " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
                        " WHERE id = :id",
                        {"now": at, "id": outbox_id},
                    )
                    await _event(
                        tx,
                        outbox_id,
                        at=at,
                        from_state="sending",
                        to_state="queued",
                        actor=REAPER,
                        detail="lease expired before the send began",
                    )
                    continue
                error = f"lease of {item['lease_owner']} expired mid-send"
                if requeue:
                    await tx.execute(
                        "UPDATE outbox SET state = 'queued', last_error = :error,"
                        " lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = :now,"
                        " updated_at = :now WHERE id = :id",
                        {"error": error, "now": at, "id": outbox_id},
                    )
                    await _requeue_events(
                        tx, outbox_id, at=at, actor=REAPER, detail="lease expired"
                    )
                    continue
                await tx.execute(
                    "UPDATE outbox SET state = 'in_doubt', updated_at = :now, last_error = :error,"
                    " lease_expires_at = NULL, noticed_at = NULL WHERE id = :id",
                    {"error": error, "now": at, "id": outbox_id},
                )
                await _event(
                    tx,
                    outbox_id,
                    at=at,
                    from_state="sending",
                    to_state="in_doubt",
                    actor=REAPER,
                    detail="lease expired",
                )
                row = await _fetch(tx, outbox_id)
                if row is not None:
                    rows.append(row)
            return rows

    async def expire_leases(
        self, target: str, *, dead: Callable[[str], bool], now: When
    ) -> list[int]:
        """End at once the leases of `target` whose owner `dead` says is gone.

        For a restarted bot: its dead predecessor's leases would otherwise stall the
        target (and a whole X thread) until they ran out. The next reap settles them.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT id, lease_owner FROM outbox WHERE state = 'sending' AND target = ?"
                " AND lease_expires_at > ?",
                (target, at),
            )
            ids = [int(r["id"]) for r in rows if dead(str(r["lease_owner"]))]
            for outbox_id in ids:
                await tx.execute(
                    "UPDATE outbox SET lease_expires_at = ? WHERE id = ?", (at, outbox_id)
                )
            return ids

    async def mark_noticed(self, outbox_id: int, *, state: OutboxState, now: When) -> bool:
        """Record that the editors got a card for the row in `state`."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE outbox SET noticed_at = ? WHERE id = ? AND state = ?",
                (at, outbox_id, state),
            )
            return bool(changed)

    async def unnoticed(self, target: str) -> list[OutboxRow]:
        """`in_doubt` and `failed` rows of `target` whose card was never sent (a crash)."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                _SELECT_ROW + " WHERE o.target = ? AND o.state IN ('in_doubt', 'failed')"
                " AND o.noticed_at IS NULL ORDER BY o.id",
                (target,),
            )
        return [_row(row) for row in rows]

    async def stranded(self, target: str | None = None) -> list[OutboxRow]:
        """Parts cancelled without the editors' choice while later parts wait behind them.

        One row per such cancelled part: the later `queued` parts of its group can
        never be claimed until an editor skips it (`skip_part`) or drops the rest.
        """
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                _SELECT_ROW  # noqa: S608 - fixed fragments only
                + " WHERE o.state = 'cancelled' AND o.skipped = 0"
                " AND o.group_key IS NOT NULL AND (:target IS NULL OR o.target = :target)"
                " AND EXISTS (SELECT 1 FROM outbox l WHERE l.target = o.target"
                "   AND l.group_key = o.group_key AND l.seq > o.seq AND l.state = 'queued')"
                " ORDER BY o.id",
                {"target": target},
            )
        return [_row(row) for row in rows]

    async def later_parts(self, outbox_id: int) -> list[OutboxRow]:
        """The unsent parts after this one in its group (empty when it has no group)."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                _SELECT_ROW + " JOIN outbox me ON me.id = :id"
                " WHERE o.target = me.target AND o.group_key = me.group_key AND o.seq > me.seq"
                " AND o.state IN ('queued', 'failed', 'in_doubt', 'sending') ORDER BY o.seq",
                {"id": outbox_id},
            )
        return [_row(row) for row in rows]

    # ---- holds ---------------------------------------------------------------

    async def hold_of(self, target: str) -> float:
        """Wall-clock time before which no send of `target` may start (0: none)."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone("SELECT until FROM target_holds WHERE target = ?", (target,))
        return 0.0 if row is None else float(row["until"])

    async def set_hold(self, target: str, until: float, *, now: When) -> None:
        """Keep `target` closed until `until`, across restarts (a hold only grows)."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO target_holds (target, until, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (target) DO UPDATE SET until = CASE"
                " WHEN excluded.until > target_holds.until THEN excluded.until"
                " ELSE target_holds.until END,"
                " updated_at = excluded.updated_at",
                (target, until, at),
            )

    # ---- pauses (an editor's /pause and /resume) --------------------------------

    async def pause(self, targets: Sequence[str], *, actor: str, now: When) -> list[str]:
        """Stop claiming rows of `targets` until `resume`; return those newly paused.

        A row, so the pause survives a restart; `claim_next` checks it in its UPDATE,
        so no row of a paused target is claimed after this commits. Audited.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            paused = [
                target
                for target in targets
                if await tx.execute(
                    "INSERT INTO target_pauses (target, paused_by, paused_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (target) DO NOTHING",
                    (target, actor, at),
                )
            ]
            for target in paused:
                await insert_audit(
                    tx, actor=actor, action="outbox.pause", subject=f"target:{target}", now=at
                )
            return paused

    async def resume(self, targets: Sequence[str], *, actor: str, now: When) -> list[str]:
        """Let the workers of `targets` claim again; return those that were paused."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            resumed = [
                target
                for target in targets
                if await tx.execute("DELETE FROM target_pauses WHERE target = ?", (target,))
            ]
            for target in resumed:
                await insert_audit(
                    tx, actor=actor, action="outbox.resume", subject=f"target:{target}", now=at
                )
            return resumed

    async def paused(self) -> dict[str, tuple[str, float]]:
        """Paused targets: target → (who paused it, when)."""
        rows = await self._db.fetchall(
            "SELECT target, paused_by, paused_at FROM target_pauses ORDER BY target"
        )
        return {str(r["target"]): (str(r["paused_by"]), float(r["paused_at"])) for r in rows}

    async def holds(self) -> dict[str, float]:
        """Every target's persisted "wait until" (`set_hold`), past ones included."""
        rows = await self._db.fetchall("SELECT target, until FROM target_holds ORDER BY target")
        return {str(r["target"]): float(r["until"]) for r in rows}

    async def next_due_at(self, target: str) -> float | None:
        """When the earliest queued row of `target` becomes due (None: nothing queued).

        Ignores group blocking, so a worker may wake up to find nothing claimable yet.
        """
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT min(next_attempt_at) AS due FROM outbox"
                " WHERE target = ? AND state = 'queued'",
                (target,),
            )
        return None if row is None or row["due"] is None else float(row["due"])

    # ---- the editor's side -----------------------------------------------------

    async def resolve_in_doubt(
        self,
        outbox_id: int,
        *,
        as_sent: bool,
        actor: str,
        now: When,
        remote_id: str | None = None,
    ) -> bool:
        """Settle an `in_doubt` row: [Mark as sent] → `sent`, [Post again] → `queued`.

        False when the row is not in doubt any more (a double press, a late `mark_sent`).
        """
        at = to_ts(now)
        if as_sent:
            sets = "state = 'sent', sent_at = :now, remote_id = coalesce(:remote_id, remote_id)"
        else:
            sets = "state = 'queued', next_attempt_at = :now, lease_owner = NULL"
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE outbox SET {sets}, updated_at = :now"  # noqa: S608 - fixed fragments only
                " WHERE id = :id AND state = 'in_doubt'",
                {"now": at, "remote_id": remote_id, "id": outbox_id},
            )
            if not changed:
                return False
            to_state: OutboxState = "sent" if as_sent else "queued"
            await _event(
                tx, outbox_id, at=at, from_state="in_doubt", to_state=to_state, actor=actor
            )
            await insert_audit(
                tx,
                actor=actor,
                action="outbox.mark_sent" if as_sent else "outbox.post_again",
                subject=f"outbox:{outbox_id}",
                details={"remote_id": remote_id} if remote_id else None,
                now=at,
            )
            return True

    async def requeue(self, outbox_id: int, *, actor: str, now: When) -> bool:
        """Send a `failed` row again (after an editor fixed the cause)."""
        return await self._editor_move(
            outbox_id,
            from_states=("failed",),
            to_state="queued",
            sets="next_attempt_at = :now, lease_owner = NULL",
            action="outbox.requeue",
            actor=actor,
            now=now,
        )

    async def cancel(
        self, outbox_id: int, *, actor: str, now: When, reason: str | None = None
    ) -> bool:
        """Never send this row. Refused while `sending` (a worker is mid-call) or done.

        Later parts of its group stay blocked (`stranded` finds them); for a part
        with later parts use `skip_part` or `cancel_group`.
        """
        return await self._editor_move(
            outbox_id,
            from_states=("queued", "failed", "in_doubt"),
            to_state="cancelled",
            sets="lease_owner = NULL",
            action="outbox.cancel",
            actor=actor,
            now=now,
            reason=reason,
        )

    async def skip_part(
        self, outbox_id: int, *, actor: str, now: When, reason: str | None = None
    ) -> bool:
        """Never send this part, but send the rest of its group without it.

        From `queued`/`failed`/`in_doubt`, or for a part already cancelled that
        stranded the rest. False when already decided or mid-send.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT state FROM outbox WHERE id = ? AND (state IN ('queued', 'failed',"
                " 'in_doubt') OR (state = 'cancelled' AND skipped = 0))",
                (outbox_id,),
            )
            if row is None:
                return False
            await tx.execute(
                "UPDATE outbox SET state = 'cancelled', skipped = 1, lease_owner = NULL,"
                " updated_at = ? WHERE id = ?",
                (at, outbox_id),
            )
            if row["state"] != "cancelled":
                await _event(
                    tx,
                    outbox_id,
                    at=at,
                    from_state=row["state"],
                    to_state="cancelled",
                    actor=actor,
                    detail=reason,
                )
            await insert_audit(
                tx,
                actor=actor,
                action="outbox.skip_part",
                subject=f"outbox:{outbox_id}",
                details={"from": row["state"], "reason": reason},
                now=at,
            )
            return True

    async def cancel_group(
        self, target: str, group_key: str, *, actor: str, now: When, reason: str | None = None
    ) -> list[int]:
        """Cancel every unsent, unleased part of a group; return the ids cancelled."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT id, state FROM outbox WHERE target = ? AND group_key = ?"
                " AND state IN ('queued', 'failed', 'in_doubt') ORDER BY seq",
                (target, group_key),
            )
            for row in rows:
                await tx.execute(
                    "UPDATE outbox SET state = 'cancelled', lease_owner = NULL, updated_at = ?"
                    " WHERE id = ?",
                    (at, row["id"]),
                )
                await _event(
                    tx,
                    row["id"],
                    at=at,
                    from_state=row["state"],
                    to_state="cancelled",
                    actor=actor,
                    detail=reason,
                )
            ids = [int(row["id"]) for row in rows]
            await insert_audit(
                tx,
                actor=actor,
                action="outbox.cancel_group",
                subject=f"group:{target}:{group_key}",
                details={"ids": ids, "reason": reason},
                now=at,
            )
            return ids

    async def _editor_move(
        self,
        outbox_id: int,
        *,
        from_states: tuple[OutboxState, ...],
        to_state: OutboxState,
        sets: str,
        action: str,
        actor: str,
        now: When,
        reason: str | None = None,
    ) -> bool:
        at = to_ts(now)
        placeholders = ", ".join("?" for _ in from_states)
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                f"SELECT state FROM outbox WHERE id = ? AND state IN ({placeholders})",  # noqa: S608
                (outbox_id, *from_states),
            )
            if row is None:
                return False
            await tx.execute(
                f"UPDATE outbox SET state = :to, {sets}, updated_at = :now"  # noqa: S608 - fixed fragments only
                " WHERE id = :id",
                {"to": to_state, "now": at, "id": outbox_id},
            )
            await _event(
                tx,
                outbox_id,
                at=at,
                from_state=row["state"],
                to_state=to_state,
                actor=actor,
                detail=reason,
            )
            await insert_audit(
                tx,
                actor=actor,
                action=action,
                subject=f"outbox:{outbox_id}",
                details={"from": row["state"], "reason": reason}
                if reason
                else {"from": row["state"]},
                now=at,
            )
            return True

    # ---- reading ---------------------------------------------------------------

    async def get(self, outbox_id: int) -> OutboxRow | None:
        async with self._db.transaction(write=False) as tx:
            return await _fetch(tx, outbox_id)

    async def get_by_key(self, target: str, idempotency_key: str) -> OutboxRow | None:
        """Find a row by what it is (a submission's channel post, to link the submitter)."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                _SELECT_ROW + " WHERE o.target = ? AND o.idempotency_key = ?",
                (target, idempotency_key),
            )
        return _row(row) if row is not None else None

    async def list_by_state(
        self, state: OutboxState, target: str | None = None, *, limit: int = 100
    ) -> list[OutboxRow]:
        """Rows in `state` (of one target, or all), oldest first."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                _SELECT_ROW + " WHERE o.state = :state AND (:target IS NULL OR o.target = :target)"
                " ORDER BY o.id LIMIT :limit",
                {"state": state, "target": target, "limit": limit},
            )
        return [_row(row) for row in rows]

    async def counts(self) -> dict[str, dict[OutboxState, int]]:
        """Row counts per target and state (states with no rows are left out)."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                "SELECT target, state, count(*) AS n FROM outbox GROUP BY target, state"
            )
        result: dict[str, dict[OutboxState, int]] = {}
        for row in rows:
            result.setdefault(row["target"], {})[cast(OutboxState, row["state"])] = row["n"]
        return result

    async def sent_remote_ids(self, target: str) -> list[tuple[str, float]]:
        """(remote id, sent_at) of every sent row of `target` that has an id, oldest first."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                "SELECT remote_id, sent_at FROM outbox WHERE target = ? AND state = 'sent'"
                " AND remote_id IS NOT NULL AND remote_id <> '' ORDER BY sent_at, id",
                (target,),
            )
        return [(str(row["remote_id"]), float(row["sent_at"])) for row in rows]

    async def events(self, outbox_id: int) -> list[OutboxEvent]:
        """The row's history, oldest first."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                "SELECT * FROM outbox_events WHERE outbox_id = ? ORDER BY id", (outbox_id,)
            )
        return [
            OutboxEvent(
                id=row["id"],
                outbox_id=row["outbox_id"],
                at=row["at"],
                from_state=row["from_state"],
                to_state=row["to_state"],
                actor=row["actor"],
                detail=row["detail"],
            )
            for row in rows
        ]
