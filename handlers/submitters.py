"""A submitter's own tools: /mysubmissions, /withdraw, /credit and /forgetme.

Every answer is in the reader's language (`handlers.lang.reader_lang`), the pointer
to the private chat in a group included. Thin, like every handler: the rules are
`bot.submissions.intake.SubmissionService`'s and the store's compare-and-sets
(`data.submissions`, `data.readers`). Each press is checked against the presser: a
/credit button carries the asker's id, a /forgetme button its request's id, whose row
names the asker; anyone else is "Not allowed.".
/forgetme asks first ([Forget me] [Cancel]): the confirmation is a compare-and-set on
the request, so a double press forgets once. The review cards follow every change:
a withdrawal drops their buttons, a credit choice shows on the pending ones, /forgetme
re-renders every card of theirs without their names.
"""

from __future__ import annotations

import html
import logging
from typing import cast

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.editors.kit import NO_PREVIEW, CallbackCodec
from bot.editors.review_cards import reason_text, refresh_review_cards
from bot.platforms import TELEGRAM
from bot.submissions.reader_buttons import CREDIT_BUTTONS, credit_keyboard
from bot.texts import ChatLang, TextKey, text
from data.submissions import CreditChoice, Submission, submission_key
from handlers.context import App, BotServices, Context, services
from handlers.lang import reader_lang
from handlers.presses import reader_press
from handlers.submissions import (
    ALREADY_VERBS,
    channel_base,
    credit_answer,
    show_credit_on_cards,
    submitter_of,
)

log = logging.getLogger(__name__)

# ok forget me, no cancel; the id is the request's (`forget_requests`).
FORGET_BUTTONS = CallbackCodec("fg", ("ok", "no"), version=1)
_WAITING_KEYS = ("weeklybot.submissions.waiting", "weeklybot.submissions.proposed")

STATE_WORDS: dict[str, TextKey] = {
    "pending": "mine.state.pending",
    "approved": "mine.state.approved",
    "draft": "mine.state.draft",
    "published": "mine.state.published",
    "rejected": "mine.state.rejected",
    "withdrawn": "mine.state.withdrawn",
    "expired": "mine.state.expired",
}


def _state_of(row: Submission) -> str:
    return "draft" if row.state == "approved" and row.mode == "draft" else row.state


async def _post_link(svc: BotServices, base: str | None, row: Submission) -> str | None:
    if base is None or row.state != "published":
        return None
    sent = await svc.store.outbox.get_by_key(TELEGRAM, submission_key(row.id))
    if sent is None or sent.state != "sent" or not sent.remote_id:
        return None
    return f"{base}/{sent.remote_id}"


def mine_line(row: Submission, link: str | None, lang: ChatLang) -> str:
    """One link of /mysubmissions (HTML) in the reader's language: number, what became
    of it, the URL, and the reason or the channel post."""
    state = _state_of(row)
    line = text(
        "mine.line",
        lang,
        id=row.id,
        state=text(STATE_WORDS[state], lang) if state in STATE_WORDS else state,
        url=html.escape(row.canonical_url),
    )
    if row.state == "rejected":
        reason = html.escape(reason_text(row.reason, lang))
        line += "\n" + text("mine.reason", lang, reason=reason)
    if link:
        line += "\n" + text("mine.posted", lang, link=html.escape(link))
    return line


