"""`/search`, its page buttons (`sr:1:`) and inline mode (`@bot words`): thin.

Each parses the update, runs `bot.archive` (the parsed query through the store) and
answers in the reader's language. A page button carries the page and the id of the
query's text (stored once, only when there is a page to go to), so paging survives a
restart and needs no chat state.
"""

from __future__ import annotations

import logging
import time

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, InlineQueryHandler

from bot.archive.query import parse_query
from bot.archive.render import (
    PAGE_SIZE,
    SEARCH_BUTTONS,
    inline_message,
    meta,
    search_reply,
)
from bot.archive.search import ArchiveSearch
from bot.editors.kit import NO_PREVIEW
from bot.texts import text
from handlers.context import App, BotServices, Context, services
from handlers.lang import reader_lang
from handlers.presses import reader_press

log = logging.getLogger(__name__)

INLINE_RESULTS = 20  # per inline answer (Telegram allows 50)
INLINE_CACHE_SECONDS = 300  # Telegram's own default; results depend on the archive only
INLINE_MAX_OFFSET = 1000  # deeper than this an inline query gets nothing more


def archive_search(svc: BotServices) -> ArchiveSearch:
    return ArchiveSearch(svc.store.search, svc.settings.repo.pages)


async def search_cmd(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    svc = services(context)
    lang = await reader_lang(svc, update.effective_user)
    query = parse_query(" ".join(context.args or []))
    if query.empty:
        await message.reply_text(text("search.usage", lang))
        return
    found = await archive_search(svc).find(query, limit=PAGE_SIZE)
    query_id = None
    if found.more:  # a button to press: the query is remembered by id
        query_id = await svc.store.search.remember(query.text(), now=time.time())
    reply = search_reply(
        query.text(), found, lang, page=0, query_id=query_id, ignored=query.problems
    )
    await message.reply_text(
        reply.text,
        parse_mode=ParseMode.HTML,
        reply_markup=reply.markup,
        link_preview_options=NO_PREVIEW,
    )


async def search_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    pressed = await reader_press(svc, query, SEARCH_BUTTONS, what="search")
    if pressed is None:
        return
    button, lang = pressed
    page = int(button.action[1:])  # the codec knows only p0 … p49
    stored = await svc.store.search.recall(button.id)
    if stored is None:
        await query.answer(text("search.gone", lang), show_alert=True)
        return
    parsed = parse_query(stored)
    found = await archive_search(svc).find(parsed, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
    reply = search_reply(parsed.text(), found, lang, page=page, query_id=button.id)
    await query.answer()
    try:
        await query.edit_message_text(
            reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=reply.markup,
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as exc:  # a double tap: the page is shown already
        log.info("search page not changed", extra={"error": str(exc)})


def _offset(value: str) -> int | None:
    """The inline query's offset as this bot wrote it (a number), None for anything else."""
    if not value:
        return 0
    if not value.isascii() or not value.isdigit() or len(value) > 5:
        return None
    return int(value)


async def inline_query(update: Update, context: Context) -> None:
    inline = update.inline_query
    if inline is None:
        return
    svc = services(context)
    lang = await reader_lang(svc, inline.from_user)
    query = parse_query(inline.query)
    offset = _offset(inline.offset)
    if query.empty or offset is None or offset > INLINE_MAX_OFFSET:
        await inline.answer([], cache_time=INLINE_CACHE_SECONDS, is_personal=True, next_offset="")
        return
    found = await archive_search(svc).find(query, limit=INLINE_RESULTS, offset=offset)
    results = [
        InlineQueryResultArticle(
            id=f"i{result.item_id}",  # an item's id: unique, ≤ 64 bytes
            title=result.title[:256],
            description=meta(result, lang),
            url=result.url,
            input_message_content=InputTextMessageContent(
                inline_message(result, lang),
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
            ),
        )
        for result in found.results
    ]
    more = found.more and offset + len(results) <= INLINE_MAX_OFFSET
    await inline.answer(
        results,
        cache_time=INLINE_CACHE_SECONDS,
        is_personal=True,  # the texts are in the reader's language
        next_offset=str(offset + len(results)) if more else "",
    )


def add_search_handlers(application: App) -> None:
    application.add_handler(CommandHandler("search", search_cmd))
    application.add_handler(CallbackQueryHandler(search_callback, pattern=SEARCH_BUTTONS.pattern))
    application.add_handler(InlineQueryHandler(inline_query))
