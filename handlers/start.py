"""/start and /help: the first things a reader sees, in their language."""

from __future__ import annotations

import time

from telegram import Update

from bot.texts import text
from handlers.commands import help_text
from handlers.context import Context, services
from handlers.lang import reader_lang
from handlers.submissions import DEEP_LINK_ARG, ask_for_link


async def start_cmd(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    await svc.store.upsert_user(
        user.id, username=user.username, first_name=user.first_name, now=time.time()
    )
    lang = await reader_lang(svc, user)  # the first contact keeps the client's language
    if context.args == [DEEP_LINK_ARG] and message.chat.type == "private":
        await ask_for_link(message, context, user, lang)  # the group's "submit in private" link
        return
    await message.reply_text(text("start.welcome", lang))


async def help_cmd(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    user = update.effective_user
    svc = services(context)
    is_editor = svc.is_editor(user.id if user else None)
    await message.reply_text(help_text(await reader_lang(svc, user), is_editor=is_editor))