async def mysubmissions_cmd(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    lang = await reader_lang(svc, user)
    if not await _in_private(update, lang):
        return
    rows = await svc.submissions.mine(user.id)
    if not rows:
        await message.reply_text(text("mine.none", lang))
        return
    base = None
    if any(r.state == "published" for r in rows):
        base = await channel_base(context.bot, svc)
    lines = [mine_line(r, await _post_link(svc, base, r), lang) for r in rows]
    await message.reply_text(
        "\n\n".join([text("mine.head", lang, count=len(rows)), *lines]),
        parse_mode=ParseMode.HTML,
        link_preview_options=NO_PREVIEW,
    )


async def _in_private(update: Update, lang: ChatLang) -> bool:
    """These commands show or change a reader's own data: in a group, only a pointer to
    the private chat (nobody else reads their links or their choices)."""
    message = update.effective_message
    if message is None or message.chat.type == ChatType.PRIVATE:
        return True
    await message.reply_text(text("mine.in_private", lang))
    return False


def _id_argument(args: list[str] | None) -> int | None:
    if not args or len(args) != 1:
        return None
    word = args[0].removeprefix("#")
    return int(word) if word.isdigit() and len(word) <= 18 else None


async def _refresh(bot: Bot, svc: BotServices, row: Submission) -> None:
    """Every editor's copy of the card shows the row as it is now, without buttons."""
    store = svc.submissions.store
    await refresh_review_cards(
        bot,
        row,
        accepted=await store.accepted_count(row.user_id),
        duplicates=await store.find_duplicates(row.dedupe_key, exclude_id=row.id),
        markup=None,
    )


async def withdraw_cmd(update: Update, context: Context) -> None:
    """`/withdraw <id>`: their own link, while it waits for review."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    lang = await reader_lang(svc, user)
    if not await _in_private(update, lang):
        return
    sid = _id_argument(context.args)
    if sid is None:
        await message.reply_text(text("withdraw.usage", lang))
        return
    done = await svc.submissions.withdraw_own(sid, user_id=user.id)
    if done.outcome == "unknown" or done.submission is None:
        await message.reply_text(text("withdraw.unknown", lang, id=sid))
        return
    row = done.submission
    if done.outcome == "decided":
        state = _state_of(row)
        if state == "rejected" and row.reason == "banned":
            state = "banned"
        verb = text(ALREADY_VERBS[state], lang) if state in ALREADY_VERBS else state
        await message.reply_text(text("withdraw.too_late", lang, id=sid, decision=verb))
        return
    await message.reply_text(text("withdraw.done", lang, id=sid))
    await _refresh(context.bot, svc, row)


# ---- /credit ------------------------------------------------------------------------------


async def credit_cmd(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    lang = await reader_lang(svc, user)
    if not await _in_private(update, lang):
        return
    choice = await svc.submissions.credit_choice(user.id)
    await message.reply_text(
        text("credit.ask", lang),
        reply_markup=credit_keyboard(user.id, choice, username=user.username, lang=lang),
    )


async def credit_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    user = query.from_user
    svc = services(context)
    pressed = await reader_press(svc, query, CREDIT_BUTTONS, what="credit")
    if pressed is None:
        return
    button, lang = pressed
    if button.id != user.id:
        log.warning("credit press refused", extra={"user_id": user.id, "why": "not theirs"})
        await query.answer(text("review.not_allowed", lang), show_alert=True)
        return
    wanted = cast(CreditChoice, button.action)  # the codec knows only the three
    done = await svc.submissions.set_credit(submitter_of(user), wanted)
    choice = done.reader.credit
    await query.answer(credit_answer(choice, username=user.username, lang=lang))
    await _set_markup(query, credit_keyboard(user.id, choice, username=user.username, lang=lang))
    await show_credit_on_cards(context.bot, svc, done.pending)


async def _set_markup(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:  # a double tap: "not modified"
        log.info("buttons not changed", extra={"error": str(exc)})


# ---- /forgetme ----------------------------------------------------------------------------


async def forgetme_cmd(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    lang = await reader_lang(svc, user)
    if not await _in_private(update, lang):
        return
    rows = await svc.submissions.store.of_user(user.id, limit=10_000)
    pending = sum(1 for r in rows if r.state == "pending")
    request = await svc.submissions.ask_forget(user.id)
    b = FORGET_BUTTONS.button
    markup = InlineKeyboardMarkup(
        [
            [
                b(text("button.forget.ok", lang), "ok", request.id),
                b(text("button.cancel", lang), "no", request.id),
            ]
        ]
    )
    await message.reply_text(
        text("forget.ask", lang, count=len(rows), pending=pending), reply_markup=markup
    )


async def forget_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    user = query.from_user
    svc = services(context)
    # Read before forgetting: the row in `user_langs` goes with the rest of their data.
    pressed = await reader_press(svc, query, FORGET_BUTTONS, what="forget")
    if pressed is None:
        return
    button, lang = pressed
    subs = svc.submissions
    request = await subs.readers.get_request(button.id)
    if request is None or request.user_id != user.id:
        log.warning("forget press refused", extra={"user_id": user.id, "why": "not theirs"})
        await query.answer(text("review.not_allowed", lang), show_alert=True)
        return
    if button.action == "no":
        cancelled = await subs.cancel_forget(request.id, user_id=user.id)
        await query.answer(text("forget.cancelled" if cancelled else "forget.answered", lang))
        if cancelled:
            await _edit(query, text("forget.cancelled", lang))
        return
    done = await subs.forget(request.id, user_id=user.id)
    if done is None or not done.won:
        await query.answer(text("forget.answered", lang))
        return
    await query.answer(text("forget.done_short", lang))
    _forget_conversation(context, user.id)
    await _edit(query, text("forget.done", lang, withdrawn=len(done.withdrawn)))
    for row in done.submissions:  # the editors' cards lose the names too
        await _refresh(context.bot, svc, row)


def _forget_conversation(context: Context, user_id: int) -> None:
    """What the bot waited for from them in this chat (PTB's `chat_data`, memory only)."""
    data = context.chat_data
    if data is None:
        return
    for key in _WAITING_KEYS:
        found = data.get(key)
        if isinstance(found, dict):
            for k in [
                k for k in found if k == user_id or (isinstance(k, tuple) and k[0] == user_id)
            ]:
                del found[k]


async def _edit(query: CallbackQuery, new_text: str) -> None:
    try:
        await query.edit_message_text(new_text, reply_markup=None)
    except BadRequest as exc:
        log.info("confirmation not edited", extra={"error": str(exc)})


def add_submitter_handlers(application: App) -> None:
    """Register /mysubmissions, /withdraw, /credit, /forgetme and their buttons."""
    application.add_handler(CommandHandler("mysubmissions", mysubmissions_cmd))
    application.add_handler(CommandHandler("withdraw", withdraw_cmd))
    application.add_handler(CommandHandler("credit", credit_cmd))
    application.add_handler(CommandHandler("forgetme", forgetme_cmd))
    application.add_handler(CallbackQueryHandler(credit_callback, pattern=CREDIT_BUTTONS.pattern))
    application.add_handler(CallbackQueryHandler(forget_callback, pattern=FORGET_BUTTONS.pattern))
