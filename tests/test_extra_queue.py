"""The extra-edition queue through the running bot, the fake Telegram, X and web.

An editor sends `/extra <url>` (or forwards a post with a link); the card shows each
platform's post with [Post now] [Queue] [Edit] [Drop]; a reader's submission joins the
same queue with 🕒 Queue; `/queue` lists it with positions and planned times, and its
buttons move, time and cancel. The queue's times are the outbox rows' own, paced in
the posting window around an issue's planned items, and they survive a restart.

The channel's zone is chosen so that it is about 02:00 there now: the 09:00-21:00
window is closed and every plan starts at its next opening, whatever the real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import Runtime, bot_running
from bot.config import settings_from_values
from bot.fakes.telegram import ChatMessage, FakeTelegram
from bot.fakes.web import FakeWeb
from bot.fakes.x import FakeX
from bot.weekly.announce import after_enqueue
from bot.weekly.publication import Queued
from data.extras import ExtraItem, extra_key
from data.outbox import OutboxRow
from data.submissions import submission_key
from tests.conftest import CHANNEL_ID, EDITOR_ID, READER_ID, X_CREDENTIALS
from tests.factories import make_issue, make_item
from tests.url_support import Table

OUTSIDER_ID = 1004
EDITORS_GROUP = -100200300
SITE = "blog.example.com"
CARD_ACTIONS = ("now", "q", "ed", "dr")
LIST_ACTIONS = ("up", "dn", "at", "cx")
TARGETS = ("telegram", "x")


def quiet_zone() -> str:
    """An `Etc/GMT±N` zone where it is 02:xx now (the window 09:00-21:00 is closed)."""
    hour = dt.datetime.now(dt.UTC).hour
    offset = next(o for o in range(-12, 15) if (hour + o) % 24 == 2)
    return "Etc/GMT" + (f"-{offset}" if offset > 0 else f"+{-offset}" if offset < 0 else "")


async def until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - a predicate over the fakes, no event to await
            await asyncio.sleep(0.01)


@dataclass
class World:
    tg: FakeTelegram
    fx: FakeX
    web: FakeWeb
    runtime: Runtime
    zone: ZoneInfo

    def page(self, name: str, title: str = "Fast CSV in Python", desc: str = "How.") -> str:
        return self.web.add_page(name, title, desc).replace("127.0.0.1", SITE)

    async def say(self, user_id: int, message: str, chat_id: int | None = None) -> ChatMessage:
        """The user sends `message`; the bot's next message in that chat."""
        chat = user_id if chat_id is None else chat_id
        before = len(self.tg.sent(chat))
        self.tg.user_sends(user_id, message, chat_id)
        await until(lambda: len(self.tg.sent(chat)) > before)
        return self.tg.sent(chat)[before]

    async def add_link(self, url: str, comment: str = "") -> int:
        """The editor sends `/extra url`; the card arrives; the item's id."""
        card = await self.say(EDITOR_ID, f"/extra {url} {comment}".strip())
        assert card.text is not None
        assert card.text.startswith("🗞 Extra edition #"), card.text
        return int(card.text.split("#")[1].split("\n")[0])

    def card(self, item_id: int) -> ChatMessage:
        found = [
            m
            for m in self.tg.sent(EDITOR_ID)
            if (m.text or "").startswith(f"🗞 Extra edition #{item_id}\n")
        ]
        assert found, f"no card for #{item_id}"
        return self.tg.message(EDITOR_ID, found[-1].message_id)

    async def press(
        self, user_id: int, chat_id: int, message: ChatMessage, data: str, *, forged: bool = False
    ) -> str | None:
        answers = len(self.tg.answers)
        if forged:
            self.tg.press_forged(user_id, chat_id, message.message_id, data)
        else:
            self.tg.press(user_id, chat_id, message.message_id, data)
        await until(lambda: len(self.tg.answers) > answers)
        return self.tg.answers[answers].text

    async def press_card(self, item_id: int, action: str, user_id: int = EDITOR_ID) -> str | None:
        return await self.press(user_id, EDITOR_ID, self.card(item_id), f"xq:1:{action}:{item_id}")

    async def queued(self, url: str, comment: str = "") -> int:
        item_id = await self.add_link(url, comment)
        answer = await self.press_card(item_id, "q")
        assert (answer or "").startswith("Queued #"), answer
        return item_id

    async def listing(self, chat_id: int = EDITOR_ID) -> ChatMessage:
        reply = await self.say(EDITOR_ID, "/queue", None if chat_id == EDITOR_ID else chat_id)
        return reply

    async def item(self, item_id: int) -> ExtraItem:
        found = await self.runtime.services.extra.store.get(item_id)
        assert found is not None
        return found

    async def rows(self, key: str) -> list[OutboxRow]:
        outbox = self.runtime.services.store.outbox
        found = [await outbox.get_by_key(target, key) for target in TARGETS]
        return [row for row in found if row is not None]

    async def order(self) -> list[tuple[str, float]]:
        """The queue as the store has it: each item's outbox key and planned time."""
        return [(e.item.outbox_key, e.at) for e in await self.runtime.services.extra.queued()]


