"""Editor-facing publication state: previews of new issues and pending edits.

A preview holds a new issue's posts, formatted but not yet timed (`plan`), until an
editor decides. Every decision is a conditional UPDATE (``WHERE status = 'pending'``)
committed together with the outbox rows it queues and its audit entry, so a double
press, or two editors pressing at once, queues nothing twice and the loser is told.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from data.audit import insert_audit
from data.db import Database, Tx, When, to_ts
from data.outbox import NewPost, OutboxStore

PreviewStatus = Literal["pending", "published", "scheduled", "skipped"]
Decision = Literal["published", "scheduled", "skipped"]


@dataclass(frozen=True, slots=True)
class Preview:
    id: int
    issue_number: int
    langs: Mapping[str, str]  # target -> language of the issue it gets
    plan: tuple[Mapping[str, Any], ...]  # JSON of the untimed posts (see bot.weekly.publication)
    status: PreviewStatus
    edited: Mapping[str, str]  # target -> the digest text an editor wrote
    edited_by: Mapping[str, str]  # target -> who wrote it
    decided_by: str | None
    decided_at: float | None
    cards: tuple[tuple[int, int], ...]  # (chat_id, message_id) of each card sent
    created_at: float
    updated_at: float
    refused: Mapping[str, str] = field(default_factory=dict)  # language -> why its file was refused


@dataclass(frozen=True, slots=True)
class PendingEdit:
    chat_id: int
    user_id: int
    preview_id: int
    target: str
    started_at: float


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _preview(row: Any) -> Preview:
    return Preview(
        id=row["id"],
        issue_number=row["issue_number"],
        langs=json.loads(row["langs"]),
        plan=tuple(json.loads(row["plan"])),
        status=cast(PreviewStatus, row["status"]),
        edited=json.loads(row["edited"]),
        edited_by=json.loads(row["edited_by"]),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        cards=tuple((int(c), int(m)) for c, m in json.loads(row["cards"])),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        refused=json.loads(row["refused"]),
    )


async def _fetch(tx: Tx, preview_id: int) -> Preview | None:
    row = await tx.fetchone("SELECT * FROM previews WHERE id = ?", (preview_id,))
    return None if row is None else _preview(row)


class PreviewStore:
    """Previews of new issues and the editors' pending edits, in one `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        *,
        issue_number: int,
        langs: Mapping[str, str],
        plan: Sequence[Mapping[str, Any]],
        now: When,
        refused: Mapping[str, str] | None = None,
    ) -> tuple[Preview, bool]:
        """Make the issue's preview once; return it and whether it is new.

        A re-delivered `NewIssue` gets the existing preview back, whatever its status.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            inserted = await tx.fetchone(
                "INSERT INTO previews (issue_number, langs, plan, refused, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (issue_number) DO NOTHING RETURNING id",
                (
                    issue_number,
                    _dumps(dict(langs)),
                    _dumps([dict(p) for p in plan]),
                    _dumps(dict(refused or {})),
                    at,
                    at,
                ),
            )
            row = await tx.fetchone(
                "SELECT * FROM previews WHERE issue_number = ?", (issue_number,)
            )
        assert row is not None  # inserted, or there already
        return _preview(row), inserted is not None

    async def by_issue(self, issue_number: int) -> Preview | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT * FROM previews WHERE issue_number = ?", (issue_number,)
            )
        return None if row is None else _preview(row)

    async def add_targets(
        self,
        preview_id: int,
        langs: Mapping[str, str],
        plan: Sequence[Mapping[str, Any]],
        *,
        now: When,
    ) -> Preview | None:
        """Add the targets of a language that arrived later to a preview still pending.

        A compare-and-set like `decide`: None when the preview was decided meanwhile
        (the caller then follows the decision), so a late language never edits a
        decided preview. Targets already there are left as they are.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            current = await _fetch(tx, preview_id)
            if current is None or current.status != "pending":
                return None
            await _add_languages(tx, current, langs, plan, at)
            return await _fetch(tx, preview_id)

    async def mark_refused(
        self, preview_id: int, refused: Mapping[str, str], *, now: When
    ) -> Preview | None:
        """Record languages whose file the parser refused after the preview was made.

        Whatever the preview's status: its cards show the language refused, with the
        reason. A language that already arrived (its targets have their posts) is left
        as it is. None when the preview is unknown.
        """
        async with self._db.transaction() as tx:
            current = await _fetch(tx, preview_id)
            if current is None:
                return None
            arrived = set(current.langs.values())
            merged = {
                **current.refused,
                **{k: v for k, v in refused.items() if k not in arrived},
            }
            if merged != dict(current.refused):
                await tx.execute(
                    "UPDATE previews SET refused = ?, updated_at = ? WHERE id = ?",
                    (_dumps(merged), to_ts(now), preview_id),
                )
            return await _fetch(tx, preview_id)

    async def follow_decision(
        self,
        preview_id: int,
        langs: Mapping[str, str],
        plan: Sequence[Mapping[str, Any]],
        *,
        posts: Sequence[NewPost],
        now: When,
        actor: str,
    ) -> tuple[Preview, list[int | None]] | None:
        """A language landed after the decision: queue its targets' `posts` and record
        the targets on the preview (its cards then show them), in one transaction.

        None when the preview is unknown or still pending (`add_targets` is for that).
        Queuing is idempotent (the outbox keys), so a re-delivered arrival queues
        nothing twice.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            current = await _fetch(tx, preview_id)
            if current is None or current.status == "pending":
                return None
            ids = [await OutboxStore._insert(tx, post, at) for post in posts]
            await _add_languages(tx, current, langs, plan, at)
            await insert_audit(
                tx,
                actor=actor,
                action="preview.late_language",
                subject=f"preview:{preview_id}",
                details={
                    "targets": dict(langs),
                    "queued": len([i for i in ids if i is not None]),
                    "decision": current.status,
                },
                now=at,
            )
            followed = await _fetch(tx, preview_id)
            assert followed is not None  # read just above, in this transaction
            return followed, ids

    async def get(self, preview_id: int) -> Preview | None:
        async with self._db.transaction(write=False) as tx:
            return await _fetch(tx, preview_id)

    async def add_cards(
        self, preview_id: int, cards: Sequence[tuple[int, int]], *, now: When
    ) -> None:
        """Remember where the cards went, so every one of them shows the decision."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT cards FROM previews WHERE id = ?", (preview_id,))
            if row is None:
                return
            known = [tuple(c) for c in json.loads(row["cards"])]
            known += [tuple(c) for c in cards if tuple(c) not in known]
            await tx.execute(
                "UPDATE previews SET cards = ?, updated_at = ? WHERE id = ?",
                (_dumps(known), to_ts(now), preview_id),
            )

    async def decide(
        self,
        preview_id: int,
        decision: Decision,
        *,
        actor: str,
        now: When,
        posts: Sequence[NewPost] = (),
        moves: Mapping[int, float] | None = None,
    ) -> tuple[Preview, list[int | None]] | None:
        """Settle a pending preview and queue its `posts`, all in one transaction.

        Returns the decided preview and the outbox ids as `OutboxStore.enqueue_many`
        gives them, or None when it was already decided (or unknown): then nothing
        is queued. `moves` re-times older issues' queued items in the same transaction.
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE previews SET status = ?, decided_by = ?, decided_at = ?, updated_at = ?"
                " WHERE id = ? AND status = 'pending'",
                (decision, actor, at, at, preview_id),
            )
            if not changed:
                return None
            await tx.execute("DELETE FROM preview_edits WHERE preview_id = ?", (preview_id,))
            # The outbox's own insert, inside this transaction: decided and queued together.
            ids = [await OutboxStore._insert(tx, post, at) for post in posts]
            await OutboxStore._retime(tx, moves or {}, at)  # older issues' items yield
            await insert_audit(
                tx,
                actor=actor,
                action=f"preview.{decision}",
                subject=f"preview:{preview_id}",
                details={"queued": len([i for i in ids if i is not None])},
                now=at,
            )
            decided = await _fetch(tx, preview_id)
            assert decided is not None  # updated just above, in this transaction
            return decided, ids

    # ---- edits -----------------------------------------------------------------

    async def start_edit(
        self, preview_id: int, target: str, *, chat_id: int, user_id: int, now: When
    ) -> bool:
        """Wait for this editor's next text in this chat; False if the preview is decided."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT 1 FROM previews WHERE id = ? AND status = 'pending'", (preview_id,)
            )
            if row is None:
                return False
            await tx.execute(
                "INSERT INTO preview_edits (chat_id, user_id, preview_id, target, started_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET"
                " preview_id = excluded.preview_id, target = excluded.target,"
                " started_at = excluded.started_at",
                (chat_id, user_id, preview_id, target, to_ts(now)),
            )
            return True

    async def pending_edit(self, *, chat_id: int, user_id: int) -> PendingEdit | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT * FROM preview_edits WHERE chat_id = ? AND user_id = ?",
                (chat_id, user_id),
            )
        if row is None:
            return None
        return PendingEdit(
            chat_id=row["chat_id"],
            user_id=row["user_id"],
            preview_id=row["preview_id"],
            target=row["target"],
            started_at=row["started_at"],
        )

    async def cancel_edit(self, *, chat_id: int, user_id: int) -> bool:
        async with self._db.transaction() as tx:
            return bool(
                await tx.execute(
                    "DELETE FROM preview_edits WHERE chat_id = ? AND user_id = ?",
                    (chat_id, user_id),
                )
            )

    async def save_edit(
        self, edit: PendingEdit, text: str, *, actor: str, now: When
    ) -> Preview | None:
        """Store the editor's text for the edit's target and stop waiting.

        None when the preview was decided meanwhile (the text is then not used).
        """
        at = to_ts(now)
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM preview_edits WHERE chat_id = ? AND user_id = ?",
                (edit.chat_id, edit.user_id),
            )
            row = await tx.fetchone(
                "SELECT edited, edited_by FROM previews WHERE id = ? AND status = 'pending'",
                (edit.preview_id,),
            )
            if row is None:
                return None
            edited = {**json.loads(row["edited"]), edit.target: text}
            edited_by = {**json.loads(row["edited_by"]), edit.target: actor}
            await tx.execute(
                "UPDATE previews SET edited = ?, edited_by = ?, updated_at = ? WHERE id = ?",
                (_dumps(edited), _dumps(edited_by), at, edit.preview_id),
            )
            await insert_audit(
                tx,
                actor=actor,
                action="preview.edit",
                subject=f"preview:{edit.preview_id}",
                details={"target": edit.target},
                now=at,
            )
            return await _fetch(tx, edit.preview_id)


async def _add_languages(
    tx: Tx,
    current: Preview,
    langs: Mapping[str, str],
    plan: Sequence[Mapping[str, Any]],
    at: float,
) -> None:
    """Record the targets of languages that arrived (and their plan); an arrived
    language is no longer refused. Targets already there are left as they are."""
    fresh = {t: lang for t, lang in langs.items() if t not in current.langs}
    if not fresh:
        return
    merged_plan = [dict(p) for p in current.plan]
    merged_plan += [dict(p) for p in plan if p.get("target") in fresh]
    arrived = set(fresh.values())
    refused = {k: v for k, v in current.refused.items() if k not in arrived}
    await tx.execute(
        "UPDATE previews SET langs = ?, plan = ?, refused = ?, updated_at = ? WHERE id = ?",
        (_dumps({**current.langs, **fresh}), _dumps(merged_plan), _dumps(refused), at, current.id),
    )
