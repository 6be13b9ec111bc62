"""The Sunday roundup: the pure planner and formatter, then the running bot on the fakes.

The bot reads real feeds over loopback HTTP from `FakeWeb` (documents written here,
`bot.fakes.feeds`), posts through the outbox to the fake Telegram, and tells the
editor. The roundup's clock is a `ShiftedClock`: a test sets it just before the slot
and sees the real JobQueue fire.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import Runtime, bot_running
from bot.domain.roundup import FeedProblem, Roundup, RoundupEntry
from bot.fakes.feeds import atom, rss
from bot.fakes.telegram import ChatMessage, FakeTelegram
from bot.fakes.web import FakeWeb
from bot.roundup.planner import FeedRead, plan_roundup
from bot.roundup.report import run_report
from bot.roundup.schedule import JOB_NAME, last_slot, next_slot
from bot.weekly.sources.feed import FeedItem
from handlers.commands import COMMANDS
from publishers.format_roundup import format_roundup_telegram
from publishers.limits import (
    TELEGRAM_ENTITIES_MAX,
    TELEGRAM_TEXT_MAX,
    telegram_entity_count,
    telegram_length,
)
from tests.conftest import CHANNEL_ID, EDITOR_ID, READER_ID, settings_for
from tests.delivery_support import ShiftedClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Sunday 2026-12-13 18:00 in Shanghai (10:00 UTC): the slot most tests use.
SLOT = dt.datetime(2026, 12, 13, 18, 0, tzinfo=SHANGHAI)
SUNDAY = 6


def ago(days: float, *, at: dt.datetime = SLOT) -> dt.datetime:
    return (at - dt.timedelta(days=days)).astimezone(dt.UTC)


def item(title: str, link: str, published: dt.datetime | None) -> FeedItem:
    return FeedItem(guid=link, title=title, link=link, published=published)


def plan(reads: list[FeedRead], **kw: Any) -> Roundup:
    values: dict[str, Any] = {"now": SLOT, "zone": SHANGHAI, "lookback_days": 7, "posted": {}}
    return plan_roundup(reads, **(values | kw))


# ---- the planner (pure) ------------------------------------------------------------------


def test_a_numbered_entry_wins_over_a_later_other_entry() -> None:
    reads = [
        FeedRead(
            "Alpha Weekly",
            (
                item("Alpha Weekly #41: older", "https://a.example/41", ago(9)),
                item("Alpha Weekly #42: generators", "https://a.example/42", ago(3)),
                item("A word from our sponsor", "https://a.example/sponsor", ago(1)),
            ),
        )
    ]
    roundup = plan(reads)
    assert [(e.title, e.issue_key, e.number) for e in roundup.entries] == [
        ("Alpha Weekly #42: generators", "#42", 42)
    ]
    assert roundup.problems == ()
    assert (roundup.start, roundup.end, roundup.date) == (
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 13),
        dt.date(2026, 12, 13),
    )


def test_a_listed_issue_leaves_no_room_for_the_newsletters_other_entries() -> None:
    reads = [
        FeedRead(
            "Alpha Weekly",
            (
                item("Alpha Weekly #42: generators", "https://a.example/42", ago(3)),
                item("A word from our sponsor", "https://a.example/sponsor", ago(1)),
            ),
        )
    ]
    roundup = plan(reads, posted={"Alpha Weekly": {"#42": dt.date(2026, 12, 6)}})
    assert roundup.entries == ()
    assert [p.kind for p in roundup.problems] == ["posted"]


def test_without_a_numbered_entry_the_latest_wins_and_the_name_is_prefixed() -> None:
    reads = [
        FeedRead(
            "Beta News",
            (
                item("Issue 7 – async tips", "https://b.example/7", ago(5)),
                item("Issue 8 – typing", "https://b.example/8", ago(2)),
            ),
        )
    ]
    (entry,) = plan(reads).entries
    assert entry.title == "Beta News Issue 8 – typing"
    assert entry.url == "https://b.example/8"


def test_never_a_newsletter_twice() -> None:
    # One newsletter with two feeds carrying the same issue, and one whose latest
    # issue an earlier roundup listed already.
    reads = [
        FeedRead("Alpha Weekly", (item("Alpha Weekly #42", "https://a.example/42", ago(2)),)),
        FeedRead("Alpha Weekly", (item("Alpha Weekly #42", "https://mirror.example/42", ago(1)),)),
        FeedRead("Gamma", (item("Gamma #9", "https://g.example/9", ago(1)),)),
    ]
    roundup = plan(reads, posted={"Gamma": {"#9": dt.date(2026, 12, 6)}})
    assert [e.newsletter for e in roundup.entries] == ["Alpha Weekly"]
    assert roundup.problems == (FeedProblem("Gamma", "posted", "Gamma #9", dt.date(2026, 12, 6)),)


def test_every_newsletter_left_out_has_a_reason() -> None:
    reads = [
        FeedRead("Down", None, "HTTP 500"),
        FeedRead("Old", (item("Old #1", "https://o.example/1", ago(30)),)),
        FeedRead("Empty", ()),
        FeedRead("Undated", (item("Undated #3", "https://u.example/3", None),)),
    ]
    roundup = plan(reads)
    assert roundup.empty
    assert [(p.newsletter, p.kind) for p in roundup.problems] == [
        ("Down", "failed"),
        ("Old", "stale"),
        ("Empty", "empty"),
        ("Undated", "undated"),
    ]
    report = run_report(roundup, days=7)
    assert "No roundup on 2026-12-13" in report
    assert "• Down: the feed could not be read (HTTP 500)" in report
    assert "• Old: nothing new in the last 7 days (latest: Old #1, 2026-11-13)" in report


# ---- the slot (pure) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (dt.datetime(2026, 12, 13, 17, 59, 59, tzinfo=SHANGHAI), SLOT),
        (SLOT, SLOT + dt.timedelta(days=7)),
        (dt.datetime(2026, 12, 8, 3, 0, tzinfo=SHANGHAI), SLOT),  # Tuesday
        # Sunday 12:00 UTC is already Sunday 20:00 in Shanghai: next week's.
        (dt.datetime(2026, 12, 13, 12, 0, tzinfo=dt.UTC), SLOT + dt.timedelta(days=7)),
        # Sunday 09:00 UTC is 17:00 in Shanghai: today's.
        (dt.datetime(2026, 12, 13, 9, 0, tzinfo=dt.UTC), SLOT),
    ],
)
def test_the_slot_is_sunday_1800_in_shanghai(now: dt.datetime, expected: dt.datetime) -> None:
    got = next_slot(now, weekday=SUNDAY, at=dt.time(18, 0), zone=SHANGHAI)
    assert got == expected
    assert last_slot(got, weekday=SUNDAY, at=dt.time(18, 0), zone=SHANGHAI) == got


# ---- the formatter (pure) ----------------------------------------------------------------


def entry(n: int, title: str | None = None) -> RoundupEntry:
    return RoundupEntry(
        "Alpha", title or f"Alpha #{n}: <tips> & tricks", f"https://a.example/{n}", ago(1), f"#{n}"
    )


def test_the_post_has_the_range_linked_titles_and_the_channel() -> None:
    roundup = Roundup(
        dt.date(2026, 12, 13), dt.date(2026, 12, 7), dt.date(2026, 12, 13), (entry(1),)
    )
    (post,) = format_roundup_telegram(roundup, lang="zh", channel="@pythontrendingweekly")
    (part,) = post.parts
    html = part.html
    assert html.startswith("Python 社区中有不少优秀的技术周刊")
    assert "时间：2026.12.07 - 2026.12.13" in html
    assert '① <a href="https://a.example/1">Alpha #1: &lt;tips&gt; &amp; tricks</a>' in html
    assert html.endswith("🐱频道 @pythontrendingweekly")
    assert part.disable_preview is True


def test_a_long_roundup_is_split_between_entries_within_the_limits() -> None:
    entries = tuple(entry(n, f"Alpha #{n}: " + "long title " * 15) for n in range(1, 121))
    roundup = Roundup(dt.date(2026, 12, 13), dt.date(2026, 12, 7), dt.date(2026, 12, 13), entries)
    posts = format_roundup_telegram(roundup, lang="en", channel=None)
    assert len(posts) > 1
    texts = [p.parts[0].html for p in posts]
    for n, html in enumerate(texts, start=1):
        assert html.startswith(f"({n}/{len(posts)})")
        assert telegram_length(html) <= TELEGRAM_TEXT_MAX
        assert telegram_entity_count(html) <= TELEGRAM_ENTITIES_MAX
    assert sum(html.count('<a href="') for html in texts) == 120


# ---- the running bot ---------------------------------------------------------------------


async def until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - a predicate over the fakes, no event to await
            await asyncio.sleep(0.01)


@dataclass
class World:
    tg: FakeTelegram
    web: FakeWeb
    clock: ShiftedClock
    runtime: Runtime

    def channel(self) -> list[ChatMessage]:
        return self.tg.sent(CHANNEL_ID)

    def editor(self) -> list[ChatMessage]:
        return self.tg.sent(EDITOR_ID)

    async def fire_at(self, slot: dt.datetime) -> None:
        """Set the clock just before `slot` and let the real JobQueue fire the job."""
        scheduler = self.runtime.roundup
        assert scheduler is not None
        job_queue = self.runtime.application.job_queue
        assert job_queue is not None
        reports = len(self.editor())
        self.clock.set_now(slot.timestamp() - 0.3)
        assert scheduler.schedule(job_queue) == slot
        await until(lambda: len(self.editor()) > reports)

    async def rows(self) -> list[Any]:
        outbox = self.runtime.services.store.outbox
        return [
            row
            for state in ("queued", "sending", "sent")
            for row in await outbox.list_by_state(state, limit=100)  # type: ignore[arg-type]
            if row.idempotency_key.startswith("roundup:")
        ]


def feeds_of_the_week(web: FakeWeb, slot: dt.datetime = SLOT) -> list[dict[str, str]]:
    alpha = web.add_feed(
        "alpha",
        rss(
            "Alpha Weekly",
            [
                ("A word from our sponsor", "https://a.example/sponsor", ago(1, at=slot)),
                ("Alpha Weekly #42: generators", "https://a.example/42", ago(3, at=slot)),
            ],
        ),
    )
    beta = web.add_feed(
        "beta", atom("Beta", [("Issue 8 – typing", "https://b.example/8", ago(2, at=slot))])
    )
    down = web.add_feed("down", rss("Down", []))
    web.fail_feed("down", 500)
    return [
        {"name": "Alpha Weekly", "url": alpha},
        {"name": "Beta News", "url": beta},
        {"name": "Down Digest", "url": down},
    ]


@contextlib.asynccontextmanager
async def world(
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    feeds: Callable[[FakeWeb], list[dict[str, str]]] = feeds_of_the_week,
    **roundup: Any,
) -> AsyncIterator[World]:
    fake_telegram.api.flood = None
    clock = ShiftedClock()
    clock.set_now((SLOT - dt.timedelta(days=3)).timestamp())  # a Thursday: nothing due
    async with FakeWeb() as web:
        options = {"feeds": feeds(web), "retries": 0, **roundup}
        settings = settings_for(
            fake_telegram,
            tmp_path,
            telegram={
                "token": fake_telegram.token,
                "api_base_url": fake_telegram.base_url,
                "channel_id": CHANNEL_ID,
                "editor_ids": (EDITOR_ID,),
                "posts_per_minute": 600,
                "min_spacing_seconds": 0.01,
            },
            roundup=options,
        )
        async with bot_running(settings, clock=clock) as runtime:
            yield World(fake_telegram, web, clock, runtime)


async def test_the_job_fires_at_the_slot_posts_once_and_reports_the_feed_that_is_down(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world(fake_telegram, tmp_path) as w:
        await w.fire_at(SLOT)
        await until(lambda: len(w.channel()) == 1)
        (post,) = w.channel()
        assert post.text is not None
        assert "时间：2026.12.07 - 2026.12.13" in post.text
        assert "① Alpha Weekly #42: generators" in post.text  # the #N entry, not the sponsor
        assert "② Beta News Issue 8 – typing" in post.text  # the name prefixed
        assert "Down Digest" not in post.text
        assert post.text.endswith("🐱频道 @pythontrendingweekly")
        assert [e.url for e in post.entities if e.url] == [
            "https://a.example/42",
            "https://b.example/8",
        ]
        report = w.editor()[-1].text or ""
        assert "The roundup of 2026-12-13 is queued for the channel: 2 newsletters." in report
        assert "• Down Digest: the feed could not be read (HTTP 500)" in report
        (row,) = await w.rows()
        assert row.idempotency_key == "roundup:2026-12-13"
        # The job placed the next one, a week later, when it fired.
        assert w.runtime.roundup is not None
        assert w.runtime.roundup.slot == SLOT + dt.timedelta(days=7)
        job_queue = w.runtime.application.job_queue
        assert job_queue is not None
        (job,) = job_queue.get_jobs_by_name(JOB_NAME)
        assert job.next_t is not None
        # The job queue runs on the wall clock: the next slot is as far from it as from ours.
        delay = (SLOT + dt.timedelta(days=7)).timestamp() - w.clock()
        assert abs(job.next_t.timestamp() - (time.time() + delay)) < 5


async def test_a_slot_runs_once_however_often_it_fires(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world(fake_telegram, tmp_path) as w:
        scheduler = w.runtime.roundup
        assert scheduler is not None
        first, second = await asyncio.gather(
            scheduler.fire(w.runtime.application.bot, SLOT),
            scheduler.fire(w.runtime.application.bot, SLOT),
        )
        assert sorted([first.queued, second.queued]) == [False, True]
        again = await scheduler.fire(w.runtime.application.bot, SLOT)
        assert again.queued is False
        await until(lambda: len(w.channel()) == 1)
        assert len(await w.rows()) == 1
        await asyncio.sleep(0.2)  # a second post would be on its way by now
        assert len(w.channel()) == 1
        reports = [m for m in w.editor() if "roundup of 2026-12-13" in (m.text or "")]
        assert len(reports) == 1


def old_feeds(web: FakeWeb) -> list[dict[str, str]]:
    old = web.add_feed("old", rss("Old", [("Old #1", "https://o.example/1", ago(20))]))
    down = web.add_feed("down", rss("Down", []))
    web.fail_feed("down", 503)
    return [{"name": "Old Weekly", "url": old}, {"name": "Down Digest", "url": down}]


async def test_nothing_new_anywhere_tells_the_editors_and_posts_nothing(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world(fake_telegram, tmp_path, old_feeds) as w:
        await w.fire_at(SLOT)
        report = w.editor()[-1].text or ""
        assert report.startswith("📰 No roundup on 2026-12-13")
        assert "Nothing is posted." in report
        assert (
            "• Old Weekly: nothing new in the last 7 days (latest: Old Weekly Old #1, 2026-11-23)"
            in report
        )
        assert "• Down Digest: the feed could not be read (HTTP 503)" in report
        assert await w.rows() == []
        assert w.channel() == []
        run = await w.runtime.services.store.roundups.get(SLOT.date())
        assert run is not None
        assert run.outcome == "empty"


async def test_an_issue_listed_last_week_is_never_listed_again(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    # Twelve days back: both issues of the first week are in the second week's window
    # (and Alpha's sponsor note is no fallback for its issue #42).
    async with world(fake_telegram, tmp_path, lookback_days=12) as w:
        await w.fire_at(SLOT)
        await until(lambda: len(w.channel()) == 1)
        nxt = SLOT + dt.timedelta(days=7)
        await w.fire_at(nxt)
        report = w.editor()[-1].text or ""
        assert "• Alpha Weekly: its latest issue, Alpha Weekly #42: generators, was in the" in (
            report
        )
        assert "roundup of 2026-12-13" in report
        assert "Beta News" in report  # its issue 8 was listed too
        assert "No roundup on 2026-12-20" in report
        assert len(w.channel()) == 1


async def test_a_feed_that_fails_for_a_moment_is_asked_again(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    def flaky(web: FakeWeb) -> list[dict[str, str]]:
        feeds = feeds_of_the_week(web)
        web.fail_feed("alpha", 503, times=1)
        return feeds

    async with world(fake_telegram, tmp_path, flaky, retries=2, retry_seconds=0.01) as w:
        await w.fire_at(SLOT)
        await until(lambda: len(w.channel()) == 1)
        assert "Alpha Weekly #42" in (w.channel()[0].text or "")
        assert w.web.requests.count("/feed/alpha") == 2
        assert w.web.requests.count("/feed/down") == 3  # a 500 is asked again too, then told


async def test_roundup_previews_for_editors_and_refuses_others(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world(fake_telegram, tmp_path) as w:
        w.clock.set_now(SLOT.timestamp() - 3600)  # an hour before the slot
        before = len(w.editor())
        w.tg.user_sends(EDITOR_ID, "/roundup")
        await until(lambda: any("Left out:" in (m.text or "") for m in w.editor()[before:]))
        replies = [m.text or "" for m in w.editor()[before:]]
        assert replies[0] == "Reading 3 feeds…"
        assert replies[1].startswith("📰 The roundup as it would be posted now (2026-12-07 to")
        assert "Sun 2026-12-13 18:00 CST" in replies[1]
        assert "① Alpha Weekly #42: generators" in replies[2]
        assert "• Down Digest: the feed could not be read (HTTP 500)" in replies[3]
        assert w.channel() == []  # a preview posts nothing
        assert await w.rows() == []
        # The run after the preview asks the unchanged feeds conditionally: 304s.
        await w.fire_at(SLOT)
        await until(lambda: len(w.channel()) == 1)
        assert w.web.not_modified == 2

        replies_before = len(w.tg.sent(READER_ID))
        w.tg.user_sends(READER_ID, "/roundup")
        await until(lambda: len(w.tg.sent(READER_ID)) > replies_before)
        assert w.tg.sent(READER_ID)[-1].text == "This command is for editors."


def test_roundup_is_an_editors_command() -> None:
    (spec,) = [c for c in COMMANDS if c.name == "roundup"]
    assert spec.editors_only
    assert spec.description


async def test_a_restart_rebuilds_the_job_and_catches_up_a_missed_sunday(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world(fake_telegram, tmp_path) as w:
        await w.fire_at(SLOT)  # the bot has posted a roundup before
        await until(lambda: len(w.channel()) == 1)
    # Down over the next Sunday's slot; back an hour after it.
    nxt = SLOT + dt.timedelta(days=7)
    clock = ShiftedClock()
    clock.set_now(nxt.timestamp() + 3600)
    async with FakeWeb() as web:
        entries = [("Alpha Weekly #43: iterators", "https://a.example/43", ago(2, at=nxt))]
        url = web.add_feed("alpha", rss("Alpha Weekly", entries))
        settings = settings_for(
            fake_telegram,
            tmp_path,
            roundup={"feeds": [{"name": "Alpha Weekly", "url": url}], "retries": 0},
        )
        async with bot_running(settings, clock=clock) as runtime:
            await until(lambda: len(fake_telegram.sent(CHANNEL_ID)) == 2)
            assert runtime.roundup is not None
            assert runtime.roundup.slot == nxt + dt.timedelta(days=7)
            run = await runtime.services.store.roundups.get(nxt.date())
            assert run is not None
            assert run.outcome == "posted"
    assert "时间：2026.12.14 - 2026.12.20" in (fake_telegram.sent(CHANNEL_ID)[-1].text or "")
