"""One small interface for every platform: send one formatted post, get a receipt."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the platform confirmed: its id for the post, to reply to or edit later."""

    remote_id: str


class Publisher(Protocol):
    """Sends one outbox payload (already formatted for this target).

    Raises only `publishers.errors.PublishError` subclasses, so the worker can
    decide between retry, `failed` and `in_doubt` without knowing the platform.
    """

    target: str
    resend_is_safe: bool  # True when the platform refuses duplicates (X): see bot.delivery

    async def publish(
        self,
        payload: Mapping[str, Any],
        *,
        reply_to: str | None = None,
        after_doubt: bool = False,
    ) -> Receipt: ...


class DryRunPublisher:
    """Logs what it would send; `weeklybot run --dry-run` uses it for every target."""

    resend_is_safe = False

    def __init__(self, target: str) -> None:
        self.target = target
        self._ids = itertools.count(1)

    async def publish(
        self,
        payload: Mapping[str, Any],
        *,
        reply_to: str | None = None,
        after_doubt: bool = False,
    ) -> Receipt:
        remote_id = f"dry-run-{next(self._ids)}"
        log.info(
            "dry run: would publish",
            extra={"target": self.target, "remote_id": remote_id, "reply_to": reply_to},
        )
        return Receipt(remote_id=remote_id)
