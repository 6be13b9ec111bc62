"""Reader submissions, conversation-shaped: the running bot, the fake Telegram, X and web.

A reader sends `/submit`; the card reaches the editors' group after the preview; an
editor approves, rejects, edits or bans; the channel and X get the post once; the
reader hears the outcome. Anyone else pressing changes nothing.
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

import pytest

from bot.app import Runtime, bot_running
from bot.config import settings_from_values
from bot.fakes.telegram import ChatMessage, FakeTelegram, Fault
from bot.fakes.web import FakeWeb
from bot.fakes.x import FakeX
from data.submissions import Submission, submission_key
from handlers.commands import COMMANDS
from publishers.limits import x_weighted_length
from tests.conftest import CHANNEL_ID, CHANNEL_USERNAME, EDITOR_ID, READER_ID, X_CREDENTIALS
from tests.factories import make_issue, make_item
from tests.url_support import Table
from tests.webhook_support import free_port, webhook_mode

EDITOR2_ID = 1003
OUTSIDER_ID = 1004  # a member of the editors' group who is not an editor
READER2_ID = 1005
EDITORS_GROUP = -100200300
READERS_GROUP = -100400500
SITE = "blog.example.com"
BUTTONS = ("ap", "qu", "dr", "ed", "rj", "bn")


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

    def page(self, name: str, title: str = "Fast CSV in Python", desc: str = "How.") -> str:
        """A page of the fake web under the name the bot resolves to it."""
        return self.web.add_page(name, title, desc).replace("127.0.0.1", SITE)

    async def say(self, user_id: int, message: str, chat_id: int | None = None) -> ChatMessage:
        """The user sends `message`; the bot's next message in that chat."""
        chat = user_id if chat_id is None else chat_id
        before = len(self.tg.sent(chat))
        self.tg.user_sends(user_id, message, chat_id)
        await until(lambda: len(self.tg.sent(chat)) > before)
        return self.tg.sent(chat)[before]

    def cards(self) -> list[ChatMessage]:
        return [
            m for m in self.tg.sent(EDITORS_GROUP) if m.text and m.text.startswith("📥 Submitted")
        ]

    def card(self, submission_id: int) -> ChatMessage:
        found = [c for c in self.cards() if c.text and f"#{submission_id}\n" in c.text]
        assert found, f"no card for #{submission_id}"
        return found[-1]

    async def submitted(self, url: str, user_id: int = READER_ID) -> int:
        """The reader submits `url`; the card arrives; its id."""
        reply = await self.say(user_id, f"/submit {url}")
        assert reply.text is not None
        assert reply.text.startswith("Received, #"), reply.text
        sid = int(reply.text.split("#")[1].split(":")[0])
        await until(lambda: any(f"#{sid}\n" in (c.text or "") for c in self.cards()))
        return sid

    async def press(self, user_id: int, sid: int, action: str) -> str | None:
        data = f"sub:1:{action}:{sid}"
        await until(lambda: data in self.card(sid).callback_data())  # the keyboard has it
        answers = len(self.tg.answers)
        self.tg.press(user_id, EDITORS_GROUP, self.card(sid).message_id, data)
        await until(lambda: len(self.tg.answers) > answers)
        return self.tg.answers[answers].text

    async def row(self, sid: int) -> Submission:
        found = await self.runtime.services.submissions.store.get(sid)
        assert found is not None
        return found

    def channel_posts(self) -> list[ChatMessage]:
        return self.tg.sent(CHANNEL_ID)


