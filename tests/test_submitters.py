"""A submitter's own tools at the service: the credit they choose, in the posts and in
the draft; /withdraw's compare-and-set; /forgetme leaving nothing of them in any table."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import SubmissionsSettings
from bot.domain.parser import parse_issue
from bot.editors.reminders import DIGEST_MAX_ITEMS, digest_keyboard, digest_text
from bot.submissions.intake import (
    SubmissionService,
    Submitter,
    plan_submission_posts,
    submission_draft_credit,
)
from bot.submissions.rules import Accepted
from data.alerts import FollowStore
from data.db import Database
from data.langs import UserLangStore
from data.migrations import MIGRATIONS, migrate
from data.outbox import OutboxStore
from data.readers import FORGOTTEN, _scrub
from data.submissions import CreditChoice, Submission, SubmissionStore, submission_key
from publishers.limits import TELEGRAM_TEXT_MAX, telegram_length
from publishers.posts import TelegramPost, TelegramText, XPost
from tests.conftest import ManualClock
from tests.parser_support import en_issue, zh_issue
from tests.url_support import Table

T0 = 1_750_000_000.0
ADA = Submitter(user_id=1002, display_name="Ada Lovelace", username="ada_l")
GRACE = Submitter(user_id=1004, display_name="Grace Hopper", username=None)  # no @username
EDITOR = "@editor [1001]"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "weekly.db") as database:
        await migrate(database, now=T0)
        yield database


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def service(db: Database, clock: ManualClock) -> SubmissionService:
    return SubmissionService(
        SubmissionStore(db),
        SubmissionsSettings(cooldown_seconds=0, daily_cap=50, max_pending_per_user=50),
        targets=("telegram", "x"),
        resolver=Table({}),
        clock=clock,
    )


async def submit(svc: SubmissionService, who: Submitter, url: str, note: str = "") -> int:
    outcome = await svc.submit(who, f"{url} {note}".strip())
    assert isinstance(outcome, Accepted), outcome
    await svc.store.set_preview(
        outcome.submission_id, title="Fast CSV", description="Parsing CSV.", error=None, now=T0
    )
    return outcome.submission_id


async def row(svc: SubmissionService, sid: int) -> Submission:
    found = await svc.store.get(sid)
    assert found is not None
    return found


def posted(found: Submission) -> tuple[str, str]:
    """The channel's HTML and the X text the row would post now."""
    payloads = {p.target: p.payload for p in plan_submission_posts(found, ("telegram", "x"))}
    (part,) = TelegramPost.from_payload(payloads["telegram"]).parts
    assert isinstance(part, TelegramText)
    return part.html, XPost.from_payload(payloads["x"]).text


# ---- credit ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "choice", "telegram", "x", "zh", "en"),
    [
        (ADA, "username", "via @ada_l", "via ada_l", "（@ada_l 投稿）", "(Submitted by @ada_l)"),
        (
            ADA,
            "name",
            "via Ada Lovelace",
            "via Ada Lovelace",
            "（@Ada Lovelace 投稿）",
            "(Submitted by @Ada Lovelace)",
        ),
        (ADA, "anonymous", None, None, "", ""),
        # No @username: credited by the display name, whatever the choice said.
        (
            GRACE,
            "username",
            "via Grace Hopper",
            "via Grace Hopper",
            "（@Grace Hopper 投稿）",
            "(Submitted by @Grace Hopper)",
        ),
    ],
)
async def test_each_credit_choice_in_the_posts_and_the_draft(
    db: Database,
    clock: ManualClock,
    who: Submitter,
    choice: CreditChoice,
    telegram: str | None,
    x: str | None,
    zh: str,
    en: str,
) -> None:
    svc = service(db, clock)
    sid = await submit(svc, who, "https://blog.example.org/fast-csv")
    done = await svc.set_credit(who, choice)
    assert done.reader.credit == choice
    assert [r.id for r in done.pending] == ([sid] if choice != "name" else [])  # was "name"
    found = await row(svc, sid)
    assert found.credit_as == choice
    channel, x_text = posted(found)
    if telegram is None or x is None:
        assert "via" not in channel
        assert "via" not in x_text
    else:
        assert channel.endswith(f"\n\n{telegram}")
        assert x_text.endswith(f"{x}\nhttps://blog.example.org/fast-csv")
        assert "@" not in x_text  # X mentions nobody: that handle may be someone else there
    assert submission_draft_credit(found, "zh") == zh
    assert submission_draft_credit(found, "en") == en
    # The approval posts what the reader chose.
    decided = await svc.approve(sid, editor=EDITOR)
    assert decided is not None
    assert decided.won
    queued = await OutboxStore(db).get_by_key("telegram", submission_key(sid))
    assert queued is not None
    assert dict(queued.payload) == dict(
        next(p.payload for p in plan_submission_posts(found, ("telegram",)))
    )


