"""`/stats` and `/stats season N`: the editors' numbers and pictures.

Editors only (`refuse_command` for anyone else, audited). The facts are read through
`data.stats` (`Store.stats`), summarised by the pure `bot.stats.model`, told as text
(`bot.stats.render`) and drawn by `bot.stats.charts` on a worker thread
(`asyncio.to_thread`: the segmentation and the drawing take a second or two of CPU,
and the handler is registered `block=False`, so the bot answers others meanwhile).
`bot.stats.charts` (matplotlib, numpy, wordcloud: some 50 MB) is imported on the
first drawing, not at start: a bot that is never asked for a picture does not carry
it. Each picture is checked against Telegram's photo rules
(`publishers.limits.telegram_photo_problem`) before it is sent. No CJK font: the text
still goes, and the editor reads why there is no picture and how to fix it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import InputMediaPhoto, Message, Update
from telegram.constants import ChatAction
from telegram.ext import CommandHandler

from bot.config import StatsSettings
from bot.stats.fonts import FontNotFound, cjk_font
from bot.stats.model import EditorStats, SeasonStats, editor_stats, season_range, season_stats
from bot.stats.render import editor_summary, season_summary
from bot.texts import text
from data.stats import SeasonItem
from handlers.admin import refuse_command
from handlers.context import App, BotServices, Context, services
from publishers.image_size import image_size
from publishers.limits import telegram_photo_problem

if TYPE_CHECKING:
    from bot.stats.charts import Look

log = logging.getLogger(__name__)
_SEASON = re.compile(r"[0-9]{1,4}")  # ASCII digits, a number SQLite can bind

__all__ = ["add_stats_handlers", "stats_cmd"]


class PhotoRefused(Exception):
    """A picture Telegram would refuse (its rule's error text)."""


def _look(options: StatsSettings) -> Look:
    from bot.stats.charts import Look

    return Look(dpi=options.dpi, cloud_px=options.cloud_width)


def _checked(png: bytes) -> bytes:
    size = image_size(png)
    problem = "not a picture" if size is None else None
    if size is not None:
        problem = telegram_photo_problem(len(png), size.width, size.height)
    if problem is not None:
        raise PhotoRefused(problem)
    return png


def _font(options: StatsSettings) -> Path:
    return cjk_font(options.font_path)


def draw_editor(stats: EditorStats, options: StatsSettings) -> bytes:
    """On a worker thread: the font, then the picture."""
    from bot.stats.charts import editor_chart

    return _checked(editor_chart(stats, _font(options), _look(options)))


def build_season(
    items: list[SeasonItem], season: int, options: StatsSettings
) -> tuple[SeasonStats, list[bytes] | FontNotFound]:
    """On a worker thread: the season's summary (jieba cuts the titles), then its three
    pictures, or why there is no font to draw them with."""
    summary = season_stats(
        items,
        season=season,
        size=options.season_size,
        top_n=options.top,
        max_words=options.cloud_words,
    )
    try:
        font = _font(options)
    except FontNotFound as exc:
        return summary, exc
    from bot.stats.charts import domains_chart, sections_chart, word_cloud

    look = _look(options)
    pictures = [
        sections_chart(summary, font, look),
        domains_chart(summary, font, look),
        word_cloud(summary, font, look),
    ]
    return summary, [_checked(png) for png in pictures]


async def stats_cmd(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        await refuse_command(message, user, svc, "stats")
        return
    args = [a.lower() for a in context.args or ()]
    options = svc.settings.stats
    if not args:
        await _editor_stats(message, svc)
        return
    if len(args) == 2 and args[0] == "season" and _SEASON.fullmatch(args[1]) and int(args[1]):
        await _season(message, svc, int(args[1]))
        return
    await message.reply_text(text("stats.usage", size=options.season_size))


async def _editor_stats(message: Message, svc: BotServices) -> None:
    options = svc.settings.stats
    stats = editor_stats(
        await svc.store.stats.submissions(),
        await svc.store.stats.sent_posts(),
        now=time.time(),
        zone=svc.settings.publishing.zone,
        weeks=options.weeks,
        top_n=options.top,
    )
    await message.reply_text(editor_summary(stats))
    await message.reply_chat_action(ChatAction.UPLOAD_PHOTO)
    try:
        png = await asyncio.to_thread(draw_editor, stats, options)
    except FontNotFound as exc:
        await message.reply_text(text("stats.no_font", reason=str(exc)))
        return
    except Exception as exc:  # a chart that fails is told, the bot goes on
        log.exception("stats chart failed")
        await message.reply_text(text("stats.failed", error=type(exc).__name__))
        return
    await message.reply_photo(png, caption=text("stats.chart_caption"), filename="stats.png")


async def _season(message: Message, svc: BotServices, season: int) -> None:
    options = svc.settings.stats
    first, last = season_range(season, options.season_size)
    items = await svc.store.stats.season_items(first, last)
    if not items:
        await message.reply_text(text("stats.season_empty", season=season, first=first, last=last))
        return
    await message.reply_chat_action(ChatAction.UPLOAD_PHOTO)
    try:
        summary, pictures = await asyncio.to_thread(build_season, items, season, options)
    except Exception as exc:  # a chart that fails is told, the bot goes on
        log.exception("season stats failed", extra={"season": season})
        await message.reply_text(text("stats.failed", error=type(exc).__name__))
        return
    await message.reply_text(season_summary(summary))
    if isinstance(pictures, FontNotFound):
        await message.reply_text(text("stats.no_font", reason=str(pictures)))
        return
    captions = (
        text("stats.caption.sections", season=season),
        text("stats.caption.domains", season=season),
        text("stats.caption.cloud", season=season),
    )
    names = ("sections.png", "domains.png", "words.png")
    await message.reply_media_group(
        [
            InputMediaPhoto(png, caption=caption, filename=name)
            for png, caption, name in zip(pictures, captions, names, strict=True)
        ]
    )


def add_stats_handlers(application: App) -> None:
    # block=False: the drawing takes seconds; other updates need not wait for it
    application.add_handler(CommandHandler("stats", stats_cmd, block=False))