@pytest.fixture
async def world(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[World]:
    async with world_with(fake_telegram, tmp_path) as started:
        yield started


@pytest.fixture(params=["polling", "webhook"])
async def either_world(
    fake_telegram: FakeTelegram, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    """`world`, its updates by long polling and by webhook (issue 16)."""
    async with world_with(fake_telegram, tmp_path, webhook=request.param == "webhook") as started:
        yield started
        hook = fake_telegram.api.updates.webhook
        if request.param == "webhook":
            assert hook is not None
            assert fake_telegram.calls_of("getUpdates") == []
        else:
            assert hook is None


@contextlib.asynccontextmanager
async def world_with(
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    *,
    flood: bool = False,
    clock: Callable[[], float] = time.time,
    webhook: bool = False,
    **submissions: Any,
) -> AsyncIterator[World]:
    """The whole bot (`bot_running`) on the fakes; `submissions` overrides its settings,
    `clock` is the submissions' time; `webhook`: updates come by webhook, not polling.

    Without `flood` the fake's flood limits are off: conversations burst into one group.
    """
    tg = fake_telegram
    if not flood:
        tg.api.flood = None
    if EDITOR2_ID not in tg.api.users:  # not yet: a restart finds them registered
        tg.add_user(EDITOR2_ID, "Second", "second_editor")
        tg.add_user(OUTSIDER_ID, "Mallory", "mallory")
        tg.add_user(READER2_ID, "Bob", None)
        tg.add_group(EDITORS_GROUP, "Editors")
        tg.add_group(READERS_GROUP, "Readers")
    async with FakeX(**X_CREDENTIALS) as fx, FakeWeb() as web:
        settings = settings_from_values(
            {
                "telegram": {
                    "token": tg.token,
                    "api_base_url": tg.base_url,
                    "channel_id": CHANNEL_ID,
                    "editor_ids": (EDITOR_ID, EDITOR2_ID),
                    "editor_chat_id": EDITORS_GROUP,
                    "posts_per_minute": 600,
                    "min_spacing_seconds": 0.01,
                    **(webhook_mode(free_port()) if webhook else {}),
                },
                "x": {"api_base_url": fx.base_url, **X_CREDENTIALS},
                "repo": {"enabled": False},
                "feeds": {"urls": ()},
                "submissions": {
                    "cooldown_seconds": 0,
                    "preview_allow": ((SITE, web.address[1]),),
                    **submissions,
                },
                "database_path": tmp_path / "state" / "weeklybot.db",
            }
        )
        resolver = Table({SITE: ["127.0.0.1"]})
        async with bot_running(settings, resolver=resolver, clock=clock) as runtime:
            yield World(tg, fx, web, runtime)


async def has_cards(world: World, sid: int) -> None:
    async def stored() -> bool:
        return bool((await world.row(sid)).cards)

    async with asyncio.timeout(10):
        while not await stored():  # noqa: ASYNC110 - a predicate over the store
            await asyncio.sleep(0.01)


# ---- the full flows ----------------------------------------------------------------------


async def test_submit_then_approve_posts_once_on_the_channel_and_x(either_world: World) -> None:
    world = either_world
    url = world.page("csv")
    sid = await world.submitted(url + "?utm_source=tg")
    await has_cards(world, sid)
    card = world.card(sid)
    assert card.text is not None
    assert "Fast CSV in Python" in card.text
    assert f"Canonical: {url}" in card.text
    assert f"Domain: {SITE}" in card.text
    assert "From: Reader @reader [1002], 0 link(s) accepted before" in card.text
    assert "Preview: fetched" in card.text
    assert card.callback_data() == {f"sub:1:{a}:{sid}" for a in BUTTONS}
    labels = [b["text"] for row in card.reply_markup["inline_keyboard"] for b in row]  # type: ignore[index]
    assert labels == ["✅ Approve", "🕒 Queue", "📝 Draft only", "✏️ Edit", "❌ Reject", "🚫 Ban"]

    assert await world.press(EDITOR_ID, sid, "ap") == "✅ Approved by you."
    await until(lambda: len(world.channel_posts()) == 1 and len(world.fx.posts()) == 1)
    post = world.channel_posts()[0]
    assert post.text is not None
    assert "Fast CSV in Python" in post.text
    assert url in world.fx.posts()[0].text
    # The card shows who decided and lost its buttons.
    await until(lambda: world.card(sid).edits >= 1)
    decided = world.card(sid)
    assert decided.text is not None
    assert "✅ Approved by @editor [1001] at " in decided.text
    assert not decided.callback_data()
    # The reader hears it with the channel post's link, once it is out.
    link = f"https://t.me/{CHANNEL_USERNAME}/{post.message_id}"
    await until(lambda: any(link in (m.text or "") for m in world.tg.sent(READER_ID)))
    row = await world.runtime.services.store.outbox.get_by_key("telegram", submission_key(sid))
    assert row is not None
    assert row.state == "sent"
    assert (await world.row(sid)).state == "published"
    await asyncio.sleep(0)  # nothing else is queued: still one post each
    assert len(world.channel_posts()) == 1
    assert len(world.fx.posts()) == 1


async def test_a_page_that_cannot_be_read_is_still_reviewed_and_the_card_says_why(
    world: World,
) -> None:
    sid = await world.submitted("https://nowhere.example.com/post")  # the resolver has no such name
    card = world.card(sid)
    assert card.text is not None
    assert "(no title)" in card.text
    assert "Preview: not fetched: " in card.text
    assert card.callback_data() == {f"sub:1:{a}:{sid}" for a in BUTTONS}


async def test_reject_with_a_reason_tells_the_submitter_and_posts_nothing(world: World) -> None:
    sid = await world.submitted(world.page("paywall"))
    assert await world.press(EDITOR_ID, sid, "rj") == "Why is it rejected?"
    await until(lambda: f"sub:1:rj:paywalled:{sid}" in world.card(sid).callback_data())
    assert await world.press(EDITOR_ID, sid, "rj:paywalled") == "❌ Rejected by you."
    await until(lambda: any("behind a paywall" in (m.text or "") for m in world.tg.sent(READER_ID)))
    told = world.tg.sent(READER_ID)[-1].text
    assert (
        told == f"Your link #{sid} was not taken: it is behind a paywall. Thank you for sending it."
    )
    assert (await world.row(sid)).state == "rejected"
    await until(lambda: not world.card(sid).callback_data())
    assert "Reason: it is behind a paywall" in (world.card(sid).text or "")
    assert world.channel_posts() == []
    assert world.fx.posts() == []


async def test_reject_other_takes_the_editors_words(world: World) -> None:
    sid = await world.submitted(world.page("other"))
    await world.press(EDITOR_ID, sid, "rj")
    await until(lambda: f"sub:1:rj:other:{sid}" in world.card(sid).callback_data())
    await world.press(EDITOR_ID, sid, "rj:other")
    await until(lambda: "Send the reason" in (world.tg.sent(EDITORS_GROUP)[-1].text or ""))
    reply = await world.say(EDITOR_ID, "we covered this last month", EDITORS_GROUP)
    assert reply.text == "❌ Rejected by you."
    await until(
        lambda: any(
            "we covered this last month" in (m.text or "") for m in world.tg.sent(READER_ID)
        )
    )


async def test_edit_changes_the_posted_text_on_both_platforms(world: World) -> None:
    sid = await world.submitted(world.page("edit"))
    assert await world.press(EDITOR_ID, sid, "ed") == "Which platform's text?"
    await until(lambda: f"sub:1:ed:x:{sid}" in world.card(sid).callback_data())
    for target, title in (("telegram", "Faster CSV, TG"), ("x", "Faster CSV, X")):
        if f"sub:1:ed:{target}:{sid}" not in world.card(sid).callback_data():
            await world.press(EDITOR_ID, sid, "ed")
            await until(lambda t=target: f"sub:1:ed:{t}:{sid}" in world.card(sid).callback_data())
        await world.press(EDITOR_ID, sid, f"ed:{target}")
        await until(lambda: "title | comment" in (world.tg.sent(EDITORS_GROUP)[-1].text or ""))
        shown = await world.say(EDITOR_ID, f"{title} | worth a read", EDITORS_GROUP)
        assert shown.text is not None
        assert title in shown.text
        assert "/280" in shown.text  # the X weight before saving
        assert shown.callback_data() == {f"sub:1:sv:{sid}", f"sub:1:cx:{sid}"}
        answers = len(world.tg.answers)
        world.tg.press(EDITOR_ID, EDITORS_GROUP, shown.message_id, f"sub:1:sv:{sid}")
        await until(lambda a=answers: len(world.tg.answers) > a)
        assert world.tg.answers[answers].text == "Saved."
        name = "Telegram" if target == "telegram" else "X"
        await until(lambda n=name: f"✏️ {n} by @editor" in (world.card(sid).text or ""))
    row = await world.row(sid)
    assert {t: e.title for t, e in row.edits.items()} == {
        "telegram": "Faster CSV, TG",
        "x": "Faster CSV, X",
    }
    await until(lambda: f"sub:1:ap:{sid}" in world.card(sid).callback_data())
    await world.press(EDITOR_ID, sid, "ap")
    await until(lambda: len(world.channel_posts()) == 1 and len(world.fx.posts()) == 1)
    assert "Faster CSV, TG" in (world.channel_posts()[0].text or "")
    assert "worth a read" in (world.channel_posts()[0].text or "")
    x_text = world.fx.posts()[0].text
    assert "Faster CSV, X" in x_text
    assert x_weighted_length(x_text) <= 280


# ---- who may press -------------------------------------------------------------------------


async def test_a_non_editor_pressing_each_button_changes_nothing(world: World) -> None:
    sid = await world.submitted(world.page("outsider"))
    await has_cards(world, sid)
    card = world.card(sid)
    told_before = len(world.tg.sent(READER_ID))
    for action in BUTTONS:
        assert await world.press(OUTSIDER_ID, sid, action) == "Not allowed."
        assert world.tg.answers[-1].show_alert
    row = await world.row(sid)
    assert row.state == "pending"
    assert row.edits == {}
    assert world.tg.message(EDITORS_GROUP, card.message_id).edits == 0
    assert len(world.tg.sent(READER_ID)) == told_before
    assert world.channel_posts() == []
    assert await world.runtime.services.store.outbox.list_by_state("queued") == []
    audit = await world.runtime.services.store.list_audit(action="submission.denied")
    assert len(audit) == len(BUTTONS)
    assert {e.actor for e in audit} == {f"user:{OUTSIDER_ID}"}
    assert {e.subject for e in audit} == {submission_key(sid)}


async def test_forged_callbacks_are_refused_and_audited(world: World) -> None:
    sid = await world.submitted(world.page("forged"))
    await has_cards(world, sid)
    card = world.card(sid)
    forged = [
        (OUTSIDER_ID, f"sub:1:ap:{sid}"),  # the data of a button the outsider cannot press
        (READER_ID, f"sub:1:ap:{sid}"),  # the reader, who cannot see the card at all
        (EDITOR_ID, f"sub:9:ap:{sid}"),  # a version this bot never wrote
        (EDITOR_ID, f"sub:1:zz:{sid}"),  # an unknown action
        (EDITOR_ID, "sub:1:ap:" + "9" * 60),  # over 64 bytes
    ]
    for user_id, data in forged:
        answers = len(world.tg.answers)
        world.tg.press_forged(user_id, EDITORS_GROUP, card.message_id, data)
        await until(lambda a=answers: len(world.tg.answers) > a)
        assert world.tg.answers[answers].text == "Not allowed.", data
    assert (await world.row(sid)).state == "pending"
    assert world.tg.message(EDITORS_GROUP, card.message_id).edits == 0
    assert await world.runtime.services.store.outbox.list_by_state("queued") == []
    audit = await world.runtime.services.store.list_audit(action="submission.denied")
    assert len(audit) == len(forged)


async def test_ten_concurrent_approves_decide_once_and_post_once_per_target(
    world: World,
) -> None:
    sid = await world.submitted(world.page("race"))
    await has_cards(world, sid)
    card = world.card(sid)
    answers = len(world.tg.answers)
    for n in range(10):  # all pressed before the bot handles the first
        editor = EDITOR_ID if n % 2 == 0 else EDITOR2_ID
        world.tg.press(editor, EDITORS_GROUP, card.message_id, f"sub:1:ap:{sid}")
    await until(lambda: len(world.tg.answers) >= answers + 10)
    texts = [a.text or "" for a in world.tg.answers[answers:]]
    assert texts.count("✅ Approved by you.") == 1
    losers = [t for t in texts if t != "✅ Approved by you."]
    assert len(losers) == 9
    row = await world.row(sid)
    when = dt.datetime.fromtimestamp(row.decided_at or 0, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    # Told who won and when (later presses may already see it posted).
    assert set(losers) <= {
        f"Already approved by {row.decided_by} at {when}.",
        f"Already approved and posted by {row.decided_by} at {when}.",
    }, losers
    await until(lambda: len(world.channel_posts()) == 1 and len(world.fx.posts()) == 1)
    audit = await world.runtime.services.store.list_audit(action="submission.approve")
    assert len(audit) == 1
    rows = await world.runtime.services.store.outbox.list_by_state("sent")
    assert sorted(r.target for r in rows if r.idempotency_key == submission_key(sid)) == [
        "telegram",
        "x",
    ]


async def test_draft_only_and_ban(world: World) -> None:
    first = await world.submitted(world.page("draft"))
    assert await world.press(EDITOR_ID, first, "dr") == "📝 Kept for the draft by you."
    await until(
        lambda: any("kept for the next issue" in (m.text or "") for m in world.tg.sent(READER_ID))
    )
    second = await world.submitted(world.page("spam"), user_id=READER2_ID)
    assert await world.press(EDITOR2_ID, second, "bn") == "🚫 Banned by you."
    await until(lambda: any("no longer takes" in (m.text or "") for m in world.tg.sent(READER2_ID)))
    reply = await world.say(READER2_ID, f"/submit {world.page('spam2')}")
    assert reply.text == "Sorry, this bot does not take links from you."
    assert world.channel_posts() == []
    assert world.fx.posts() == []


async def test_a_submitter_who_blocked_the_bot_breaks_nothing(world: World) -> None:
    sid = await world.submitted(world.page("blocked"))
    world.tg.block(READER_ID)
    assert await world.press(EDITOR_ID, sid, "rj") == "Why is it rejected?"
    assert await world.press(EDITOR_ID, sid, "rj:off_topic") == "❌ Rejected by you."
    await until(lambda: any(c.status == 403 for c in world.tg.calls_of("sendMessage")))
    world.tg.block(READER_ID, False)
    other = await world.submitted(world.page("after-block"))
    assert await world.press(EDITOR_ID, other, "ap") == "✅ Approved by you."
    await until(lambda: len(world.channel_posts()) == 1)
    assert (await world.row(sid)).told_at is not None


async def test_a_429_storm_while_three_approved_links_publish(tmp_path: Path) -> None:
    """Each link is posted once, and nothing is sent before a `retry_after` expired."""
    async with FakeTelegram(limits_scale=30) as tg:  # the demo's pacing, the fake's limits to match
        tg.add_user(EDITOR_ID, "Editor", "editor")
        tg.add_user(READER_ID, "Reader", "reader")
        tg.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Python Trending Weekly")
        async with world_with(tg, tmp_path, flood=True) as world:
            ids = [
                await world.submitted(world.page(f"storm{n}", f"Storm link {n}"), user_id=user)
                for n, user in enumerate((READER_ID, READER2_ID, OUTSIDER_ID))
            ]
            for sid in ids:
                await has_cards(world, sid)
            tg.inject(Fault.retry_after(1), method="sendMessage", times=4)
            for sid in ids:
                assert await world.press(EDITOR_ID, sid, "ap") == "✅ Approved by you."
            await until(lambda: len(world.channel_posts()) == 3, within=30)
            await until(lambda: len(world.fx.posts()) == 3, within=30)
            texts = [m.text or "" for m in world.channel_posts()]
            for n in range(3):
                assert sum(f"Storm link {n}" in t for t in texts) == 1
            assert sorted(p.text.split("\n")[0] for p in world.fx.posts()) == [
                f"Storm link {n}" for n in range(3)
            ]
            storm = [c for c in tg.calls_of("sendMessage") if c.status == 429]
            assert [c for c in storm if c.chat_id == CHANNEL_ID], storm
            assert tg.violations == []


async def test_a_submitter_left_untold_by_a_crash_hears_at_start(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with world_with(fake_telegram, tmp_path) as world:
        sid = await world.submitted(world.page("crash"))
        # Decided without the handler (as if the bot died right after the commit).
        decided = await world.runtime.services.submissions.reject(
            sid, editor="@editor [1001]", reason="broken_link"
        )
        assert decided is not None
        assert decided.won
    told = len(fake_telegram.sent(READER_ID))
    async with world_with(fake_telegram, tmp_path) as world:
        await until(lambda: len(world.tg.sent(READER_ID)) > told)
        assert world.tg.sent(READER_ID)[-1].text == (
            f"Your link #{sid} was not taken: the link does not work. Thank you for sending it."
        )
        assert (await world.row(sid)).told_at is not None


# ---- the reader's replies ----------------------------------------------------------------


async def test_duplicates_are_answered_at_once(world: World) -> None:
    url = world.page("dupe")  # http://blog.example.com:<port>/page/dupe
    sid = await world.submitted(url)
    port = world.web.address[1]
    for same in (
        f"{url}?utm_source=x&utm_medium=tg",
        url.replace("http://", "https://"),
        url + "/",
        url.replace(SITE, "www." + SITE),
    ):
        reply = await world.say(READER2_ID, f"/submit {same}")
        assert reply.text == f"Already submitted (#{sid}), waiting for review.", same
    assert port > 0
    # A link of a stored issue.
    issue = make_issue({"projects": [make_item(7)]}, number=106)
    await world.runtime.services.store.issues.upsert(issue, now=dt.datetime.now(dt.UTC))
    reply = await world.say(READER2_ID, "/submit http://www.github.com/gpustack/gpustack7/")
    assert reply.text is not None
    assert reply.text.startswith("Already featured in issue #106 (")
    assert "http" in reply.text.split("): ", 1)[1]


async def test_bad_input_gets_the_rule_and_an_example(world: World) -> None:
    reply = await world.say(READER_ID, "/submit ftp://files.example.com/x")
    assert reply.text is not None
    assert reply.text.startswith("Not accepted (scheme): ")
    assert "https://example.com/article" in reply.text


async def test_over_the_limits(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    async with world_with(fake_telegram, tmp_path, max_pending_per_user=1) as world:
        await world.submitted(world.page("one"))
        reply = await world.say(READER_ID, f"/submit {world.page('two')}")
        assert reply.text == (
            "You have 1 links waiting for review; send more once an editor has looked at them."
        )


async def test_the_cooldown_says_when(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    async with world_with(fake_telegram, tmp_path, cooldown_seconds=600) as world:
        await world.submitted(world.page("one"))
        reply = await world.say(READER_ID, f"/submit {world.page('two')}")
        assert reply.text is not None
        assert reply.text.startswith("Please wait a little (600 s between links)")
        assert "UTC" in reply.text


async def test_submissions_switched_off(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    async with world_with(fake_telegram, tmp_path, enabled=False) as world:
        reply = await world.say(READER_ID, f"/submit {world.page('off')}")
        assert reply.text == "Submissions are switched off for now."
        assert await world.runtime.services.submissions.store.list_by_state("pending") == []


async def test_submit_in_a_group_points_to_the_private_chat(world: World) -> None:
    reply = await world.say(READER_ID, "/submit https://example.com/x", READERS_GROUP)
    assert reply.text == "Send it to me in private, please: the button opens our chat."
    buttons = reply.reply_markup["inline_keyboard"][0]  # type: ignore[index]
    username = world.runtime.application.bot.username
    assert buttons[0]["url"] == f"https://t.me/{username}?start=submit"
    assert await world.runtime.services.submissions.store.list_by_state("pending") == []
    # The deep link opens the private chat with /start submit: the bot asks for the link.
    ask = await world.say(READER_ID, "/start submit")
    assert ask.text is not None
    assert ask.text.startswith("Send me the link")
    reply = await world.say(READER_ID, world.page("deep"))
    assert reply.text is not None
    assert reply.text.startswith("Received, #")


async def test_submit_alone_asks_with_force_reply_then_takes_the_link(world: World) -> None:
    ask = await world.say(READER_ID, "/submit")
    assert ask.text is not None
    assert ask.text.startswith("Send me the link")
    assert ask.force_reply
    reply = await world.say(READER_ID, f"{world.page('alone')} a good one for: beginners")
    assert reply.text is not None
    assert reply.text.startswith("Received, #")
    pending = await world.runtime.services.submissions.store.list_by_state("pending")
    assert [(p.note, p.fields.for_whom) for p in pending] == [("a good one", "beginners")]


async def test_cancel_ends_the_waiting(world: World) -> None:
    await world.say(READER_ID, "/submit")
    assert (await world.say(READER_ID, "/cancel")).text == "Cancelled."
    before = len(world.tg.sent(READER_ID))
    world.tg.user_sends(READER_ID, world.page("cancelled"))
    assert (await world.say(READER_ID, "/cancel")).text == "Nothing to cancel."
    assert len(world.tg.sent(READER_ID)) == before + 1  # the link itself got no reply
    assert await world.runtime.services.submissions.store.list_by_state("pending") == []


async def test_help_lists_submit(world: World) -> None:
    assert "submit" in {c.name for c in COMMANDS}
    reply = await world.say(READER_ID, "/help")
    assert reply.text is not None
    assert "/submit - Send a link for the channel" in reply.text
    assert "/outbox" not in reply.text


# ---- the reader's buttons ----------------------------------------------------------------

READER_BUTTONS = ("fo", "so", "lv", "cr:username", "cr:name", "cr:anonymous")
NOT_NAMED = "Saved for all your links: the posts will not name you."


async def receipt(world: World, url: str) -> tuple[int, ChatMessage]:
    """The reader submits `url`: its id and the "Received" message with their buttons."""
    reply = await world.say(READER_ID, f"/submit {url}")
    assert reply.text is not None
    assert reply.text.startswith("Received, #"), reply.text
    sid = int(reply.text.split("#")[1].split(":")[0])
    await has_cards(world, sid)
    return sid, reply


async def reader_press(
    world: World, user_id: int, message: ChatMessage, data: str, *, forged: bool = False
) -> str | None:
    """`user_id` presses `data` on the reader's message (forged: whatever its buttons;
    always for someone else, who cannot press in the reader's chat)."""
    answers = len(world.tg.answers)
    if user_id == READER_ID and not forged:
        await until(lambda: data in world.tg.message(READER_ID, message.message_id).callback_data())
        world.tg.press(user_id, READER_ID, message.message_id, data)
    else:
        world.tg.press_forged(user_id, READER_ID, message.message_id, data)
    await until(lambda: len(world.tg.answers) > answers)
    return world.tg.answers[answers].text


def labels(message: ChatMessage) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


async def test_the_reader_sets_fields_by_buttons_and_the_card_shows_them(world: World) -> None:
    sid, mine = await receipt(world, world.page("fields"))
    assert mine.callback_data() == {f"rd:1:{a}:{sid}" for a in READER_BUTTONS}
    assert labels(mine) == [
        "👥 For whom",
        "🧩 Solves",
        "🎓 Level",
        "👤 @reader",
        "✅ 👤 My name",
        "🙈 Anonymous",
    ]
    card_edits = world.card(sid).edits

    # The level by button: the menu, then the pick.
    assert await reader_press(world, READER_ID, mine, f"rd:1:lv:{sid}") == "Pick a level."
    pick = f"rd:1:lv:intermediate:{sid}"
    assert await reader_press(world, READER_ID, mine, pick) == "Level saved: Intermediate."
    assert (await world.row(sid)).fields.level == "intermediate"
    await until(lambda: "level: intermediate" in (world.card(sid).text or ""))
    assert world.card(sid).edits > card_edits
    assert world.card(sid).callback_data() == {f"sub:1:{a}:{sid}" for a in BUTTONS}
    await until(
        lambda: "🎓 Level: Intermediate" in labels(world.tg.message(READER_ID, mine.message_id))
    )

    # "For whom" by text: the bot asks (ForceReply), the next message is the value.
    assert await reader_press(world, READER_ID, mine, f"rd:1:fo:{sid}") == "Send it as a message."
    await until(lambda: (world.tg.sent(READER_ID)[-1].text or "").startswith(f"Who is #{sid} for?"))
    assert world.tg.sent(READER_ID)[-1].force_reply
    saved = await world.say(READER_ID, "data  engineers")
    assert saved.text == f"Saved for #{sid}: for: data engineers"
    row = await world.row(sid)
    assert (row.fields.for_whom, row.fields.level) == ("data engineers", "intermediate")
    await until(lambda: "for: data engineers" in (world.card(sid).text or ""))
    assert "👥 For: data engineers" in labels(world.tg.message(READER_ID, mine.message_id))

    # Anonymous: the card says so, and the post names nobody.
    assert await reader_press(world, READER_ID, mine, f"rd:1:cr:anonymous:{sid}") == NOT_NAMED
    assert (await world.row(sid)).credit_as == "anonymous"
    await until(lambda: "Credit: anonymous" in (world.card(sid).text or ""))
    assert "✅ 🙈 Anonymous" in labels(world.tg.message(READER_ID, mine.message_id))
    assert await world.press(EDITOR_ID, sid, "ap") == "✅ Approved by you."
    await until(lambda: len(world.channel_posts()) == 1 and len(world.fx.posts()) == 1)
    assert "via" not in (world.channel_posts()[0].text or "")
    assert "via" not in world.fx.posts()[0].text


async def test_a_field_set_while_the_card_is_on_its_way_reaches_the_card(world: World) -> None:
    reply = await world.say(READER_ID, f"/submit {world.web.url('/slow', host=SITE)}")
    assert reply.text is not None
    sid = int(reply.text.split("#")[1].split(":")[0])
    world.tg.inject(Fault.slow(3.0), method="sendMessage")  # the card: shown, answered late
    world.web.release_slow()
    await until(lambda: any(f"#{sid}\n" in (c.text or "") for c in world.cards()))
    await reader_press(world, READER_ID, reply, f"rd:1:lv:{sid}")
    assert await reader_press(world, READER_ID, reply, f"rd:1:lv:advanced:{sid}") == (
        "Level saved: Advanced."
    )
    assert not (await world.row(sid)).cards  # the bot does not know the card yet
    await until(lambda: "level: advanced" in (world.card(sid).text or ""))
    assert world.card(sid).callback_data() == {f"sub:1:{a}:{sid}" for a in BUTTONS}


async def test_a_double_tap_on_a_readers_button_is_no_error(world: World) -> None:
    sid, mine = await receipt(world, world.page("double-tap"))
    for forged in (False, True):  # the second tap sends the same data to the new keyboard
        answer = await reader_press(
            world, READER_ID, mine, f"rd:1:cr:anonymous:{sid}", forged=forged
        )
        assert answer == NOT_NAMED
    assert (await world.row(sid)).credit_as == "anonymous"
    # The keyboard is edited after the press is answered: wait for the second edit.
    await until(lambda: any(c.status == 400 for c in world.tg.calls_of("editMessageReplyMarkup")))
    # Updates are handled in order: once the next press is answered, an error notice for
    # the double tap would have been sent.
    assert await reader_press(world, READER_ID, mine, f"rd:1:lv:{sid}") == "Pick a level."
    assert not any("The bot failed" in (m.text or "") for m in world.tg.sent(EDITORS_GROUP))


async def test_a_long_field_is_refused_and_cancel_ends_the_wait(world: World) -> None:
    sid, mine = await receipt(world, world.page("long-field"))
    await reader_press(world, READER_ID, mine, f"rd:1:so:{sid}")
    await until(lambda: "What problem" in (world.tg.sent(READER_ID)[-1].text or ""))
    refused = await world.say(READER_ID, "x" * 201)
    assert refused.text == (
        "That is 201 characters; at most 200 are kept. Send a shorter one, or /cancel."
    )
    assert (await world.say(READER_ID, "/cancel")).text == "Cancelled."
    assert (await world.row(sid)).fields.solves is None


async def test_someone_else_pressing_the_readers_buttons_changes_nothing(world: World) -> None:
    sid, mine = await receipt(world, world.page("not-yours"))
    card = world.card(sid)
    before = await world.row(sid)
    for user_id in (READER2_ID, EDITOR_ID):  # an editor is not the submitter either
        for action in (*READER_BUTTONS, "lv:advanced", "cr:on"):
            answer = await reader_press(world, user_id, mine, f"rd:1:{action}:{sid}")
            assert answer == "Not allowed.", action
            assert world.tg.answers[-1].show_alert
    after = await world.row(sid)
    assert (after.fields, after.credit_as, after.updated_at) == (
        before.fields,
        before.credit_as,
        before.updated_at,
    )
    assert world.tg.message(READER_ID, mine.message_id).edits == 0
    assert world.tg.message(EDITORS_GROUP, card.message_id).edits == card.edits
    # No one was asked for a text: the next message of the other reader is no field.
    assert not any("Who is" in (m.text or "") for m in world.tg.sent(READER2_ID))


async def test_the_readers_buttons_after_a_decision_say_already_decided(world: World) -> None:
    sid, mine = await receipt(world, world.page("decided"))
    assert await world.press(EDITOR_ID, sid, "dr") == "📝 Kept for the draft by you."
    before = await world.row(sid)
    answer = await reader_press(world, READER_ID, mine, f"rd:1:cr:anonymous:{sid}")
    assert answer == f"Already decided: an editor has looked at #{sid}."
    # The press took the stale buttons away; an old client may still send their data.
    await until(lambda: not world.tg.message(READER_ID, mine.message_id).callback_data())
    for action in ("lv:beginner", "fo"):
        answer = await reader_press(world, READER_ID, mine, f"rd:1:{action}:{sid}", forged=True)
        assert answer == f"Already decided: an editor has looked at #{sid}.", action
    assert not any("Who is" in (m.text or "") for m in world.tg.sent(READER_ID))
    after = await world.row(sid)
    assert (after.fields, after.credit_as, after.state) == (
        before.fields,
        before.credit_as,
        "approved",
    )


# ---- every press is answered ---------------------------------------------------------------


async def test_a_button_no_handler_knows_is_answered(world: World) -> None:
    hello = await world.say(READER_ID, "/help")
    for data in ("zz:1:what:7", "rd:1:zz:7", "hello", "rd:1:lv:expert:7"):
        answers = len(world.tg.answers)
        world.tg.press_forged(READER_ID, READER_ID, hello.message_id, data)
        await until(lambda a=answers: len(world.tg.answers) > a)
        assert world.tg.answers[answers].text == "Unknown button.", data
    assert world.tg.message(READER_ID, hello.message_id).edits == 0