@pytest.mark.parametrize(("lang", "wrap"), [("zh", zh_issue), ("en", en_issue)])
async def test_the_draft_credit_reads_back_as_the_newsletters_credit(
    db: Database, clock: ManualClock, lang: str, wrap: Any
) -> None:
    """The weekly's own parser finds the credit the draft writes (FORMAT.md §3.5)."""
    svc = service(db, clock)
    for who, choice, expected in (
        (ADA, "username", "@ada_l"),
        (ADA, "name", "@Ada Lovelace"),
        (GRACE, "name", "@Grace Hopper"),
    ):
        sid = await submit(svc, who, f"https://blog.example.org/{who.user_id}-{choice}")
        await svc.set_credit(who, choice)  # type: ignore[arg-type]
        credit = submission_draft_credit(await row(svc, sid), lang)
        heading = "## 🐿️Projects & Resources" if lang == "en" else "## 🐿️项目&资源"
        item = parse_issue(wrap(f"{heading}\n\n1、[p](https://e.com/p)\n\nA library{credit}"))
        assert item.sections[0].items[0].credit == expected, credit


async def test_a_credit_choice_follows_pending_links_but_not_decided_ones(
    db: Database, clock: ManualClock
) -> None:
    svc = service(db, clock)
    posted_sid = await submit(svc, ADA, "https://a.example.com/one")
    await svc.approve(posted_sid, editor=EDITOR)
    waiting = await submit(svc, ADA, "https://a.example.com/two")
    done = await svc.set_credit(ADA, "anonymous")
    assert [r.id for r in done.pending] == [waiting]
    assert (await row(svc, posted_sid)).credit_as == "name"  # its posts said so
    assert (await row(svc, waiting)).credit_as == "anonymous"
    later = await submit(svc, ADA, "https://a.example.com/three")
    assert (await row(svc, later)).credit_as == "anonymous"  # the next ones too
    audit = [e for e in await svc.store.db.fetchall("SELECT * FROM audit_log")]
    assert any(e["action"] == "user.credit" for e in audit)


# ---- /withdraw ---------------------------------------------------------------------------


async def test_withdraw_is_theirs_and_only_while_pending(db: Database, clock: ManualClock) -> None:
    svc = service(db, clock)
    sid = await submit(svc, ADA, "https://a.example.com/w")
    assert (await svc.withdraw_own(sid, user_id=GRACE.user_id)).outcome == "unknown"
    assert (await svc.withdraw_own(9999, user_id=ADA.user_id)).outcome == "unknown"
    assert (await row(svc, sid)).state == "pending"
    approved = await submit(svc, ADA, "https://a.example.com/approved")
    await svc.approve(approved, editor=EDITOR)
    refused = await svc.withdraw_own(approved, user_id=ADA.user_id)
    assert refused.outcome == "decided"
    assert refused.submission is not None
    assert (refused.submission.state, refused.submission.decided_by) == ("approved", EDITOR)
    done = await svc.withdraw_own(sid, user_id=ADA.user_id)
    assert done.outcome == "withdrawn"
    again = await svc.withdraw_own(sid, user_id=ADA.user_id)
    assert again.outcome == "decided"  # a second /withdraw changes nothing
    assert (await row(svc, sid)).state == "withdrawn"
    # The link is free again: withdrawn is no duplicate.
    assert isinstance(await svc.submit(ADA, "https://a.example.com/w"), Accepted)


# ---- /forgetme ---------------------------------------------------------------------------

NOTE = "my secret note zyxwvut for: quantum gardeners solves: slow tomatoes"
NAMES = ("Ada Lovelace", "ada_l", "zyxwvut", "quantum gardeners", "slow tomatoes")


