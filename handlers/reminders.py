"""The daily review reminder and expiry (a JobQueue job) and the digest's [Open] buttons.

The job (`remind_and_expire`) reads the time from the submissions service's clock, so
tests move it: links pending past `submissions.expire_days` expire first (the cards show
it, buttons dropped, and each submitter is told; one who blocked the bot is skipped with
a log line), then the editors get one digest of what waits past
`submissions.remind_after_hours`. [Open #id] is an editor's press, checked with
`is_editor` on every press: it sends that link's review card again to the chat it was
pressed in (remembered on the row, so a decision re-renders this copy too).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from telegram import Bot, Update
from telegram.ext import CallbackQueryHandler

from bot.config import Settings
from bot.editors.kit import NO_PREVIEW, EditorChats
from bot.editors.reminders import REMINDER_BUTTONS, digest_keyboard, digest_text
from bot.editors.review_cards import refresh_review_cards, send_review_card
from bot.texts import EDITOR_LANG, text
from handlers.context import App, BotServices, Context, services
from handlers.presses import editor_press
from handlers.submissions import tell

log = logging.getLogger(__name__)

REMINDER_JOB = "submission-reminders"


@dataclass(frozen=True, slots=True)
class ReminderRun:
    """What one run did: links expired (their submitters told or not), links reminded."""

    expired: tuple[int, ...]
    reminded: tuple[int, ...]


async def remind_and_expire(bot: Bot, svc: BotServices) -> ReminderRun:
    """Expire what waited too long (cards, submitters), then remind the editors of the rest."""
    subs = svc.submissions
    expired = await subs.expire_due()
    for row in expired:
        await refresh_review_cards(
            bot,
            row,
            accepted=await subs.store.accepted_count(row.user_id),
            duplicates=await subs.store.find_duplicates(row.dedupe_key, exclude_id=row.id),
            markup=None,
        )
        await tell(bot, svc, row)  # one who blocked the bot: a log line, the next is told
    due = await subs.reminders_due()
    if due:
        await svc.editor_chats(bot).send(
            digest_text(
                due,
                now=subs.now(),
                after_hours=subs.settings.remind_after_hours,
                expired=len(expired),
            ),
            digest_keyboard(due),
            link_preview=NO_PREVIEW,
            best_effort=True,
            what="the review reminder",
        )
    log.info("review reminder", extra={"expired": len(expired), "reminded": len(due)})
    return ReminderRun(tuple(r.id for r in expired), tuple(r.id for r in due))


async def reminder_job(context: Context) -> None:
    await remind_and_expire(context.bot, services(context))


def schedule_reminders(application: App, settings: Settings) -> None:
    """Every day at `submissions.reminder_time`, in the channel's time zone."""
    if application.job_queue is None:
        return
    at = settings.submissions.reminder_time.replace(tzinfo=settings.publishing.zone)
    application.job_queue.run_daily(reminder_job, time=at, name=REMINDER_JOB)


async def reminder_callback(update: Update, context: Context) -> None:
    """[Open #id]: the review card again, in the chat the digest was pressed in."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    button = await editor_press(svc, query, REMINDER_BUTTONS)
    if button is None:
        return
    store = svc.submissions.store
    row = await store.get(button.id)
    if row is None:
        await query.answer(text("review.gone", EDITOR_LANG))
        return
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    await query.answer(text("reminder.opened", id=row.id))
    cards = await send_review_card(
        EditorChats(context.bot, [chat_id], spacer=svc.spacer),
        row,
        accepted=await store.accepted_count(row.user_id),
        duplicates=await store.find_duplicates(row.dedupe_key, exclude_id=row.id),
    )
    await store.add_cards(row.id, cards, now=dt.datetime.now(dt.UTC))


def add_reminder_handlers(application: App, settings: Settings) -> None:
    application.add_handler(
        CallbackQueryHandler(reminder_callback, pattern=REMINDER_BUTTONS.pattern)
    )
    schedule_reminders(application, settings)
