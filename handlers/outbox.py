"""Editor cards for outbox rows that need a human, and the buttons on them.

A row lands here when the bot cannot know whether a post went out (`in_doubt`)
or the platform refused it for good (`failed`). The decision lives in the
outbox (a conditional UPDATE), so a double press changes nothing twice.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Mapping, Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden

from data.outbox import OutboxRow, OutboxState
from handlers.context import Context, actor_of, services
from publishers.posts import TelegramPost, TelegramText, XPost
from publishers.telegram_html import parse_html

log = logging.getLogger(__name__)

CALLBACK = re.compile(r"^ob:(again|sent|retry|cancel):(\d+)$")
PREVIEW_MAX = 300


def preview(row: OutboxRow) -> str:
    """The post's visible text, shortened: enough for an editor to recognise it."""
    try:
        if row.payload.get("platform") == "x":
            text = XPost.from_payload(row.payload).text
        else:
            part = TelegramPost.from_payload(row.payload).parts[0]
            if isinstance(part, TelegramText):
                text = parse_html(part.html).text
            else:
                text = parse_html(part.caption_html).text or part.photo_url
    except ValueError as exc:
        text = f"(unreadable payload: {exc})"
    return text if len(text) <= PREVIEW_MAX else text[: PREVIEW_MAX - 1] + "…"


def in_doubt_card(row: OutboxRow) -> tuple[str, InlineKeyboardMarkup]:
    text = (
        f"⚠️ <b>May have been posted</b> to {row.target} (outbox #{row.id}).\n"
        f"Reason: {html.escape(row.last_error or 'unknown')}\n\n"
        f"{html.escape(preview(row))}\n\n"
        "Check the channel, then choose."
    )
    buttons = [
        InlineKeyboardButton("Post again", callback_data=f"ob:again:{row.id}"),
        InlineKeyboardButton("Mark as sent", callback_data=f"ob:sent:{row.id}"),
    ]
    return text, InlineKeyboardMarkup([buttons])


def failed_card(row: OutboxRow) -> tuple[str, InlineKeyboardMarkup]:
    text = (
        f"❌ <b>Not posted</b> to {row.target} (outbox #{row.id}).\n"
        f"Reason: {html.escape(row.last_error or 'unknown')}\n\n"
        f"{html.escape(preview(row))}"
    )
    buttons = [
        InlineKeyboardButton("Try again", callback_data=f"ob:retry:{row.id}"),
        InlineKeyboardButton("Drop it", callback_data=f"ob:cancel:{row.id}"),
    ]
    return text, InlineKeyboardMarkup([buttons])


class EditorNotices:
    """Sends the cards to the editor chat, or to each editor privately."""

    def __init__(self, bot: Bot, chat_ids: Sequence[int]) -> None:
        self._bot = bot
        self._chat_ids = tuple(chat_ids)

    async def in_doubt(self, row: OutboxRow) -> None:
        await self._send(*in_doubt_card(row), outbox_id=row.id)

    async def failed(self, row: OutboxRow) -> None:
        await self._send(*failed_card(row), outbox_id=row.id)

    async def _send(self, text: str, markup: InlineKeyboardMarkup, *, outbox_id: int) -> None:
        if not self._chat_ids:
            log.warning("no editor chat configured for a card", extra={"outbox_id": outbox_id})
        for chat_id in self._chat_ids:
            try:
                await self._bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
                )
            except Forbidden:  # the editor blocked the bot; the others still hear
                log.warning("editor unreachable", extra={"chat_id": chat_id})


def describe_counts(counts: Mapping[str, Mapping[OutboxState, int]]) -> str:
    """`telegram: 8 sent, 1 in_doubt; x: 10 sent` from `OutboxStore.counts()`."""
    return "; ".join(
        f"{target}: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()) if n)
        for target, states in sorted(counts.items())
    )


CARD_LIMIT = 10  # cards per /outbox reply; the rest are counted


async def outbox_cmd(update: Update, context: Context) -> None:
    """/outbox: the rows that need an editor, each with its card again (cards get lost)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        await message.reply_text("Only editors can see the outbox.")
        return
    outbox = svc.store.outbox
    rows = [
        *await outbox.list_by_state("in_doubt", limit=CARD_LIMIT + 1),
        *await outbox.list_by_state("failed", limit=CARD_LIMIT + 1),
    ]
    summary = describe_counts(await outbox.counts())
    await message.reply_text(
        f"Outbox: {summary or 'empty'}.\n"
        + (f"{len(rows)} post(s) need you." if rows else "Nothing needs you.")
    )
    for row in rows[:CARD_LIMIT]:
        text, markup = in_doubt_card(row) if row.state == "in_doubt" else failed_card(row)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    if len(rows) > CARD_LIMIT:
        await message.reply_text("…and more; settle these first, then send /outbox again.")


async def outbox_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    match = CALLBACK.match(query.data)
    svc = services(context)
    if not svc.is_editor(query.from_user.id):
        await query.answer("Only editors can decide this.", show_alert=True)
        return
    if match is None:
        await query.answer("Unknown button.")
        return
    action, outbox_id = match.group(1), int(match.group(2))
    actor = actor_of(query.from_user)
    outbox, now = svc.store.outbox, time.time()
    if action in ("again", "sent"):
        done = await outbox.resolve_in_doubt(
            outbox_id, as_sent=action == "sent", actor=actor, now=now
        )
    elif action == "retry":
        done = await outbox.requeue(outbox_id, actor=actor, now=now)
    else:
        done = await outbox.cancel(outbox_id, actor=actor, now=now, reason="editor dropped it")
    outcome = {
        "again": "queued to post again",
        "sent": "marked as sent",
        "retry": "queued to try again",
        "cancel": "dropped",
    }[action]
    if not done:
        await query.answer("Already decided.")
        return
    await query.answer(outcome.capitalize())
    svc.delivery.wake()
    if isinstance(query.message, Message) and query.message.text:
        await query.edit_message_text(
            f"{query.message.text_html}\n\n→ {html.escape(outcome)} by {html.escape(actor)}",
            parse_mode=ParseMode.HTML,
        )
