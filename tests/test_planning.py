"""The publication plan: what each target gets of an issue, and when (a fixed clock)."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from bot.domain.issue import CONTAINER, DELETED, NO_LINK, Issue, IssuePages, Lang
from bot.platforms import TELEGRAM, X
from bot.weekly.planning import (
    Plan,
    PlannedPost,
    QueuedItem,
    edited_digest,
    issue_url,
    items_per_day,
    plan_issue,
    plan_posts,
    plan_release,
    schedule_issue,
)
from bot.weekly.windows import PostingWindow
from data.outbox import NewPost
from publishers.format_telegram import format_release_telegram
from publishers.format_x import format_release_x
from publishers.limits import X_MAX_WEIGHTED, telegram_length, x_weighted_length
from publishers.posts import TelegramPost, TelegramText, XPost
from publishers.telegram_html import parse_html
from tests.factories import make_image, make_issue, make_item

SHANGHAI = ZoneInfo("Asia/Shanghai")
WINDOW = PostingWindow(start=dt.time(9), end=dt.time(21), per_day=3, zone=SHANGHAI)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, 6, day, hour, minute, tzinfo=SHANGHAI)


def five_projects() -> Issue:
    return make_issue({"projects": [make_item(i) for i in range(1, 6)]})


def item_times(rows: list[object]) -> list[object]:
    return [r.not_before for r in rows if r.kind == "item"]  # type: ignore[attr-defined]


def test_plan_posts_puts_the_digest_first_then_postable_items_in_order() -> None:
    issue = make_issue(
        {
            "articles": [
                make_item(1),
                make_item(2, flags=frozenset({DELETED})),
                make_item(3, url=None, flags=frozenset({NO_LINK})),
                make_item(4, flags=frozenset({CONTAINER})),
                make_item(5),
            ]
        }
    )
    planned = plan_posts(issue, Plan(TELEGRAM))
    assert [(p.post.kind, p.slot) for p in planned] == [
        ("digest", None),
        ("item", 0),
        ("item", 1),
    ]
    assert [p.post.idempotency_key for p in planned[1:]] == [
        "issue:106:zh:articles:1",
        "issue:106:zh:articles:5",
    ]


def test_a_photo_item_sends_two_rows_in_one_slot() -> None:
    long_text = "word " * 300  # too long for a caption: photo, then text
    issue = make_issue(
        {"projects": [make_item(1, images=(make_image(),), description=long_text), make_item(2)]}
    )
    planned = [p for p in plan_posts(issue, Plan(TELEGRAM)) if p.slot is not None]
    assert [(p.post.idempotency_key, p.slot) for p in planned] == [
        ("issue:106:zh:projects:1:1", 0),
        ("issue:106:zh:projects:1:2", 0),
        ("issue:106:zh:projects:2", 1),
    ]
    rows = schedule_issue(planned, now=at(7, 10), window=WINDOW).posts
    assert [r.not_before for r in rows] == [at(7, 15), at(7, 15), at(7, 21)]


def test_a_summary_issue_is_planned_as_its_digest_only() -> None:
    summary = dataclasses.replace(five_projects(), form="summary")
    planned = plan_posts(summary, Plan(TELEGRAM))
    assert [p.post.kind for p in planned] == ["digest"]


def test_digest_now_inside_the_window_and_items_in_the_next_slots() -> None:
    rows = schedule_issue(
        plan_posts(five_projects(), Plan(TELEGRAM)), now=at(7, 10), window=WINDOW
    ).posts
    assert rows[0].kind == "digest"
    assert rows[0].not_before == at(7, 10)
    assert item_times(rows) == [at(7, 15), at(7, 21), at(8, 9), at(8, 15), at(8, 21)]


def test_outside_the_window_the_planned_digest_waits_and_items_follow_it() -> None:
    rows = schedule_issue(
        plan_posts(five_projects(), Plan(TELEGRAM)), now=at(7, 3), window=WINDOW
    ).posts
    assert rows[0].not_before == at(7, 9)
    # Never in the digest's own slot: the first item takes the next one.
    assert item_times(rows)[:2] == [at(7, 15), at(7, 21)]


def test_publish_now_sends_the_digest_at_once_even_at_night() -> None:
    rows = schedule_issue(
        plan_posts(five_projects(), Plan(TELEGRAM)), now=at(7, 3), window=WINDOW, publish_now=True
    ).posts
    assert rows[0].not_before == at(7, 3)
    assert item_times(rows)[0] == at(7, 9)


def test_items_only_start_at_the_next_free_slot() -> None:
    planned = plan_posts(five_projects(), Plan(TELEGRAM, digest=False))
    rows = schedule_issue(
        planned, now=at(7, 10), window=WINDOW, busy={TELEGRAM: {at(7, 15).timestamp()}}
    ).posts
    assert item_times(rows) == [at(7, 21), at(8, 9), at(8, 15), at(8, 21), at(9, 9)]


def test_each_target_has_its_own_slots() -> None:
    issue = five_projects()
    planned = plan_posts(issue, Plan(TELEGRAM)) + plan_posts(issue, Plan(X, digest=False))
    rows = schedule_issue(planned, now=at(7, 10), window=WINDOW).posts
    x_times = [r.not_before for r in rows if r.target == X]
    assert x_times == [at(7, 15), at(7, 21), at(8, 9), at(8, 15), at(8, 21)]
    assert len([r for r in rows if r.target == TELEGRAM]) == 6


def test_keys_are_those_of_plan_issue_so_either_path_queues_once() -> None:
    issue = five_projects()
    legacy = {(r.idempotency_key, r.target) for r in plan_issue(issue, [Plan(TELEGRAM), Plan(X)])}
    timed = schedule_issue(
        plan_posts(issue, Plan(TELEGRAM)) + plan_posts(issue, Plan(X)), now=at(7, 10), window=WINDOW
    ).posts
    assert {(r.idempotency_key, r.target) for r in timed} == legacy


def test_planned_posts_survive_json() -> None:
    planned = plan_posts(five_projects(), Plan(X))
    assert [PlannedPost.from_json(p.to_json()) for p in planned] == planned


def test_an_edited_digest_is_one_post_under_the_first_key() -> None:
    planned = plan_posts(five_projects(), Plan(X)) + plan_posts(five_projects(), Plan(TELEGRAM))
    edited = edited_digest(planned, X, "Issue 106 is out https://example.com/106")
    digests = [p.post for p in edited if p.slot is None]
    x_digest = [d for d in digests if d.target == X]
    assert len(x_digest) == 1
    assert x_digest[0].idempotency_key == "issue:106:zh:digest:1"
    assert XPost.from_payload(x_digest[0].payload).text.startswith("Issue 106 is out")
    # The other target's digest and every item are untouched.
    assert [p for p in edited if p.post.target == TELEGRAM] == [
        p for p in planned if p.post.target == TELEGRAM
    ]


# ---- release notices ----------------------------------------------------------


def test_release_notice_for_telegram_escapes_and_links() -> None:
    issue = make_issue(number=60, title="Python 潮流周刊#60：<AI> & 你")
    post = format_release_telegram(issue, url="https://example.com/60?a=1&b=2")
    (part,) = post.parts
    assert isinstance(part, TelegramText)
    parsed = parse_html(part.html)
    assert "Python 潮流周刊 #60 全文现已免费阅读" in parsed.text
    assert "<AI> & 你" in parsed.text
    assert any(e.url == "https://example.com/60?a=1&b=2" for e in parsed.entities)
    assert telegram_length(part.html) <= 4096


def test_release_notice_for_x_fits_and_ends_with_the_link() -> None:
    issue = make_issue(number=60, lang="en", title="Python Trending Weekly #60: " + "long " * 90)
    post = format_release_x(issue, url="https://example.com/60")
    assert x_weighted_length(post.text) <= X_MAX_WEIGHTED
    assert post.text.startswith("🔓 Python Trending Weekly #60 is now free to read")
    assert post.text.endswith("\nhttps://example.com/60")
    assert "#60: " not in post.text  # the title's own label is not repeated


PAGES = IssuePages("https://github.com/chinesehuazhou/python-weekly")


def test_release_rows_are_keyed_by_number_and_language() -> None:
    issue = make_issue(number=60, lang="en")
    telegram, x = plan_release(issue, TELEGRAM, pages=PAGES), plan_release(issue, X, pages=PAGES)
    assert telegram is not None
    assert x is not None
    assert (telegram.idempotency_key, telegram.kind) == ("release:60:en", "notice")
    assert (x.idempotency_key, x.target) == ("release:60:en", X)
    assert TelegramPost.from_payload(telegram.payload).parts
    assert plan_release(dataclasses.replace(issue, date=None), TELEGRAM, pages=PAGES) is None
    assert plan_release(issue, TELEGRAM, pages=None) is None  # nowhere to link


def test_an_issue_links_its_file_on_the_configured_repository_page() -> None:
    def make(lang: Lang) -> Issue:
        return dataclasses.replace(make_issue(lang=lang), date=dt.date(2025, 12, 13))

    blob = "https://github.com/chinesehuazhou/python-weekly/blob/main/docs"
    assert issue_url(make("zh"), PAGES) == f"{blob}/2025-12-13-weekly.md"
    assert issue_url(make("en"), PAGES) == f"{blob}/en/2025-12-13-weekly.md"
    fork = IssuePages("https://git.example.org/me/weekly/", branch="trunk")
    assert issue_url(make("ja"), fork) == (
        "https://git.example.org/me/weekly/blob/trunk/docs/ja/2025-12-13-weekly.md"
    )
    assert issue_url(make("zh"), None) is None


# ---- spreading an issue's items until the next issue, and older issues yielding ----


def many_projects(count: int, number: int = 106) -> Issue:
    return make_issue({"projects": [make_item(i) for i in range(1, count + 1)]}, number=number)


def test_items_per_day_finishes_within_the_spread_within_the_cap() -> None:
    assert items_per_day(26, least=3, spread_days=7, cap=8) == 4  # 9 days at 3
    assert items_per_day(10, least=3, spread_days=7, cap=8) == 3  # the least still holds
    assert items_per_day(80, least=3, spread_days=7, cap=8) == 8  # capped: it runs longer
    assert items_per_day(26, least=3, spread_days=0, cap=8) == 3  # spreading off


def test_twenty_six_items_finish_before_the_next_issue() -> None:
    planned = plan_posts(many_projects(26), Plan(TELEGRAM))
    rows = schedule_issue(planned, now=at(7, 10), window=WINDOW, spread_days=7, max_per_day=8).posts
    times = item_times(rows)
    assert len(times) == 26
    assert max(times) < at(14, 10)  # type: ignore[operator]
    per_day = collections.Counter(t.date() for t in times)  # type: ignore[attr-defined]
    assert set(per_day.values()) <= {2, 3, 4}
    assert max(per_day.values()) == 4
    assert times == sorted(times)  # type: ignore[type-var]
    old = schedule_issue(planned, now=at(7, 10), window=WINDOW).posts
    assert max(item_times(old)) > at(15, 9)  # type: ignore[operator]  # the old way: 9 days


def queued_of(rows: list[NewPost], first_id: int) -> list[QueuedItem]:
    return [
        QueuedItem(first_id + n, r.target, r.idempotency_key, r.not_before.timestamp())  # type: ignore[union-attr]
        for n, r in enumerate(rows)
        if r.kind == "item"
    ]


def test_a_backfill_queued_first_never_delays_a_new_issue() -> None:
    # Issue 50 was backfilled on the 7th: 40 items, 6 a day, the whole week taken.
    backfill = schedule_issue(
        plan_posts(many_projects(40, number=50), Plan(TELEGRAM)),
        now=at(7, 10),
        window=WINDOW,
        spread_days=7,
        max_per_day=8,
    ).posts
    queued = queued_of(backfill, first_id=1)
    new_planned = plan_posts(many_projects(26, number=120), Plan(TELEGRAM))
    now = at(8, 8)
    alone = schedule_issue(new_planned, now=now, window=WINDOW, spread_days=7, max_per_day=8)
    with_backfill = schedule_issue(
        new_planned, now=now, window=WINDOW, queued=queued, spread_days=7, max_per_day=8
    )
    # The new issue's times are exactly those it would have with an empty outbox.
    assert with_backfill.posts == alone.posts
    new_slots = {round(t.timestamp()) for t in item_times(with_backfill.posts)}  # type: ignore[attr-defined]
    after = {q.id: with_backfill.moves.get(q.id, q.at) for q in queued}
    # The backfill moves out of the new issue's way, keeps its order, never goes earlier,
    # and no day holds more than the cap.
    assert with_backfill.moves
    assert not new_slots & {round(t) for t in after.values()}
    ordered = [after[q.id] for q in queued]
    assert ordered == sorted(ordered)
    assert all(after[q.id] >= q.at for q in queued)
    days = collections.Counter(
        dt.datetime.fromtimestamp(ts, SHANGHAI).date() for ts in [*new_slots, *after.values()]
    )
    assert max(days.values()) <= 8


def test_a_newer_issue_queued_first_keeps_its_slots() -> None:
    newer = schedule_issue(
        plan_posts(many_projects(5, number=120), Plan(TELEGRAM)), now=at(7, 10), window=WINDOW
    ).posts
    queued = queued_of(newer, first_id=1)
    older = schedule_issue(
        plan_posts(many_projects(5, number=50), Plan(TELEGRAM)),
        now=at(7, 11),
        window=WINDOW,
        queued=queued,
        spread_days=7,
        max_per_day=8,
    )
    assert older.moves == {}
    taken = {round(q.at) for q in queued}
    assert not taken & {round(t.timestamp()) for t in item_times(older.posts)}  # type: ignore[attr-defined]
