"""The automatic check of doubtful channel posts, through real PTB and the fake Telegram.

What is proven: a post Telegram recorded before the connection dropped ends
`sent` with its channel id and no card; a post it never saw is queued again and
posted once; without a log chat, or when the answer is ambiguous (the same text
twice, a deleted message, too many ids), the editors get the card as before;
after a crash the next worker settles the row the same way; the forwarded
copies never stay in the log chat. And the fake's forwardMessage is as strict
as Telegram's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import telegram
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.app import build_application, build_workers
from bot.delivery.workers import DeliveryPool
from bot.fakes.telegram import FakeTelegram, Fault
from data.db import Database
from data.store import Store
from handlers.context import BotServices
from publishers.base import KnownPosts
from publishers.telegram_probe import TelegramProbe, candidate_window, expected_text
from tests.conftest import CHANNEL_ID, EDITOR_ID, settings_for
from tests.delivery_support import (
    cards,
    channel_fake,
    enqueue,
    eventually,
    has_message,
    opened_store,
    run_workers_until,
    sent,
    settled,
    states,
    telegram_bot,
    telegram_payload,
    telegram_worker,
    texts,
)
from tests.test_delivery_crash import LEASE, die_mid_send

LOG_CHAT_ID = -1002000000002


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with channel_fake() as fake:
        fake.add_group(LOG_CHAT_ID, "Probe log", bot_is_admin=True)
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with telegram_bot(tg, read_timeout=0.5) as real_bot:
        yield real_bot


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with opened_store(tmp_path / "weeklybot.db") as opened:
        yield opened


def probe(bot: telegram.Bot, *, max_ids: int = 20) -> TelegramProbe:
    return TelegramProbe(bot, CHANNEL_ID, LOG_CHAT_ID, max_ids=max_ids, quiet_seconds=0)


def leftovers(tg: FakeTelegram) -> list[str]:
    return texts(m for m in tg.messages(LOG_CHAT_ID) if not m.deleted)


async def row_of(store: Store, row_id: int) -> tuple[str, str | None, list[str]]:
    row = await store.outbox.get(row_id)
    assert row is not None
    events = [f"{e.to_state}:{e.actor}" for e in await store.outbox.events(row_id)]
    return row.state, row.remote_id, events


# --- the fake's forwardMessage ---


async def test_forward_copies_the_message_with_its_origin(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    original = await bot.send_message(CHANNEL_ID, "<b>bold</b> news", parse_mode="HTML")

    copy = await bot.forward_message(LOG_CHAT_ID, CHANNEL_ID, original.message_id)

    assert copy.chat.id == LOG_CHAT_ID
    assert (copy.text, copy.entities) == (original.text, original.entities)
    assert isinstance(copy.forward_origin, telegram.MessageOriginChannel)
    assert copy.forward_origin.chat.id == CHANNEL_ID
    assert copy.forward_origin.message_id == original.message_id
    assert tg.message(LOG_CHAT_ID, copy.message_id).method == "forwardMessage"


async def test_forward_copies_photo_and_caption(bot: telegram.Bot) -> None:
    original = await bot.send_photo(CHANNEL_ID, "https://example.org/a.png", caption="a caption")

    copy = await bot.forward_message(LOG_CHAT_ID, CHANNEL_ID, original.message_id)

    assert copy.caption == "a caption"
    assert [p.file_id for p in copy.photo] == [p.file_id for p in original.photo]


async def test_forward_of_a_missing_or_deleted_message_is_refused(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    sent = await bot.send_message(CHANNEL_ID, "soon gone")
    await bot.delete_message(CHANNEL_ID, sent.message_id)

    for message_id in (sent.message_id, sent.message_id + 1):
        with pytest.raises(BadRequest, match="Message to forward not found"):
            await bot.forward_message(LOG_CHAT_ID, CHANNEL_ID, message_id)
    assert [c.status for c in tg.calls_of("forwardMessage")] == [400, 400]
    assert tg.messages(LOG_CHAT_ID) == []


async def test_forward_needs_a_channel_the_bot_can_read(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    sent = await bot.send_message(CHANNEL_ID, "members only")
    tg.set_bot_admin(CHANNEL_ID, False)

    with pytest.raises(Forbidden, match="not a member of the channel"):
        await bot.forward_message(LOG_CHAT_ID, CHANNEL_ID, sent.message_id)
    assert tg.messages(LOG_CHAT_ID) == []


async def test_forward_counts_toward_the_flood_limits(tg: FakeTelegram, bot: telegram.Bot) -> None:
    sent = await bot.send_message(CHANNEL_ID, "popular")
    tg.inject(Fault.retry_after(30), method="sendMessage")
    with pytest.raises(RetryAfter):
        await bot.send_message(LOG_CHAT_ID, "announces a wait for the log chat")

    with pytest.raises(RetryAfter):
        await bot.forward_message(LOG_CHAT_ID, CHANNEL_ID, sent.message_id)
    assert [v.method for v in tg.violations] == ["forwardMessage"]


# --- the worker settles doubtful rows ---


async def test_post_recorded_before_the_drop_ends_sent_with_its_id(
    tg: FakeTelegram, bot: telegram.Bot, store: Store
) -> None:
    ids = await enqueue(
        store.outbox, "telegram", map(telegram_payload, ["first", "<i>dropped</i> &amp; kept"])
    )
    tg.inject(Fault.drop_after(), method="sendMessage", times=1)  # the first call: "first"

    worker = telegram_worker(store, bot, settler=probe(bot))
    await run_workers_until([worker], lambda: settled(store.outbox, ids))

    assert await states(store.outbox, ids) == {ids[0]: "sent", ids[1]: "sent"}
    _state, remote_id, events = await row_of(store, ids[0])
    assert remote_id == str(tg.sent(CHANNEL_ID)[0].message_id)
    assert events[-2:] == ["in_doubt:" + worker.owner, "sent:telegram:probe"]
    assert texts(tg.sent(CHANNEL_ID)) == ["first", "dropped & kept"]
    assert [c.status for c in tg.calls_of("sendMessage") if c.chat_id == CHANNEL_ID] == [0, 200]
    assert cards(tg, EDITOR_ID) == []
    assert tg.calls_of("forwardMessage"), "the probe did not look"
    assert leftovers(tg) == []


async def test_post_lost_before_telegram_saw_it_is_posted_once(
    tg: FakeTelegram, bot: telegram.Bot, store: Store
) -> None:
    earlier = await enqueue(store.outbox, "telegram", [telegram_payload("already out")], prefix="e")
    await run_workers_until([telegram_worker(store, bot)], lambda: settled(store.outbox, earlier))
    (row_id,) = await enqueue(store.outbox, "telegram", [telegram_payload("lost on the way")])
    tg.inject(Fault.drop_before(), method="sendMessage", times=1)

    # Not `settled`: the row is `in_doubt` (final for Telegram) while the probe looks,
    # and the workers must not stop there; a row never resent times the wait out.
    await run_workers_until(
        [telegram_worker(store, bot, settler=probe(bot))], lambda: sent(store, row_id)
    )

    state, remote_id, events = await row_of(store, row_id)
    assert state == "sent"
    assert "queued:telegram:probe" in events
    assert texts(tg.sent(CHANNEL_ID)) == ["already out", "lost on the way"]
    assert remote_id == str(tg.sent(CHANNEL_ID)[1].message_id)
    assert cards(tg, EDITOR_ID) == []
    assert leftovers(tg) == []
    # It looked only past the last post it knew: one "not found", nothing to forward back.
    assert [c.status for c in tg.calls_of("forwardMessage")] == [400]


async def test_without_a_log_chat_the_editors_get_the_card(
    tg: FakeTelegram, bot: telegram.Bot, store: Store
) -> None:
    (row_id,) = await enqueue(store.outbox, "telegram", [telegram_payload("who knows")])
    tg.inject(Fault.drop_after(), method="sendMessage", times=1)

    await run_workers_until([telegram_worker(store, bot)], lambda: settled(store.outbox, [row_id]))

    assert (await states(store.outbox, [row_id]))[row_id] == "in_doubt"
    (card,) = cards(tg, EDITOR_ID)
    assert card.callback_data() == {f"ob:again:{row_id}", f"ob:sent:{row_id}"}
    assert tg.calls_of("forwardMessage") == []


async def test_the_same_text_twice_is_ambiguous_and_goes_to_the_editors(
    tg: FakeTelegram, bot: telegram.Bot, store: Store
) -> None:
    tg.channel_post(CHANNEL_ID, "weekly digest")  # an admin posted the same text by hand
    (row_id,) = await enqueue(store.outbox, "telegram", [telegram_payload("weekly digest")])
    tg.inject(Fault.drop_after(), method="sendMessage", times=1)

    await run_workers_until(
        [telegram_worker(store, bot, settler=probe(bot))],
        lambda: settled(store.outbox, [row_id]),
    )

    assert (await states(store.outbox, [row_id]))[row_id] == "in_doubt"
    (card,) = cards(tg, EDITOR_ID)
    assert f"ob:sent:{row_id}" in card.callback_data()
    assert texts(tg.messages(CHANNEL_ID)) == ["weekly digest", "weekly digest"]
    assert leftovers(tg) == []


@pytest.mark.slow  # waits out real time
async def test_after_a_crash_the_next_worker_settles_the_row(tmp_path: Path) -> None:
    db_path = tmp_path / "weeklybot.db"
    async with channel_fake() as tg:
        tg.add_group(LOG_CHAT_ID, "Probe log", bot_is_admin=True)
        async with opened_store(db_path) as store:
            row_id, later_id = await enqueue(
                store.outbox,
                "telegram",
                [telegram_payload("caught mid-send"), telegram_payload("the next post")],
            )
        tg.inject(Fault.slow(3.0), method="sendMessage")  # Telegram acts, then answers late

        async with opened_store(db_path) as store, telegram_bot(tg, read_timeout=10) as bot:
            in_channel = asyncio.ensure_future(eventually(lambda: has_message(tg)))
            await die_mid_send(telegram_worker(store, bot, lease=LEASE), in_channel)

        # The successor posts "the next post" while the dead lease still runs, so the
        # probe must not start from the highest id it knows.
        async with opened_store(db_path) as store, telegram_bot(tg) as bot:
            successor = telegram_worker(store, bot, lease=LEASE, settler=probe(bot))
            await run_workers_until(
                [successor],
                lambda: settled(store.outbox, [row_id, later_id]),
                within=LEASE + 8,
            )
            state, remote_id, events = await row_of(store, row_id)
            later = await store.outbox.get(later_id)

        assert later is not None
        assert later.remote_id == "2"
        assert (state, remote_id) == ("sent", "1")
        assert events[-2:] == ["in_doubt:reaper", "sent:telegram:probe"]
        assert texts(tg.sent(CHANNEL_ID)) == ["caught mid-send", "the next post"]
        assert cards(tg, EDITOR_ID) == []
        assert leftovers(tg) == []


# --- the probe's rules, one by one ---


async def test_a_deleted_message_below_a_known_one_keeps_the_doubt(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    gone = await bot.send_message(CHANNEL_ID, "maybe ours")
    await bot.delete_message(CHANNEL_ID, gone.message_id)
    other = await bot.send_message(CHANNEL_ID, "another row")
    claimed_at = time.time() - 10
    known = KnownPosts(claimed_at, ((str(other.message_id), claimed_at + 5),))

    result = await probe(bot).settle(telegram_payload("maybe ours"), known)

    assert result.verdict == "unknown"
    assert "gone" in result.reason


async def test_the_probe_is_bounded(tg: FakeTelegram, bot: telegram.Bot) -> None:
    for n in range(3):
        tg.channel_post(CHANNEL_ID, f"by hand {n}")

    result = await probe(bot, max_ids=2).settle(telegram_payload("x"), KnownPosts(time.time()))

    assert result.verdict == "unknown"
    assert len(tg.calls_of("forwardMessage")) == 2
    assert leftovers(tg) == []


async def test_an_empty_channel_proves_not_sent(tg: FakeTelegram, bot: telegram.Bot) -> None:
    result = await probe(bot).settle(telegram_payload("never"), KnownPosts(time.time()))

    assert (result.verdict, result.remote_id) == ("not_sent", None)


async def test_a_log_chat_the_bot_cannot_write_to_keeps_the_doubt(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    await bot.send_message(CHANNEL_ID, "out there")
    tg.add_group(LOG_CHAT_ID, "Probe log", bot_is_member=False)

    result = await probe(bot).settle(telegram_payload("out there"), KnownPosts(time.time()))

    assert result.verdict == "unknown"


def test_the_window_starts_after_the_last_post_recorded_before_the_attempt() -> None:
    known = KnownPosts(100.0, (("3", 50.0), ("7", 99.0), ("9", 120.0), ("dry-run-1", 10.0)))

    assert candidate_window(known) == (7, frozenset({9}))
    assert candidate_window(KnownPosts(100.0)) == (0, frozenset())


def test_the_expected_text_is_what_telegram_stores() -> None:
    assert expected_text(telegram_payload("  <b>a</b> &lt;b&gt;\n\n")) == ("a <b>", False)
    with pytest.raises(ValueError, match="unparsable"):
        expected_text(telegram_payload("<b>unclosed"))


# --- wiring ---


@pytest.mark.parametrize("log_chat", [LOG_CHAT_ID, None])
async def test_the_telegram_worker_gets_the_probe_when_a_log_chat_is_set(
    tg: FakeTelegram, tmp_path: Path, log_chat: int | None
) -> None:
    settings = settings_for(tg, tmp_path)
    telegram_section = settings.telegram.model_copy(update={"log_chat_id": log_chat})
    settings = settings.model_copy(update={"telegram": telegram_section})
    async with Database.open(":memory:") as db:
        services = BotServices(settings=settings, store=Store(db), delivery=DeliveryPool())
        application = build_application(settings, services)
        (worker,) = build_workers(settings, services.store, application, None, dry_run=False)
        (dry,) = build_workers(settings, services.store, application, None, dry_run=True)

    assert isinstance(worker.settler, TelegramProbe) == (log_chat is not None)
    assert dry.settler is None
