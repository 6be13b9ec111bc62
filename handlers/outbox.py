"""The outbox cards' buttons and `/outbox`: parse the update, call the outbox, reply.

The cards are drawn by `bot.editors.outbox_cards`. The decision lives in the outbox
(a conditional UPDATE), so a double press changes nothing twice.
"""

from __future__ import annotations

import html
import time

from telegram import Message, Update
from telegram.constants import ParseMode

from bot.editors.kit import ChatSpacer
from bot.editors.outbox_cards import (
    OUTBOX_BUTTONS,
    describe_counts,
    drop_choice_buttons,
    failed_card,
    in_doubt_card,
    stranded_card,
)
from bot.texts import TextKey, text
from data.outbox import OutboxStore
from handlers.admin import refuse_command
from handlers.context import Context, actor_of, services
from handlers.presses import editor_press

CARD_LIMIT = 10  # cards per /outbox reply; the rest are counted


async def outbox_cmd(update: Update, context: Context) -> None:
    """/outbox: the rows that need an editor, each with its card again (cards get lost).

    The replies are spaced (`CHAT_SPACING`) so that they stay under the per-chat limit.
    """
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        await refuse_command(message, user, svc, "outbox", reply="editors_only.outbox")
        return
    outbox = svc.store.outbox
    rows = [
        *await outbox.list_by_state("in_doubt", limit=CARD_LIMIT + 1),
        *await outbox.list_by_state("failed", limit=CARD_LIMIT + 1),
        *await outbox.stranded(),
    ]
    summary = describe_counts(await outbox.counts())
    spacer = ChatSpacer()
    await spacer.wait(message.chat_id)
    need = text("outbox.need_you", count=len(rows)) if rows else text("outbox.nothing_needs_you")
    await message.reply_text(
        text("outbox.summary", summary=summary or text("outbox.empty"), need=need)
    )
    for row in rows[:CARD_LIMIT]:
        if row.state == "in_doubt":
            card, markup = in_doubt_card(row)
        elif row.state == "failed":
            card, markup = failed_card(row)
        else:
            card, markup = stranded_card(row, len(await outbox.later_parts(row.id)))
        await spacer.wait(message.chat_id)
        await message.reply_text(card, parse_mode=ParseMode.HTML, reply_markup=markup)
    if len(rows) > CARD_LIMIT:
        await spacer.wait(message.chat_id)
        await message.reply_text(text("outbox.more"))


OUTCOMES: dict[str, TextKey] = {
    "again": "outbox.outcome.again",
    "sent": "outbox.outcome.sent",
    "retry": "outbox.outcome.retry",
    "cancel": "outbox.outcome.cancel",
    "skip": "outbox.outcome.skip",
    "dropall": "outbox.outcome.dropall",
}


async def outbox_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    svc = services(context)
    button = await editor_press(svc, query, OUTBOX_BUTTONS, refusal="editors_only.decide")
    if button is None:
        return
    action, outbox_id = button.action, button.id
    actor = actor_of(query.from_user)
    outbox, now = svc.store.outbox, time.time()
    if action in ("again", "sent"):
        done = await outbox.resolve_in_doubt(
            outbox_id, as_sent=action == "sent", actor=actor, now=now
        )
    elif action == "retry":
        done = await outbox.requeue(outbox_id, actor=actor, now=now)
    elif action == "skip":
        done = await outbox.skip_part(
            outbox_id, actor=actor, now=now, reason="editor: send the rest without it"
        )
    elif action == "dropall":
        done = await _drop_whole_post(outbox, outbox_id, actor=actor, now=now)
    else:
        row = await outbox.get(outbox_id)
        if row is not None and row.state == "failed" and await outbox.later_parts(outbox_id):
            # One part of an ordered post: dropping it alone would strand the rest.
            await query.answer(text("outbox.part_of_post"))
            if isinstance(query.message, Message) and query.message.text:
                await query.edit_message_text(
                    text("outbox.part_question", card=query.message.text_html),
                    parse_mode=ParseMode.HTML,
                    reply_markup=drop_choice_buttons(row),
                )
            return
        done = await outbox.cancel(outbox_id, actor=actor, now=now, reason="editor dropped it")
    outcome = text(OUTCOMES[action])
    if not done:
        await query.answer(text("decided.already"))
        return
    await query.answer(outcome.capitalize())
    svc.delivery.wake()
    if isinstance(query.message, Message) and query.message.text:
        await query.edit_message_text(
            text(
                "outbox.decided_by",
                card=query.message.text_html,
                outcome=html.escape(outcome),
                actor=html.escape(actor),
            ),
            parse_mode=ParseMode.HTML,
        )


async def _drop_whole_post(outbox: OutboxStore, outbox_id: int, *, actor: str, now: float) -> bool:
    """Cancel this row and every unsent part of its group; False when nothing was left."""
    row = await outbox.get(outbox_id)
    if row is None:
        return False
    if row.group_key is None:
        return await outbox.cancel(outbox_id, actor=actor, now=now, reason="editor dropped it")
    cancelled = await outbox.cancel_group(
        row.target, row.group_key, actor=actor, now=now, reason="editor dropped the whole post"
    )
    return bool(cancelled)
