"""Webhook mode: PTB's own webhook server (tornado) takes Telegram's updates.

`Updater.start_webhook` binds `telegram.webhook_listen:webhook_port`, serves the path of
`webhook_url`, calls setWebhook with the secret token, and answers 403 to a request
whose X-Telegram-Bot-Api-Secret-Token is missing or wrong, before the body is read as
an update: nothing reaches a handler. Going back to polling needs nothing: PTB's
`start_polling` deletes the webhook first.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from telegram.ext import Updater

from bot.config import ConfigError, Settings, TelegramSettings, webhook_problem

log = logging.getLogger(__name__)


def with_webhook(settings: Settings, url: str) -> Settings:
    """`weeklybot run --webhook URL`: the settings in webhook mode, checked as the file's are.

    Raises:
        ConfigError: the URL is not usable, or no secret token is configured.
    """
    tg = settings.telegram
    problem = webhook_problem(url, tg.webhook_secret_token)
    if problem:
        raise ConfigError([f"--webhook: {problem}"])
    return settings.model_copy(update={"telegram": tg.model_copy(update={"webhook_url": url})})


async def start_webhook(updater: Updater, tg: TelegramSettings) -> None:
    """Start PTB's webhook server and point Telegram at it (setWebhook)."""
    assert tg.webhook_url is not None  # validated with the settings
    assert tg.webhook_secret_token is not None
    path = urlsplit(tg.webhook_url).path.lstrip("/")
    await updater.start_webhook(
        listen=tg.webhook_listen,
        port=tg.webhook_port,
        url_path=path,
        webhook_url=tg.webhook_url,
        secret_token=tg.webhook_secret_token.get_secret_value(),
    )
    log.info(
        "webhook mode",
        extra={"listen": tg.webhook_listen, "port": tg.webhook_port, "path": "/" + path},
    )
