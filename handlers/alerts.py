"""Keyword alerts: `/follow <words>`, `/following` (with its unfollow buttons,
`al:1:un:<follow id>`), `/unfollow <words|numbers>`. Thin: the service decides
(`bot.alerts.service`), these word its outcomes in the reader's language."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.alerts.match import split_words
from bot.alerts.service import FollowOutcome, word_list
from bot.editors.kit import CallbackCodec
from bot.texts import ChatLang, text
from data.alerts import Follow
from handlers.context import App, BotServices, Context, services
from handlers.lang import reader_lang
from handlers.presses import reader_press

log = logging.getLogger(__name__)

ALERT_BUTTONS = CallbackCodec("al", ("un",), version=1)  # al:1:un:<follow id>


def _words(words: tuple[str, ...], lang: ChatLang) -> str:
    return word_list(words, lang)


def follow_reply(outcome: FollowOutcome, lang: ChatLang, *, limit: int, max_length: int) -> str:
    """What `/follow` answers: each kind of outcome on a line of its own."""
    lines = []
    done = outcome.followed
    if done is not None and done.added:
        lines.append(
            text(
                "follow.added", lang, words=_words(done.added, lang), count=done.total, limit=limit
            )
        )
    if done is not None and done.already:
        lines.append(text("follow.already", lang, words=_words(done.already, lang)))
    if done is not None and done.over_limit:
        lines.append(
            text("follow.over_limit", lang, words=_words(done.over_limit, lang), limit=limit)
        )
    long = tuple(p.word for p in outcome.parsed.refused if p.reason == "too_long")
    short = tuple(p.word for p in outcome.parsed.refused if p.reason == "too_short")
    if long:
        lines.append(text("follow.too_long", lang, words=_words(long, lang), max=max_length))
    if short:
        lines.append(text("follow.too_short", lang, words=_words(short, lang)))
    return "\n".join(lines) or text("follow.usage", lang)


def following_view(
    follows: tuple[Follow, ...], lang: ChatLang, *, limit: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not follows:
        return text("following.none", lang), None
    lines = [text("following.line", lang, id=i, word=f.word) for i, f in enumerate(follows, 1)]
    head = text("following.head", lang, count=len(follows), limit=limit)
    buttons = [
        [ALERT_BUTTONS.button(text("button.unfollow", lang, word=f.word), "un", f.id)]
        for f in follows
    ]
    return "\n".join([head, *lines]), InlineKeyboardMarkup(buttons)


async def _ready(update: Update, svc: BotServices) -> ChatLang | None:
    """The reader's language, once alerts are on and this is their private chat."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return None
    lang = await reader_lang(svc, user)
    if not svc.settings.alerts.enabled:
        await message.reply_text(text("alerts.disabled", lang))
        return None
    if message.chat.type != ChatType.PRIVATE:
        await message.reply_text(text("alerts.in_private", lang))
        return None
    return lang


async def follow_cmd(update: Update, context: Context) -> None:
    svc = services(context)
    lang = await _ready(update, svc)
    if lang is None:
        return
    assert update.effective_message is not None
    assert update.effective_user is not None
    raw = " ".join(context.args or [])
    if not raw.strip():
        await update.effective_message.reply_text(text("follow.usage", lang))
        return
    outcome = await svc.alerts.follow(update.effective_user.id, raw)
    settings = svc.settings.alerts
    reply = follow_reply(
        outcome, lang, limit=settings.max_follows, max_length=settings.max_word_length
    )
    await update.effective_message.reply_text(reply)


async def following_cmd(update: Update, context: Context) -> None:
    svc = services(context)
    lang = await _ready(update, svc)
    if lang is None:
        return
    assert update.effective_message is not None
    assert update.effective_user is not None
    follows = await svc.alerts.follows.of_user(update.effective_user.id)
    shown, markup = following_view(follows, lang, limit=svc.settings.alerts.max_follows)
    await update.effective_message.reply_text(shown, reply_markup=markup)


async def unfollow_cmd(update: Update, context: Context) -> None:
    """`/unfollow asyncio` or `/unfollow 2` (the number `/following` shows)."""
    svc = services(context)
    lang = await _ready(update, svc)
    if lang is None:
        return
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    raw = " ".join(context.args or [])
    if not raw.strip():
        await message.reply_text(text("unfollow.usage", lang))
        return
    follows = await svc.alerts.follows.of_user(user.id)
    # A number is the position /following showed; a word is itself.
    by_position = {str(i): f.word for i, f in enumerate(follows, 1)}
    named = " ".join(by_position.get(p, p) for p in split_words(raw))
    removed = await svc.alerts.unfollow(user.id, named)
    if not removed:
        await message.reply_text(text("unfollow.none", lang))
        return
    await message.reply_text(text("unfollow.done", lang, words=_words(removed, lang)))


async def alert_callback(update: Update, context: Context) -> None:
    """An unfollow button of `/following`: the reader's own words only."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    pressed = await reader_press(svc, query, ALERT_BUTTONS, what="unfollow")
    if pressed is None:
        return
    button, lang = pressed
    user = query.from_user
    removed = await svc.alerts.follows.unfollow(user.id, ids=(button.id,))
    if not removed:  # not theirs, or gone already (the keyboard drops it at once)
        log.warning("unfollow press refused", extra={"user_id": user.id})
        await query.answer(text("review.not_allowed", lang), show_alert=True)
        return
    await query.answer(text("unfollow.done", lang, words=_words(removed, lang)))
    follows = await svc.alerts.follows.of_user(user.id)
    shown, markup = following_view(follows, lang, limit=svc.settings.alerts.max_follows)
    try:
        await query.edit_message_text(shown, reply_markup=markup)
    except BadRequest as exc:  # a double tap: "not modified"
        log.info("following list not changed", extra={"error": str(exc)})


def add_alert_handlers(application: App) -> None:
    application.add_handler(CommandHandler("follow", follow_cmd))
    application.add_handler(CommandHandler("following", following_cmd))
    application.add_handler(CommandHandler("unfollow", unfollow_cmd))
    application.add_handler(CallbackQueryHandler(alert_callback, pattern=ALERT_BUTTONS.pattern))
