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
from bot.texts import CHAT_LANGS, ChatLang, TextKey, text

# The menu of every client whose language has none of its own.
DEFAULT_MENU_LANG: ChatLang = "en"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    key: TextKey  # its description in the catalogue: Telegram's menu takes ≤ 256 chars
    editors_only: bool = False
    records: bool = False  # it writes to the store: refused while storage is down

    def description(self, lang: ChatLang) -> str:
        return text(self.key, lang)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", "command.start"),
    CommandSpec("help", "command.help"),
    CommandSpec("submit", "command.submit", records=True),
    CommandSpec("cancel", "command.cancel"),
    CommandSpec("mysubmissions", "command.mysubmissions"),
    CommandSpec("withdraw", "command.withdraw", records=True),
    CommandSpec("credit", "command.credit", records=True),
    CommandSpec("forgetme", "command.forgetme", records=True),
    CommandSpec("lang", "command.lang", records=True),
    CommandSpec("outbox", "command.outbox", editors_only=True),
    CommandSpec("status", "command.status", editors_only=True),
    CommandSpec("pause", "command.pause", editors_only=True, records=True),
    CommandSpec("resume", "command.resume", editors_only=True, records=True),
    CommandSpec("retry", "command.retry", editors_only=True, records=True),
    CommandSpec("skip", "command.skip", editors_only=True, records=True),
    CommandSpec("backfill", "command.backfill", editors_only=True, records=True),
    CommandSpec("extra", "command.extra", editors_only=True, records=True),
    CommandSpec("queue", "command.queue", editors_only=True),
    CommandSpec("roundup", "command.roundup", editors_only=True),
    CommandSpec("search", "command.search"),
    # keyword alerts and the archive's digests (handlers/alerts.py, handlers/latest.py)
    CommandSpec("follow", "command.follow", records=True),
    CommandSpec("following", "command.following"),
    CommandSpec("unfollow", "command.unfollow", records=True),
    CommandSpec("latest", "command.latest"),
    CommandSpec("issue", "command.issue"),
    CommandSpec("draft", "command.draft", editors_only=True),
    CommandSpec("stats", "command.stats", editors_only=True),
)


# The commands that record something (handlers/storage.py refuses them while it is down).
RECORDING_COMMANDS = frozenset(c.name for c in COMMANDS if c.records)


def reader_menu(lang: ChatLang) -> list[tuple[str, str]]:
    """The readers' command menu in `lang`: (command, description)."""
    return [(c.name, c.description(lang)) for c in COMMANDS if not c.editors_only]


def help_text(lang: ChatLang, *, is_editor: bool) -> str:
    """The /help reply: the commands this user may use, one per line."""
    lines = [
        text("help.line", lang, name=c.name, description=c.description(lang))
        for c in COMMANDS
        if is_editor or not c.editors_only
    ]
    return "\n".join([text("help.head", lang), *lines])


@dataclass(frozen=True, slots=True)
class Menu:
    """One `setMyCommands` call: a scope, a language (None: the default) and the
    commands its users see."""

    scope: BotCommandScope
    language_code: str | None
    commands: tuple[BotCommand, ...]


def command_menus(
    telegram: TelegramSettings, commands: Sequence[CommandSpec] = COMMANDS
) -> tuple[Menu, ...]:
    """Every menu the bot sets at start, built from `COMMANDS` (the one place), per
    scope and per language.

    Readers (the default scope and every private chat) see the reader commands; each
    editor's private chat and the editor chat (`BotCommandScopeChat`, which Telegram
    prefers over the wider scopes) see the editors' too. Each scope gets the default
    menu (English) and one for clients in Chinese (`language_code` "zh" covers zh-hans
    and zh-hant). A menu only shows: every command still asks `is_editor`.
    """
    chats = dict.fromkeys((*telegram.editor_ids, *telegram.review_chats()))
    menus: list[Menu] = []
    for lang in CHAT_LANGS:
        code = None if lang == DEFAULT_MENU_LANG else lang

        def menu(specs: Sequence[CommandSpec], lang: ChatLang = lang) -> tuple[BotCommand, ...]:
            return tuple(BotCommand(c.name, c.description(lang)) for c in specs)

        readers = menu([c for c in commands if not c.editors_only])
        editors = menu(commands)
        menus += [
            Menu(BotCommandScopeDefault(), code, readers),
            Menu(BotCommandScopeAllPrivateChats(), code, readers),
            *(Menu(BotCommandScopeChat(chat_id), code, editors) for chat_id in chats),
        ]
    return tuple(menus)
