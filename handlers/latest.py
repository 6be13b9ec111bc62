"""`/latest` and `/issue N`: an issue's digest in the reader's language, as the channel
posts it (the Telegram platform's digest formatter, with the run's templates and the
channel's style), sent to the reader's chat. An issue without the reader's language
comes in the other, after a note saying so."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler

from bot.domain.issue import Issue, Lang
from bot.platforms import TELEGRAM
from bot.texts import CHAT_LANGS, ChatLang, text
from bot.weekly.planning import issue_url
from handlers.context import App, BotServices, Context, services
from handlers.lang import reader_lang
from publishers.posts import TelegramPhoto, TelegramPost

log = logging.getLogger(__name__)

MAX_ISSUE_NUMBER = 1_000_000  # a number past this is a typo, not an issue


@dataclass(frozen=True, slots=True)
class Found:
    issue: Issue
    other_lang: bool  # not in the reader's language: the note goes first


async def find_issue(svc: BotServices, number: int, lang: ChatLang) -> Found | None:
    """Issue `number` in `lang`, else in the other language; None when neither."""
    for code in (lang, *(c for c in CHAT_LANGS if c != lang)):
        issue = await svc.store.issues.load(number, cast(Lang, code))
        if issue is not None:
            return Found(issue, code != lang)
    return None


async def newest_number(svc: BotServices) -> int | None:
    numbers = [await svc.store.issues.latest_number(cast(Lang, c)) for c in CHAT_LANGS]
    known = [n for n in numbers if n is not None]
    return max(known) if known else None


def digest_posts(svc: BotServices, issue: Issue) -> list[TelegramPost]:
    platform = svc.platforms[TELEGRAM]
    url = issue_url(issue, svc.settings.repo.pages)
    posts = platform.format_digest(issue, url, svc.settings.publishing.channel_style())
    return [cast(TelegramPost, post) for post in posts]


async def _send_issue(update: Update, context: Context, number: int | None) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    svc = services(context)
    lang = await reader_lang(svc, user)
    newest = await newest_number(svc)
    if newest is None:
        await message.reply_text(text("issue.none_stored", lang))
        return
    wanted = newest if number is None else number
    found = await find_issue(svc, wanted, lang)
    if found is None:
        await message.reply_text(text("issue.unknown", lang, number=wanted, newest=newest))
        return
    chat_id = message.chat_id
    if found.other_lang:
        await message.reply_text(text("issue.other_lang", lang, number=wanted))
    for post in digest_posts(svc, found.issue):
        for part in post.parts:
            if isinstance(part, TelegramPhoto):
                await context.bot.send_photo(
                    chat_id,
                    part.photo_url,
                    caption=part.caption_html or None,
                    parse_mode=ParseMode.HTML,
                )
            else:
                await context.bot.send_message(
                    chat_id,
                    part.html,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=part.disable_preview),
                )


def issue_number(args: list[str] | None) -> int | None:
    """`/issue 120`, `/issue #120`; None for anything else."""
    if not args or len(args) != 1:
        return None
    raw = args[0].removeprefix("#")
    if not raw.isascii() or not raw.isdigit():
        return None
    number = int(raw)
    return number if 0 < number <= MAX_ISSUE_NUMBER else None


async def latest_cmd(update: Update, context: Context) -> None:
    await _send_issue(update, context, None)


async def issue_cmd(update: Update, context: Context) -> None:
    number = issue_number(context.args)
    if number is None:
        message = update.effective_message
        if message is not None:
            lang = await reader_lang(services(context), update.effective_user)
            await message.reply_text(text("issue.usage", lang))
        return
    await _send_issue(update, context, number)


def add_latest_handlers(application: App) -> None:
    # block=False: a digest is several messages, other updates need not wait for them
    application.add_handler(CommandHandler("latest", latest_cmd, block=False))
    application.add_handler(CommandHandler("issue", issue_cmd, block=False))
