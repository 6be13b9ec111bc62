"""The editor-review kit: the editor check, the callback-data codec, the one sender."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import telegram
from hypothesis import given
from hypothesis import strategies as st

from bot.editors.kit import (
    CALLBACK_DATA_MAX,
    CHAT_SPACING,
    Callback,
    CallbackCodec,
    CallbackDataError,
    ChatSpacer,
    EditorChats,
    is_editor,
)
from bot.editors.outbox_cards import OUTBOX_BUTTONS
from bot.editors.preview_cards import PREVIEW_BUTTONS
from bot.fakes.telegram import FakeTelegram
from bot.platforms import PLATFORMS
from tests.conftest import EDITOR_ID, READER_ID, settings_for

OTHER_EDITOR = 1003


# ---- the editor check ---------------------------------------------------------------


def test_only_the_settings_editor_ids_are_editors(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    tg = settings_for(fake_telegram, tmp_path).telegram
    assert is_editor(tg, EDITOR_ID)
    assert not is_editor(tg, READER_ID)
    assert not is_editor(tg, None)


# ---- the codec ----------------------------------------------------------------------


def test_todays_buttons_keep_their_data() -> None:
    """Cards already in the editors' chats carry this data: it must still decode."""
    assert OUTBOX_BUTTONS.encode("sent", 12) == "ob:sent:12"
    assert PREVIEW_BUTTONS.encode("ed:telegram", 5) == "pv:ed:telegram:5"
    assert PREVIEW_BUTTONS.decode("pv:ed:x:5") == Callback("pv", "ed:x", 5)
    assert PREVIEW_BUTTONS.decode("pv:bf:901") == Callback("pv", "bf", 901)
    assert OUTBOX_BUTTONS.pattern == "^ob:"


def test_a_versioned_kind_writes_and_reads_its_version() -> None:
    review = CallbackCodec("sub", ("ap", "rj"), version=1)
    assert review.encode("ap", 123) == "sub:1:ap:123"
    assert review.decode("sub:1:ap:123") == Callback("sub", "ap", 123, version=1)
    with pytest.raises(CallbackDataError, match="unknown version 2"):
        review.decode("sub:2:ap:123")
    with pytest.raises(CallbackDataError, match="unknown version None"):
        review.decode("sub:ap:123")
    both = CallbackCodec("sub", ("ap",), version=2, accepts=(1, 2))
    assert both.decode("sub:1:ap:7").version == 1


@pytest.mark.parametrize(
    "data",
    [
        "",
        "ob",
        "ob:sent",
        "ob:sent:",
        "ob::12",
        "ob:sent:-1",
        "ob:sent:+1",
        "ob:sent:012",
        "ob:sent:1.5",
        "ob:sent:12:",
        "ob:SENT:12",
        "ob:nope:12",
        "pv:sent:12",
        "ob:sent:12 ",
        " ob:sent:12",
        "ob:sent:١٢",  # Arabic-Indic digits: int() would take them, the codec does not
        "ob:sent:" + "9" * 20,
    ],
)
def test_malformed_data_is_refused_in_one_line(data: str) -> None:
    with pytest.raises(CallbackDataError) as refused:
        OUTBOX_BUTTONS.decode(data)
    assert "\n" not in str(refused.value)


def test_data_over_64_bytes_is_refused_both_ways() -> None:
    long_action = CallbackCodec("x", None)
    action = "a" * 31 + ":" + "b" * 31  # valid words, 63 characters
    with pytest.raises(CallbackDataError, match="over 64 bytes"):
        long_action.encode(action, 1)
    with pytest.raises(CallbackDataError, match="over 64 bytes"):
        long_action.decode(f"x:{action}:1")
    fits = "x:" + "a" * 31 + ":" + "b" * 28 + ":1"
    assert len(fits) == CALLBACK_DATA_MAX
    assert long_action.decode(fits).id == 1
    with pytest.raises(CallbackDataError, match="over 64 bytes"):
        long_action.decode("x:a:1" + "é" * 30)  # 65 bytes in 35 characters


