"""The fake Telegram Bot API, exercised through the real PTB stack over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.fakes.telegram import ControlError, FakeTelegram, Fault, serve_fake_telegram
from publishers.telegram_html import MessageEntity
from tests.conftest import CHANNEL_ID, CHANNEL_USERNAME, EDITOR_ID, READER_ID
from tests.images import png_header


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as real_bot:
        yield real_bot


def seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


async def until(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    """Wait for something another task does; fail rather than hang."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - a predicate over the fake, no event to await
            await asyncio.sleep(0.01)


# --- limits and parsing ---


async def test_text_of_4097_characters_is_refused(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(READER_ID, "a" * 4097)


async def test_4096_emoji_pass_because_telegram_counts_code_points(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    message = await bot.send_message(READER_ID, "😀" * 4096)
    assert message.text == "😀" * 4096
    assert fake_telegram.sent(READER_ID)[0].text == "😀" * 4096


async def test_tags_and_escapes_do_not_count_towards_the_limit(bot: telegram.Bot) -> None:
    message = await bot.send_message(READER_ID, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    assert message.text == "&" * 4096


async def test_bad_html_is_refused_with_telegrams_entity_message(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r'(?i)parse entities: unsupported start tag "br" at byte'):
        await bot.send_message(READER_ID, "a<br>b", parse_mode="HTML")


async def test_html_entities_come_back_in_utf16_offsets(bot: telegram.Bot) -> None:
    message = await bot.send_message(
        READER_ID, '😀 <b>bold</b> <a href="https://t.me">link</a>', parse_mode="HTML"
    )
    assert message.text == "😀 bold link"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 3, 4),
        ("text_link", 8, 4),
    ]
    assert message.entities[1].url == "https://t.me/"
    assert message.from_user is not None
    assert message.from_user.is_bot


async def test_whitespace_only_text_is_empty(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(READER_ID, " \n <b> </b>", parse_mode="HTML")


async def test_only_html_parse_mode_is_implemented(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)html only"):
        await bot.send_message(READER_ID, "*hi*", parse_mode="MarkdownV2")


async def test_callback_data_over_64_bytes_is_refused(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(READER_ID, "x", reply_markup=keyboard("é" * 33))


async def test_caption_over_1024_is_refused(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(READER_ID, "https://example.com/a.png", caption="c" * 1025)


# --- chats ---


async def test_unknown_chat_is_not_found(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(4242, "x")


async def test_channel_by_username_posts_as_the_channel(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    message = await bot.send_message(f"@{CHANNEL_USERNAME}", "issue 1")
    assert message.chat.id == CHANNEL_ID
    assert message.chat.type == "channel"
    assert message.sender_chat is not None
    assert message.sender_chat.id == CHANNEL_ID
    assert message.from_user is None
    assert [m.text for m in fake_telegram.sent(CHANNEL_ID)] == ["issue 1"]


async def test_channel_where_the_bot_is_not_admin_is_forbidden(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.set_bot_admin(CHANNEL_ID, False)
    with pytest.raises(Forbidden, match="bot is not a member of the channel chat"):
        await bot.send_message(CHANNEL_ID, "x")


async def test_blocked_user_gives_forbidden(bot: telegram.Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.block(READER_ID)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(READER_ID, "x")
    assert fake_telegram.sent(READER_ID) == []


async def test_message_ids_count_per_chat(bot: telegram.Bot) -> None:
    first = await bot.send_message(READER_ID, "a")
    other = await bot.send_message(EDITOR_ID, "b")
    second = await bot.send_message(READER_ID, "c")
    assert (first.message_id, other.message_id, second.message_id) == (1, 1, 2)


async def test_getme_getchat_and_getchatmember_de_json(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    chat = await bot.get_chat(f"@{CHANNEL_USERNAME}")
    member = await bot.get_chat_member(CHANNEL_ID, me.id)
    assert me.is_bot
    assert me.can_join_groups is True
    assert chat.id == CHANNEL_ID
    assert chat.type == "channel"
    assert isinstance(member, telegram.ChatMemberAdministrator)
    assert member.can_post_messages


async def test_commands_round_trip(bot: telegram.Bot) -> None:
    await bot.set_my_commands([("start", "Start"), ("submit", "Submit a link")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "submit"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_commands_are_kept_per_scope_and_language(bot: telegram.Bot) -> None:
    editor = telegram.BotCommandScopeChat(EDITOR_ID)
    await bot.set_my_commands([("help", "Help")])
    await bot.set_my_commands([("help", "Help"), ("status", "Status")], scope=editor)
    await bot.set_my_commands([("hilfe", "Hilfe")], language_code="de")
    assert [c.command for c in await bot.get_my_commands(scope=editor)] == ["help", "status"]
    assert [c.command for c in await bot.get_my_commands()] == ["help"]
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["hilfe"]
    assert await bot.get_my_commands(scope=telegram.BotCommandScopeAllPrivateChats()) == ()
    await bot.set_my_commands([], scope=editor)  # an empty list deletes
    assert await bot.get_my_commands(scope=editor) == ()


async def test_command_names_are_trimmed_and_a_leading_slash_dropped(bot: telegram.Bot) -> None:
    await bot.set_my_commands([(" /status ", "  What runs  ")])
    (command,) = await bot.get_my_commands()
    assert (command.command, command.description) == ("status", "What runs")


@pytest.mark.parametrize(
    ("commands", "error"),
    [
        ([("Status", "upper case")], "BOT_COMMAND_INVALID"),
        ([("stätus", "not a-z")], "BOT_COMMAND_INVALID"),
        ([("st-atus", "a dash")], "BOT_COMMAND_INVALID"),
        ([("a" * 33, "too long")], "must not exceed 32"),
        ([("   ", "empty")], "command must be non-empty"),
        ([("status", " ")], "description must be non-empty"),
        ([("status", "d" * 257)], "must not exceed 256"),
        ([(f"c{n}", "many") for n in range(101)], "BOT_COMMANDS_TOO_MUCH"),
    ],
)
async def test_commands_telegram_refuses(
    bot: telegram.Bot, commands: list[tuple[str, str]], error: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){re.escape(error)}"):
        await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == ()


async def test_the_limits_themselves_pass(bot: telegram.Bot) -> None:
    commands = [(f"c{n}_" + "a" * (30 - len(str(n))), "d" * 256) for n in range(100)]
    assert all(len(c) == 32 for c, _ in commands)
    assert await bot.set_my_commands(commands)
    assert len(await bot.get_my_commands()) == 100


@pytest.mark.parametrize(
    ("scope", "error"),
    [
        (telegram.BotCommandScopeChat(CHANNEL_ID), "can't change commands in channel chats"),
        (telegram.BotCommandScopeChat(4242), "chat not found"),
        (telegram.BotCommandScopeChatAdministrators(EDITOR_ID), "can't use specified scope"),
        (telegram.BotCommandScopeChatMember(EDITOR_ID, EDITOR_ID), "can't use specified scope"),
        (telegram.BotCommandScope("everyone"), "Unsupported type specified"),
    ],
)
async def test_command_scopes_telegram_refuses(
    bot: telegram.Bot, scope: telegram.BotCommandScope, error: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){re.escape(error)}"):
        await bot.set_my_commands([("help", "Help")], scope=scope)
    with pytest.raises(BadRequest, match=f"(?i){re.escape(error)}"):
        await bot.get_my_commands(scope=scope)


async def test_a_language_is_two_lowercase_letters(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)invalid language code"):
        await bot.set_my_commands([("help", "Help")], language_code="eng")


async def test_commands_per_language_and_the_language_rule(bot: telegram.Bot) -> None:
    await bot.set_my_commands([("start", "Start")])
    await bot.set_my_commands([("start", "开始")], language_code="zh")
    assert [c.description for c in await bot.get_my_commands(language_code="zh")] == ["开始"]
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert await bot.get_my_commands(language_code="ja") == ()  # nothing of its own
    # Telegram takes ISO 639-1 codes only, not a client's tag.
    for code in ("zh-hans", "zho", "z1"):
        with pytest.raises(BadRequest, match="Invalid language code specified"):
            await bot.set_my_commands([("start", "Start")], language_code=code)
    await bot.delete_my_commands(language_code="zh")
    assert await bot.get_my_commands(language_code="zh") == ()
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]


async def test_a_users_language_code_reaches_the_bot(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(4242, "Li", "li", language_code="zh-hans")
    fake_telegram.user_sends(4242, "hi")
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        updates = await bot.get_updates(timeout=0)
    assert updates[-1].effective_user is not None
    assert updates[-1].effective_user.language_code == "zh-hans"


async def test_wrong_token_is_unauthorized(fake_telegram: FakeTelegram) -> None:
    with pytest.raises(telegram.error.InvalidToken):
        async with telegram.Bot("123456:wrong", base_url=fake_telegram.base_url):
            pass
    assert fake_telegram.calls == []  # refused before any method ran


async def test_unknown_method_is_not_found(bot: telegram.Bot) -> None:
    with pytest.raises(telegram.error.EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": READER_ID})


async def test_json_bodies_are_accepted_like_forms(fake_telegram: FakeTelegram) -> None:
    url = f"{fake_telegram.base_url}{fake_telegram.token}/sendMessage"
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url, json={"chat_id": READER_ID, "text": "<i>json</i>", "parse_mode": "HTML"}
        ) as response,
    ):
        body = await response.json()
    assert body["ok"]
    assert body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 4}]


# --- photos and media groups ---


async def test_uploaded_photo_and_url_photo_are_recorded(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    uploaded = await bot.send_photo(
        READER_ID, png_header(40, 30), caption="<b>c</b>", parse_mode="HTML"
    )
    await bot.send_photo(READER_ID, "https://example.com/cover.png")
    records = fake_telegram.sent(READER_ID)
    assert records[0].photo is not None
    assert records[0].photo.source == "upload"
    assert records[0].photo.size == len(png_header(40, 30))
    assert records[0].caption_entities == (MessageEntity("bold", 0, 1),)
    assert records[1].photo is not None
    assert records[1].photo.ref == "https://example.com/cover.png"
    assert uploaded.photo[-1].file_id == records[0].photo.file_id


async def test_media_group_needs_two_to_ten_items(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    with pytest.raises(BadRequest, match="2-10"):
        await bot.send_media_group(READER_ID, [InputMediaPhoto("https://example.com/1.png")])
    messages = await bot.send_media_group(
        READER_ID,
        [
            InputMediaPhoto("https://example.com/1.png", caption="one"),
            InputMediaPhoto(png_header(8, 8)),
        ],
    )
    assert len(messages) == 2
    assert messages[0].media_group_id == messages[1].media_group_id
    assert [m.caption for m in fake_telegram.sent(READER_ID)] == ["one", None]


# --- edits and deletes ---


async def test_edits_and_deletes_are_visible_in_the_record(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    sent = await bot.send_message(READER_ID, "draft", reply_markup=keyboard("ok"))
    await bot.edit_message_text("final", READER_ID, sent.message_id, reply_markup=keyboard("ok"))
    await bot.edit_message_reply_markup(READER_ID, sent.message_id)
    record = fake_telegram.message(READER_ID, sent.message_id)
    assert (record.text, record.edits, record.reply_markup) == ("final", 2, None)
    assert [v.text for v in fake_telegram.history(READER_ID, sent.message_id)] == [
        "draft",
        "final",
        "final",
    ]
    await bot.delete_message(READER_ID, sent.message_id)
    assert fake_telegram.message(READER_ID, sent.message_id).deleted
    assert fake_telegram.sent(READER_ID) == []


async def test_identical_edit_is_not_modified(bot: telegram.Bot) -> None:
    sent = await bot.send_message(READER_ID, "<b>same</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified: specified new message"):
        await bot.edit_message_text("<b>same</b>", READER_ID, sent.message_id, parse_mode="HTML")


async def test_edit_caption_of_a_text_message_is_refused(bot: telegram.Bot) -> None:
    sent = await bot.send_message(READER_ID, "text")
    with pytest.raises(BadRequest, match=r"(?i)no caption"):
        await bot.edit_message_caption(READER_ID, sent.message_id, caption="c")


# --- buttons ---


async def test_pressing_data_not_on_the_message_is_impossible(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    sent = await bot.send_message(EDITOR_ID, "approve?", reply_markup=keyboard("sub:ok:1"))
    with pytest.raises(ControlError, match="no button"):
        fake_telegram.press(EDITOR_ID, EDITOR_ID, sent.message_id, "sub:ok:2")
    query_id = fake_telegram.press(EDITOR_ID, EDITOR_ID, sent.message_id, "sub:ok:1")
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.id == query_id
    assert update.callback_query.chat_instance
    assert update.callback_query.data == "sub:ok:1"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == sent.message_id


async def test_answer_callback_query_text_is_limited_to_200(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    sent = await bot.send_message(EDITOR_ID, "x", reply_markup=keyboard("a"))
    query_id = fake_telegram.press(EDITOR_ID, EDITOR_ID, sent.message_id, "a")
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(query_id, text="t" * 201)
    await bot.answer_callback_query(query_id, text="done")
    assert [a.text for a in fake_telegram.answers] == ["done"]


# --- updates ---


async def test_get_updates_offset_confirms_and_forgets(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.user_sends(READER_ID, "/start")
    fake_telegram.user_sends(READER_ID, "hello")
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["/start", "hello"]
    assert first[0].message is not None
    assert first[0].message.entities[0].type == "bot_command"
    assert len(await bot.get_updates()) == 2  # not confirmed yet
    assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
    assert await bot.get_updates() == ()  # forgotten for good


async def test_get_updates_limit(bot: telegram.Bot, fake_telegram: FakeTelegram) -> None:
    for n in range(3):
        fake_telegram.user_sends(READER_ID, str(n))
    assert len(await bot.get_updates(limit=2)) == 2


async def test_long_poll_returns_when_a_user_sends(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await until(lambda: fake_telegram.api.updates.polling > 0)
    fake_telegram.user_sends(READER_ID, "wake up")
    updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_webhook_posts_updates_with_the_secret_header(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret-token")
        with pytest.raises(Conflict):
            await bot.get_updates()
        fake_telegram.user_sends(READER_ID, "via webhook")
        await until(lambda: bool(received))
        secret, body = received[0]
        assert secret == "s3cret-token"
        assert body["message"]["text"] == "via webhook"  # type: ignore[index]
        await until(lambda: not fake_telegram.pending_updates)
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook")
        assert info.pending_update_count == 0
        await bot.delete_webhook()
        assert await bot.get_updates() == ()
    finally:
        await runner.cleanup()


async def test_webhook_must_be_loopback(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match="loopback"):
        await bot.set_webhook("https://example.com/hook")


async def test_application_polls_and_answers_a_command_and_a_button(
    fake_telegram: FakeTelegram,
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome", reply_markup=keyboard("menu:go"))

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("ok")
        await query.edit_message_text(f"pressed {query.data}")

    app = ApplicationBuilder().token(fake_telegram.token).base_url(fake_telegram.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        fake_telegram.user_sends(READER_ID, "/start")
        await until(lambda: bool(fake_telegram.sent(READER_ID)))
        welcome = fake_telegram.sent(READER_ID)[0]
        assert welcome.text == "Welcome"
        fake_telegram.press(READER_ID, READER_ID, welcome.message_id, "menu:go")
        await until(lambda: fake_telegram.message(READER_ID, welcome.message_id).edits == 1)
        await app.updater.stop()
        await app.stop()
    assert fake_telegram.message(READER_ID, welcome.message_id).text == "pressed menu:go"
    assert [a.text for a in fake_telegram.answers] == ["ok"]


# --- flood limits and faults ---


async def test_scripted_429_surfaces_as_retry_after(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.inject(Fault.retry_after(7), method="sendMessage")
    with pytest.raises(RetryAfter) as error:
        await bot.send_message(READER_ID, "x")
    assert seconds(error.value.retry_after) == 7
    with pytest.raises(RetryAfter):  # sent before the announced 7 s passed
        await bot.send_message(READER_ID, "again")
    assert [v.chat_id for v in fake_telegram.violations] == [READER_ID]
    assert fake_telegram.sent(READER_ID) == []


async def test_exceeding_the_per_chat_window_gives_retry_after(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    for n in range(3):  # Telegram tolerates a burst of 3 per chat
        await bot.send_message(READER_ID, str(n))
    with pytest.raises(RetryAfter) as error:
        await bot.send_message(READER_ID, "4th")
    assert seconds(error.value.retry_after) == 1
    await bot.send_message(EDITOR_ID, "another chat is fine")
    assert fake_telegram.violations == []
    assert fake_telegram.calls_of("sendMessage")[3].status == 429


async def test_channel_window_is_20_per_minute_scaled(fake_telegram: FakeTelegram) -> None:
    async with FakeTelegram(limits_scale=0.1) as tg:
        tg.add_channel(CHANNEL_ID, CHANNEL_USERNAME)
        async with telegram.Bot(tg.token, base_url=tg.base_url) as scaled:
            await scaled.send_message(CHANNEL_ID, "1")  # 20 × 0.1 = 2 per 60 s
            with pytest.raises(RetryAfter):
                await scaled.send_media_group(
                    CHANNEL_ID,
                    [
                        InputMediaPhoto("https://e.com/1.png"),
                        InputMediaPhoto("https://e.com/2.png"),
                    ],
                )  # each item counts


async def test_connection_dropped_after_recording_keeps_the_message(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.inject(Fault.drop_after(), method="sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(READER_ID, "maybe sent")
    assert [m.text for m in fake_telegram.sent(READER_ID)] == ["maybe sent"]
    assert fake_telegram.calls_of("sendMessage")[0].status == 0


async def test_connection_dropped_before_recording_loses_the_message(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.inject(Fault.drop_before(), method="sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(READER_ID, "lost")
    assert fake_telegram.sent(READER_ID) == []


async def test_timeout_fault_is_a_reply_slower_than_the_client(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.inject(Fault.timeout(0.5), method="sendMessage")
    with pytest.raises(TimedOut):
        await bot.send_message(READER_ID, "slow", read_timeout=0.1)
    assert [m.text for m in fake_telegram.sent(READER_ID)] == ["slow"]


async def test_server_error_fault_is_a_network_error(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.inject(Fault.server_error(502, "Bad Gateway"), times=2)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(READER_ID, "x")
    with pytest.raises(NetworkError):
        await bot.get_me()
    assert (await bot.get_me()).is_bot


async def test_fault_rate_is_seeded(fake_telegram: FakeTelegram) -> None:
    outcomes = []
    for _ in range(2):
        async with FakeTelegram(seed=3) as tg:
            tg.inject_rate(Fault.server_error(), 0.5, method="getMe")
            async with aiohttp.ClientSession() as session:
                for _ in range(8):
                    async with session.post(f"{tg.base_url}{tg.token}/getMe") as response:
                        outcomes.append(response.status)
    assert outcomes[:8] == outcomes[8:]
    assert {200, 500} <= set(outcomes)


# --- the control API over HTTP (what the CLI uses) ---


async def test_control_http_sends_presses_and_reads(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    sent = await bot.send_message(EDITOR_ID, "pick", reply_markup=keyboard("a"))
    control = fake_telegram.control_url
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{control}/press",
            json={
                "user_id": EDITOR_ID,
                "chat_id": EDITOR_ID,
                "message_id": sent.message_id,
                "data": "b",
            },
        ) as refused:
            assert refused.status == 400
        async with session.post(
            f"{control}/send", json={"user_id": EDITOR_ID, "text": "/help"}
        ) as accepted:
            assert (await accepted.json())["result"]["entities"][0]["type"] == "bot_command"
        async with session.get(f"{control}/messages", params={"chat_id": str(EDITOR_ID)}) as read:
            records = (await read.json())["result"]
        async with session.post(f"{control}/faults", json={"kind": "retry_after", "seconds": 3}):
            pass
    assert [r["text"] for r in records] == ["pick", "/help"]
    assert (
        json.loads(json.dumps(records[0]["reply_markup"]))["inline_keyboard"][0][0]["text"] == "a"
    )
    with pytest.raises(RetryAfter):
        await bot.send_message(EDITOR_ID, "x")


async def test_sending_again_before_a_flood_wait_expires_is_a_violation(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    for n in range(3):
        await bot.send_message(READER_ID, str(n))
    with pytest.raises(RetryAfter):
        await bot.send_message(READER_ID, "too soon")
    assert fake_telegram.violations == []  # the first 429 is Telegram's, not a violation
    with pytest.raises(RetryAfter):
        await bot.send_message(READER_ID, "ignoring retry_after")
    (violation,) = fake_telegram.violations
    assert violation.chat_id == READER_ID
    assert 0 < violation.early_by <= 1


async def test_channel_post_by_another_admin_is_an_update(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.channel_post(f"@{CHANNEL_USERNAME}", "posted by hand")
    (update,) = await bot.get_updates()
    assert update.channel_post is not None
    assert update.channel_post.text == "posted by hand"
    assert update.channel_post.chat.id == CHANNEL_ID


async def test_allowed_updates_filters_kinds(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    fake_telegram.user_sends(READER_ID, "ignored")
    assert await bot.get_updates() == ()


async def test_serve_fake_telegram_announces_its_urls() -> None:
    lines: list[str] = []
    server = asyncio.create_task(
        serve_fake_telegram("127.0.0.1", 0, "777:cli-token", announce=lines.append)
    )
    try:
        await until(
            lambda: any(line.startswith("WEEKLYBOT_TELEGRAM__EDITOR_IDS=") for line in lines)
        )
        base_url = lines[0].split()[4]
        async with telegram.Bot("777:cli-token", base_url=base_url) as cli_bot:
            assert (await cli_bot.send_message("@weeklybot_demo", "demo")).chat.type == "channel"
        assert "/_control" in lines[1]
        # What points the bot at the fake, printed ready to paste.
        assert "WEEKLYBOT_TELEGRAM__TOKEN=777:cli-token" in lines
        assert f"WEEKLYBOT_TELEGRAM__API_BASE_URL={base_url}" in lines
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server


def test_the_fake_refuses_to_bind_beyond_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FakeTelegram(host="0.0.0.0")  # noqa: S104 - the point of the test


async def test_a_webhook_that_refuses_keeps_the_update_and_says_why(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    """Telegram keeps an update its webhook did not take (a 403 from a receiver checking the
    secret token, say) and reports it in getWebhookInfo; a bad secret is refused."""

    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=403)

    with pytest.raises(BadRequest, match="ecret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="no spaces allowed")
    app = web.Application()
    app.router.add_post("/hook", refuse)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="a" * 256)
        fake_telegram.user_sends(READER_ID, "kept")
        hook = fake_telegram.api.updates.webhook
        assert hook is not None
        await until(lambda: hook.last_error_message is not None)
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"
        assert info.pending_update_count == 1
        assert hook.delivered == []
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
