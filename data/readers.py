"""Submitters as people: how they want to be credited, and forgetting them when they ask.

The numeric Telegram id is always kept (the limits, a ban and the decision log count on
it); everything else a submitter gave (names, @username, notes, fields) is theirs:

- `set_credit` stores their choice in `users` and, in the same transaction, on their
  pending submissions, so what an approval formats is what they chose; decided rows keep
  the credit their posts used.
- `/forgetme` is two steps: `ask_forget` records a request, and `forget` is a
  compare-and-set on it (``asked → done``), so a double press acts once. It withdraws
  their pending links, empties the personal fields of every submission of theirs and of
  their `users` row, deletes their language (`user_langs`, seen or chosen) and the words
  they follow (`follows`), rewrites
  the stored copies of their posts without the credit (rows queued, failed, cancelled
  or sent; a send in flight or in doubt keeps its text, the settling compares it), and
  replaces their names and notes inside the audit log's details with ``[forgotten]``.
  The decision log stays: who decided what, when.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from data.audit import insert_audit
from data.db import Database, Tx, When, to_ts
from data.submissions import (
    SUBMISSION_STATES,
    CreditChoice,
    Submission,
    _fetch,
    _submission,
    submission_key,
)

FORGOTTEN = "[forgotten]"
# The states of an outbox row whose stored text may be rewritten: not while a send is
# in flight or in doubt (the doubt is settled by comparing that very text).
_REWRITABLE = json.dumps(["queued", "failed", "cancelled", "sent"])
ForgetState = Literal["asked", "done", "cancelled"]


@dataclass(frozen=True, slots=True)
class Reader:
    """A submitter as the bot knows them (`users`)."""

    user_id: int
    username: str | None
    display_name: str | None
    credit: CreditChoice


@dataclass(frozen=True, slots=True)
class CreditSet:
    reader: Reader
    pending: tuple[Submission, ...]  # their pending rows, now with the new choice


@dataclass(frozen=True, slots=True)
class ForgetRequest:
    id: int
    user_id: int
    state: ForgetState
    asked_at: float
    decided_at: float | None


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What `forget` did; `won` False: the request was decided already (`request` says how)."""

    won: bool
    request: ForgetRequest
    submissions: tuple[Submission, ...] = ()  # every row of theirs, as now stored
    withdrawn: tuple[int, ...] = ()
    posts_rewritten: int = 0
    posts_kept: int = 0  # in flight or in doubt: their text is kept until settled
    audit_scrubbed: int = 0


def _reader(row: Any) -> Reader:
    return Reader(
        user_id=row["user_id"],
        username=row["username"],
        display_name=row["display_name"],
        credit=cast(CreditChoice, row["credit"]),
    )


def _request(row: Any) -> ForgetRequest:
    return ForgetRequest(
        id=row["id"],
        user_id=row["user_id"],
        state=cast(ForgetState, row["state"]),
        asked_at=row["asked_at"],
        decided_at=row["decided_at"],
    )


def _pattern(needle: str) -> re.Pattern[str]:
    """A needle as a whole word where it is Latin (`ann` is no part of `Announcing`);
    anywhere otherwise (a Chinese name sits between other characters)."""
    escaped = re.escape(needle)
    if needle.isascii():
        return re.compile(rf"(?<![A-Za-z0-9_]){escaped}(?![A-Za-z0-9_])")
    return re.compile(escaped)


def _scrub(value: Any, needles: Sequence[str]) -> Any:
    """`value` (parsed JSON) with every needle inside its strings replaced."""
    if isinstance(value, str):
        for needle in needles:
            value = _pattern(needle).sub(FORGOTTEN, value)
        return value
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    return value


def personal_strings(reader: Reader | None, rows: Iterable[Submission]) -> list[str]:
    """Everything of a submitter's own words that may sit in a stored text, longest
    first (so a name is replaced before a part of it)."""
    found: set[str] = set()
    if reader is not None:
        found.update(v for v in (reader.username, reader.display_name) if v)
    for row in rows:
        fields = row.fields
        for value in (
            row.display_name,
            row.username,
            row.note,
            fields.for_whom,
            fields.solves,
            fields.level,
        ):
            if value and value.strip():
                found.add(value.strip())
    # Words the log itself is made of (states, modes, levels) are nobody's own.
    found.difference_update(
        {*SUBMISSION_STATES, "publish", "draft", "beginner", "intermediate", "advanced"}
    )
    return sorted((s for s in found if len(s) >= 2), key=lambda s: (-len(s), s))


