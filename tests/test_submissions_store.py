"""Submissions in the database: dedupe in one query, limits, and decisions that cannot collide."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from bot.domain.urls import dedupe_key
from data.db import Database
from data.issues import IssueStore
from data.migrations import MIGRATIONS, migrate
from data.outbox import NewPost, OutboxStore
from data.store import Store
from data.submissions import (
    Decided,
    Fields,
    Gate,
    NewSubmission,
    Submission,
    SubmissionStore,
    submission_key,
)
from tests.factories import make_issue, make_item

T0 = 1_750_000_000.0
URL = "https://blog.example.org/post/fast-csv"
TARGETS = ("telegram", "x")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "weekly.db") as database:
        await migrate(database, now=T0)
        yield database


@pytest.fixture
def store(db: Database) -> SubmissionStore:
    return SubmissionStore(db)


def new(user_id: int = 7, url: str = URL, **extra: object) -> NewSubmission:
    fields: dict[str, object] = {
        "user_id": user_id,
        "display_name": f"Reader {user_id}",
        "username": f"reader{user_id}",
        "chat_id": user_id,
        "original_url": url,
        "canonical_url": url,
        "dedupe_key": dedupe_key(url),
    }
    fields.update(extra)
    return NewSubmission(**fields)  # type: ignore[arg-type]


def accept_all(gate: Gate) -> None:
    del gate
    return None


async def create(store: SubmissionStore, item: NewSubmission, *, at: float = T0) -> Submission:
    made = await store.create(item, now=at, since=at - 86400, judge=accept_all)
    assert isinstance(made, Submission)
    return made


def posts_for(row: Submission) -> Sequence[NewPost]:
    return [
        NewPost(submission_key(row.id), target, "submission", {"platform": target, "text": "t"})
        for target in TARGETS
    ]


async def outbox_rows(db: Database, submission_id: int) -> list[tuple[str, str]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.fetchall(
            "SELECT target, idempotency_key FROM outbox WHERE idempotency_key = ? ORDER BY target",
            (submission_key(submission_id),),
        )
    return [(row["target"], row["idempotency_key"]) for row in rows]


# ---- storing and deduping ---------------------------------------------------------------


async def test_a_submission_round_trips_with_its_fields(store: SubmissionStore) -> None:
    fields = Fields(for_whom="beginners", solves="slow CSV", level="intermediate")
    made = await create(store, new(note="a good read", fields=fields))
    assert made.state == "pending"
    assert made.fields == fields
    assert made.note == "a good read"
    assert (made.decided_by, made.decided_at, made.mode) == (None, None, None)
    assert await store.get(made.id) == made


async def test_items_of_stored_issues_are_found_by_dedupe_key(db: Database) -> None:
    issues = IssueStore(db)
    item = make_item(3, url="https://github.com/gpustack/gpustack")
    await issues.upsert(make_issue({"projects": [item]}, number=107, lang="en"), now=T0)
    await issues.upsert(make_issue({"projects": [item]}, number=106, lang="zh"), now=T0)
    spelled = "http://www.github.com/gpustack/gpustack/?utm_source=tg#readme"
    found = await SubmissionStore(db).find_duplicates(dedupe_key(spelled))
    assert [(f.issue_number, f.lang) for f in found.featured] == [(106, "zh"), (107, "en")]
    assert found.featured[0].url == "https://github.com/gpustack/gpustack"
    assert found.featured[0].date == dt.date(2025, 6, 7)
    assert found.featured[0].section_kind == "projects"
    assert found.submissions == ()
    assert not await SubmissionStore(db).find_duplicates(dedupe_key("https://github.com/other"))


async def test_a_changed_issue_keeps_its_item_keys_current(db: Database) -> None:
    issues = IssueStore(db)
    old = make_item(1, url="https://old.example.com/a")
    await issues.upsert(make_issue({"projects": [old]}), now=T0)
    moved = make_item(1, url="https://new.example.com/a")
    await issues.upsert(make_issue({"projects": [moved]}), now=T0 + 1)
    subs = SubmissionStore(db)
    assert not await subs.find_duplicates(dedupe_key("https://old.example.com/a"))
    assert (await subs.find_duplicates(dedupe_key("https://new.example.com/a"))).featured


async def test_the_migration_keys_the_items_stored_before_it(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "old.db") as db:
        await migrate(db, MIGRATIONS[:5], now=T0)
        async with db.transaction() as tx:
            issue_id = await tx.insert(
                "INSERT INTO issues (number, lang, form, title, content_hash, parsed,"
                " created_at, updated_at) VALUES (90, 'zh', 'full', 't', 'h', '{}', ?, ?)",
                (T0, T0),
            )
            for idx, url in enumerate(["https://www.Example.com/x/?utm_medium=a", None]):
                await tx.execute(
                    "INSERT INTO items (issue_id, kind, idx, number_as_written, title, url,"
                    " description, description_md, stars, stars_as_written, flags, images,"
                    " sub_links, description_links, orphan_text)"
                    " VALUES (?, 'articles', ?, '1', 't', ?, '', '', '[]', '[]', '[]', '[]',"
                    " '[]', '[]', '')",
                    (issue_id, idx, url),
                )
        assert await migrate(db, now=T0) == [m.version for m in MIGRATIONS[5:]]
        found = await SubmissionStore(db).find_duplicates(dedupe_key("https://example.com/x"))
        assert [f.issue_number for f in found.featured] == [90]


async def test_earlier_submissions_are_found_in_every_state(store: SubmissionStore) -> None:
    first = await create(store, new(1))
    await store.reject(first.id, actor="user:1001", reason="broken_link", now=T0 + 1)
    second = await create(store, new(2, url=URL + "/?utm_campaign=x"), at=T0 + 2)
    found = await store.find_duplicates(dedupe_key(URL))
    assert [(s.submission_id, s.state) for s in found.submissions] == [
        (first.id, "rejected"),
        (second.id, "pending"),
    ]
    assert [s.submission_id for s in found.active] == [second.id]
    mine = await store.find_duplicates(dedupe_key(URL), exclude_id=second.id)
    assert [s.submission_id for s in mine.submissions] == [first.id]


async def test_a_refused_create_writes_nothing(store: SubmissionStore, db: Database) -> None:
    seen: list[Gate] = []

    def refuse(gate: Gate) -> str:
        seen.append(gate)
        return "no"

    assert await store.create(new(), now=T0, since=T0 - 86400, judge=refuse) == "no"
    async with db.transaction(write=False) as tx:
        row = await tx.fetchone("SELECT count(*) AS n FROM submissions")
    assert row is not None
    assert row["n"] == 0
    assert seen[0].banned is None
    assert not seen[0].duplicates


async def test_limit_counts(store: SubmissionStore) -> None:
    a = await create(store, new(7, url="https://a.example.com/1"), at=T0)
    await create(store, new(7, url="https://a.example.com/2"), at=T0 + 100)
    await create(store, new(8, url="https://a.example.com/3"), at=T0 + 200)
    await store.reject(a.id, actor="user:1001", reason="off_topic", now=T0 + 300)
    counts = await store.limit_counts(7, since=T0 + 50)
    assert counts.recent == (T0 + 100,)
    assert counts.last_at == T0 + 100
    assert counts.pending_for_user == 1
    assert counts.pending_total == 2
    none = await store.limit_counts(99, since=T0)
    assert (none.recent, none.last_at, none.pending_for_user) == ((), None, 0)


async def test_create_is_judged_on_what_its_own_transaction_read(store: SubmissionStore) -> None:
    """Ten readers sending one link at once: the judge sees the ones before it."""

    def unless_duplicate(gate: Gate) -> str | None:
        return "duplicate" if gate.duplicates.active else None

    results = await asyncio.gather(
        *(
            store.create(new(user), now=T0, since=T0 - 86400, judge=unless_duplicate)
            for user in range(10)
        )
    )
    assert sum(isinstance(r, Submission) for r in results) == 1
    assert results.count("duplicate") == 9


# ---- decisions ------------------------------------------------------------------------


async def test_ten_concurrent_approves_make_one_decision_and_one_row_per_target(
    store: SubmissionStore, db: Database
) -> None:
    made = await create(store, new())
    editors = ["user:1001", "user:1003"]
    results = await asyncio.gather(
        *(
            store.approve(made.id, actor=editors[i % 2], now=T0 + 10 + i, posts=posts_for)
            for i in range(10)
        )
    )
    decided = [r for r in results if r is not None]
    winners = [r for r in decided if r.won]
    assert len(decided) == 10
    assert len(winners) == 1
    winner = winners[0].submission
    assert len(winners[0].outbox_ids) == 2
    for loser in (r for r in decided if not r.won):
        assert loser.outbox_ids == ()
        assert loser.submission.state == "approved"
        assert (loser.submission.decided_by, loser.submission.decided_at) == (
            winner.decided_by,
            winner.decided_at,
        )
    assert await outbox_rows(db, made.id) == [
        ("telegram", submission_key(made.id)),
        ("x", submission_key(made.id)),
    ]
    audits = await Store(db).list_audit(
        subject=submission_key(made.id), action="submission.approve"
    )
    assert len(audits) == 1
    assert audits[0].actor == winner.decided_by
    assert dict(audits[0].details) == {
        "before": "pending",
        "after": "approved",
        "mode": "publish",
        "queued": 2,
    }


async def test_concurrent_approves_from_two_connections_make_one_decision(tmp_path: Path) -> None:
    """Two processes' worth: two connections to one file, racing on SQLite's write lock."""
    path = tmp_path / "shared.db"
    async with Database.open(path) as one, Database.open(path) as two:
        await migrate(one, now=T0)
        made = await create(SubmissionStore(one), new())
        stores = [SubmissionStore(one), SubmissionStore(two)]
        results = await asyncio.gather(
            *(
                stores[i % 2].approve(made.id, actor=f"user:{i}", now=T0 + i, posts=posts_for)
                for i in range(10)
            )
        )
        assert sum(1 for r in results if r is not None and r.won) == 1
        assert len(await outbox_rows(one, made.id)) == 2


async def test_a_lost_race_says_who_decided_and_when(store: SubmissionStore) -> None:
    made = await create(store, new())
    first = await store.approve(made.id, actor="user:1001", now=T0 + 5, posts=posts_for)
    assert first is not None
    assert first.won
    late = await store.reject(made.id, actor="user:1003", reason="off_topic", now=T0 + 6)
    assert late == Decided(won=False, submission=first.submission)
    assert late.submission.decided_by == "user:1001"
    assert late.submission.decided_at == T0 + 5
    assert late.submission.reason is None
    assert await store.approve(999, actor="user:1001", now=T0, posts=posts_for) is None


async def test_draft_only_queues_nothing(store: SubmissionStore, db: Database) -> None:
    made = await create(store, new())
    decided = await store.approve_draft_only(made.id, actor="user:1001", now=T0 + 1)
    assert decided is not None
    assert decided.won
    assert (decided.submission.state, decided.submission.mode) == ("approved", "draft")
    assert await outbox_rows(db, made.id) == []
    # A draft-only link is never "published" by the outbox sweep.
    assert await store.promote_published(now=T0 + 2) == []


async def test_reject_keeps_the_reason_and_audits_before_and_after(
    store: SubmissionStore, db: Database
) -> None:
    made = await create(store, new())
    decided = await store.reject(made.id, actor="user:1001", reason="paywalled", now=T0 + 1)
    assert decided is not None
    assert decided.won
    assert (decided.submission.state, decided.submission.reason) == ("rejected", "paywalled")
    entry = (await Store(db).list_audit(subject=submission_key(made.id)))[0]
    assert (entry.action, entry.actor, entry.at) == ("submission.reject", "user:1001", T0 + 1)
    assert dict(entry.details) == {"before": "pending", "after": "rejected", "reason": "paywalled"}


async def test_only_the_submitter_may_withdraw(store: SubmissionStore) -> None:
    made = await create(store, new(7))
    other = await store.withdraw(made.id, user_id=8, now=T0 + 1)
    assert other is not None
    assert not other.won
    assert other.submission.state == "pending"
    own = await store.withdraw(made.id, user_id=7, now=T0 + 2)
    assert own is not None
    assert own.won
    assert own.submission.state == "withdrawn"


async def test_ban_rejects_the_users_pending_links_and_bans_once(
    store: SubmissionStore, db: Database
) -> None:
    pressed = await create(store, new(7, url="https://spam.example.com/1"))
    other = await create(store, new(7, url="https://spam.example.com/2"))
    someone_else = await create(store, new(8, url="https://fine.example.com/"))
    decided = await store.ban(pressed.id, actor="user:1001", reason="banned", now=T0 + 1)
    assert decided is not None
    assert decided.won
    assert decided.also_rejected == (other.id,)
    assert (await store.get(other.id)).state == "rejected"  # type: ignore[union-attr]
    assert (await store.get(someone_else.id)).state == "pending"  # type: ignore[union-attr]
    banned = await store.banned(7)
    assert banned is not None
    assert banned.banned_by == "user:1001"
    again = await store.ban(pressed.id, actor="user:1003", reason="banned", now=T0 + 2)
    assert again is not None
    assert not again.won
    assert len(await Store(db).list_audit(action="user.ban")) == 1
    assert await store.unban_user(7, actor="user:1001", now=T0 + 3)
    assert await store.banned(7) is None


async def test_edits_are_kept_per_target_until_a_decision(store: SubmissionStore) -> None:
    made = await create(store, new())
    edited = await store.save_edit(
        made.id, "x", title="Fast CSV", comment=None, actor="user:1001", now=T0 + 1
    )
    assert edited is not None
    assert edited.edits["x"].title == "Fast CSV"
    assert edited.edits["x"].by == "user:1001"
    assert "telegram" not in edited.edits
    await store.reject(made.id, actor="user:1001", reason="other: no", now=T0 + 2)
    assert (
        await store.save_edit(made.id, "x", title="t", comment="c", actor="user:1001", now=T0 + 3)
        is None
    )


async def test_published_once_every_row_is_sent(store: SubmissionStore, db: Database) -> None:
    made = await create(store, new())
    decided = await store.approve(made.id, actor="user:1001", now=T0 + 1, posts=posts_for)
    assert decided is not None
    outbox = OutboxStore(db)
    assert await store.promote_published(now=T0 + 2) == []
    for n, target in enumerate(TARGETS):
        row = await outbox.claim_next(target, owner="w", lease_seconds=60, now=T0 + 3)
        assert row is not None
        await outbox.mark_started(row.id, owner="w", lease_seconds=60, now=T0 + 3)
        await outbox.mark_sent(row.id, owner="w", remote_id=str(n + 10), now=T0 + 4)
        published = await store.promote_published(now=T0 + 5)
        assert [p.id for p in published] == ([made.id] if n == len(TARGETS) - 1 else [])
    assert (await store.get(made.id)).state == "published"  # type: ignore[union-attr]
    assert await store.promote_published(now=T0 + 6) == []


async def test_a_target_filed_for_the_editors_is_not_waited_for(
    store: SubmissionStore, db: Database
) -> None:
    """A GitHub issue held by a rate limit (or refused) never keeps the reader waiting."""
    made = await create(store, new())

    def with_github(row: Submission) -> Sequence[NewPost]:
        key = submission_key(row.id)
        return [
            NewPost(key, "telegram", "submission", {"platform": "telegram", "text": "t"}),
            NewPost(key, "github", "submission", {"platform": "github", "title": "t"}),
        ]

    assert await store.approve(made.id, actor="user:1001", now=T0 + 1, posts=with_github)
    outbox = OutboxStore(db)
    row = await outbox.claim_next("telegram", owner="w", lease_seconds=60, now=T0 + 3)
    assert row is not None
    await outbox.mark_started(row.id, owner="w", lease_seconds=60, now=T0 + 3)
    await outbox.mark_sent(row.id, owner="w", remote_id="10", now=T0 + 4)
    assert await store.promote_published(now=T0 + 5) == []  # the GitHub row is queued
    published = await store.promote_published(now=T0 + 5, not_awaited=["github"])
    assert [p.id for p in published] == [made.id]


async def test_expire_and_untold(store: SubmissionStore) -> None:
    old = await create(store, new(1, url="https://a.example.com/old"), at=T0)
    fresh = await create(store, new(2, url="https://a.example.com/new"), at=T0 + 100)
    assert await store.expire_pending(older_than=T0 + 50, now=T0 + 200) == [old.id]
    assert (await store.get(fresh.id)).state == "pending"  # type: ignore[union-attr]
    await store.reject(fresh.id, actor="user:1001", reason="off_topic", now=T0 + 300)
    # An expired link's submitter is told too (not left wondering).
    assert [s.id for s in await store.untold()] == [old.id, fresh.id]
    assert await store.mark_told(old.id, now=T0 + 301)
    assert await store.mark_told(fresh.id, now=T0 + 301)
    assert not await store.mark_told(fresh.id, now=T0 + 302)
    assert await store.untold() == []


async def test_cards_are_remembered_once(store: SubmissionStore) -> None:
    made = await create(store, new())
    await store.add_cards(made.id, [(-100, 5), (1001, 6)], now=T0)
    await store.add_cards(made.id, [(-100, 5)], now=T0)
    assert (await store.get(made.id)).cards == ((-100, 5), (1001, 6))  # type: ignore[union-attr]
