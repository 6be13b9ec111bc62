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
