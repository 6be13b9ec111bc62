"""The extra edition: `/extra`, forwarded links, `/queue` and their `xq:1:` buttons.

Thin: parse the update, check the editor list, call `bot.extra.queue.ExtraQueue`,
reply. Anyone but an editor is told "this command is for editors" (a forward: how to
suggest a link) and nothing is stored; a press on an `xq:` button by anyone else, or
with data this bot did not make, is answered "Not allowed.", logged and audited.
Every callback query is answered on every path, right after the database decision.

What the bot waits for after [Edit] or 🕒 (the editor's next text) is PTB `chat_data`,
per user, as for the review cards: a conversation, not a decision.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
    User,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.delivery.jobs import schedule_wakeups
from bot.editors.kit import NO_PREVIEW
from bot.editors.queue_cards import (
    QUEUE_BUTTONS,
    format_at,
    item_keyboard,
    item_text,
    queue_keyboard,
    queue_text,
    refresh_item_cards,
)
from bot.extra.pacing import BadTime, parse_time
from bot.extra.queue import BadLink, Seen, link_in, split_extra
from bot.texts import text
from data.extras import ExtraDecided, ExtraItem, extra_key
from handlers.admin import refuse_command
from handlers.context import App, BotServices, Context, actor_of, services
from handlers.lang import reader_lang
from handlers.presses import editor_press

log = logging.getLogger(__name__)

TEXT_GROUP = 2  # after the submissions' text reader (1): each reads only its own waiting
_WAITING = "weeklybot.extra.waiting"  # chat_data: {user id: Waiting}


@dataclass(frozen=True, slots=True)
class Waiting:
    kind: Literal["edit", "time"]
    item_id: int


def _waiting(context: Context) -> dict[Any, Any]:
    data = context.chat_data
    if data is None:
        return {}
    found = data.setdefault(_WAITING, {})
    assert isinstance(found, dict)
    return found


def _zone(svc: BotServices) -> ZoneInfo:
    return svc.settings.publishing.zone


def after_change(svc: BotServices, context: Context, due: tuple[float, ...]) -> None:
    """The queue's rows got times: the workers look now and when each is due."""
    svc.delivery.wake()
    if context.job_queue is not None and due:
        schedule_wakeups(context.job_queue, due, svc.delivery)


def seen_text(seen: Seen) -> str:
    """Where a refused link was seen, worded for the editor."""
    if seen.where == "issue":
        date = seen.date.isoformat() if seen.date else "?"
        return text("extra.seen.issue", number=seen.number, date=date)
    if seen.where == "submission":
        return text("extra.seen.submission", id=seen.number, state=seen.state)
    return text("extra.seen.extra", id=seen.number, state=seen.state)


async def queued_answer(svc: BotServices, outbox_key: str) -> str:
    """ "Queued #3, planned …": where an item just queued stands."""
    entries = await svc.extra.queued()
    for position, entry in enumerate(entries, start=1):
        if entry.item.outbox_key == outbox_key:
            return text("extra.queued", position=position, when=format_at(entry.at, _zone(svc)))
    return text("extra.not_queued")


def _card(svc: BotServices, item: ExtraItem) -> str:
    return item_text(item, svc.extra.shown(item), zone=_zone(svc))


# ---- the two inputs --------------------------------------------------------------------


async def _take_link(
    message: Message, context: Context, user: User, url: str, comment: str
) -> None:
    svc = services(context)
    outcome = await svc.extra.add_link(url, comment, editor=actor_of(user))
    if isinstance(outcome, BadLink):
        await message.reply_text(
            text("extra.refused", rule=outcome.rule, message=outcome.message),
            link_preview_options=NO_PREVIEW,
        )
        return
    if isinstance(outcome, Seen):
        await message.reply_text(seen_text(outcome), link_preview_options=NO_PREVIEW)
        return
    card = await message.reply_text(
        _card(svc, outcome),
        parse_mode=ParseMode.HTML,
        reply_markup=item_keyboard(outcome.id),
        link_preview_options=NO_PREVIEW,
    )
    await svc.extra.store.add_cards(outcome.id, [(card.chat_id, card.message_id)])


async def extra_cmd(update: Update, context: Context) -> None:
    """`/extra <url> [comment]`: editors, in private."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        await refuse_command(message, user, svc, "extra")
        return
    if message.chat.type != ChatType.PRIVATE:
        await message.reply_text(text("extra.in_private"))
        return
    parts = (message.text or "").split(maxsplit=1)
    url, comment = split_extra(parts[1] if len(parts) > 1 else "")
    if not url:
        await message.reply_text(text("extra.usage"))
        return
    await _take_link(message, context, user, url, comment)


async def forwarded(update: Update, context: Context) -> None:
    """A message forwarded to the bot in private: an editor's link for the extra edition."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        await message.reply_text(text("extra.forward_not_editor", await reader_lang(svc, user)))
        return
    body = message.text or message.caption or ""
    entities = (message.entities or ()) + (message.caption_entities or ())
    links = [e.url for e in entities if e.type == MessageEntity.TEXT_LINK and e.url]
    url = link_in(body, links)
    if url is None:
        await message.reply_text(text("extra.no_link"))
        return
    await _take_link(message, context, user, url, "")


# ---- /queue --------------------------------------------------------------------------


async def _listing(svc: BotServices) -> tuple[str, InlineKeyboardMarkup | None]:
    entries = await svc.extra.queued()
    listing = queue_text(entries, zone=_zone(svc), per_day=svc.settings.extra.max_per_day)
    return listing, queue_keyboard(entries)


