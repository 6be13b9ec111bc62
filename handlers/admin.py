"""The editors' admin commands: parse the command, call the core, reply.

`/status` (`bot.editors.status`), `/pause [target]` and `/resume [target]` (rows of
`target_pauses`, read by the outbox's claim: a paused target's worker claims nothing),
`/retry <id>` and `/skip <id>` (the outbox cards' own compare-and-set decisions) and
`/backfill <number>` (`bot.ops.maintenance.backfill_into`, what `weeklybot backfill`
runs). Each asks `is_editor` first: anyone else is answered "This command is for
editors.", logged and audited (`command.denied`), and nothing changes.
"""

from __future__ import annotations

import contextlib
import logging
import time

from telegram import Message, Update, User
from telegram.constants import ParseMode
from telegram.ext import CommandHandler

from bot.editors.kit import NO_PREVIEW
from bot.editors.status import gather_status, render_status
from bot.ops.maintenance import Backfilled, backfill_into
from bot.texts import TextKey, text
from bot.weekly.announce import after_enqueue
from handlers.context import App, BotServices, Context, actor_of, services
from handlers.lang import reader_lang

log = logging.getLogger(__name__)

__all__ = ["ADMIN_COMMANDS", "add_admin_handlers", "refuse_command"]


async def refuse_command(
    message: Message,
    user: User,
    svc: BotServices,
    command: str,
    *,
    reply: TextKey = "editors_only.command",
) -> None:
    """Not an editor: answer, log, audit; nothing else happens. Every editors' command
    refuses through here (the queue's too), so each refusal is in the audit log."""
    await message.reply_text(text(reply, await reader_lang(svc, user)))
    log.warning("editor command refused", extra={"user_id": user.id, "command": command})
    await svc.store.append_audit(
        actor=f"user:{user.id}",
        action="command.denied",
        subject=f"command:{command}",
        details={"chat_id": message.chat_id},
        now=time.time(),
    )