class ReaderStore:
    """Submitters' choices and their forgetting, on one `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Reader | None:
        row = await self._db.fetchone("SELECT * FROM users WHERE user_id = ?", (user_id,))
        return None if row is None else _reader(row)

    async def set_credit(
        self,
        user_id: int,
        choice: CreditChoice,
        *,
        username: str | None,
        display_name: str,
        now: When,
    ) -> CreditSet:
        """Store the choice and put it on their pending submissions, in one transaction."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "INSERT INTO users (user_id, username, display_name, credit, first_seen_at,"
                " last_seen_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " username = excluded.username, display_name = excluded.display_name,"
                " credit = excluded.credit, last_seen_at = excluded.last_seen_at RETURNING *",
                (user_id, username, display_name, choice, at, at),
            )
            assert row is not None
            rows = await tx.fetchall(
                "UPDATE submissions SET credit_as = ?, updated_at = ?"
                " WHERE user_id = ? AND state = 'pending' AND credit_as <> ? RETURNING *",
                (choice, at, user_id, choice),
            )
            await insert_audit(
                tx,
                actor=f"user:{user_id}",
                action="user.credit",
                subject=f"user:{user_id}",
                details={"credit": choice, "pending": len(rows)},
                now=at,
            )
        return CreditSet(
            reader=_reader(row),
            pending=tuple(sorted((_submission(r) for r in rows), key=lambda s: s.id)),
        )

    # ---- /forgetme ------------------------------------------------------------------

    async def ask_forget(self, user_id: int, *, now: When) -> ForgetRequest:
        """A new confirmation for /forgetme; older unanswered ones are cancelled."""
        at = to_ts(now)
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE forget_requests SET state = 'cancelled', decided_at = ?"
                " WHERE user_id = ? AND state = 'asked'",
                (at, user_id),
            )
            rows = await tx.fetchall(
                "INSERT INTO forget_requests (user_id, asked_at) VALUES (?, ?) RETURNING *",
                (user_id, at),
            )
        return _request(rows[0])

    async def get_request(self, request_id: int) -> ForgetRequest | None:
        row = await self._db.fetchone("SELECT * FROM forget_requests WHERE id = ?", (request_id,))
        return None if row is None else _request(row)

    async def cancel_forget(self, request_id: int, *, user_id: int, now: When) -> bool:
        """[Cancel]: a compare-and-set like the confirmation; False if already answered."""
        async with self._db.transaction() as tx:
            return bool(
                await tx.execute(
                    "UPDATE forget_requests SET state = 'cancelled', decided_at = ?"
                    " WHERE id = ? AND user_id = ? AND state = 'asked'",
                    (to_ts(now), request_id, user_id),
                )
            )

    async def forget(
        self,
        request_id: int,
        *,
        user_id: int,
        now: When,
        anonymous_posts: Callable[[Submission], Mapping[str, Mapping[str, Any]]],
    ) -> Forgotten | None:
        """Forget the submitter, once: the request ``asked → done`` and everything else in
        the same transaction. None for a request that is not theirs.

        `anonymous_posts(row)` (pure) gives, per target, the payload of the row's post
        without a credit: what the stored copy of a post becomes.
        """
        at = to_ts(now)
        actor = f"user:{user_id}"
        async with self._db.transaction() as tx:
            found = await tx.fetchone(
                "SELECT * FROM forget_requests WHERE id = ? AND user_id = ?",
                (request_id, user_id),
            )
            if found is None:
                return None
            won = await tx.execute(
                "UPDATE forget_requests SET state = 'done', decided_at = ?"
                " WHERE id = ? AND state = 'asked'",
                (at, request_id),
            )
            if not won:
                return Forgotten(won=False, request=_request(found))
            reader_row = await tx.fetchone("SELECT * FROM users WHERE user_id = ?", (user_id,))
            reader = None if reader_row is None else _reader(reader_row)
            before = [
                _submission(r)
                for r in await tx.fetchall(
                    "SELECT * FROM submissions WHERE user_id = ? ORDER BY id", (user_id,)
                )
            ]
            needles = personal_strings(reader, before)
            withdrawn = await self._withdraw_pending(tx, user_id, at)
            rewritten = kept = 0
            for row in before:
                edits = _scrub(_edits_raw(row), needles)
                # An editor's words (an edit, a reason) may name them too.
                await tx.execute(
                    "UPDATE submissions SET display_name = '', username = NULL, note = '',"
                    " for_whom = NULL, solves = NULL, level = NULL, credit_as = 'anonymous',"
                    " edits = ?, reason = ?, forgotten_at = ?, updated_at = ? WHERE id = ?",
                    (
                        json.dumps(edits, ensure_ascii=False, sort_keys=True),
                        _scrub(row.reason, needles),
                        at,
                        at,
                        row.id,
                    ),
                )
                current = await _fetch(tx, row.id)
                assert current is not None
                done, left = await _rewrite_posts(tx, current, anonymous_posts(current), at)
                rewritten += done
                kept += left
            await tx.execute(
                "UPDATE users SET username = NULL, first_name = NULL, display_name = NULL,"
                " credit = 'anonymous' WHERE user_id = ?",
                (user_id,),
            )
            # Their language is theirs too (a later update of theirs is seen anew).
            await tx.execute("DELETE FROM user_langs WHERE user_id = ?", (user_id,))
            # And the words they follow (keyword alerts: what they read is personal).
            await tx.execute("DELETE FROM follows WHERE user_id = ?", (user_id,))
            subjects = [submission_key(r.id) for r in before]
            scrubbed = await _scrub_audit(tx, needles, actor=actor, subjects=subjects)
            await insert_audit(
                tx,
                actor=actor,
                action="user.forget",
                subject=actor,
                details={
                    "submissions": len(before),
                    "withdrawn": len(withdrawn),
                    "posts_rewritten": rewritten,
                    "posts_kept": kept,
                },
                now=at,
            )
            after = [
                _submission(r)
                for r in await tx.fetchall(
                    "SELECT * FROM submissions WHERE user_id = ? ORDER BY id", (user_id,)
                )
            ]
            request = await tx.fetchone("SELECT * FROM forget_requests WHERE id = ?", (request_id,))
            assert request is not None
            return Forgotten(
                won=True,
                request=_request(request),
                submissions=tuple(after),
                withdrawn=withdrawn,
                posts_rewritten=rewritten,
                posts_kept=kept,
                audit_scrubbed=scrubbed,
            )

    @staticmethod
    async def _withdraw_pending(tx: Tx, user_id: int, at: float) -> tuple[int, ...]:
        """Their pending links leave the review queue (a compare-and-set each), audited."""
        actor = f"user:{user_id}"
        rows = await tx.fetchall(
            "UPDATE submissions SET state = 'withdrawn', decided_by = ?, decided_at = ?,"
            " updated_at = ? WHERE user_id = ? AND state = 'pending' RETURNING id",
            (actor, at, at, user_id),
        )
        ids = tuple(sorted(int(r["id"]) for r in rows))
        for submission_id in ids:
            await insert_audit(
                tx,
                actor=actor,
                action="submission.withdraw",
                subject=submission_key(submission_id),
                details={"before": "pending", "after": "withdrawn", "forgotten": True},
                now=at,
            )
        return ids


