"""The last handlers of all: a button or a command no other handler takes is answered.

Old keyboards, other bots' data or a modified client can send callback data that no
card kind claims (not `sub:`, `rd:`, `pv:`, `ob:`). Left unanswered, the client shows a
spinner until Telegram gives up; answered here, the presser reads "Unknown button."
(in their language) and the log keeps the (clipped) data.

A command no `CommandHandler` took (`/foo`, a typo) gets a one-line pointer to `/help`:
in a private chat always, in a group only when addressed to this bot (`/foo@thisbot`),
since there it may be another bot's.
"""

from __future__ import annotations

import logging

from telegram import MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.editors.kit import CALLBACK_DATA_MAX
from bot.texts import text
from handlers.context import App, Context, services
from handlers.lang import reader_lang

log = logging.getLogger(__name__)


async def unknown_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    log.warning(
        "unknown button",
        extra={"user_id": query.from_user.id, "data": (query.data or "")[:CALLBACK_DATA_MAX]},
    )
    await query.answer(
        text("button.unknown", await reader_lang(services(context), query.from_user))
    )


async def unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    entity = next((e for e in message.entities if e.type == MessageEntity.BOT_COMMAND), None)
    if entity is None or entity.offset != 0:
        return
    name, _, addressee = message.parse_entity(entity)[1:].partition("@")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        return  # another bot's command
    if message.chat.type != ChatType.PRIVATE and not addressee:
        return  # in a group, an unaddressed command may be another bot's
    log.info("unknown command", extra={"command": name[:32]})
    if message.from_user is None:  # a channel's post: nobody to answer
        return
    lang = await reader_lang(services(context), message.from_user)
    await message.reply_text(text("command.unknown", lang, name=name[:32]))


def add_fallback_handler(application: App) -> None:
    """Register after every other handler of the default group (the first match wins)."""
    application.add_handler(CallbackQueryHandler(unknown_callback))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
