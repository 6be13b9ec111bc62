"""The last handler of all: a button no other handler's pattern routes is still answered.

Old keyboards, other bots' data or a modified client can send callback data that no
card kind claims (not `sub:`, `rd:`, `pv:`, `ob:`). Left unanswered, the client shows a
spinner until Telegram gives up; answered here, the presser reads "Unknown button."
(in their language) and the log keeps the (clipped) data.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler

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


def add_fallback_handler(application: App) -> None:
    """Register after every other callback handler (same group: the first match wins)."""
    application.add_handler(CallbackQueryHandler(unknown_callback))