async def _editor(
    update: Update, context: Context, command: str
) -> tuple[Message, User, BotServices] | None:
    """The message, the editor and the services; None (refused) for anyone else."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    svc = services(context)
    if not svc.is_editor(user.id):
        await refuse_command(message, user, svc, command)
        return None
    return message, user, svc


# ---- /status ------------------------------------------------------------------------


async def status_cmd(update: Update, context: Context) -> None:
    found = await _editor(update, context, "status")
    if found is None:
        return
    message, _, svc = found
    pacers = {worker.target: worker.pacer for worker in svc.delivery.workers}
    status = await gather_status(
        svc.store,
        svc.watch,
        svc.platforms,
        pacers,
        queue=await svc.extra.summary(),
        now=time.time(),
    )
    body = render_status(status, svc.settings.publishing.zone)
    storage = svc.storage.status_line()  # storage down: said first
    await message.reply_text(
        body if storage is None else f"{storage}\n\n{body}",
        parse_mode=ParseMode.HTML,
        link_preview_options=NO_PREVIEW,
    )


# ---- /pause, /resume ----------------------------------------------------------------


def _targets(args: list[str], svc: BotServices, command: str) -> list[str] | str:
    """The targets named (none: every one that is on), or the reply refusing them."""
    names = list(svc.platforms.names)
    known = ", ".join(names)
    if not args:
        return [p.name for p in svc.platforms if p.enabled(svc.settings)]
    if len(args) > 1:
        return text("admin.one_target", command=command, known=" | ".join(names))
    name = args[0].lower()
    if name not in svc.platforms:
        return text("admin.unknown_target", name=args[0], known=known)
    return [name]


async def _pause_or_resume(update: Update, context: Context, command: str) -> None:
    found = await _editor(update, context, command)
    if found is None:
        return
    message, user, svc = found
    targets = _targets(list(context.args or ()), svc, command)
    if isinstance(targets, str):
        await message.reply_text(targets)
        return
    outbox, actor, now = svc.store.outbox, actor_of(user), time.time()
    pausing = command == "pause"
    if pausing:
        changed = await outbox.pause(targets, actor=actor, now=now)
    else:
        changed = await outbox.resume(targets, actor=actor, now=now)
        svc.delivery.wake()  # rows that came due while paused go now
    unchanged = [t for t in targets if t not in changed]
    lines = []
    if changed:
        names = ", ".join(svc.platforms.display(t) for t in changed)
        lines.append(text("pause.done" if pausing else "resume.done", targets=names))
    if unchanged:
        names = ", ".join(svc.platforms.display(t) for t in unchanged)
        lines.append(text("pause.already" if pausing else "resume.already", targets=names))
    await message.reply_text("\n".join(lines))


async def pause_cmd(update: Update, context: Context) -> None:
    await _pause_or_resume(update, context, "pause")


async def resume_cmd(update: Update, context: Context) -> None:
    await _pause_or_resume(update, context, "resume")


# ---- /retry, /skip ------------------------------------------------------------------


def _row_id(args: list[str]) -> int | None:
    if len(args) != 1:
        return None
    value = args[0].removeprefix("#")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


async def retry_cmd(update: Update, context: Context) -> None:
    """/retry <id>: a failed row is queued again, a doubtful one posted again
    (the outbox cards' [Try again] and [Post again])."""
    found = await _editor(update, context, "retry")
    if found is None:
        return
    message, user, svc = found
    outbox_id = _row_id(list(context.args or ()))
    if outbox_id is None:
        await message.reply_text(text("admin.usage_id", command="retry"))
        return
    outbox, actor, now = svc.store.outbox, actor_of(user), time.time()
    row = await outbox.get(outbox_id)
    if row is None:
        await message.reply_text(text("admin.no_row", id=outbox_id))
        return
    if row.state == "failed":
        done = await outbox.requeue(outbox_id, actor=actor, now=now)
        outcome = text("outbox.outcome.retry")
    elif row.state == "in_doubt":
        done = await outbox.resolve_in_doubt(outbox_id, as_sent=False, actor=actor, now=now)
        outcome = text("outbox.outcome.again")
    else:
        await message.reply_text(text("admin.retry_state", id=outbox_id, state=row.state))
        return
    if not done:  # decided meanwhile (a button, another editor)
        await message.reply_text(text("decided.already"))
        return
    svc.delivery.wake()
    reply = text("admin.row_done", id=outbox_id, target=row.target, outcome=outcome)
    if row.state == "in_doubt":
        reply += " " + text("admin.retry_in_doubt")
    await message.reply_text(reply)


async def skip_cmd(update: Update, context: Context) -> None:
    """/skip <id>: never send this row; the later parts of its post go on without it
    (the outbox cards' [Send the rest without it], `OutboxStore.skip_part`)."""
    found = await _editor(update, context, "skip")
    if found is None:
        return
    message, user, svc = found
    outbox_id = _row_id(list(context.args or ()))
    if outbox_id is None:
        await message.reply_text(text("admin.usage_id", command="skip"))
        return
    outbox = svc.store.outbox
    row = await outbox.get(outbox_id)
    if row is None:
        await message.reply_text(text("admin.no_row", id=outbox_id))
        return
    later = len(await outbox.later_parts(outbox_id))
    done = await outbox.skip_part(
        outbox_id, actor=actor_of(user), now=time.time(), reason="editor: /skip"
    )
    if not done:
        fresh = await outbox.get(outbox_id)
        state = fresh.state if fresh else row.state
        await message.reply_text(text("admin.skip_state", id=outbox_id, state=state))
        return
    svc.delivery.wake()
    reply = text(
        "admin.row_done", id=outbox_id, target=row.target, outcome=text("outbox.outcome.cancel")
    )
    if later:
        reply += " " + text("admin.skip_rest", count=later)
    await message.reply_text(reply)


# ---- /backfill ----------------------------------------------------------------------


def describe_backfill(number: int, done: Backfilled) -> str:
    """The reply to `/backfill N`: what `backfill_into` did, as the CLI says it."""
    if done.error:
        return text("admin.backfill_failed", number=number, error=done.error)
    if done.preview_id is not None:
        if done.preview_status != "pending":
            return text(
                "admin.backfill_decided",
                number=number,
                preview_id=done.preview_id,
                status=done.preview_status,
            )
        if done.cards:
            return text(
                "admin.backfill_cards", number=number, preview_id=done.preview_id, cards=done.cards
            )
        if done.cards_before:
            return text("admin.backfill_cards_before", number=number, preview_id=done.preview_id)
        return text("admin.backfill_no_chat", number=number, preview_id=done.preview_id)
    if done.queued == 0:
        return text("admin.backfill_none_queued", number=number)
    return text("admin.backfill_queued", number=number, count=done.queued)


async def backfill_cmd(update: Update, context: Context) -> None:
    found = await _editor(update, context, "backfill")
    if found is None:
        return
    message, _, svc = found
    args = list(context.args or ())
    value = args[0].removeprefix("#") if len(args) == 1 else ""
    if not (value.isascii() and value.isdigit() and 0 < len(value) <= 6):
        await message.reply_text(text("admin.usage_backfill"))
        return
    number = int(value)
    await message.reply_text(text("admin.backfill_working", number=number))
    done = await backfill_into(
        svc.store,
        svc.settings,
        number,
        bot=lambda: contextlib.nullcontext(context.bot),
        platforms=svc.platforms,
        lock=svc.watch.repo_lock,
    )
    if done.rows is not None:
        after_enqueue(svc, context.job_queue, done.rows)
    await message.reply_text(describe_backfill(number, done))


# Every admin command and its handler; `block=False` for the slow one (a git fetch).
ADMIN_COMMANDS = {
    "status": status_cmd,
    "pause": pause_cmd,
    "resume": resume_cmd,
    "retry": retry_cmd,
    "skip": skip_cmd,
    "backfill": backfill_cmd,
}


def add_admin_handlers(application: App) -> None:
    """Register the admin commands (`handlers.commands.COMMANDS` lists them)."""
    for name, callback in ADMIN_COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, block=name != "backfill"))
