"""The update queue of the fake Telegram: getUpdates semantics and webhook settings.

Telegram keeps updates until the bot confirms them by asking for a higher
``offset`` (core.telegram.org/bots/api#getupdates), refuses getUpdates while a
webhook is set (409), and ends an older long poll when a newer one starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.fakes.telegram_model import JSON, BotAPIError, PendingUpdate, bad_request

# Telegram's default when allowed_updates was never set.
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(slots=True)
class Webhook:
    """A webhook as setWebhook configured it, with delivery errors for getWebhookInfo."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: list[int] = field(default_factory=list)


class UpdateQueue:
    """Pending updates, long polling and the webhook switch."""

    def __init__(self) -> None:
        self._pending: list[PendingUpdate] = []
        self._next_id = 1
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self.allowed: frozenset[str] | None = None
        self.webhook: Webhook | None = None
        self.polling = 0  # long polls waiting now
        self._closed = False

    def close(self) -> None:
        """End every long poll, so that the server can stop without waiting them out."""
        self._closed = True
        self._notify()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> tuple[PendingUpdate, ...]:
        return tuple(self._pending)

    def push(self, kind: str, payload: JSON) -> PendingUpdate:
        """Queue an update unless the bot's allowed_updates exclude its kind."""
        update = PendingUpdate(self._next_id, kind, payload)
        self._next_id += 1
        if self._is_allowed(kind):
            self._pending.append(update)
            self._notify()
        return update

    def _is_allowed(self, kind: str) -> bool:
        if self.allowed is None:
            return kind not in _NOT_BY_DEFAULT
        return kind in self.allowed

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, seconds: float) -> None:
        """Wait until an update is pushed or the webhook changes, or ``seconds`` pass."""
        event = self._changed
        # asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a cancellation
        # that arrives as the event fires, and the caller would never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(seconds, 0.0)):
                await event.wait()

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last -offset."""
        if offset > 0:
            self._pending = [u for u in self._pending if u.update_id >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def set_allowed(self, allowed: Any) -> None:
        if allowed is None:
            return
        if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
            raise bad_request("can't parse allowed updates")
        self.allowed = frozenset(allowed) if allowed else None
        self._pending = [u for u in self._pending if self._is_allowed(u.kind)]

    async def get_updates(self, params: JSON) -> list[JSON]:
        """Answer getUpdates: confirm, then return at once or after a long poll."""
        if self.webhook is not None:
            raise BotAPIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params, "offset", 0)
        limit = min(max(_int(params, "limit", 100), 1), 100)
        timeout = max(_int(params, "timeout", 0), 0)
        self.set_allowed(params.get("allowed_updates"))
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # ends an older long poll, which then answers 409
        self.confirm(offset)
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise BotAPIError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if (
                self._pending
                or self._closed
                or self.webhook is not None
                or time.monotonic() >= deadline
            ):
                return [update.to_api() for update in self._pending[:limit]]
            self.polling += 1
            try:
                await self.wait_changed(deadline - time.monotonic())
            finally:
                self.polling -= 1

    def set_webhook(self, params: JSON) -> None:
        """setWebhook as Telegram takes it, but for the URL: Telegram delivers only to an
        https URL on port 443, 80, 88 or 8443; this fake delivers only to loopback, where
        it also allows plain http and any port (the bot's webhook server in the tests has
        no certificate and a free port). The secret token is Telegram's rule exactly:
        1-256 characters of A-Z, a-z, 0-9, _ and -."""
        url = str(params.get("url") or "")
        if params.get("drop_pending_updates") in (True, "true"):
            self._pending.clear()
        self.set_allowed(params.get("allowed_updates"))
        if not url:
            self.webhook = None
            self._notify()
            return
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in _LOOPBACK_HOSTS:
            raise bad_request("bad webhook: this fake delivers webhooks to loopback URLs only")
        secret = params.get("secret_token")
        if secret is not None:
            secret = str(secret)
            if not 1 <= len(secret) <= 256 or not set(secret) <= _SECRET_CHARS:
                raise bad_request("secret token contains unallowed characters")
        max_connections = _int(params, "max_connections", 40)
        self.webhook = Webhook(url, secret, max_connections)
        self._notify()

    def delete_webhook(self, params: JSON) -> None:
        if params.get("drop_pending_updates") in (True, "true"):
            self._pending.clear()
        self.webhook = None
        self._notify()

    def webhook_info(self) -> JSON:
        hook = self.webhook
        info: JSON = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        if self.allowed is not None:
            info["allowed_updates"] = sorted(self.allowed)
        return info

    def delivered(self, update_id: int) -> None:
        """Forget an update the webhook receiver acknowledged."""
        self._pending = [u for u in self._pending if u.update_id != update_id]

    def delivery_failed(self, message: str) -> None:
        if self.webhook is not None:
            self.webhook.last_error_date = int(time.time())
            self.webhook.last_error_message = message


def _int(params: JSON, name: str, default: int) -> int:
    value = params.get(name, default)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None
