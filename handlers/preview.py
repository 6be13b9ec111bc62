"""The preview card's buttons and the editor's edit: parse the update, call the core, reply.

The cards themselves are drawn by `bot.editors.preview_cards` and first sent by
`bot.weekly.announce` when a new issue arrives. The decision lives in the database
(`data.previews`): a double press, or two editors at once, decides once. Every press is
answered, on every path: after the quick database decision, so the answer can say what
happened ("Already decided." or the outcome), and before any other Telegram call
(re-rendering the cards, a prompt).

[Edit] offers [Edit Telegram] [Edit X]; the editor's next text message in that chat
becomes that platform's digest, if it fits the platform (else they are told why and
the bot keeps waiting). A text with Telegram formatting (pasted from the preview) is
taken as the HTML of its entities; plain text is read as Telegram HTML; Markdown
`**bold**` and `[text](url)` are taken too (`publishers.format_telegram.editor_html`).
The Telegram text keeps the digest's photo (`bot.weekly.planning.edited_digest`).

Registration (`add_publication_handlers` does all of it):

- ``CallbackQueryHandler(preview_callback, pattern=CALLBACK_PATTERN)``
- ``MessageHandler(EDIT_FILTER, preview_edit_message)`` in group ``EDIT_GROUP``: a
  group of its own, before the default one, so the editor's text is consumed
  (``ApplicationHandlerStop``) only when an edit is pending and left alone otherwise;
- ``run_repeating(alarm_job, interval=publishing.alarm_check_seconds)``.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from types import MappingProxyType

from telegram import CallbackQuery, ForceReply, Message, MessageEntity, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.domain.issue import Issue, Lang
from bot.editors.preview_cards import (
    decision_keyboard,
    edit_keyboard,
    refresh_cards,
    send_preview_cards,
)
from bot.weekly.announce import after_enqueue, announce_alarms
from bot.weekly.ingest import NewIssue
from bot.weekly.publication import DECISIONS, Publication, validate_digest_text
from handlers.context import App, Context, actor_of, services
from publishers.format_telegram import editor_html

__all__ = [
    "CALLBACK_PATTERN",
    "add_publication_handlers",
    "alarm_job",
    "preview_callback",
    "preview_edit_message",
]

# The data of `bot.editors.preview_cards.decision_keyboard` and `edit_keyboard`.
CALLBACK_PATTERN = r"^pv:"
# `ed:<target>`: any name here; the registry says whether it is a platform.
CALLBACK = re.compile(r"^pv:(now|plan|skip|edit|back|ed:[a-z][a-z0-9_]*|bf):(\d+)$")
EDIT_GROUP = -2  # runs first; it stops the update only when an edit is pending
EDIT_FILTER = filters.TEXT & ~filters.COMMAND


# ---- buttons ------------------------------------------------------------------------


async def _backfill(
    query: CallbackQuery,
    context: Context,
    publication: Publication,
    number: int,
    *,
    now: dt.datetime,
) -> None:
    """[Backfill #N]: a preview of the stored issue, as if it had just arrived.

    The preview is made once per issue, so a second press (or a second editor) only
    shows the cards again if they never went out.
    """
    svc = services(context)
    found: dict[Lang, Issue] = {}
    langs: tuple[Lang, ...] = ("zh", "en")
    for lang in langs:
        issue = await svc.store.issues.load(number, lang)
        if issue is not None:
            found[lang] = issue
    if not found:
        await query.answer(f"#{number} is not stored.", show_alert=True)
        return
    first = next(iter(found.values()))
    event = NewIssue(number, first.date, MappingProxyType(found))
    outcome = await publication.on_new_issue(event, now=now)
    if outcome.preview is None:
        await query.answer(outcome.notice or f"#{number}: nothing for the configured targets.")
        return
    if not outcome.show_cards:
        await query.answer(f"#{number} has a preview already ({outcome.preview.status}).")
        return
    await query.answer(f"Preview of #{number} coming.")
    chats = svc.settings.telegram.review_chats()
    await send_preview_cards(context.bot, publication, outcome.preview, chats, now=now)
    after_enqueue(svc, context.job_queue, outcome.queued)


_DECIDED = {
    "published": "✅ Published now by {who}.",
    "scheduled": "🗓 Scheduled as planned by {who}.",
    "skipped": "⏭ Skipped by {who}: nothing was queued.",
}


async def preview_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    svc = services(context)
    if not svc.is_editor(query.from_user.id):
        await query.answer("Only editors can decide this.", show_alert=True)
        return
    match = CALLBACK.match(query.data)
    if match is None:
        await query.answer("Unknown button.")
        return
    action, preview_id = match.group(1), int(match.group(2))
    publication = Publication(svc.store, svc.settings, platforms=svc.platforms)
    now = dt.datetime.now(dt.UTC)
    actor = actor_of(query.from_user)
    target = action.removeprefix("ed:") if action.startswith("ed:") else None
    if target is not None and target not in publication.platforms:
        await query.answer("Unknown button.")
        return
    if action == "bf":  # the number is an issue's here, from `backfill_keyboard`
        await _backfill(query, context, publication, preview_id, now=now)
        return
    if action in DECISIONS:
        outcome = await publication.decide(
            preview_id,
            DECISIONS[action],
            actor=actor,
            now=now,
        )
        if outcome is None:
            await query.answer("Already decided.")
            return
        await query.answer(_DECIDED[outcome.preview.status].format(who="you"))
        after_enqueue(svc, context.job_queue, outcome.queued)
        status = _DECIDED[outcome.preview.status].format(who=html.escape(actor))
        await refresh_cards(
            context.bot,
            publication,
            outcome.preview,
            status=status,
            markup=None,
            posts=outcome.posts or None,
            now=now,
        )
        return
    preview = await publication.previews.get(preview_id)
    if preview is None or preview.status != "pending":
        await query.answer("Already decided.")
        return
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    if action == "edit":
        await query.answer("Which platform's digest?")
        await query.edit_message_reply_markup(edit_keyboard(preview, publication))
    elif action == "back":
        await publication.previews.cancel_edit(chat_id=chat_id, user_id=query.from_user.id)
        await query.answer("Kept as it is.")
        await query.edit_message_reply_markup(decision_keyboard(preview.id))
    else:
        assert target is not None
        platform = publication.platforms[target]
        if target not in preview.langs:
            await query.answer("This issue does not go to that platform.")
            return
        started = await publication.previews.start_edit(
            preview.id, target, chat_id=chat_id, user_id=query.from_user.id, now=now
        )
        if not started:  # decided since the read above
            await query.answer("Already decided.")
            return
        name = platform.display
        await query.answer(f"Send the new {name} digest.")
        rule = platform.edit_rule
        await context.bot.send_message(
            chat_id,
            f"Send the new {name} digest of issue #{preview.issue_number} as your next message"
            f" ({rule}). Press Back on the card to keep the current one.",
            reply_markup=ForceReply(selective=True),
        )


def _source_text(message: Message) -> str:
    """Formatting from Telegram's editor arrives as entities: take them as HTML; then
    Markdown `**bold**` and `[text](url)` (how the editor's script writes) as well."""
    assert message.text is not None
    formatted = [e for e in message.entities if e.type != MessageEntity.BOT_COMMAND]
    return editor_html(message.text_html if formatted else message.text)


async def preview_edit_message(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.text is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        return
    publication = Publication(svc.store, svc.settings, platforms=svc.platforms)
    edit = await publication.previews.pending_edit(chat_id=message.chat_id, user_id=user.id)
    if edit is None:
        return  # not waiting for this editor: other handlers may want the text
    platform = publication.platforms[edit.target]
    target_name = platform.display
    text = _source_text(message) if platform.formatted_edit else message.text
    problem = validate_digest_text(edit.target, text, publication.platforms)
    if problem is not None:
        await message.reply_text(
            f"Not saved. {problem}\nSend a corrected {target_name} text,"
            " or press Back on the card to keep the current one."
        )
        raise ApplicationHandlerStop
    now = dt.datetime.now(dt.UTC)
    preview = await publication.previews.save_edit(edit, text, actor=actor_of(user), now=now)
    if preview is None:
        await message.reply_text("This preview was already decided; the text was not used.")
        raise ApplicationHandlerStop
    await message.reply_text(f"Saved: this is now the {target_name} digest of the card.")
    await refresh_cards(
        context.bot,
        publication,
        preview,
        status="Waiting for an editor.",
        markup=decision_keyboard(preview.id),
        now=now,
    )
    raise ApplicationHandlerStop


# ---- jobs ---------------------------------------------------------------------------


async def alarm_job(context: Context) -> None:
    """Periodic: the core checks the alarms and tells the editors of any change."""
    await announce_alarms(context.bot, services(context), now=dt.datetime.now(dt.UTC))


def add_publication_handlers(application: App, settings: Settings) -> None:
    """Register the preview buttons, the edit reader and the periodic alarm check."""
    application.add_handler(CallbackQueryHandler(preview_callback, pattern=CALLBACK_PATTERN))
    application.add_handler(MessageHandler(EDIT_FILTER, preview_edit_message), group=EDIT_GROUP)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            alarm_job,
            interval=settings.publishing.alarm_check_seconds,
            first=60,
            name="alarms",
        )