def _edits_raw(row: Submission) -> dict[str, dict[str, str | None]]:
    return {
        target: {"title": e.title, "comment": e.comment, "by": e.by}
        for target, e in row.edits.items()
    }


async def _rewrite_posts(
    tx: Tx, row: Submission, payloads: Mapping[str, Mapping[str, Any]], at: float
) -> tuple[int, int]:
    """The stored copies of the row's posts, rewritten (how many) or kept (in flight)."""
    key = submission_key(row.id)
    rewritten = 0
    for target, payload in payloads.items():
        changed = await tx.execute(
            "UPDATE outbox SET payload = ?, updated_at = ?"
            " WHERE idempotency_key = ? AND target = ?"
            " AND state IN (SELECT value FROM json_each(?))",
            (json.dumps(dict(payload), ensure_ascii=False), at, key, target, _REWRITABLE),
        )
        rewritten += changed
    left = await tx.fetchone(
        "SELECT count(*) AS n FROM outbox WHERE idempotency_key = ?"
        " AND state NOT IN (SELECT value FROM json_each(?))",
        (key, _REWRITABLE),
    )
    return rewritten, int(left["n"]) if left else 0


async def _scrub_audit(
    tx: Tx, needles: Sequence[str], *, actor: str, subjects: Sequence[str]
) -> int:
    """Replace the submitter's words inside the details of the audit entries about them
    or their submissions (or made by them); how many entries changed."""
    if not needles:
        return 0
    ids: set[int] = set()
    related = json.dumps([actor, *subjects])
    for needle in needles:
        quoted = json.dumps(needle, ensure_ascii=False)[1:-1]  # as it sits in the JSON
        for r in await tx.fetchall(
            "SELECT id FROM audit_log WHERE instr(details, ?) > 0"
            " AND (actor = ? OR subject IN (SELECT value FROM json_each(?)))",
            (quoted, actor, related),
        ):
            ids.add(int(r["id"]))
    for audit_id in sorted(ids):
        row = await tx.fetchone("SELECT details FROM audit_log WHERE id = ?", (audit_id,))
        assert row is not None
        details = _scrub(json.loads(row["details"]), needles)
        await tx.execute(
            "UPDATE audit_log SET details = ? WHERE id = ?",
            (json.dumps(details, ensure_ascii=False), audit_id),
        )
    return len(ids)