async def every_text(db: Database) -> list[tuple[str, str, str]]:
    """Every text cell of every table: (table, column, value)."""
    tables = [
        r["name"]
        for r in await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    found = []
    for table in tables:
        for record in await db.fetchall(f'SELECT * FROM "{table}"'):  # noqa: S608 - our tables
            for column in record.keys():  # noqa: SIM118 - sqlite3.Row has no items()
                value = record[column]
                if isinstance(value, str):
                    found.append((table, column, value))
    return found


async def test_forgetme_leaves_no_personal_data_in_any_table_but_keeps_the_decisions(
    db: Database, clock: ManualClock
) -> None:
    svc = service(db, clock)
    await svc.set_credit(ADA, "name")
    published = await submit(svc, ADA, "https://a.example.com/published", NOTE)
    draft = await submit(svc, ADA, "https://a.example.com/draft", NOTE)
    rejected = await submit(svc, ADA, "https://a.example.com/rejected", NOTE)
    pending = await submit(svc, ADA, "https://a.example.com/pending", NOTE)
    other = await submit(svc, GRACE, "https://a.example.com/grace", "Grace's own note")
    await svc.approve(published, editor=EDITOR)
    await svc.draft_only(draft, editor=EDITOR)
    await svc.reject(rejected, editor=EDITOR, reason="other", text="not about Ada Lovelace")
    # The channel post went out (the stored copy names Ada); the X one waits.
    outbox = OutboxStore(db)
    tg = await outbox.get_by_key("telegram", submission_key(published))
    assert tg is not None
    claimed = await outbox.claim_next("telegram", owner="w", lease_seconds=60, now=T0)
    assert claimed is not None
    assert claimed.id == tg.id
    assert await outbox.mark_sent(tg.id, owner="w", remote_id="77", now=T0)
    async with db.transaction() as tx:  # an audit entry that quotes them (a future one's)
        await tx.execute(
            "INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)",
            (T0, "user:1002", "user.note", "user:1002", json.dumps({"said": NOTE})),
        )
    langs = UserLangStore(db)
    await langs.choose(ADA.user_id, "zh", now=T0)  # /lang zh: a row of hers
    await langs.observe(GRACE.user_id, "en", now=T0)
    follows = FollowStore(db)  # the words they follow (keyword alerts) are theirs too
    await follows.follow(ADA.user_id, ("zyxwvut", "quantum gardeners"), limit=10, now=T0)
    await follows.follow(GRACE.user_id, ("asyncio",), limit=10, now=T0)
    before = await every_text(db)
    assert ("follows", "word", "zyxwvut") in before
    assert any("Ada Lovelace" in v for _, _, v in before)  # the search can find them
    decisions = await svc.store.db.fetchall(
        "SELECT id, actor, action, subject, at FROM audit_log ORDER BY id"
    )

    request = await svc.ask_forget(ADA.user_id)
    assert await svc.forget(request.id, user_id=GRACE.user_id) is None  # not Grace's
    done = await svc.forget(request.id, user_id=ADA.user_id)
    assert done is not None
    assert done.won
    assert done.withdrawn == (pending,)
    assert done.posts_rewritten == 2  # the sent channel post's copy, the queued X post
    twice = await svc.forget(request.id, user_id=ADA.user_id)  # a double press
    assert twice is not None
    assert not twice.won

    leftovers = [
        (table, column, value)
        for table, column, value in await every_text(db)
        for name in NAMES
        if name.lower() in value.lower()
    ]
    assert leftovers == []
    # Her language goes too (a row keyed by her id, no name in it to search for).
    assert await langs.get(ADA.user_id) is None
    assert await follows.of_user(ADA.user_id) == ()
    # Grace is untouched.
    assert await langs.get(GRACE.user_id) is not None
    assert [f.word for f in await follows.of_user(GRACE.user_id)] == ["asyncio"]
    assert (await row(svc, other)).note == "Grace's own note"
    assert (await row(svc, other)).display_name == "Grace Hopper"
    # The decision log is kept: every entry still there, same who/what/when, plus the
    # withdrawal of the pending link and the forgetting itself.
    after = await svc.store.db.fetchall(
        "SELECT id, actor, action, subject, at FROM audit_log ORDER BY id"
    )
    assert [tuple(r) for r in after[: len(decisions)]] == [tuple(r) for r in decisions]
    assert [r["action"] for r in after[len(decisions) :]] == [
        "submission.withdraw",
        "user.forget",
    ]
    states = {sid: (await row(svc, sid)).state for sid in (published, draft, rejected, pending)}
    assert states == {
        published: "approved",
        draft: "approved",
        rejected: "rejected",
        pending: "withdrawn",
    }
    forgotten = await row(svc, published)
    assert forgotten.forgotten_at == T0
    assert (forgotten.user_id, forgotten.decided_by) == (ADA.user_id, EDITOR)  # the id stays
    assert forgotten.reason is None
    assert (await row(svc, rejected)).reason == f"other: not about {FORGOTTEN}"
    # The queued X post goes out without the credit; the channel's sent row keeps its id.
    x = await outbox.get_by_key("x", submission_key(published))
    assert x is not None
    assert x.state == "queued"
    assert "via" not in XPost.from_payload(x.payload).text
    sent = await outbox.get_by_key("telegram", submission_key(published))
    assert sent is not None
    assert (sent.state, sent.remote_id) == ("sent", "77")
    # The limits still count their links: forgetting is no way around the daily cap.
    counts = await svc.store.limit_counts(ADA.user_id, since=T0 - 1)
    assert len(counts.recent) == 4


async def test_a_cancelled_forget_request_forgets_nothing(db: Database, clock: ManualClock) -> None:
    svc = service(db, clock)
    sid = await submit(svc, ADA, "https://a.example.com/keep", NOTE)
    request = await svc.ask_forget(ADA.user_id)
    assert not await svc.cancel_forget(request.id, user_id=GRACE.user_id)
    assert await svc.cancel_forget(request.id, user_id=ADA.user_id)
    assert not await svc.cancel_forget(request.id, user_id=ADA.user_id)
    late = await svc.forget(request.id, user_id=ADA.user_id)
    assert late is not None
    assert not late.won
    assert late.request.state == "cancelled"
    assert (await row(svc, sid)).note.startswith("my secret note")
    # A new request replaces an unanswered one: the old button no longer acts.
    first = await svc.ask_forget(ADA.user_id)
    second = await svc.ask_forget(ADA.user_id)
    stale = await svc.forget(first.id, user_id=ADA.user_id)
    assert stale is not None
    assert not stale.won
    done = await svc.forget(second.id, user_id=ADA.user_id)
    assert done is not None
    assert done.won


async def test_the_migration_makes_the_old_credit_flag_the_readers_choice(
    tmp_path: Path,
) -> None:
    """A database of the on/off credit: each reader's latest choice becomes theirs."""
    (mine,) = (m.version for m in MIGRATIONS if m.name.startswith("submitters"))
    before = tuple(m for m in MIGRATIONS if m.version < mine)
    async with Database.open(tmp_path / "old.db") as db:
        await migrate(db, before, now=T0)
        for n, (user, credit) in enumerate(((1, 1), (1, 0), (2, 1))):
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO submissions (user_id, display_name, username, chat_id,"
                    " original_url, canonical_url, dedupe_key, credit, created_at, updated_at)"
                    " VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)",
                    (user, f"U{user}", user, f"u{n}", f"u{n}", f"k{n}", credit, T0 + n, T0 + n),
                )
        await migrate(db, now=T0)
        rows = await db.fetchall("SELECT id, credit_as FROM submissions ORDER BY id")
        assert [r["credit_as"] for r in rows] == ["name", "anonymous", "name"]
        users = await db.fetchall("SELECT user_id, credit, display_name FROM users ORDER BY 1")
        assert [tuple(u) for u in users] == [(1, "anonymous", "U1"), (2, "name", "U2")]


def test_a_latin_name_is_scrubbed_as_a_word_a_chinese_one_anywhere() -> None:
    needles = ["ann", "王宇昕"]
    assert _scrub({"t": ["Announcing ann's post", "王宇昕的链接"]}, needles) == {
        "t": ["Announcing [forgotten]'s post", "[forgotten]的链接"]
    }


# ---- the reminder's digest -----------------------------------------------------------------


async def test_the_digest_of_many_long_waiting_links_fits_one_message(
    db: Database, clock: ManualClock
) -> None:
    svc = service(db, clock)
    ids = []
    for n in range(30):
        sid = await submit(svc, ADA if n % 2 else GRACE, f"https://a.example.com/{n}")
        await svc.store.set_preview(
            sid, title="<Long & title> " * 40, description=None, error=None, now=T0
        )
        ids.append(sid)
    clock.now = T0 + 50 * 3600
    due = await svc.reminders_due()
    assert [r.id for r in due] == ids  # oldest first
    body = digest_text(due, now=clock.now, after_hours=24)
    assert telegram_length(body) <= TELEGRAM_TEXT_MAX
    assert body.count("\n#") == DIGEST_MAX_ITEMS
    assert body.endswith(f"…and {30 - DIGEST_MAX_ITEMS} more.")
    assert "&lt;Long &amp; title&gt;" in body  # escaped for Telegram's HTML
    assert f"#{ids[0]} · 2 days · a.example.com · " in body
    keyboard = digest_keyboard(due)
    assert keyboard is not None
    data = [b.callback_data for row in keyboard.inline_keyboard for b in row]
    assert data == [f"rm:1:op:{i}" for i in ids[:DIGEST_MAX_ITEMS]]
    assert digest_keyboard([]) is None
