"""The bot's commands in one registry: `/help`, `setMyCommands` and tests read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)

from bot.config import TelegramSettings
from bot.texts import text


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    description: str  # shown in Telegram's command menu, ≤ 256 chars
    editors_only: bool = False


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", text("command.start")),
    CommandSpec("help", text("command.help")),
    CommandSpec("submit", text("command.submit")),
    CommandSpec("cancel", text("command.cancel")),
    CommandSpec("mysubmissions", text("command.mysubmissions")),
    CommandSpec("withdraw", text("command.withdraw")),
    CommandSpec("credit", text("command.credit")),
    CommandSpec("forgetme", text("command.forgetme")),
    CommandSpec("outbox", text("command.outbox"), editors_only=True),
    CommandSpec("status", text("command.status"), editors_only=True),
    CommandSpec("pause", text("command.pause"), editors_only=True),
    CommandSpec("resume", text("command.resume"), editors_only=True),
    CommandSpec("retry", text("command.retry"), editors_only=True),
    CommandSpec("skip", text("command.skip"), editors_only=True),
    CommandSpec("backfill", text("command.backfill"), editors_only=True),
    CommandSpec("extra", text("command.extra"), editors_only=True),
    CommandSpec("queue", text("command.queue"), editors_only=True),
    CommandSpec("roundup", text("command.roundup"), editors_only=True),
)


def help_text(*, is_editor: bool) -> str:
    """The /help reply: the commands this user may use, one per line."""
    lines = [
        text("help.line", name=c.name, description=c.description)
        for c in COMMANDS
        if is_editor or not c.editors_only
    ]
    return "\n".join([text("help.head"), *lines])


@dataclass(frozen=True, slots=True)
class Menu:
    """One `setMyCommands` call: a scope and the commands its users see."""

    scope: BotCommandScope
    commands: tuple[BotCommand, ...]


def command_menus(
    telegram: TelegramSettings, commands: Sequence[CommandSpec] = COMMANDS
) -> tuple[Menu, ...]:
    """Every menu the bot sets at start, built from `COMMANDS` (the one place).

    Readers (the default scope and every private chat) see the reader commands; each
    editor's private chat and the editor chat (`BotCommandScopeChat`, which Telegram
    prefers over the wider scopes) see the editors' too. A menu only shows: every
    command still asks `is_editor`.
    """
    readers = tuple(BotCommand(c.name, c.description) for c in commands if not c.editors_only)
    editors = tuple(BotCommand(c.name, c.description) for c in commands)
    chats = dict.fromkeys((*telegram.editor_ids, *telegram.review_chats()))
    return (
        Menu(BotCommandScopeDefault(), readers),
        Menu(BotCommandScopeAllPrivateChats(), readers),
        *(Menu(BotCommandScopeChat(chat_id), editors) for chat_id in chats),
    )
