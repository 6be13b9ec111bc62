"""Formatted posts: what a formatter hands a publisher, already within limits.

They are stored as outbox payloads, so each one round-trips through a JSON-able
dict (`to_payload` / `from_payload`); `from_payload` rejects anything it did not
write, so a corrupt outbox row fails loudly instead of posting garbage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TelegramText:
    """A `sendMessage` in HTML parse mode."""

    html: str
    disable_preview: bool = False


@dataclass(frozen=True, slots=True)
class TelegramPhoto:
    """A `sendPhoto` by URL with an HTML caption (may be empty)."""

    photo_url: str
    caption_html: str = ""


TelegramPart = TelegramText | TelegramPhoto


@dataclass(frozen=True, slots=True)
class TelegramPost:
    """One logical post, sent as its parts in order (photo, then text, …)."""

    parts: tuple[TelegramPart, ...]

    def to_payload(self) -> dict[str, Any]:
        return {"platform": "telegram", "parts": [_part_payload(part) for part in self.parts]}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> TelegramPost:
        if payload.get("platform") != "telegram":
            raise ValueError(f"not a Telegram payload: {payload.get('platform')!r}")
        parts = payload.get("parts")
        if not isinstance(parts, list) or not parts:
            raise ValueError("a Telegram payload needs a non-empty list of parts")
        return cls(parts=tuple(_part_from_payload(part) for part in parts))


def _part_payload(part: TelegramPart) -> dict[str, Any]:
    if isinstance(part, TelegramText):
        return {"type": "text", "html": part.html, "disable_preview": part.disable_preview}
    return {"type": "photo", "photo_url": part.photo_url, "caption_html": part.caption_html}


def _part_from_payload(raw: Any) -> TelegramPart:
    if not isinstance(raw, Mapping):
        raise ValueError(f"a Telegram part must be an object, got {type(raw).__name__}")
    kind = raw.get("type")
    if kind == "text":
        return TelegramText(html=_str(raw, "html"), disable_preview=_bool(raw, "disable_preview"))
    if kind == "photo":
        return TelegramPhoto(
            photo_url=_str(raw, "photo_url"), caption_html=_str(raw, "caption_html")
        )
    raise ValueError(f"unknown Telegram part type: {kind!r}")


@dataclass(frozen=True, slots=True)
class XPost:
    """One post on X; a thread is a tuple of these, each a reply to the one before.

    Text only: X's link card already shows the item's picture, and an upload
    would cost a second request per post (the client can upload, see x_client).
    """

    text: str

    def to_payload(self) -> dict[str, Any]:
        return {"platform": "x", "text": self.text}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> XPost:
        if payload.get("platform") != "x":
            raise ValueError(f"not an X payload: {payload.get('platform')!r}")
        return cls(text=_str(payload, "text"))


@dataclass(frozen=True, slots=True)
class GitHubIssue:
    """One issue of the configured repository: a reader's approved link.

    `marker` is the hidden line of the body that names the outbox key
    (`<!-- weeklybot:submission:<id> -->`): a retry after a doubtful attempt looks
    for it among the repository's issues before filing again. The label is the
    settings' and is added when it is sent, so a changed label needs no replan.
    """

    title: str
    body: str
    marker: str

    def to_payload(self) -> dict[str, Any]:
        return {"platform": "github", "title": self.title, "body": self.body, "marker": self.marker}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> GitHubIssue:
        if payload.get("platform") != "github":
            raise ValueError(f"not a GitHub payload: {payload.get('platform')!r}")
        issue = cls(
            title=_str(payload, "title"), body=_str(payload, "body"), marker=_str(payload, "marker")
        )
        if not issue.marker or issue.marker not in issue.body:
            raise ValueError("a GitHub payload's body must hold its marker")
        return issue


def _str(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, got {type(value).__name__}")
    return value


def _bool(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be a boolean, got {type(value).__name__}")
    return value
