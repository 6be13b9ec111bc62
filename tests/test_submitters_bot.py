"""A submitter's tools in the running bot: /mysubmissions, /withdraw, /credit, /forgetme,
and the editors' daily reminder with expiry, on the fake Telegram, X and web."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.fakes.telegram import FakeTelegram
from handlers.reminders import REMINDER_JOB
from tests.conftest import CHANNEL_USERNAME, EDITOR_ID, READER_ID, ManualClock
from tests.test_submissions_bot import (
    BUTTONS,
    EDITORS_GROUP,
    OUTSIDER_ID,
    READER2_ID,
    READERS_GROUP,
    World,
    has_cards,
    labels,
    until,
    world,
    world_with,
)

__all__ = ["world"]  # the fixture, shared with the submissions' bot tests

T0 = 1_750_000_000.0
HOUR = 3600.0


async def command(world: World, user_id: int, line: str) -> str:
    reply = await world.say(user_id, line)
    assert reply.text is not None
    return reply.text


async def test_mysubmissions_lists_state_reason_and_the_channel_link(world: World) -> None:
    posted = await world.submitted(world.page("posted", "Posted link"))
    rejected = await world.submitted(world.page("rejected", "Rejected link"))
    waiting = await world.submitted(world.page("waiting", "Waiting link"))
    assert await world.press(EDITOR_ID, posted, "ap") == "✅ Approved by you."
    await world.press(EDITOR_ID, rejected, "rj")
    assert await world.press(EDITOR_ID, rejected, "rj:paywalled") == "❌ Rejected by you."
    await until(lambda: len(world.channel_posts()) == 1)
    post = world.channel_posts()[0]
    link = f"https://t.me/{CHANNEL_USERNAME}/{post.message_id}"
    await until(lambda: any(link in (m.text or "") for m in world.tg.sent(READER_ID)))
    await until(lambda: any("not taken" in (m.text or "") for m in world.tg.sent(READER_ID)))
    text = await command(world, READER_ID, "/mysubmissions")
    assert text.startswith("Your last 3 link(s), newest first:")
    blocks = text.split("\n\n")[1:]
    assert [b.split(" · ")[0] for b in blocks] == [f"#{waiting}", f"#{rejected}", f"#{posted}"]
    assert blocks[0].startswith(f"#{waiting} · ⏳ waiting for review\n")
    assert blocks[1].endswith("Reason: it is behind a paywall")
    assert blocks[2].startswith(f"#{posted} · 🎉 on the channel\n")
    assert blocks[2].endswith(f"On the channel: {link}")
    # Someone else's list is theirs alone.
    assert (
        await command(world, READER2_ID, "/mysubmissions")
        == "You have not sent any link yet: /submit <url> sends one."
    )


async def test_withdraw_while_pending_but_not_after_approval_nor_someone_elses(
    world: World,
) -> None:
    approved = await world.submitted(world.page("approved"))
    assert await world.press(EDITOR_ID, approved, "ap") == "✅ Approved by you."
    refused = await command(world, READER_ID, f"/withdraw {approved}")
    assert refused in (
        f"#{approved} can no longer be withdrawn: it was approved already.",
        f"#{approved} can no longer be withdrawn: it was approved and posted already.",
    )
    assert (await world.row(approved)).state in ("approved", "published")
    others = await world.submitted(world.page("bobs"), user_id=READER2_ID)
    assert await command(world, READER_ID, f"/withdraw {others}") == (
        f"You have no link #{others}. /mysubmissions lists yours."
    )
    assert (await world.row(others)).state == "pending"
    assert (await command(world, READER_ID, "/withdraw")).startswith("Send /withdraw and")
    assert (await command(world, READER_ID, "/withdraw twelve")).startswith("Send /withdraw")

    mine = await world.submitted(world.page("mine"))
    await has_cards(world, mine)
    assert world.card(mine).callback_data() == {f"sub:1:{a}:{mine}" for a in BUTTONS}
    assert await command(world, READER_ID, f"/withdraw #{mine}") == (
        f"↩️ #{mine} withdrawn: the editors will not review it."
    )
    assert (await world.row(mine)).state == "withdrawn"
    await until(lambda: not world.card(mine).callback_data())  # the card: decided, no buttons
    assert f"↩️ Withdrawn by user:{READER_ID} at " in (world.card(mine).text or "")
    answers = len(world.tg.answers)  # an editor's stale client still sends [Approve]
    world.tg.press_forged(EDITOR_ID, EDITORS_GROUP, world.card(mine).message_id, f"sub:1:ap:{mine}")
    await until(lambda: len(world.tg.answers) > answers)
    assert (world.tg.answers[answers].text or "").startswith(
        f"Already withdrawn by user:{READER_ID} at "
    )
    assert world.channel_posts() == [] or all(
        "mine" not in (m.text or "") for m in world.channel_posts()
    )


async def test_credit_is_chosen_by_buttons_and_the_posts_and_cards_follow(world: World) -> None:
    waiting = await world.submitted(world.page("credit", "Credited link"))
    await has_cards(world, waiting)
    menu = await world.say(READER_ID, "/credit")
    assert menu.callback_data() == {
        f"cr:1:{c}:{READER_ID}" for c in ("username", "name", "anonymous")
    }
    assert labels(menu) == ["👤 @reader", "✅ 👤 My name", "🙈 Anonymous"]

    async def press(user_id: int, data: str, *, forged: bool = False) -> str | None:
        answers = len(world.tg.answers)
        if forged:
            world.tg.press_forged(user_id, READER_ID, menu.message_id, data)
        else:
            world.tg.press(user_id, READER_ID, menu.message_id, data)
        await until(lambda: len(world.tg.answers) > answers)
        return world.tg.answers[answers].text

    assert await press(READER2_ID, f"cr:1:anonymous:{READER_ID}", forged=True) == "Not allowed."
    assert (await world.row(waiting)).credit_as == "name"
    assert await press(READER_ID, f"cr:1:anonymous:{READER_ID}") == (
        "Saved for all your links: the posts will not name you."
    )
    await until(lambda: "Credit: anonymous" in (world.card(waiting).text or ""))
    assert world.card(waiting).callback_data() == {f"sub:1:{a}:{waiting}" for a in BUTTONS}
    await until(lambda: "✅ 🙈 Anonymous" in labels(world.tg.message(READER_ID, menu.message_id)))
    assert await press(READER_ID, f"cr:1:username:{READER_ID}") == (
        "Saved for all your links: the posts will say via @reader."
    )
    assert (await world.row(waiting)).credit_as == "username"
    assert await world.press(EDITOR_ID, waiting, "ap") == "✅ Approved by you."
    await until(lambda: len(world.channel_posts()) == 1 and len(world.fx.posts()) == 1)
    assert (world.channel_posts()[0].text or "").endswith("via @reader")
    assert "via reader\n" in world.fx.posts()[0].text  # on X the handle mentions nobody

    # Bob has no @username: no such button, and he is credited by his name.
    bob_menu = await world.say(READER2_ID, "/credit")
    assert labels(bob_menu) == ["✅ 👤 My name", "🙈 Anonymous"]
    bobs = await world.submitted(world.page("bob", "Bob's link"), user_id=READER2_ID)
    assert await world.press(EDITOR_ID, bobs, "ap") == "✅ Approved by you."
    await until(lambda: len(world.channel_posts()) == 2)
    assert (world.channel_posts()[1].text or "").endswith("via Bob")


async def test_forgetme_confirms_forgets_once_and_the_cards_lose_the_name(
    world: World,
) -> None:
    sid = await world.submitted(world.page("forget") + " a note only I wrote qwertz")
    await has_cards(world, sid)
    assert "Reader @reader [1002]" in (world.card(sid).text or "")
    ask = await world.say(READER_ID, "/forgetme")
    assert ask.text is not None
    assert "cannot be undone" in ask.text
    (ok,) = [d for d in ask.callback_data() if d.startswith("fg:1:ok:")]
    (no,) = [d for d in ask.callback_data() if d.startswith("fg:1:no:")]
    assert labels(ask) == ["🗑 Forget me", "Cancel"]
    answers = len(world.tg.answers)
    world.tg.press_forged(OUTSIDER_ID, READER_ID, ask.message_id, ok)
    await until(lambda: len(world.tg.answers) > answers)
    assert world.tg.answers[answers].text == "Not allowed."
    assert (await world.row(sid)).state == "pending"

    answers = len(world.tg.answers)
    for _ in range(2):  # a double press, both sent before the first is handled
        world.tg.press(READER_ID, READER_ID, ask.message_id, ok)
    await until(lambda: len(world.tg.answers) >= answers + 2)
    texts = sorted(a.text or "" for a in world.tg.answers[answers : answers + 2])
    assert texts == [
        "Done.",
        "This request was answered already; send /forgetme to ask again.",
    ]
    row = await world.row(sid)
    assert (row.state, row.note, row.display_name, row.username) == ("withdrawn", "", "", None)
    await until(lambda: "asked to be forgotten" in (world.card(sid).text or ""))
    card = world.card(sid).text or ""
    assert "Reader" not in card
    assert "qwertz" not in card
    assert not world.card(sid).callback_data()
    audit = await world.runtime.services.store.list_audit(action="user.forget")
    assert len(audit) == 1
    # The cancel button of the answered request changes nothing.
    answers = len(world.tg.answers)
    world.tg.press_forged(READER_ID, READER_ID, ask.message_id, no)
    await until(lambda: len(world.tg.answers) > answers)
    assert world.tg.answers[answers].text == (
        "This request was answered already; send /forgetme to ask again."
    )


async def test_reminders_then_expiry_on_a_moved_clock_a_blocked_submitter_skipped(
    fake_telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(T0)
    async with world_with(
        fake_telegram, tmp_path, clock=clock, expire_days=3, remind_after_hours=24
    ) as world:
        app = world.runtime.application
        assert app.job_queue is not None
        (job,) = app.job_queue.get_jobs_by_name(REMINDER_JOB)

        def digests() -> list[str]:
            return [
                m.text or ""
                for m in world.tg.sent(EDITORS_GROUP)
                if (m.text or "").startswith("⏰")
            ]

        first = await world.submitted(world.page("old-1", "First waiting"))
        second = await world.submitted(world.page("old-2", "Second waiting"), user_id=READER2_ID)
        clock.now = T0 + 2 * HOUR
        fresh = await world.submitted(world.page("fresh", "Fresh link"))
        for sid in (first, second, fresh):
            await has_cards(world, sid)

        clock.now = T0 + 23 * HOUR  # nothing is a day old yet
        await job.run(app)
        assert digests() == []

        clock.now = T0 + 25 * HOUR
        await job.run(app)
        (digest,) = digests()
        assert digest.startswith("⏰ 2 link(s) waiting for review for over 24 h")
        assert f"#{first} · 25 h · blog.example.com · First waiting" in digest
        assert f"#{fresh}" not in digest
        message = next(m for m in world.tg.sent(EDITORS_GROUP) if (m.text or "").startswith("⏰"))
        assert message.callback_data() == {f"rm:1:op:{first}", f"rm:1:op:{second}"}

        # [📥 #id] re-sends the card, with its decision buttons; only editors may press.
        cards = len(world.cards())
        answers = len(world.tg.answers)
        world.tg.press(OUTSIDER_ID, EDITORS_GROUP, message.message_id, f"rm:1:op:{first}")
        await until(lambda: len(world.tg.answers) > answers)
        assert world.tg.answers[answers].text == "Not allowed."
        world.tg.press(EDITOR_ID, EDITORS_GROUP, message.message_id, f"rm:1:op:{first}")
        await until(lambda: len(world.cards()) == cards + 1)
        again = world.cards()[-1]
        assert f"#{first}\n" in (again.text or "")
        assert again.callback_data() == {f"sub:1:{a}:{first}" for a in BUTTONS}
        await until(lambda: len(world.tg.answers) > answers + 1)
        assert world.tg.answers[answers + 1].text == f"The card of #{first} follows."

        # Past expire_days: the two oldest expire, their submitters are told, except the
        # one who blocked the bot (a log line); the fresh one is only reminded.
        world.tg.block(READER_ID)
        clock.now = T0 + 3 * 24 * HOUR + HOUR
        told_bob = len(world.tg.sent(READER2_ID))
        with caplog.at_level(logging.INFO, logger="handlers.submissions"):
            await job.run(app)
        assert (await world.row(first)).state == "expired"
        assert (await world.row(second)).state == "expired"
        assert (await world.row(fresh)).state == "pending"
        bob = world.tg.sent(READER2_ID)[told_bob:]
        assert [m.text for m in bob] == [
            f"⌛ Your link #{second} waited too long for review and has expired. Thank you"
            " for sending it; you may send it again."
        ]
        assert any(r.getMessage() == "submitter unreachable" for r in caplog.records)
        assert (await world.row(first)).told_at is not None  # not retried at every start
        for sid in (first, second):
            await until(lambda s=sid: "⌛ Expired by system" in (world.card(s).text or ""))
            assert not world.card(sid).callback_data()
        latest = digests()[-1]
        assert latest.startswith("⏰ 1 link(s) waiting")
        assert "⌛ 2 link(s) waited too long and expired" in latest
        assert f"#{fresh} · 2 days · " in latest  # 71 h


async def test_a_receipt_sent_before_the_three_way_credit_still_works(world: World) -> None:
    """Receipts of older versions carry rd:1:cr:off / cr:on: anonymous / the name."""
    sid = await world.submitted(world.page("legacy"))
    reply = [m for m in world.tg.sent(READER_ID) if (m.text or "").startswith("Received, #")][-1]
    for data, expected, stored in (
        (f"rd:1:cr:off:{sid}", "the posts will not name you.", "anonymous"),
        (f"rd:1:cr:on:{sid}", "the posts will name you.", "name"),
    ):
        answers = len(world.tg.answers)
        world.tg.press_forged(READER_ID, READER_ID, reply.message_id, data)
        await until(lambda a=answers: len(world.tg.answers) > a)
        assert (world.tg.answers[answers].text or "").endswith(expected)
        assert (await world.row(sid)).credit_as == stored


async def test_in_a_group_the_submitter_commands_point_to_the_private_chat(world: World) -> None:
    sid = await world.submitted(world.page("group"))
    for line in ("/mysubmissions", f"/withdraw {sid}", "/credit", "/forgetme"):
        reply = await world.say(READER_ID, line, READERS_GROUP)
        assert reply.text == "Please ask me in a private chat: this is about your own links."
        assert not reply.callback_data()
    assert (await world.row(sid)).state == "pending"
