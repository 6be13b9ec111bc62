"""The publication workflow without Telegram: previews off and on, releases, edits' rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings, settings_from_values
from bot.domain.parser import pair_summary_full
from bot.platforms import TELEGRAM, X
from bot.weekly.ingest import FullTextReleased, NewIssue
from bot.weekly.planning import schedule_issue
from bot.weekly.publication import Publication, routes, validate_digest_text
from bot.weekly.settings import PublishingSettings
from data.db import MEMORY, Database
from data.migrations import migrate
from data.store import Store
from tests.factories import make_issue, make_item

# Saturday 2025-06-07 10:00 in Asia/Shanghai: the posting window (09-21) is open.
NOW = dt.datetime(2025, 6, 7, 2, 0, tzinfo=dt.UTC)
TOKEN = "123456:" + "A" * 35  # shaped like a @BotFather token; never used


def settings(*, x: bool = True) -> Settings:
    keys = {"consumer_key": "a", "consumer_secret": "b", "access_token": "c"}
    return settings_from_values(
        {
            "telegram": {"token": TOKEN, "channel_id": -1001, "editor_ids": [1]},
            "x": {**keys, "access_token_secret": "d"} if x else {},
        }
    )


def new_issue(number: int = 106, *, langs: tuple[str, ...] = ("zh", "en")) -> NewIssue:
    items = [make_item(i) for i in range(1, 4)]
    found = {lang: make_issue({"projects": items}, number=number, lang=lang) for lang in langs}  # type: ignore[arg-type]
    return NewIssue(number, dt.date(2025, 6, 7), MappingProxyType(found))  # type: ignore[arg-type]


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    async with Database.open(MEMORY) as db:
        await migrate(db, now=0)
        yield Store(db)


def test_languages_follow_the_settings_and_x_only_when_configured() -> None:
    both = routes(settings(), PublishingSettings())
    assert [(r.target, r.lang) for r in both] == [(TELEGRAM, "zh"), (X, "en")]
    assert [r.target for r in routes(settings(x=False), PublishingSettings())] == [TELEGRAM]
    assert settings().publishing == PublishingSettings()


async def test_without_preview_the_plan_is_queued_at_once(store: Store) -> None:
    pub = Publication(store, settings(), PublishingSettings(preview=False))
    outcome = await pub.on_new_issue(new_issue(), now=NOW)
    assert outcome.preview is None
    rows = await store.outbox.list_by_state("queued")
    assert len(outcome.queued.ids) == len(rows)
    assert [r.kind for r in rows if r.target == TELEGRAM] == ["digest", "item", "item", "item"]
    assert {r.next_attempt_at for r in rows if r.kind == "digest"} == {NOW.timestamp()}
    item_times = sorted({r.next_attempt_at for r in rows if r.kind == "item"})
    local = [dt.datetime.fromtimestamp(t, ZoneInfo("Asia/Shanghai")) for t in item_times]
    assert [(t.day, t.hour) for t in local] == [(7, 15), (7, 21), (8, 9)]
    assert outcome.queued.due == tuple(item_times)
    again = await pub.on_new_issue(new_issue(), now=NOW)
    assert again.queued.ids == ()


async def test_a_second_issue_takes_the_slots_after_the_first(store: Store) -> None:
    pub = Publication(store, settings(x=False), PublishingSettings(preview=False))
    await pub.on_new_issue(new_issue(106), now=NOW)
    await pub.on_new_issue(new_issue(107), now=NOW)
    rows = await store.outbox.list_by_state("queued")
    times = [r.next_attempt_at for r in rows if r.kind == "item"]
    assert len(times) == len(set(times)) == 6


async def test_with_preview_nothing_is_queued_until_decided(store: Store) -> None:
    pub = Publication(store, settings())
    outcome = await pub.on_new_issue(new_issue(), now=NOW)
    assert outcome.preview is not None
    assert outcome.show_cards
    assert dict(outcome.preview.langs) == {TELEGRAM: "zh", X: "en"}
    assert await store.outbox.list_by_state("queued") == []
    decided = await pub.decide(outcome.preview.id, "scheduled", actor="ed", now=NOW)
    assert decided is not None
    assert len(decided.queued.ids) == len(decided.posts) == len(outcome.preview.plan)
    assert await pub.decide(outcome.preview.id, "published", actor="ed", now=NOW) is None
    assert len(await store.outbox.list_by_state("queued")) == len(decided.posts)


async def test_a_target_whose_language_is_missing_is_left_out(store: Store) -> None:
    pub = Publication(store, settings(), PublishingSettings(preview=False))
    await pub.on_new_issue(new_issue(langs=("zh",)), now=NOW)
    assert {r.target for r in await store.outbox.list_by_state("queued")} == {TELEGRAM}


async def test_release_notice_can_be_turned_off(store: Store) -> None:
    issue = make_issue(number=56, lang="zh")
    event = FullTextReleased(56, MappingProxyType({"zh": issue}), MappingProxyType({}))
    off = Publication(store, settings(x=False), PublishingSettings(on_full_text="nothing"))
    assert (await off.on_full_text_released(event, now=NOW)).ids == ()
    on = Publication(store, settings(x=False))
    assert len((await on.on_full_text_released(event, now=NOW)).ids) == 1


async def test_a_release_records_how_its_items_paired(store: Store) -> None:
    full = make_issue({"projects": [make_item(i) for i in range(1, 4)]}, number=56)
    summary = make_issue({"projects": [make_item(i) for i in range(1, 3)]}, number=56)
    pairing = pair_summary_full(dataclasses.replace(summary, form="summary"), full)
    event = FullTextReleased(56, MappingProxyType({"zh": full}), MappingProxyType({"zh": pairing}))
    await Publication(store, settings(x=False)).on_full_text_released(event, now=NOW)
    [entry] = await store.list_audit(action="issue.full_text")
    assert entry.subject == "issue:56"
    assert entry.details == {"zh": {"paired": 2, "unmatched_summary": 0, "unmatched_full": 1}}


@pytest.mark.parametrize(
    ("target", "text", "problem"),
    [
        (TELEGRAM, "<b>bold", "cannot parse"),
        (TELEGRAM, "a" * 4097, "4097/4096"),
        (TELEGRAM, "   ", "empty"),
        (X, "很" * 141, "282/280"),
        (TELEGRAM, "<b>Issue #106</b> &amp; more", None),
        (X, "Issue #106 https://example.com/" + "a" * 400, None),  # a link weighs 23
    ],
)
def test_edited_digest_rules(target: str, text: str, problem: str | None) -> None:
    found = validate_digest_text(target, text)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def big_issue(number: int, count: int) -> NewIssue:
    items = [make_item(i) for i in range(1, count + 1)]
    found = {"zh": make_issue({"projects": items}, number=number, lang="zh")}
    return NewIssue(number, dt.date(2025, 6, 7), MappingProxyType(found))  # type: ignore[arg-type]


async def test_a_backfill_in_the_outbox_never_delays_a_new_issue_s_items(store: Store) -> None:
    quick = Publication(store, settings(x=False), PublishingSettings(preview=False))
    await quick.on_new_issue(big_issue(50, 40), now=NOW)  # backfilled: a week of items
    before = {r.id: r.next_attempt_at for r in await store.outbox.list_by_state("queued")}
    pub = Publication(store, settings(x=False))
    later = NOW + dt.timedelta(days=1)
    expected = schedule_issue(
        pub.planned((await pub.on_new_issue(big_issue(120, 26), now=later)).preview),  # type: ignore[arg-type]
        now=later,
        window=pub.publishing.window(),
        spread_days=7,
        max_per_day=pub.publishing.max_items_per_day,
    ).posts

    outcome = await pub.decide(1, "scheduled", actor="editor", now=later)

    assert outcome is not None
    assert list(outcome.posts) == expected  # exactly as with an empty outbox
    rows = await store.outbox.list_by_state("queued", limit=1000)
    new_times = {r.next_attempt_at for r in rows if r.idempotency_key.startswith("issue:120")}
    old = [r for r in rows if r.kind == "item" and r.idempotency_key.startswith("issue:50")]
    assert not new_times & {r.next_attempt_at for r in old}
    assert [r.next_attempt_at for r in old] == sorted(r.next_attempt_at for r in old)
    moved = [r for r in old if r.next_attempt_at != before[r.id]]
    assert moved
    assert all(r.next_attempt_at > before[r.id] for r in moved)
    events = await store.outbox.events(moved[0].id)
    assert events[-1].actor == "planner"
    assert max(new_times) < (later + dt.timedelta(days=7)).timestamp()  # done within the week
    assert set(outcome.queued.due) >= {r.next_attempt_at for r in moved}  # wake-ups for them


async def test_a_release_notice_takes_no_item_slot_from_a_new_issue(store: Store) -> None:
    pub = Publication(store, settings(x=False), PublishingSettings(preview=False))
    release = FullTextReleased(
        56, MappingProxyType({"zh": make_issue(number=56, lang="zh")}), MappingProxyType({})
    )
    assert len((await pub.on_full_text_released(release, now=NOW)).ids) == 1
    outcome = await pub.on_new_issue(big_issue(120, 26), now=NOW)
    rows = {r.id: r for r in await store.outbox.list_by_state("queued", limit=1000)}
    timed = [rows[i] for i in outcome.queued.ids if rows[i].kind == "item"]
    async with Database.open(MEMORY) as db:
        await migrate(db, now=0)
        alone = Publication(Store(db), settings(x=False), PublishingSettings(preview=False))
        await alone.on_new_issue(big_issue(120, 26), now=NOW)
        fresh = await Store(db).outbox.list_by_state("queued", limit=1000)
    assert [r.next_attempt_at for r in timed] == [
        r.next_attempt_at for r in fresh if r.kind == "item"
    ]
