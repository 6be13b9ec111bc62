"""Typed access to the services the handlers need.

PTB builds `bot_data` itself, so the services live under one key and are read
through `services()` alone; handlers never index `bot_data` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from telegram import User
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.config import Settings
from bot.delivery.workers import DeliveryPool
from bot.platforms import PLATFORMS, Platforms
from data.store import Store

# As ApplicationBuilder types them: the Application's bot is ExtBot[int] (it runs with
# AIORateLimiter, whose rate-limit args are ints), the context's stays ExtBot[None].
Context: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
App: TypeAlias = Application[
    ExtBot[int], Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[Context]
]

_KEY = "weeklybot.services"


@dataclass(frozen=True, slots=True)
class BotServices:
    settings: Settings
    store: Store
    delivery: DeliveryPool
    platforms: Platforms = PLATFORMS  # the targets; a test adds a toy one

    def is_editor(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.telegram.editor_ids


def actor_of(user: User) -> str:
    """How an editor appears on cards and in the audit log: name and id."""
    name = f"@{user.username}" if user.username else user.first_name
    return f"{name} [{user.id}]"


def attach(application: App, services: BotServices) -> None:
    application.bot_data[_KEY] = services


def services(context: Context) -> BotServices:
    found = context.bot_data[_KEY]
    assert isinstance(found, BotServices)
    return found