def test_encoding_refuses_what_could_not_be_read_back() -> None:
    with pytest.raises(CallbackDataError, match="unknown action"):
        OUTBOX_BUTTONS.encode("publish", 1)
    with pytest.raises(CallbackDataError, match="negative id"):
        OUTBOX_BUTTONS.encode("sent", -1)
    with pytest.raises(CallbackDataError, match="malformed"):
        CallbackCodec("x").encode("a b", 1)
    with pytest.raises(ValueError, match="prefix"):
        CallbackCodec("Ob:")


# What the preview cards write: the decisions, and [Edit <platform>] per registered target.
CARD_ACTIONS = sorted(
    {"now", "plan", "skip", "edit", "back", "bf", *(f"ed:{p.name}" for p in PLATFORMS)}
)


@given(st.sampled_from(CARD_ACTIONS), st.integers(0, 10**18))
def test_round_trip(action: str, number: int) -> None:
    data = PREVIEW_BUTTONS.encode(action, number)
    assert len(data.encode()) <= CALLBACK_DATA_MAX
    assert PREVIEW_BUTTONS.decode(data) == Callback("pv", action, number)


@given(st.binary(max_size=100))
def test_any_bytes_decode_or_are_refused_cleanly(data: bytes) -> None:
    for codec in (OUTBOX_BUTTONS, PREVIEW_BUTTONS, CallbackCodec("x")):
        try:
            button = codec.decode(data)
        except CallbackDataError:
            continue
        assert codec.encode(button.action, button.id).encode() == data  # one spelling


@given(st.text(max_size=80))
def test_any_text_decodes_or_is_refused_cleanly(data: str) -> None:
    try:
        button = CallbackCodec("x").decode(data)
    except CallbackDataError:
        return
    assert CallbackCodec("x").encode(button.action, button.id) == data


# ---- the sender ---------------------------------------------------------------------


async def test_a_blocked_editor_gets_one_warning_and_the_others_still_hear(
    fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    fake_telegram.add_user(OTHER_EDITOR, "Other", "other")
    fake_telegram.block(EDITOR_ID)
    caplog.set_level(logging.WARNING, logger="bot.editors.kit")
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        editors = EditorChats(bot, (EDITOR_ID, OTHER_EDITOR))
        sent = await editors.send("<b>New issue</b> #902", OUTBOX_BUTTONS_MARKUP())
    assert [m.chat_id for m in sent] == [OTHER_EDITOR]
    assert [m.text for m in fake_telegram.sent(OTHER_EDITOR)] == ["New issue #902"]
    assert fake_telegram.sent(EDITOR_ID) == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [(r.getMessage(), getattr(r, "chat_id", None)) for r in warnings] == [
        ("editor unreachable", EDITOR_ID)
    ]


def OUTBOX_BUTTONS_MARKUP() -> telegram.InlineKeyboardMarkup:
    return telegram.InlineKeyboardMarkup([[OUTBOX_BUTTONS.button("Mark as sent", "sent", 1)]])


async def test_messages_to_one_chat_are_spaced_and_stay_under_the_burst(
    fake_telegram: FakeTelegram,
) -> None:
    """The fake enforces Telegram's burst of 3 per chat per second: five in a row pass."""
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        editors = EditorChats(bot, (EDITOR_ID,), spacer=ChatSpacer())
        started = time.monotonic()
        for n in range(5):
            await editors.send(f"notice {n}")
        took = time.monotonic() - started
    assert [m.text for m in fake_telegram.sent(EDITOR_ID)] == [f"notice {n}" for n in range(5)]
    assert took >= 4 * CHAT_SPACING - 0.05


async def test_no_editor_chat_is_one_warning(
    fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.editors.kit")
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        assert await EditorChats(bot, ()).send("hello", what="an alarm") == []
    assert [r.getMessage() for r in caplog.records] == ["no editor chat configured"]


async def test_best_effort_swallows_other_errors_but_the_default_raises(
    fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    unknown_chat = 777_000
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        editors = EditorChats(bot, (unknown_chat, EDITOR_ID))
        assert [m.chat_id for m in await editors.send("x", best_effort=True)] == [EDITOR_ID]
        with pytest.raises(telegram.error.BadRequest):
            await editors.send("y")
