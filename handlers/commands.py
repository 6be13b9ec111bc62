"""The bot's commands in one registry: `/help`, `setMyCommands` and tests read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    description: str  # shown in Telegram's command menu, ≤ 256 chars
    editors_only: bool = False


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", "What this bot is and how to follow the weekly"),
    CommandSpec("help", "List the commands"),
    CommandSpec("outbox", "Posts that need an editor: in doubt or failed", editors_only=True),
)


def help_text(*, is_editor: bool) -> str:
    """The /help reply: the commands this user may use, one per line."""
    lines = [f"/{c.name} - {c.description}" for c in COMMANDS if is_editor or not c.editors_only]
    return "Commands:\n" + "\n".join(lines)