async def queue_cmd(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        await refuse_command(message, user, svc, "queue")
        return
    listing, markup = await _listing(svc)
    await message.reply_text(
        listing, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW
    )


async def _show_listing(query: CallbackQuery, svc: BotServices) -> None:
    listing, markup = await _listing(svc)
    try:
        await query.edit_message_text(
            listing, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW
        )
    except BadRequest as exc:
        log.info("queue list not refreshed", extra={"error": str(exc)})


# ---- the buttons -----------------------------------------------------------------------


def _already(svc: BotServices, item: ExtraItem) -> str:
    return text(
        "extra.already",
        state=item.state,
        who=item.decided_by or "?",
        when=format_at(item.decided_at, _zone(svc)),
    )


async def _prompt(query: CallbackQuery, context: Context, prompt: str) -> None:
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    await context.bot.send_message(chat_id, prompt, reply_markup=ForceReply(selective=True))


async def queue_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    button = await editor_press(svc, query, QUEUE_BUTTONS, denied="extra.denied", subject=extra_key)
    if button is None:
        return
    action, item_id = button.action, button.id
    extra, editor = svc.extra, actor_of(query.from_user)
    current = await extra.store.get(item_id)
    if current is None:
        await query.answer(text("extra.gone"))
        return
    decided: ExtraDecided | None
    if action in ("now", "q", "dr"):
        if action == "now":
            decided = await extra.post_now(item_id, editor=editor)
        elif action == "q":
            decided = await extra.enqueue(item_id, editor=editor)
        else:
            decided = await extra.drop(item_id, editor=editor)
        if decided is None:
            await query.answer(text("extra.gone"))
            return
        if not decided.won:
            await query.answer(_already(svc, decided.item))
            return
        if action == "now":
            await query.answer(text("extra.posting"))
            svc.delivery.wake()
        elif action == "q":
            await query.answer(await queued_answer(svc, current.outbox_key))
            after_change(svc, context, decided.due)
        else:
            await query.answer(text("extra.dropped"))
        fresh = await extra.store.get(item_id) or decided.item
        await refresh_item_cards(context.bot, fresh, _card(svc, fresh), None)
        return
    if action == "ed":
        if current.state != "draft":
            await query.answer(_already(svc, current))
            return
        _waiting(context)[query.from_user.id] = Waiting("edit", item_id)
        await query.answer(text("extra.send_edit"))
        await _prompt(query, context, text("extra.edit_prompt", id=item_id))
        return
    if action == "at":
        _waiting(context)[query.from_user.id] = Waiting("time", item_id)
        await query.answer(text("extra.send_time"))
        await _prompt(query, context, text("extra.time_prompt", id=item_id, zone=str(_zone(svc))))
        return
    if action in ("up", "dn"):
        decided = await extra.move(item_id, -1 if action == "up" else 1, editor=editor)
        answer = text("extra.moved") if decided and decided.won else text("extra.not_moved")
    else:  # cx
        decided = await extra.cancel(item_id, editor=editor)
        answer = text("extra.cancelled") if decided and decided.won else text("extra.not_queued")
    await query.answer(answer)
    if decided is not None and decided.won:
        after_change(svc, context, decided.due)
    await _show_listing(query, svc)


# ---- the editor's next text: an edit, or a time -----------------------------------------


def _split_edit(body: str) -> tuple[str | None, str | None]:
    """ "title | comment", or the title on the first line and the comment after it."""
    if "|" in body:
        title, comment = body.split("|", 1)
    else:
        title, _, comment = body.partition("\n")
    return title.strip() or None, comment.strip() or None


async def waiting_text(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    waiting = _waiting(context).get(user.id)
    if not isinstance(waiting, Waiting):
        return
    svc = services(context)
    if not svc.is_editor(user.id):  # editors may have changed since the press
        _waiting(context).pop(user.id, None)
        return
    editor = actor_of(user)
    if waiting.kind == "edit":
        title, comment = _split_edit(message.text)
        changed = await svc.extra.edit(waiting.item_id, title=title, comment=comment, editor=editor)
        if isinstance(changed, str):
            await message.reply_text(text("extra.edit_problem", problem=changed))
            return  # still waiting for a text that fits
        _waiting(context).pop(user.id, None)
        if changed is None:
            await message.reply_text(text("extra.edit_stale"))
            return
        await refresh_item_cards(
            context.bot, changed, _card(svc, changed), item_keyboard(changed.id)
        )
        await message.reply_text(text("extra.edit_saved", id=changed.id))
        return
    zone = _zone(svc)
    when = parse_time(message.text, now=dt.datetime.now(dt.UTC), zone=zone)
    if isinstance(when, BadTime):
        await message.reply_text(
            text("extra.time_bad", given=message.text[:40], reason=when.reason, zone=str(zone))
        )
        return  # still waiting for a time
    _waiting(context).pop(user.id, None)
    decided = await svc.extra.pin(waiting.item_id, when, editor=editor)
    if decided is None or not decided.won:
        await message.reply_text(text("extra.not_queued"))
        return
    after_change(svc, context, decided.due)
    listing, markup = await _listing(svc)
    await message.reply_text(
        text("extra.pinned", when=html.escape(format_at(when.timestamp(), zone)))
        + "\n\n"
        + listing,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        link_preview_options=NO_PREVIEW,
    )


def add_extra_handlers(application: App) -> None:
    """Register /extra, /queue, forwarded links, the xq: buttons and the text reader."""
    application.add_handler(CommandHandler("extra", extra_cmd))
    application.add_handler(CommandHandler("queue", queue_cmd))
    application.add_handler(CallbackQueryHandler(queue_callback, pattern=QUEUE_BUTTONS.pattern))
    application.add_handler(
        MessageHandler(filters.FORWARDED & filters.ChatType.PRIVATE, forwarded), group=TEXT_GROUP
    )
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND, waiting_text), group=TEXT_GROUP
    )
