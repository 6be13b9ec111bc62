"""The bot's commands in one registry: `/help`, `setMyCommands` and tests read it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.texts import ChatLang, TextKey, text


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    key: TextKey  # its description in the catalogue: Telegram's menu takes ≤ 256 chars
    editors_only: bool = False

    def description(self, lang: ChatLang) -> str:
        return text(self.key, lang)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", "command.start"),
    CommandSpec("help", "command.help"),
    CommandSpec("submit", "command.submit"),
    CommandSpec("cancel", "command.cancel"),
    CommandSpec("mysubmissions", "command.mysubmissions"),
    CommandSpec("withdraw", "command.withdraw"),
    CommandSpec("credit", "command.credit"),
    CommandSpec("forgetme", "command.forgetme"),
    CommandSpec("lang", "command.lang"),
    CommandSpec("outbox", "command.outbox", editors_only=True),
)


def command_menus(lang: ChatLang) -> list[tuple[str, str]]:
    """The readers' command menu in `lang`: (command, description), for setMyCommands."""
    return [(c.name, c.description(lang)) for c in COMMANDS if not c.editors_only]


def help_text(lang: ChatLang, *, is_editor: bool) -> str:
    """The /help reply: the commands this user may use, one per line."""
    lines = [
        text("help.line", lang, name=c.name, description=c.description(lang))
        for c in COMMANDS
        if is_editor or not c.editors_only
    ]
    return "\n".join([text("help.head", lang), *lines])
