"""Editors settle doubtful and failed posts with buttons, through PTB and the fake Telegram."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Runtime, bot_running
from bot.fakes.telegram import ChatMessage, ControlError, FakeTelegram
from data.outbox import OutboxState
from publishers.posts import TelegramPost, TelegramText
from tests.conftest import CHANNEL_ID, EDITOR_ID, READER_ID, settings_for
from tests.delivery_support import eventually


@pytest.fixture
async def runtime(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Runtime]:
    fake_telegram.api.flood = None
    async with bot_running(settings_for(fake_telegram, tmp_path)) as running:
        yield running


async def doubtful_row(runtime: Runtime, text: str) -> int:
    """A row whose send may have gone out: claimed, then marked in doubt."""
    outbox = runtime.services.store.outbox
    payload = TelegramPost(parts=(TelegramText(text),)).to_payload()
    # Not due for an hour, so the bot's own worker leaves it to this test.
    row_id = await outbox.enqueue(
        idempotency_key=f"t:{text}",
        target="telegram",
        kind="item",
        payload=payload,
        now=time.time(),
        not_before=time.time() + 3600,
    )
    assert row_id is not None
    claimed = await outbox.claim_next(
        "telegram", owner="test", lease_seconds=60, now=time.time() + 3600
    )
    assert claimed is not None
    assert claimed.id == row_id
    assert await outbox.mark_in_doubt(row_id, owner="test", error="timed out", now=time.time())
    return row_id


async def state_of(runtime: Runtime, row_id: int) -> OutboxState | None:
    row = await runtime.services.store.outbox.get(row_id)
    return None if row is None else row.state


def last_card(tg: FakeTelegram) -> ChatMessage:
    return next(m for m in reversed(tg.sent(EDITOR_ID)) if m.reply_markup)


async def ask_outbox(tg: FakeTelegram, user_id: int, replies: int) -> list[ChatMessage]:
    before = len(tg.sent(user_id))
    tg.user_sends(user_id, "/outbox")

    async def answered() -> bool:
        return len(tg.sent(user_id)) >= before + replies

    await eventually(answered)
    return tg.sent(user_id)[before:]


async def card_in_outbox(tg: FakeTelegram) -> ChatMessage:
    """Ask for /outbox as the editor (a summary and one card come back); return the card."""
    await ask_outbox(tg, EDITOR_ID, 2)
    return last_card(tg)


async def has_state(runtime: Runtime, row_id: int, state: OutboxState) -> bool:
    return await state_of(runtime, row_id) == state


async def test_outbox_lists_doubtful_rows_with_their_card(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    row_id = await doubtful_row(runtime, "maybe posted")
    summary, card = await ask_outbox(fake_telegram, EDITOR_ID, 2)
    assert "1 post(s) need you" in (summary.text or "")
    assert "May have been posted" in (card.text or "")
    assert "maybe posted" in (card.text or "")
    assert card.callback_data() == {f"ob:again:{row_id}", f"ob:sent:{row_id}"}


async def test_readers_cannot_see_the_outbox(runtime: Runtime, fake_telegram: FakeTelegram) -> None:
    await doubtful_row(runtime, "secret")
    (reply,) = await ask_outbox(fake_telegram, READER_ID, 1)
    assert reply.text == "Only editors can see the outbox."


async def test_mark_as_sent_settles_the_row_once(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    row_id = await doubtful_row(runtime, "it did go out")
    card = await card_in_outbox(fake_telegram)
    fake_telegram.press(EDITOR_ID, EDITOR_ID, card.message_id, f"ob:sent:{row_id}")

    await eventually(lambda: has_state(runtime, row_id, "sent"))
    await eventually(lambda: _edited(fake_telegram, card))
    edited = fake_telegram.message(EDITOR_ID, card.message_id)
    assert f"marked as sent by @editor [{EDITOR_ID}]" in (edited.text or "")
    with pytest.raises(ControlError):  # the buttons are gone with the decision
        fake_telegram.press(EDITOR_ID, EDITOR_ID, card.message_id, f"ob:again:{row_id}")
    assert fake_telegram.sent(CHANNEL_ID) == []  # nothing was posted again


async def test_post_again_sends_it_once(runtime: Runtime, fake_telegram: FakeTelegram) -> None:
    row_id = await doubtful_row(runtime, "it was lost")
    card = await card_in_outbox(fake_telegram)
    fake_telegram.press(EDITOR_ID, EDITOR_ID, card.message_id, f"ob:again:{row_id}")

    await eventually(lambda: has_state(runtime, row_id, "sent"))
    assert [m.text for m in fake_telegram.sent(CHANNEL_ID)] == ["it was lost"]


async def test_a_reader_pressing_an_editor_button_changes_nothing(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    row_id = await doubtful_row(runtime, "not yours")
    card = await card_in_outbox(fake_telegram)
    query_id = fake_telegram.press(READER_ID, EDITOR_ID, card.message_id, f"ob:sent:{row_id}")

    async def answered() -> bool:
        return any(a.callback_query_id == query_id for a in fake_telegram.answers)

    await eventually(answered)
    answer = next(a for a in fake_telegram.answers if a.callback_query_id == query_id)
    assert answer.text == "Only editors can decide this."
    assert await state_of(runtime, row_id) == "in_doubt"


async def _edited(tg: FakeTelegram, card: ChatMessage) -> bool:
    return tg.message(EDITOR_ID, card.message_id).edits > 0


async def failed_group(runtime: Runtime, texts: list[str]) -> list[int]:
    """The parts of one post, not due for an hour; the first was refused for good."""
    outbox = runtime.services.store.outbox
    later = time.time() + 3600
    ids: list[int] = []
    for seq, text in enumerate(texts):
        row_id = await outbox.enqueue(
            idempotency_key=f"g:{text}",
            target="telegram",
            kind="item",
            payload=TelegramPost(parts=(TelegramText(text),)).to_payload(),
            now=time.time(),
            not_before=later,
            group_key="post",
            seq=seq,
        )
        assert row_id is not None
        ids.append(row_id)
    claimed = await outbox.claim_next("telegram", owner="test", lease_seconds=60, now=later)
    assert claimed is not None
    assert claimed.id == ids[0]
    assert await outbox.mark_failed(ids[0], owner="test", error="refused", now=time.time())
    return ids


async def next_claimable(runtime: Runtime) -> int | None:
    row = await runtime.services.store.outbox.claim_next(
        "telegram", owner="test", lease_seconds=60, now=time.time() + 3600
    )
    return None if row is None else row.id


async def press_and_wait_edit(tg: FakeTelegram, card: ChatMessage, data: str) -> ChatMessage:
    edits = tg.message(EDITOR_ID, card.message_id).edits
    tg.press(EDITOR_ID, EDITOR_ID, card.message_id, data)

    async def edited() -> bool:
        return tg.message(EDITOR_ID, card.message_id).edits > edits

    await eventually(edited)
    return tg.message(EDITOR_ID, card.message_id)


@pytest.mark.parametrize("choice", ["skip", "dropall"])
async def test_dropping_a_part_asks_about_the_rest(
    runtime: Runtime, fake_telegram: FakeTelegram, choice: str
) -> None:
    ids = await failed_group(runtime, ["photo", "text", "more"])
    card = await card_in_outbox(fake_telegram)
    assert card.callback_data() == {f"ob:retry:{ids[0]}", f"ob:cancel:{ids[0]}"}

    asked = await press_and_wait_edit(fake_telegram, card, f"ob:cancel:{ids[0]}")
    assert asked.callback_data() == {f"ob:skip:{ids[0]}", f"ob:dropall:{ids[0]}"}
    assert await state_of(runtime, ids[0]) == "failed"  # nothing dropped yet

    decided = await press_and_wait_edit(fake_telegram, asked, f"ob:{choice}:{ids[0]}")
    outbox = runtime.services.store.outbox
    assert await outbox.stranded() == []
    if choice == "skip":
        assert "the rest of the post goes out without it" in (decided.text or "")
        assert [await state_of(runtime, i) for i in ids] == ["cancelled", "queued", "queued"]
        assert await next_claimable(runtime) == ids[1]
    else:
        assert "dropped with the whole post" in (decided.text or "")
        assert [await state_of(runtime, i) for i in ids] == ["cancelled"] * 3
        assert await next_claimable(runtime) is None


async def test_outbox_offers_the_choice_for_a_stranded_group(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    ids = await failed_group(runtime, ["digest 1", "digest 2"])
    outbox = runtime.services.store.outbox
    assert await outbox.cancel(ids[0], actor="user:1", now=time.time())  # older code's drop
    assert await next_claimable(runtime) is None

    card = await card_in_outbox(fake_telegram)
    assert "Waiting behind a dropped part" in (card.text or "")
    assert card.callback_data() == {f"ob:skip:{ids[0]}", f"ob:dropall:{ids[0]}"}
    await press_and_wait_edit(fake_telegram, card, f"ob:skip:{ids[0]}")
    assert await outbox.stranded() == []
    assert await next_claimable(runtime) == ids[1]


async def test_outbox_cards_stay_under_the_per_chat_limit(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    """Flood limits on (3 messages a second per chat): six cards come back, none refused,
    though the bot's start-up message to the same chat came just before."""
    async with bot_running(settings_for(fake_telegram, tmp_path)) as running:
        ids = [await doubtful_row(running, f"doubt {n}") for n in range(6)]
        replies = await ask_outbox(fake_telegram, EDITOR_ID, 1 + len(ids))

    assert "6 post(s) need you" in (replies[0].text or "")
    assert len([m for m in replies if m.reply_markup]) == len(ids)
    statuses = [c.status for c in fake_telegram.calls_of("sendMessage") if c.chat_id == EDITOR_ID]
    assert 429 not in statuses
    assert fake_telegram.violations == []
