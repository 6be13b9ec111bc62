"""The bot's commands in one registry: `/help`, `setMyCommands` and tests read it."""

from __future__ import annotations

from dataclasses import dataclass

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
    CommandSpec("outbox", text("command.outbox"), editors_only=True),
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
