"""The reader's language: which one a handler answers in, and `/lang` to choose it.

The language comes from Telegram's `language_code` (zh* is zh, anything else en), kept
per user in `user_langs` so a notice sent without an update speaks it too; `/lang zh`,
`/lang en` or its buttons record a choice the client's code no longer overrides.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import cast

from telegram import InlineKeyboardMarkup, Update, User
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.editors.kit import CallbackCodec, CallbackDataError
from bot.texts import CHAT_LANGS, ChatLang, TextKey, lang_of_code, text
from handlers.context import App, BotServices, Context, services

log = logging.getLogger(__name__)

LANG_BUTTONS = CallbackCodec("lang", CHAT_LANGS, version=1)  # lang:1:zh:0
# Each language's button names it in itself ("中文", "English"), whatever the reader's.
LANG_LABELS: dict[ChatLang, TextKey] = {"zh": "button.lang.zh", "en": "button.lang.en"}


async def reader_lang(svc: BotServices, user: User | None) -> ChatLang:
    """The language to answer `user` in: their /lang choice, else their client's.

    One read per call; a write only when the client's language changed (or is new),
    and not awaited: the answer is `seen` either way, and a write lost to a crash is
    only observed again at the next message (the submissions' burst keeps its group
    commit instead of one fsync per new reader before each is dispatched).
    """
    if user is None:
        return "en"
    stored = await svc.store.langs.get(user.id)
    seen = lang_of_code(user.language_code) if user.language_code else None
    if stored is not None and (stored.chosen or seen is None or seen == stored.lang):
        return cast(ChatLang, stored.lang)
    if seen is None:
        return "en"
    task = asyncio.get_running_loop().create_task(
        svc.store.langs.observe(user.id, seen, now=time.time())
    )
    svc.background.add(task)
    task.add_done_callback(svc.background.discard)
    return seen


async def stored_lang(svc: BotServices, user_id: int) -> ChatLang:
    """The language last seen or chosen for `user_id` (en when none): for notices sent
    without an update of theirs."""
    stored = await svc.store.langs.get(user_id)
    return cast(ChatLang, stored.lang) if stored is not None else "en"


def lang_keyboard() -> InlineKeyboardMarkup:
    b = LANG_BUTTONS.button
    return InlineKeyboardMarkup(
        [[b(text(LANG_LABELS[lang], lang), lang, 0) for lang in CHAT_LANGS]]
    )


async def lang_cmd(update: Update, context: Context) -> None:
    """`/lang` shows the buttons; `/lang zh` or `/lang en` sets it at once."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    args = [a.lower() for a in context.args or []]
    if not args:
        lang = await reader_lang(svc, user)
        await message.reply_text(text("lang.ask", lang), reply_markup=lang_keyboard())
        return
    chosen = next((lang for lang in CHAT_LANGS if lang == args[0]), None)
    if chosen is None:
        await message.reply_text(text("lang.unknown", await reader_lang(svc, user)))
        return
    await svc.store.langs.choose(user.id, chosen, now=time.time())
    await message.reply_text(text("lang.set", chosen))


async def lang_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    try:
        button = LANG_BUTTONS.decode(query.data)
    except CallbackDataError as exc:
        log.warning("lang press refused", extra={"user_id": query.from_user.id, "why": str(exc)})
        await query.answer(text("button.unknown", await reader_lang(svc, query.from_user)))
        return
    chosen: ChatLang = "zh" if button.action == "zh" else "en"  # the codec knows no other
    await svc.store.langs.choose(query.from_user.id, chosen, now=time.time())
    await query.answer(text("lang.set", chosen))
    try:  # the question becomes the answer, without its buttons
        await query.edit_message_text(text("lang.set", chosen))
    except BadRequest as exc:  # a double tap: the text is that already
        log.info("lang prompt not changed", extra={"error": str(exc)})


def add_lang_handlers(application: App) -> None:
    application.add_handler(CommandHandler("lang", lang_cmd))
    application.add_handler(CallbackQueryHandler(lang_callback, pattern=LANG_BUTTONS.pattern))
