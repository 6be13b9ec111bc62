"""One small interface for every platform: send one formatted post, get a receipt."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

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
    resend_is_safe: bool  # True when the platform refuses duplicates (X): see bot.delivery.workers

    async def publish(
        self,
        payload: Mapping[str, Any],
        *,
        reply_to: str | None = None,
        after_doubt: bool = False,
    ) -> Receipt: ...


Verdict = Literal["sent", "not_sent", "unknown"]


@dataclass(frozen=True, slots=True)
class KnownPosts:
    """What the outbox knows about a target when one of its rows is in doubt.

    `sent` holds (remote id, sent_at) of every sent row with an id; `claimed_at`
    is when the doubtful attempt began, so posts recorded before it are older
    than anything that attempt can have made.
    """

    claimed_at: float
    sent: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Settlement:
    """The answer of a doubt check; `remote_id` is set when the verdict is "sent"."""

    verdict: Verdict
    reason: str
    remote_id: str | None = None


class DoubtSettler(Protocol):
    """Looks on the platform whether a doubtful send went out ("unknown": ask a human)."""

    async def settle(self, payload: Mapping[str, Any], known: KnownPosts) -> Settlement: ...


def payload_texts(payload: Mapping[str, Any]) -> list[str]:
    """Every text of a payload in sending order: an X post's text, each Telegram part's,
    a GitHub issue's title and body."""
    if isinstance(payload.get("text"), str):
        return [payload["text"]]
    if isinstance(payload.get("title"), str) and isinstance(payload.get("body"), str):
        return [f"{payload['title']}\n\n{payload['body']}"]
    texts = []
    for part in payload.get("parts") or ():
        if isinstance(part, Mapping):
            text = part.get("html", part.get("caption_html"))
            photo = f"[photo {part['photo_url']}] " if part.get("photo_url") else ""
            texts.append(f"{photo}{text or ''}")
    return texts


class DryRunPublisher:
    """Logs each post's full text instead of sending it; `weeklybot run --dry-run` uses it.

    The dry run works on a copy of the database (`bot.ops.dry_run`), so the "sent"
    rows it records with made-up ids never reach the real one.
    """

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
        texts = payload_texts(payload)
        for number, text in enumerate(texts, start=1):
            log.info(
                "dry run: would publish",
                extra={
                    "target": self.target,
                    "remote_id": remote_id,
                    "reply_to": reply_to,
                    "part": f"{number}/{len(texts)}",
                    "text": text,
                },
            )
        return Receipt(remote_id=remote_id)
