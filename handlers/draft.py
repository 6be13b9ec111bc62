"""`/draft [zh|en] [YYYY-MM-DD]`: an editor gets the next issue's draft as a file.

Editors only (`BotServices.is_editor`, asked on every command; anyone else is refused
through `handlers.admin.refuse_command`). `bot.draft.gather_draft` builds it; the reply
is `draft-<N>.md` (sendDocument) with a short caption, then the draft's notes if it has
any. Nothing to draft is a plain reply, never an empty file. It writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import InputFile, Update
from telegram.ext import CommandHandler

from bot.draft import gather_draft
from bot.texts import text
from handlers.admin import refuse_command
from handlers.context import App, Context, services
from publishers.format_draft import DRAFT_LANGS, Draft, DraftLang

log = logging.getLogger(__name__)

DEFAULT_DRAFT_LANG: DraftLang = "zh"  # the newsletter is written in Chinese first
_NOTES_MAX = 3500  # of a message's 4,096: the notes are cut, never refused
_KIND_WORDS = {  # (one, several)
    "articles": ("article", "articles"),
    "projects": ("project", "projects"),
    "podcasts": ("podcast/video", "podcasts/videos"),
    "discussions": ("discussion", "discussions"),
}


def parse_draft_args(args: list[str]) -> tuple[DraftLang, dt.date | None] | None:
    """`[zh|en] [YYYY-MM-DD]` in either order; None: not that."""
    lang: DraftLang = DEFAULT_DRAFT_LANG
    since: dt.date | None = None
    if len(args) > 2:
        return None
    for arg in args:
        low = arg.lower()
        if low in DRAFT_LANGS:
            lang = DRAFT_LANGS[DRAFT_LANGS.index(low)]
            continue
        try:
            since = dt.date.fromisoformat(arg)
        except ValueError:
            return None
    return lang, since


def caption_of(draft: Draft) -> str:
    counts = ", ".join(f"{n} {_KIND_WORDS[kind][n != 1]}" for kind, n in draft.counts())
    since = draft.since.isoformat() if draft.since else "the start"
    return text("draft.caption", number=draft.number, lang=draft.lang, since=since, counts=counts)


async def draft_cmd(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        await refuse_command(message, user, svc, "draft")
        return
    parsed = parse_draft_args(list(context.args or ()))
    if parsed is None:
        await message.reply_text(text("draft.usage"))
        return
    lang, since = parsed
    draft = await gather_draft(svc.store, lang=lang, zone=svc.settings.publishing.zone, since=since)
    if draft.empty:
        day = draft.since.isoformat() if draft.since else "the start"
        await message.reply_text(text("draft.empty", number=draft.number, since=day))
        return
    await message.reply_document(
        document=InputFile(draft.markdown.encode("utf-8"), filename=draft.file_name),
        filename=draft.file_name,
        caption=caption_of(draft),
    )
    log.info(
        "draft sent",
        extra={"number": draft.number, "lang": lang, "items": len(draft.items)},
    )
    if draft.warnings:
        notes = "\n".join(f"• {w}" for w in draft.warnings)
        if len(notes) > _NOTES_MAX:
            notes = notes[: _NOTES_MAX - 1] + "…"
        await message.reply_text(text("draft.notes", notes=notes))


def add_draft_handlers(application: App) -> None:
    application.add_handler(CommandHandler("draft", draft_cmd))
