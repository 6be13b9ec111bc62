"""The submissions service a handler calls: outcomes, limits, dedupe, preview, decisions."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import SubmissionsSettings
from bot.domain.issue import IssuePages
from bot.fakes.web import FakeWeb
from bot.fakes.x import FakeX, XLimits
from bot.submissions.intake import (
    SubmissionService,
    Submitter,
    plan_submission_posts,
    post_texts,
    split_submission,
)
from bot.submissions.rules import (
    Accepted,
    BannedUser,
    Disabled,
    Duplicate,
    OverLimit,
    Refused,
    parse_note,
)
from data.db import Database
from data.issues import IssueStore
from data.migrations import migrate
from data.outbox import OutboxStore
from data.submissions import Edit, Fields, Submission, SubmissionStore, submission_key
from publishers.limits import x_weighted_length
from publishers.posts import TelegramPost, TelegramText, XPost
from publishers.x_client import XClient
from tests.conftest import CHANNEL_ID, X_CREDENTIALS, ManualClock
from tests.delivery_support import (
    channel_fake,
    opened_store,
    step_until_idle,
    telegram_bot,
    telegram_worker,
    x_worker,
)
from tests.factories import make_issue, make_item
from tests.url_support import Table

T0 = 1_750_000_000.0
READER = Submitter(user_id=1002, display_name="Ada Lovelace", username="ada")
OTHER = Submitter(user_id=1004, display_name="Grace", username=None)
EDITOR = "user:1001"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "weekly.db") as database:
        await migrate(database, now=T0)
        yield database


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def service(db: Database, clock: ManualClock, **settings: Any) -> SubmissionService:
    values: dict[str, Any] = {"cooldown_seconds": 0, **settings}
    resolver = values.pop("resolver", Table({}))
    return SubmissionService(
        SubmissionStore(db),
        SubmissionsSettings(**values),
        targets=("telegram", "x"),
        resolver=resolver,
        clock=clock,
        pages=IssuePages("https://github.com/chinesehuazhou/python-weekly"),
    )


async def accepted(svc: SubmissionService, text: str, user: Submitter = READER) -> int:
    outcome = await svc.submit(user, text)
    assert isinstance(outcome, Accepted), outcome
    return outcome.submission_id


# ---- intake -------------------------------------------------------------------------------


def test_the_note_gives_its_fields_in_any_order() -> None:
    note = parse_note("A good read for: data folks level：beginner solves: slow CSV")
    assert note == parse_note("A good read   solves: slow CSV for: data folks level: beginner")
    assert not isinstance(note, Refused)
    assert note.text == "A good read"
    assert note.fields == Fields(for_whom="data folks", solves="slow CSV", level="beginner")
    plain = parse_note("before: is not a label")
    assert not isinstance(plain, Refused)
    assert plain.fields == Fields()
    assert split_submission("  https://a.example.com/x  note here ") == (
        "https://a.example.com/x",
        "note here",
    )


async def test_a_link_is_accepted_with_its_note(db: Database, clock: ManualClock) -> None:
    svc = service(db, clock)
    text = "https://Blog.Example.org/post?utm_source=tg&b=2&a=1 Nice. for: beginners"
    outcome = await svc.submit(READER, text)
    assert isinstance(outcome, Accepted)
    assert outcome.canonical_url == "https://blog.example.org/post?a=1&b=2"
    stored = await svc.store.get(outcome.submission_id)
    assert stored is not None
    assert stored.original_url == "https://Blog.Example.org/post?utm_source=tg&b=2&a=1"
    assert (stored.note, stored.fields.for_whom) == ("Nice.", "beginners")
    assert (stored.user_id, stored.chat_id, stored.username) == (1002, 1002, "ada")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "empty"),
        ("ftp://files.example.com/x", "scheme"),
        ("https://127.0.0.1/admin", "host"),
        ("https://intranet.local/", "host"),
        ("https://example.com/" + "a" * 2100, "length"),
        ("https://example.com/ " + "n" * 1001, "note"),
        ("https://example.com/ for: " + "n" * 201, "note"),
    ],
)
async def test_bad_input_is_refused_with_the_rule_and_an_example(
    db: Database, clock: ManualClock, text: str, rule: str
) -> None:
    outcome = await service(db, clock).submit(READER, text)
    assert isinstance(outcome, Refused)
    assert outcome.rule == rule
    assert outcome.example in outcome.message
    assert await SubmissionStore(db).list_by_state("pending") == []


async def test_switched_off_refuses_everything(db: Database, clock: ManualClock) -> None:
    outcome = await service(db, clock, enabled=False).submit(READER, "https://example.com/")
    assert outcome == Disabled()
    assert await SubmissionStore(db).list_by_state("pending") == []


async def test_a_banned_reader_is_refused(db: Database, clock: ManualClock) -> None:
    svc = service(db, clock)
    first = await accepted(svc, "https://spam.example.com/1")
    decided = await svc.ban(first, editor=EDITOR)
    assert decided is not None
    assert decided.won
    clock.now += 3600
    assert await svc.submit(READER, "https://fine.example.com/") == BannedUser()
    assert isinstance(await svc.submit(OTHER, "https://fine.example.com/"), Accepted)


# ---- limits --------------------------------------------------------------------------


async def test_cooldown_says_when_to_retry(db: Database, clock: ManualClock) -> None:
    svc = service(db, clock, cooldown_seconds=60)
    await accepted(svc, "https://a.example.com/1")
    clock.now += 20
    assert await svc.submit(READER, "https://a.example.com/2") == OverLimit("cooldown", 60, T0 + 60)
    assert isinstance(await svc.submit(OTHER, "https://a.example.com/2"), Accepted)
    clock.now = T0 + 60
    await accepted(svc, "https://a.example.com/3")


async def test_the_daily_cap_frees_up_as_the_day_rolls(db: Database, clock: ManualClock) -> None:
    svc = service(db, clock, daily_cap=3, max_pending_per_user=10)
    for n in range(3):
        await accepted(svc, f"https://a.example.com/{n}")
        clock.now += 3600
    over = await svc.submit(READER, "https://a.example.com/late")
    assert over == OverLimit("daily_cap", 3, T0 + 86400)
    clock.now = T0 + 86400 + 1
    await accepted(svc, "https://a.example.com/late")


async def test_pending_caps_per_reader_and_in_total(db: Database, clock: ManualClock) -> None:
    svc = service(db, clock, max_pending_per_user=2, max_pending_total=3)
    first = await accepted(svc, "https://a.example.com/1")
    await accepted(svc, "https://a.example.com/2")
    assert await svc.submit(READER, "https://a.example.com/3") == OverLimit(
        "pending_per_user", 2, None
    )
    await accepted(svc, "https://b.example.com/1", OTHER)
    assert await svc.submit(OTHER, "https://b.example.com/2") == OverLimit("pending_total", 3, None)
    await svc.reject(first, editor=EDITOR, reason="off_topic")
    await accepted(svc, "https://a.example.com/3")


# ---- dedupe ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "again",
    [
        "https://example.com/article?utm_source=x&utm_medium=tg",
        "http://example.com/article",
        "https://example.com/article/",
        "https://www.example.com/article",
        "HTTPS://WWW.EXAMPLE.COM:443/article/?fbclid=abc#comments",
    ],
)
async def test_spellings_of_a_pending_link_are_duplicates(
    db: Database, clock: ManualClock, again: str
) -> None:
    svc = service(db, clock)
    first = await accepted(svc, "https://example.com/article")
    mine = await svc.submit(READER, again)
    assert mine == Duplicate(
        canonical_url=mine.canonical_url,  # type: ignore[union-attr]
        submission_id=first,
        state="pending",
        yours=True,
    )
    theirs = await svc.submit(OTHER, again)
    assert isinstance(theirs, Duplicate)
    assert not theirs.yours
    assert not theirs.featured


async def test_a_link_already_in_a_stored_issue_names_the_issue(
    db: Database, clock: ManualClock
) -> None:
    item = make_item(2, url="https://github.com/gpustack/gpustack")
    await IssueStore(db).upsert(make_issue({"projects": [item]}, number=106), now=T0)
    outcome = await service(db, clock).submit(
        READER, "http://www.github.com/gpustack/gpustack/?utm_source=weekly"
    )
    assert isinstance(outcome, Duplicate)
    assert outcome.featured
    assert (outcome.issue_number, outcome.issue_date) == (106, dt.date(2025, 6, 7))
    assert outcome.issue_url == (
        "https://github.com/chinesehuazhou/python-weekly/blob/main/docs/2025-06-07-weekly.md"
    )
    assert outcome.item_url == "https://github.com/gpustack/gpustack"


async def test_a_rejected_link_may_be_sent_again(db: Database, clock: ManualClock) -> None:
    svc = service(db, clock)
    first = await accepted(svc, "https://example.com/fixed")
    await svc.reject(first, editor=EDITOR, reason="broken_link")
    second = await accepted(svc, "https://example.com/fixed", OTHER)
    hints = await svc.store.find_duplicates("example.com/fixed", exclude_id=second)
    assert [(s.submission_id, s.state) for s in hints.submissions] == [(first, "rejected")]


async def test_ten_readers_sending_one_link_at_once_store_it_once(
    db: Database, clock: ManualClock
) -> None:
    svc = service(db, clock)
    readers = [Submitter(user_id=2000 + n, display_name=f"R{n}") for n in range(10)]
    outcomes = await asyncio.gather(
        *(
            svc.submit(r, "https://example.com/hot?utm_source=" + str(n))
            for n, r in enumerate(readers)
        )
    )
    assert sum(isinstance(o, Accepted) for o in outcomes) == 1
    assert sum(isinstance(o, Duplicate) for o in outcomes) == 9


# ---- the preview ------------------------------------------------------------------------


@pytest.fixture
async def fake_web() -> AsyncIterator[FakeWeb]:
    async with FakeWeb() as server:
        yield server


async def test_the_preview_is_fetched_from_an_allowed_page_and_kept(
    db: Database, clock: ManualClock, fake_web: FakeWeb
) -> None:
    port = fake_web.address[1]
    svc = service(
        db,
        clock,
        preview_allow=(("site.example.com", port),),
        resolver=Table({"site.example.com": ["127.0.0.1"]}),
    )
    url = fake_web.add_page("csv", "Fast CSV", "Parsing CSV quickly.").replace(
        "127.0.0.1", "site.example.com"
    )
    submission_id = await accepted(svc, url)
    clock.now += 1
    task = svc.preview_in_background(submission_id)
    done = await task
    assert done is not None
    assert (done.preview_title, done.preview_description) == ("Fast CSV", "Parsing CSV quickly.")
    assert (done.preview_error, done.previewed_at) == (None, T0 + 1)
    assert fake_web.requests == ["/page/csv"]
    texts = post_texts(done)
    assert "Fast CSV" in texts.telegram_html
    assert texts.x_text is not None
    assert texts.x_weight == x_weighted_length(texts.x_text)


async def test_a_page_on_a_private_address_is_not_fetched_and_the_card_says_why(
    db: Database, clock: ManualClock, fake_web: FakeWeb
) -> None:
    # Allowed is the fake page by its address, not this name: the name's address is checked.
    svc = service(
        db,
        clock,
        preview_allow=(fake_web.address,),
        resolver=Table({"intranet.example.com": ["10.0.0.1"]}),
    )
    submission_id = await accepted(svc, "https://intranet.example.com/secret")
    await svc.preview_in_background(submission_id)
    await svc.drain()
    stored = await svc.store.get(submission_id)
    assert stored is not None
    assert stored.state == "pending"
    assert stored.preview_title is None
    assert stored.preview_error is not None
    assert "10.0.0.1" in stored.preview_error
    assert fake_web.requests == []


# ---- decisions -------------------------------------------------------------------------


async def submitted_with_preview(svc: SubmissionService) -> Submission:
    submission_id = await accepted(svc, "https://blog.example.org/fast-csv")
    stored = await svc.store.set_preview(
        submission_id, title="Fast CSV", description="Parsing CSV quickly.", error=None, now=T0
    )
    assert stored is not None
    return stored


def telegram_html(payload: Any) -> str:
    (part,) = TelegramPost.from_payload(payload).parts
    assert isinstance(part, TelegramText)
    return part.html


async def test_approve_queues_one_credited_post_per_target(
    db: Database, clock: ManualClock
) -> None:
    svc = service(db, clock)
    sub = await submitted_with_preview(svc)
    results = await asyncio.gather(*(svc.approve(sub.id, editor=f"user:{n}") for n in range(10)))
    assert sum(1 for r in results if r is not None and r.won) == 1
    outbox = OutboxStore(db)
    tg = await outbox.get_by_key("telegram", submission_key(sub.id))
    x = await outbox.get_by_key("x", submission_key(sub.id))
    assert tg is not None
    assert x is not None
    assert (tg.kind, tg.next_attempt_at) == ("submission", T0)  # due at once
    assert telegram_html(tg.payload) == (
        '<b><a href="https://blog.example.org/fast-csv">Fast CSV</a></b>\n\n'
        "Parsing CSV quickly.\n\nvia Ada Lovelace"
    )
    assert XPost.from_payload(x.payload).text.endswith(
        "via Ada Lovelace\nhttps://blog.example.org/fast-csv"
    )


async def test_the_posted_texts_are_the_edited_ones_on_both(
    db: Database, clock: ManualClock
) -> None:
    svc = service(db, clock)
    sub = await submitted_with_preview(svc)
    shown = post_texts(sub, proposed=("x", Edit(title="Faster CSV (X)", comment="Short.")))
    assert (
        shown.x_text
        == "Faster CSV (X)\n\nShort.\n\nvia Ada Lovelace\nhttps://blog.example.org/fast-csv"
    )
    assert shown.x_weight == x_weighted_length(shown.x_text)
    assert "Fast CSV</a>" in shown.telegram_html  # the channel's text is not this edit's
    assert (await svc.store.get(sub.id)).edits == {}  # type: ignore[union-attr]
    too_long = await svc.save_edit(sub.id, "x", title="T", comment="长" * 300, editor=EDITOR)
    assert isinstance(too_long, str)
    assert "280" in too_long
    for target, title in (("telegram", "Faster CSV (TG)"), ("x", "Faster CSV (X)")):
        saved = await svc.save_edit(
            sub.id, target, title=title, comment=f"Editor on {target}.", editor=EDITOR
        )
        assert isinstance(saved, Submission)
    decided = await svc.approve(sub.id, editor=EDITOR)
    assert decided is not None
    assert decided.won
    rows = {p.target: p.payload for p in plan_submission_posts(decided.submission, svc.targets)}
    outbox = OutboxStore(db)
    tg = await outbox.get_by_key("telegram", submission_key(sub.id))
    x = await outbox.get_by_key("x", submission_key(sub.id))
    assert tg is not None
    assert x is not None
    assert dict(tg.payload) == rows["telegram"]
    assert dict(x.payload) == rows["x"]
    assert "Faster CSV (TG)</a></b>\n\nEditor on telegram." in telegram_html(tg.payload)
    assert XPost.from_payload(x.payload).text.startswith("Faster CSV (X)\n\nEditor on x.")
    assert await svc.save_edit(sub.id, "x", title="late", comment=None, editor=EDITOR) is None


async def test_draft_only_reject_and_a_late_press(db: Database, clock: ManualClock) -> None:
    svc = service(db, clock)
    kept = await accepted(svc, "https://a.example.com/keep")
    decided = await svc.draft_only(kept, editor=EDITOR)
    assert decided is not None
    assert decided.won
    assert decided.submission.mode == "draft"
    assert await OutboxStore(db).get_by_key("telegram", submission_key(kept)) is None
    clock.now += 5
    late = await svc.reject(kept, editor="user:1003", reason="off_topic")
    assert late is not None
    assert not late.won
    assert (late.submission.decided_by, late.submission.decided_at) == (EDITOR, T0)
    other = await accepted(svc, "https://a.example.com/other")
    turned = await svc.reject(other, editor=EDITOR, reason="other", text="  not  Python ")
    assert turned is not None
    assert turned.submission.reason == "other: not Python"
    with pytest.raises(ValueError, match="unknown reject reason"):
        await svc.reject(other, editor=EDITOR, reason="rude")  # type: ignore[arg-type]


async def test_no_credit_when_the_reader_declined(db: Database, clock: ManualClock) -> None:
    svc = service(db, clock)
    sub = await submitted_with_preview(svc)
    assert (
        await svc.store.set_reader_choices(
            sub.id, user_id=OTHER.user_id, fields=Fields(level="beginner"), now=T0
        )
        is None
    )
    done = await svc.set_credit(READER, "anonymous")
    assert [r.id for r in done.pending] == [sub.id]
    row = await svc.store.set_reader_choices(
        sub.id, user_id=READER.user_id, fields=Fields(level="advanced"), now=T0
    )
    assert row is not None
    assert row.credit_as == "anonymous"
    assert row.fields == Fields(level="advanced")
    assert row.note == sub.note
    assert all("via" not in str(p.payload) for p in plan_submission_posts(row, svc.targets))


# ---- through the real workers and the fakes -------------------------------------------


async def test_an_approved_link_is_posted_once_on_both_and_then_published(
    tmp_path: Path, clock: ManualClock
) -> None:
    """The rows approve queues pass the fakes' rules, and the sweep sees them sent."""
    limits = XLimits(post_15m=100, post_user_24h=100, post_app_24h=100)
    async with (
        opened_store(tmp_path / "e2e.db") as store,
        channel_fake() as tg,
        telegram_bot(tg) as bot,
        FakeX(**X_CREDENTIALS, limits=limits) as fx,
        XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as client,
    ):
        svc = service(store.db, clock)
        sub = await submitted_with_preview(svc)
        decided = await svc.approve(sub.id, editor=EDITOR)
        assert decided is not None
        again = await svc.approve(sub.id, editor="user:1003")
        assert again is not None
        assert not again.won
        assert await step_until_idle(telegram_worker(store, bot)) == 1
        assert await step_until_idle(x_worker(store, client)) == 1
        (message,) = tg.messages(CHANNEL_ID)
        assert message.text == "Fast CSV\n\nParsing CSV quickly.\n\nvia Ada Lovelace"
        (posted,) = fx.posts()
        assert posted.text.endswith("via Ada Lovelace\nhttps://blog.example.org/fast-csv")
        (published,) = await svc.published()
        assert published.id == sub.id
        assert published.state == "published"
        tg_row = await store.outbox.get_by_key("telegram", submission_key(sub.id))
        assert tg_row is not None
        assert tg_row.remote_id == str(message.message_id)  # the submitter's link to the post