@contextlib.asynccontextmanager
async def world_with(
    tg: FakeTelegram, tmp_path: Path, *, zone: str | None = None, **extra: Any
) -> AsyncIterator[World]:
    """The whole bot (`bot_running`) on the fakes; `extra` overrides its `[extra]` settings."""
    tg.api.flood = None
    if OUTSIDER_ID not in tg.api.users:
        tg.add_user(OUTSIDER_ID, "Mallory", "mallory")
        tg.add_group(EDITORS_GROUP, "Editors")
    zone = zone or quiet_zone()
    async with FakeX(**X_CREDENTIALS) as fx, FakeWeb() as web:
        settings = settings_from_values(
            {
                "telegram": {
                    "token": tg.token,
                    "api_base_url": tg.base_url,
                    "channel_id": CHANNEL_ID,
                    "editor_ids": (EDITOR_ID,),
                    "editor_chat_id": EDITORS_GROUP,
                    "posts_per_minute": 600,
                    "min_spacing_seconds": 0.01,
                },
                "x": {"api_base_url": fx.base_url, **X_CREDENTIALS},
                "repo": {"enabled": False},
                "feeds": {"urls": ()},
                "publishing": {"timezone": zone},
                "submissions": {"cooldown_seconds": 0, "preview_allow": ((SITE, web.address[1]),)},
                "extra": extra,
                "database_path": tmp_path / "state" / "weeklybot.db",
            }
        )
        async with bot_running(settings, resolver=Table({SITE: ["127.0.0.1"]})) as runtime:
            yield World(tg, fx, web, runtime, ZoneInfo(zone))


