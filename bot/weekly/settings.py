"""Options of the publication workflow: the `[publishing]` section of the settings.

A leaf module (pydantic only), so `bot.config` can hold it as a section without
importing the workflow. Fields are flat so that each one has its own variable,
`WEEKLYBOT_PUBLISHING__<FIELD>` (the unknown-variable check looks one level deep).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import NoDecode

from bot.domain.issue import Link, is_photo_url
from bot.weekly.windows import MAX_SLOTS_PER_DAY, PostingWindow
from publishers.format_telegram import CHANNEL_HANDLE, COVER_URL, ChannelStyle

# `[小报童](https://…)  [爱发电](https://…)`: links as the newsletter writes them.
_MD_LINK = re.compile(r"\[([^\[\]]+)\]\((https?://[^\s()]+)\)")
_HANDLE = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")

FullTextAction = Literal["notice", "nothing"]


class PublishingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    telegram_digest: bool = Field(True, description="Post the issue's digest to the channel.")
    telegram_items: bool = Field(
        True, description="Post the issue's items to the channel, spread over the next days."
    )
    x_digest: bool = Field(True, description="Post the issue's digest to X as a thread.")
    x_items: bool = Field(True, description="Post the issue's items to X, spread out.")
    items_per_day: int = Field(
        3,
        ge=1,
        le=MAX_SLOTS_PER_DAY,
        description="Least items per target per day (more when an issue must fit spread_days).",
    )
    spread_days: int = Field(
        7,
        ge=0,
        le=60,
        description="An issue's items finish within this many days (the next issue is due);"
        " 0: always items_per_day.",
    )
    max_items_per_day: int = Field(
        8,
        ge=1,
        le=MAX_SLOTS_PER_DAY,
        description="Never more items per target per day, all issues together.",
    )
    window_start: dt.time = Field(
        dt.time(9, 0), description="Posting window opens (local time, HH:MM)."
    )
    window_end: dt.time = Field(
        dt.time(21, 0), description="Posting window closes (local time, HH:MM)."
    )
    timezone: str = Field(
        "Asia/Shanghai", description="The channel's time zone (IANA name) for the window."
    )
    digest_in_window: bool = Field(
        True,
        description="A planned digest waits for the window to open; [Publish now] never waits.",
    )
    preview: bool = Field(
        True, description="Editors approve a new issue's digest before anything is queued."
    )
    on_full_text: FullTextAction = Field(
        "notice",
        description='When issue N-50 becomes free: "notice" (one post with its link) or "nothing".',
    )
    silence_days: float = Field(
        10, gt=0, description="Tell the editors when no new issue arrived for this many days."
    )
    failing_polls: int = Field(
        5, ge=1, description="Tell the editors when a source failed this many polls in a row."
    )
    alarm_check_seconds: float = Field(
        3600, gt=0, description="How often the silence and failure alarms are checked."
    )

    templates_dir: Path | None = Field(
        None,
        description="Folder of post templates (`<name>[.<lang>].j2`) that override the bundled"
        " ones (publishers/templates/); unset: the bundled ones.",
    )
    digest_photo_url: str = Field(
        COVER_URL,
        description="Photo of the channel digest (the newsletter's cover); empty: text only.",
    )
    digest_channel: str = Field(
        CHANNEL_HANDLE, description="Channel handle on the digest's last line; empty: none."
    )
    digest_subscribe_links: Annotated[str | None, NoDecode] = Field(
        None,
        description="Digest footer's subscribe links, as `[label](url)  [label](url)`;"
        " unset: the newsletter's own for the channel's language; empty: no line.",
    )
    digest_collection_links: Annotated[str | None, NoDecode] = Field(
        None,
        description="Digest footer's collection links, as `[label](url)`; unset: the"
        " newsletter's own; empty: no line.",
    )

    @field_validator("digest_photo_url")
    @classmethod
    def _photo(cls, value: str) -> str:
        if value and not is_photo_url(value):
            raise ValueError("a photo must be an http(s) URL of a .jpg, .jpeg, .png or .webp")
        return value

    @field_validator("digest_channel")
    @classmethod
    def _handle(cls, value: str) -> str:
        if value and not _HANDLE.fullmatch(value):
            raise ValueError(f"{value!r} is not a channel handle like @pythontrendingweekly")
        return value

    @field_validator("digest_subscribe_links", "digest_collection_links")
    @classmethod
    def _links(cls, value: str | None) -> str | None:
        if value and _MD_LINK.sub("", value).strip(" ,\t"):
            raise ValueError("write links as [label](https://…), separated by spaces or commas")
        return value

    def channel_style(self) -> ChannelStyle:
        """The digest's settings as the formatter takes them."""
        return ChannelStyle(
            photo_url=self.digest_photo_url or None,
            channel=self.digest_channel or None,
            subscribe_links=_parse_links(self.digest_subscribe_links),
            collection_links=_parse_links(self.digest_collection_links),
        )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (like Asia/Shanghai)") from None
        return value

    @model_validator(mode="after")
    def _window_in_one_day(self) -> PublishingSettings:
        if not self.window_start < self.window_end:
            raise ValueError(
                f"window_start {self.window_start} must be before window_end {self.window_end}"
                " (a window cannot span midnight)"
            )
        return self

    @model_validator(mode="after")
    def _least_within_cap(self) -> PublishingSettings:
        if self.items_per_day > self.max_items_per_day:
            raise ValueError(
                f"items_per_day {self.items_per_day} is above max_items_per_day"
                f" {self.max_items_per_day}"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def window(self) -> PostingWindow:
        return PostingWindow(
            start=self.window_start.replace(tzinfo=None),
            end=self.window_end.replace(tzinfo=None),
            per_day=self.items_per_day,
            zone=self.zone,
        )


def _parse_links(value: str | None) -> tuple[Link, ...] | None:
    if value is None:
        return None
    return tuple(Link(title=t, url=u) for t, u in _MD_LINK.findall(value))
