"""`/roundup`: an editor previews the Sunday roundup as it would be posted now.

Editors only (`BotServices.is_editor`, asked on every command). The feeds are read
then (no retries: the preview answers at once), nothing is recorded, and the reply is
the head line, the posts exactly as the channel would get them, and every newsletter
left out with the reason.
"""

from __future__ import annotations

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode

from bot.editors.kit import ChatSpacer
from bot.roundup.report import preview_head, problems_text
from bot.roundup.schedule import slot_after
from bot.texts import text
from handlers.admin import refuse_command
from handlers.context import Context, services
from publishers.posts import TelegramText


async def roundup_cmd(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        await refuse_command(message, user, svc, "roundup")
        return
    options = svc.settings.roundup
    if not options.enabled:
        await message.reply_text(text("roundup.off"))
        return
    spacer = ChatSpacer()
    await spacer.wait(message.chat_id)
    await message.reply_text(text("roundup.fetching", count=len(options.feeds)))
    now = svc.roundup.now()
    prepared = await svc.roundup.prepare(now)
    roundup = prepared.roundup
    await spacer.wait(message.chat_id)
    head = preview_head(roundup, next_slot=slot_after(options, now), days=options.lookback_days)
    await message.reply_text(head)
    for post in prepared.posts:
        for part in post.parts:
            if not isinstance(part, TelegramText):  # the roundup is text only
                continue
            await spacer.wait(message.chat_id)
            await message.reply_text(
                part.html,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=part.disable_preview),
            )
    problems = problems_text(roundup.problems, days=options.lookback_days)
    if problems:
        await spacer.wait(message.chat_id)
        await message.reply_text(problems)