@pytest.fixture
async def world(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[World]:
    async with world_with(fake_telegram, tmp_path) as started:
        yield started


def local(world: World, at: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, world.zone)


def in_window(world: World, at: float) -> bool:
    return dt.time(9) <= local(world, at).time() <= dt.time(21)


# ---- the card ------------------------------------------------------------------------------


async def test_an_editors_link_is_shown_per_platform_then_queued_in_the_window(
    world: World,
) -> None:
    url = world.page("fast-csv", "Fast CSV in Python", "Parsing at speed.")
    item_id = await world.add_link(url, "A good read.")
    card = world.card(item_id)
    assert card.text is not None
    assert "Telegram:" in card.text
    assert "X:" in card.text
    assert card.text.count("Fast CSV in Python") == 2  # each platform's post has the title
    assert "A good read." in card.text
    assert card.callback_data() == {f"xq:1:{a}:{item_id}" for a in CARD_ACTIONS}
    assert await world.rows(extra_key(item_id)) == []  # a draft posts nothing

    answer = await world.press_card(item_id, "q")
    rows = await world.rows(extra_key(item_id))
    assert sorted(r.target for r in rows) == sorted(TARGETS)
    assert {r.state for r in rows} == {"queued"}
    assert len({r.next_attempt_at for r in rows}) == 1  # one time on every target
    at = rows[0].next_attempt_at
    assert local(world, at).time() == dt.time(9)  # the window's next opening
    assert answer == f"Queued #1, planned {local(world, at):%Y-%m-%d %H:%M} {world.zone}."
    assert (await world.item(item_id)).state == "queued"
    await until(lambda: world.card(item_id).reply_markup is None)  # decided: no buttons
    assert "🕒 Queued by" in (world.card(item_id).text or "")
    # A second press (a stale copy of the card) loses the compare-and-set: nothing more.
    again = await world.press(EDITOR_ID, EDITOR_ID, card, f"xq:1:q:{item_id}", forged=True)
    assert (again or "").startswith("Already queued by @")
    assert len(await world.rows(extra_key(item_id))) == 2
    assert world.tg.sent(CHANNEL_ID) == []
    summary = await world.runtime.services.extra.summary()
    assert (summary.length, summary.next_at) == (1, at)


async def test_post_now_posts_once_on_each_platform(world: World) -> None:
    item_id = await world.add_link(world.page("now", "Right now"))
    assert await world.press_card(item_id, "now") == "Posting now."
    await until(lambda: len(world.tg.sent(CHANNEL_ID)) == 1 and len(world.fx.posts()) == 1)
    assert "Right now" in (world.tg.sent(CHANNEL_ID)[0].text or "")
    again = await world.press(
        EDITOR_ID, EDITOR_ID, world.card(item_id), f"xq:1:now:{item_id}", forged=True
    )
    assert (again or "").startswith("Already posted by @")
    assert len(await world.rows(extra_key(item_id))) == 2
    assert len(world.tg.sent(CHANNEL_ID)) == 1


async def test_edit_changes_the_posts_and_drop_posts_nothing(world: World) -> None:
    item_id = await world.add_link(world.page("edit", "Old title"))
    prompts = len(world.tg.sent(EDITOR_ID))
    assert await world.press_card(item_id, "ed") == "Send the new text."
    await until(lambda: len(world.tg.sent(EDITOR_ID)) > prompts)  # the ForceReply prompt
    assert world.tg.sent(EDITOR_ID)[-1].force_reply
    reply = await world.say(EDITOR_ID, "A better title | Why it matters.")
    assert reply.text == f"Saved: the card of extra item #{item_id} shows the new post."
    card = world.card(item_id)
    assert "A better title" in (card.text or "")
    assert "Old title" not in (card.text or "")
    item = await world.item(item_id)
    assert (item.title, item.comment) == ("A better title", "Why it matters.")
    assert await world.press_card(item_id, "dr") == "Dropped."
    assert (await world.item(item_id)).state == "dropped"
    assert await world.rows(extra_key(item_id)) == []


async def test_a_forwarded_post_with_a_link_becomes_a_card(world: World) -> None:
    url = world.page("forwarded", "Forwarded read")
    before = len(world.tg.sent(EDITOR_ID))
    world.tg.user_forwards(EDITOR_ID, "Worth reading: this one", "Some Channel", (("this", url),))
    await until(lambda: len(world.tg.sent(EDITOR_ID)) > before)
    card = world.tg.sent(EDITOR_ID)[before]
    assert (card.text or "").startswith("🗞 Extra edition #")
    assert "Forwarded read" in (card.text or "")
    # A forward without any link is told so.
    reply_at = len(world.tg.sent(EDITOR_ID))
    world.tg.user_forwards(EDITOR_ID, "no link here", "Some Channel")
    await until(lambda: len(world.tg.sent(EDITOR_ID)) > reply_at)
    assert (world.tg.sent(EDITOR_ID)[reply_at].text or "").startswith("No link in that message")


# ---- the queue -----------------------------------------------------------------------------


async def test_order_move_and_cancel(world: World) -> None:
    a = await world.queued(world.page("a", "Item A"))
    b = await world.queued(world.page("b", "Item B"))
    c = await world.queued(world.page("c", "Item C"))
    first = await world.order()
    assert [k for k, _ in first] == [extra_key(a), extra_key(b), extra_key(c)]
    times = [t for _, t in first]
    assert times == sorted(times)
    assert len(set(times)) == 3

    listing = await world.listing()
    text = listing.text or ""
    assert text.index("1. Item A") < text.index("2. Item B") < text.index("3. Item C")
    for t in times:
        assert f"{local(world, t):%Y-%m-%d %H:%M}" in text
    assert listing.callback_data() == {
        f"xq:1:{action}:{i}" for action in LIST_ACTIONS for i in (a, b, c)
    }

    assert await world.press(EDITOR_ID, EDITOR_ID, listing, f"xq:1:dn:{a}") == "Moved."
    moved = await world.order()
    assert [k for k, _ in moved] == [extra_key(b), extra_key(a), extra_key(c)]
    assert [t for _, t in moved] == times  # the slots stay, the items swap
    for key, t in moved:
        assert {r.next_attempt_at for r in await world.rows(key)} == {t}
    await until(lambda: world.tg.message(EDITOR_ID, listing.message_id).edits == 1)
    shown = world.tg.message(EDITOR_ID, listing.message_id).text or ""
    assert shown.index("1. Item B") < shown.index("2. Item A")
    # The first cannot go up: nothing moves.
    assert await world.press(EDITOR_ID, EDITOR_ID, listing, f"xq:1:up:{b}") == (
        "Not moved: it is already at that end, or no longer queued."
    )
    assert await world.order() == moved

    assert await world.press(EDITOR_ID, EDITOR_ID, listing, f"xq:1:cx:{c}") == (
        "Cancelled: it will not be posted."
    )
    assert {r.state for r in await world.rows(extra_key(c))} == {"cancelled"}
    assert (await world.item(c)).state == "cancelled"
    assert [k for k, _ in await world.order()] == [extra_key(b), extra_key(a)]
    await until(
        lambda: "Item C" not in (world.tg.message(EDITOR_ID, listing.message_id).text or "")
    )
    audit = await world.runtime.services.store.list_audit(action="extra.move")
    assert [e.subject for e in audit] == [extra_key(a)]


async def test_a_given_time(world: World) -> None:
    a = await world.queued(world.page("a", "Item A"))
    b = await world.queued(world.page("b", "Item B"))
    listing = await world.listing()
    prompts = len(world.tg.sent(EDITOR_ID))
    assert await world.press(EDITOR_ID, EDITOR_ID, listing, f"xq:1:at:{b}") == "Send the time."
    await until(lambda: len(world.tg.sent(EDITOR_ID)) > prompts)
    assert world.tg.sent(EDITOR_ID)[-1].force_reply
    reply = await world.say(EDITOR_ID, "half past nine")
    assert reply.text == (
        "Could not use “half past nine” as a time (not a time): send HH:MM, tomorrow HH:MM,"
        f" MM-DD HH:MM or YYYY-MM-DD HH:MM, in {world.zone}."
    )
    when = (dt.datetime.now(world.zone) + dt.timedelta(days=2)).replace(
        hour=7, minute=45, second=0, microsecond=0
    )
    reply = await world.say(EDITOR_ID, f"{when:%Y-%m-%d %H:%M}")
    assert (reply.text or "").startswith(f"Planned at {when:%Y-%m-%d %H:%M} {world.zone}.")
    assert "(time given)" in (reply.text or "")
    assert {r.next_attempt_at for r in await world.rows(extra_key(b))} == {when.timestamp()}
    assert (await world.item(b)).pinned_at == when.timestamp()
    # The other item keeps its pace; a given time outside the window is the editor's call.
    (a_row, *_) = await world.rows(extra_key(a))
    assert in_window(world, a_row.next_attempt_at)


async def test_pacing_within_the_window_next_to_an_issues_planned_items(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world_with(fake_telegram, tmp_path, max_per_day=2, gap_minutes=45) as world:
        # An issue's items, already planned: 4 a day for 3 days on both targets.
        outbox = world.runtime.services.store.outbox
        opens = dt.datetime.now(world.zone).replace(hour=9, minute=0, second=0, microsecond=0)
        issue_times = [
            (opens + dt.timedelta(days=d, hours=h)).timestamp()
            for d in range(3)
            for h in (0, 4, 8, 12)
        ]
        for n, at in enumerate(issue_times):
            for target in TARGETS:
                await outbox.enqueue(
                    idempotency_key=f"issue:900:zh:articles:{n}",
                    target=target,
                    kind="item",
                    payload={"text": "x"},
                    now=dt.datetime.now(dt.UTC),
                    not_before=dt.datetime.fromtimestamp(at, dt.UTC),
                )
        ids = [await world.queued(world.page(f"p{i}", f"Paced {i}")) for i in range(5)]
        order = await world.order()
        assert [k for k, _ in order] == [extra_key(i) for i in ids]
        times = [t for _, t in order]
        assert times == sorted(times)
        per_day = Counter(local(world, t).date() for t in times)
        assert max(per_day.values()) <= 2
        for t in times:
            assert in_window(world, t)
            assert min(abs(t - o) for o in issue_times) >= 45 * 60
        for earlier, later in itertools.pairwise(times):
            assert later - earlier >= 6 * 3600  # 12 h window / 2 a day
        # The issue's rows were not moved by the queue.
        for n, at in enumerate(issue_times):
            row = await outbox.get_by_key("telegram", f"issue:900:zh:articles:{n}")
            assert row is not None
            assert row.next_attempt_at == at


async def test_an_issue_queued_later_keeps_its_times_and_the_queue_moves_around_it(
    world: World,
) -> None:
    a = await world.queued(world.page("a", "Item A"))
    b = await world.queued(world.page("b", "Item B"))
    before = dict(await world.order())
    # An issue's items land on the very times the queue holds (as `announce` queues them).
    outbox = world.runtime.services.store.outbox
    ids = []
    for n, at in enumerate(before.values()):
        for target in TARGETS:
            row_id = await outbox.enqueue(
                idempotency_key=f"issue:901:zh:articles:{n}",
                target=target,
                kind="item",
                payload={"text": "x"},
                now=dt.datetime.now(dt.UTC),
                not_before=dt.datetime.fromtimestamp(at, dt.UTC),
            )
            assert row_id is not None
            ids.append(row_id)
    assert world.runtime.application.job_queue is not None
    after_enqueue(
        world.runtime.services,
        world.runtime.application.job_queue,
        Queued(ids=tuple(ids), due=tuple(before.values())),
    )
    issue_times = sorted(before.values())

    async def moved() -> bool:
        return all(t not in issue_times for _, t in await world.order())

    async with asyncio.timeout(10):
        while not await moved():  # noqa: ASYNC110 - a predicate over the store
            await asyncio.sleep(0.01)
    order = await world.order()
    assert [k for k, _ in order] == [extra_key(a), extra_key(b)]
    for _, t in order:
        assert in_window(world, t)
        assert min(abs(t - o) for o in issue_times) >= 30 * 60
    for n, at in enumerate(issue_times):  # the issue's rows did not move
        row = await outbox.get_by_key("x", f"issue:901:zh:articles:{n}")
        assert row is not None
        assert row.next_attempt_at == at


async def test_a_restart_keeps_the_queue_and_its_times(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    zone = quiet_zone()
    async with world_with(fake_telegram, tmp_path, zone=zone) as world:
        a = await world.queued(world.page("a", "Item A"))
        b = await world.queued(world.page("b", "Item B"))
        listing = await world.listing()
        await world.press(EDITOR_ID, EDITOR_ID, listing, f"xq:1:up:{b}")
        before = await world.order()
        assert [k for k, _ in before] == [extra_key(b), extra_key(a)]
    async with world_with(fake_telegram, tmp_path, zone=zone) as world:
        assert await world.order() == before
        text = (await world.listing()).text or ""
        assert text.index("1. Item B") < text.index("2. Item A")
        for _, t in before:
            assert f"{local(world, t):%Y-%m-%d %H:%M}" in text


async def test_an_editors_link_and_a_queued_submission_in_one_queue(world: World) -> None:
    a = await world.queued(world.page("mine", "The editor's pick"))
    reply = await world.say(READER_ID, f"/submit {world.page('theirs', 'A reader pick')}")
    sid = int((reply.text or "").split("#")[1].split(":")[0])
    await until(
        lambda: any(f"sub:1:qu:{sid}" in m.callback_data() for m in world.tg.sent(EDITORS_GROUP))
    )
    card = next(m for m in world.tg.sent(EDITORS_GROUP) if f"sub:1:qu:{sid}" in m.callback_data())
    assert f"sub:1:ap:{sid}" in card.callback_data()  # Approve is still there, beside it
    answer = await world.press(EDITOR_ID, EDITORS_GROUP, card, f"sub:1:qu:{sid}")
    assert (answer or "").startswith("Queued #2, planned ")
    order = await world.order()
    assert [k for k, _ in order] == [extra_key(a), submission_key(sid)]
    rows = await world.rows(submission_key(sid))
    assert {r.state for r in rows} == {"queued"}
    assert len(rows) == 2
    assert {r.next_attempt_at for r in rows} == {order[1][1]}
    sub = await world.runtime.services.submissions.store.get(sid)
    assert sub is not None
    assert sub.state == "approved"
    text = (await world.listing()).text or ""
    assert "2. A reader pick (a reader's link)" in text
    # Its time comes: the workers post it once, the reader hears, it leaves the queue.
    now = dt.datetime.now(dt.UTC)
    await world.runtime.services.store.outbox.retime({r.id: now.timestamp() for r in rows}, now=now)
    world.runtime.services.delivery.wake()
    await until(lambda: len(world.tg.sent(CHANNEL_ID)) == 1 and len(world.fx.posts()) == 1)
    await until(
        lambda: any("is on the channel" in (m.text or "") for m in world.tg.sent(READER_ID))
    )
    await world.runtime.services.extra.replan()
    assert [k for k, _ in await world.order()] == [extra_key(a)]
    assert "A reader pick" in (world.tg.sent(CHANNEL_ID)[0].text or "")


async def test_a_duplicate_link_is_refused_saying_where_it_was_seen(world: World) -> None:
    extra = world.runtime.services.extra.store
    # In a stored issue.
    issue = make_issue({"projects": [make_item(7)]}, number=106)
    await world.runtime.services.store.issues.upsert(issue, now=dt.datetime.now(dt.UTC))
    reply = await world.say(EDITOR_ID, "/extra https://github.com/gpustack/gpustack7")
    assert reply.text == "Already featured in issue #106 (2025-06-07); not added."
    # A reader's pending submission.
    url = world.page("submitted")
    sub_reply = await world.say(READER_ID, f"/submit {url}")
    sid = int((sub_reply.text or "").split("#")[1].split(":")[0])
    reply = await world.say(EDITOR_ID, f"/extra {url}?utm_source=tg")
    assert reply.text == f"Already submitted by a reader (submission #{sid}, pending); not added."
    # An extra item, queued, then the same link in another spelling.
    item_id = await world.queued(world.page("queued"))
    same = world.page("queued").replace("http://", "https://") + "/"
    reply = await world.say(EDITOR_ID, f"/extra {same}")
    assert reply.text == f"Already in the extra edition (item #{item_id}, queued); not added."
    assert len(await world.runtime.services.extra.queued()) == 1
    assert (await extra.get(item_id + 1)) is None  # nothing else was stored
    reply = await world.say(EDITOR_ID, "/extra ftp://example.com/file")
    assert (reply.text or "").startswith("Not a link I can post (")


# ---- anyone else ---------------------------------------------------------------------------


async def test_a_non_editor_is_refused_for_extra_queue_and_every_button(world: World) -> None:
    url = world.page("outsider")
    reply = await world.say(OUTSIDER_ID, f"/extra {url}")
    assert reply.text == "This command is for editors."
    reply = await world.say(OUTSIDER_ID, "/queue")
    assert reply.text == "This command is for editors."
    before = len(world.tg.sent(READER_ID))
    world.tg.user_forwards(READER_ID, f"look {url}", "Some Channel")
    await until(lambda: len(world.tg.sent(READER_ID)) > before)
    assert world.tg.sent(READER_ID)[before].text == (
        "Forwarded links are for editors. To suggest a link, send /submit <url>."
    )
    assert await world.runtime.services.extra.store.get(1) is None  # nothing stored

    draft = await world.add_link(world.page("draft"))
    queued = await world.queued(world.page("queued"))
    for action in CARD_ACTIONS:  # the card is in the editor's chat: a forged press
        answer = await world.press(
            OUTSIDER_ID, EDITOR_ID, world.card(draft), f"xq:1:{action}:{draft}", forged=True
        )
        assert answer == "Not allowed.", action
        assert world.tg.answers[-1].show_alert
    listing = await world.listing(EDITORS_GROUP)  # in the group the outsider is in
    order = await world.order()
    for action in LIST_ACTIONS:
        answer = await world.press(OUTSIDER_ID, EDITORS_GROUP, listing, f"xq:1:{action}:{queued}")
        assert answer == "Not allowed.", action
    for data in ("xq:9:q:1", "xq:1:zz:1", "xq:1:q:" + "9" * 60):
        answer = await world.press(EDITOR_ID, EDITORS_GROUP, listing, data, forged=True)
        assert answer == "Not allowed.", data
    assert (await world.item(draft)).state == "draft"
    assert await world.rows(extra_key(draft)) == []
    assert await world.order() == order
    assert world.tg.message(EDITORS_GROUP, listing.message_id).edits == 0
    assert world.tg.sent(OUTSIDER_ID)[-1].text == "This command is for editors."  # no prompt
    audit = await world.runtime.services.store.list_audit(action="extra.denied")
    assert len(audit) == len(CARD_ACTIONS) + len(LIST_ACTIONS) + 3
    assert {e.actor for e in audit} == {f"user:{OUTSIDER_ID}", f"user:{EDITOR_ID}"}
