"""Settings from env vars, `.env` and an optional TOML file, validated once.

The variable names are a contract with tools outside the project (see README,
"Configuration"): `WEEKLYBOT_<FIELD>` and `WEEKLYBOT_<SECTION>__<FIELD>`.
Precedence, highest first: environment, `.env`, the TOML file, defaults.

pydantic-settings silently ignores unknown environment variables, so
`load_settings` scans `WEEKLYBOT_*` names itself: a typo in a deployment
should stop the bot with a message, not run it with a default.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.domain.issue import IssuePages, Lang
from bot.domain.urls import parse_allow_list
from bot.weekly.settings import PublishingSettings

ENV_PREFIX = "WEEKLYBOT_"
CONFIG_FILE_VAR = "WEEKLYBOT_CONFIG"
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
# The newsletter's repository: what the bot follows unless told otherwise.
NEWSLETTER_WEB_URL = "https://github.com/chinesehuazhou/python-weekly"
_TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{20,}")


def default_database_path() -> Path:
    """Keep the database outside the source tree, where XDG says state lives."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "weeklybot" / "weeklybot.db"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


class TelegramSettings(_Section):
    token: SecretStr = Field(description="Bot token from @BotFather.")
    api_base_url: str = Field(
        "https://api.telegram.org/bot",
        description="Bot API base; the token is appended. Point it at a fake for tests.",
    )
    channel_id: int | str = Field(description="The channel: -100… id or @username.")
    editor_ids: Annotated[tuple[int, ...], NoDecode] = Field(
        (), description="Comma-separated Telegram user ids of the editors."
    )
    editor_chat_id: int | None = Field(
        None, description="Where review cards go; default: each editor's private chat."
    )
    log_chat_id: int | None = Field(
        None,
        description="A private chat where the bot may forward channel posts to check whether"
        " a doubtful send went out (see publishers/telegram_probe.py); unset: editors decide.",
    )
    lang: Lang = Field("zh", description="Which language of the issue goes to the channel.")
    posts_per_minute: float = Field(20, gt=0, description="Channel pacing budget.")
    min_spacing_seconds: float = Field(1.0, ge=0, description="Minimum gap between posts.")
    global_per_second: float = Field(30, gt=0, description="All chats together.")
    # Webhook mode (issue 16): PTB's webhook server instead of long polling.
    webhook_url: str | None = Field(
        None,
        description="Public https URL Telegram POSTs updates to; set: webhook mode"
        " (`weeklybot run --webhook URL` sets it too). Its path is the path served.",
    )
    webhook_listen: str = Field("127.0.0.1", description="Address PTB's webhook server binds.")
    webhook_port: int = Field(8443, ge=1, le=65535, description="Port of the webhook server.")
    webhook_secret_token: SecretStr | None = Field(
        None,
        description="Required in webhook mode: 1-256 of A-Z a-z 0-9 _ -; Telegram sends it in"
        " X-Telegram-Bot-Api-Secret-Token and a request without it is answered 403.",
    )

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> TelegramSettings:
        problem = webhook_problem(self.webhook_url, self.webhook_secret_token)
        if problem:
            raise ValueError(problem)
        return self

    def review_chats(self) -> tuple[int, ...]:
        """Where editor cards go: the editor chat, else each editor's private chat."""
        return (self.editor_chat_id,) if self.editor_chat_id is not None else self.editor_ids

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        # Never echo the value: it is a secret even when malformed.
        if not _TOKEN.fullmatch(value.get_secret_value().strip()):
            raise ValueError(
                "not a bot token: @BotFather gives one like 123456789:AA… "
                "(digits, a colon, then letters, digits, - and _)"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("channel_id", mode="before")
    @classmethod
    def _chat_id(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if re.fullmatch(r"-?\d+", text):
                return int(text)
            if _USERNAME.fullmatch(text):
                return text
            raise ValueError(
                f"{text!r} is not a chat id: use the channel's numeric id "
                "(like -1001234567890) or its @username"
            )
        return value

    @field_validator("channel_id")
    @classmethod
    def _channel_is_negative(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value >= 0:
            raise ValueError(
                f"{value} is a user id, not a channel: channel ids are negative (-100…)"
            )
        return value

    @field_validator("editor_ids", mode="before")
    @classmethod
    def _editor_ids(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value


class XSettings(_Section):
    api_base_url: str | None = Field(
        None, description="Send X API calls here instead of api.twitter.com (fakes)."
    )
    consumer_key: SecretStr | None = Field(None, description="OAuth 1.0a consumer key.")
    consumer_secret: SecretStr | None = Field(None, description="OAuth 1.0a consumer secret.")
    access_token: SecretStr | None = Field(None, description="User access token.")
    access_token_secret: SecretStr | None = Field(None, description="User access token secret.")
    lang: Lang = Field("en", description="Which language of the issue goes to X.")
    posts_per_15min: int = Field(100, gt=0, description="Quota before live headers correct it.")
    posts_per_24h: int = Field(10_000, gt=0, description="Daily quota before headers correct it.")

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _all_keys_or_none(self) -> XSettings:
        keys = self.credentials_given()
        if any(keys) and not all(keys):
            missing = [name for name, v in zip(_X_KEYS, keys, strict=True) if not v]
            raise ValueError(
                "X needs all four OAuth 1.0a keys or none; missing: " + ", ".join(missing)
            )
        return self

    def credentials_given(self) -> tuple[bool, ...]:
        return tuple(getattr(self, name) is not None for name in _X_KEYS)

    @property
    def enabled(self) -> bool:
        return all(self.credentials_given())

    def oauth1(self) -> dict[str, str] | None:
        """The four OAuth 1.0a values as plain strings, or None when X is off."""
        values = {name: getattr(self, name) for name in _X_KEYS}
        if any(v is None for v in values.values()):
            return None
        return {name: v.get_secret_value() for name, v in values.items()}


_X_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


_GITHUB_REPO = re.compile(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}")


class GitHubSettings(_Section):
    """Approved reader links filed as issues of a repository: on when repo and token are set."""

    repo: str | None = Field(
        None, description="owner/name of the repository that gets one issue per approved link."
    )
    token: SecretStr | None = Field(
        None,
        description="Fine-grained token with Issues read/write on the repository"
        " (or a classic token with public_repo, repo for a private one).",
    )
    api_base_url: str = Field(
        "https://api.github.com", description="REST API base; point it at a fake for tests."
    )
    label: str = Field(
        "submission", description="Label of the filed issues (created if missing); empty: none."
    )
    min_spacing_seconds: float = Field(
        1.0, ge=0, description="Gap between two issues (GitHub asks a second between writes)."
    )

    @field_validator("repo")
    @classmethod
    def _repo_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip().removeprefix("https://github.com/").removesuffix(".git")
        if not _GITHUB_REPO.fullmatch(text):
            raise ValueError(f"{value!r} is not owner/name (like chinesehuazhou/python-weekly)")
        return text

    @field_validator("token")
    @classmethod
    def _token_given(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        stripped = value.get_secret_value().strip()
        if not stripped or any(c.isspace() for c in stripped):
            raise ValueError("not a GitHub token: one word, like github_pat_… or ghp_…")
        return SecretStr(stripped)

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        text = value.strip()
        if len(text) > 50 or "," in text:
            raise ValueError("a label is at most 50 characters, without a comma")
        return text

    @model_validator(mode="after")
    def _both_or_neither(self) -> GitHubSettings:
        if (self.repo is None) != (self.token is None):
            missing = "token" if self.token is None else "repo"
            raise ValueError(f"GitHub needs both repo and token, or neither; missing: {missing}")
        return self

    @property
    def enabled(self) -> bool:
        return self.repo is not None and self.token is not None


class RepoSettings(_Section):
    enabled: bool = Field(True, description="Watch the newsletter's git repository.")
    url: str = Field(
        NEWSLETTER_WEB_URL + ".git",
        description="Repository to follow; a local path or file:// URL works the same.",
    )
    branch: str = Field("main", description="Branch to follow.")
    web_url: str | None = Field(
        None,
        description="The repository's web page, where posts link an issue's file"
        " (`<web_url>/blob/<branch>/docs/…`); unset: `url` without `.git` and credentials"
        " when it is an http(s) URL, else (a local path) no such link.",
    )
    mirror_dir: Path | None = Field(
        None, description="Local bare mirror; default: beside the database."
    )
    langs: Annotated[tuple[Lang, ...], NoDecode] = Field(
        ("zh", "en"), description="Languages to ingest, comma separated."
    )
    poll_seconds: float = Field(600, gt=0, description="How often to fetch the repository.")
    git_timeout_seconds: float = Field(120, gt=0, description="Limit for one git command.")

    @field_validator("langs", mode="before")
    @classmethod
    def _langs(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("web_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value

    @property
    def pages(self) -> IssuePages | None:
        """Where readers see the issues' files, from `web_url` or else `url`."""
        if self.web_url is not None:
            return IssuePages(self.web_url, self.branch)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        path = parts.path.rstrip("/").removesuffix(".git")
        return IssuePages(urlunsplit((parts.scheme, host, path, "", "")), self.branch)


class FeedSettings(_Section):
    urls: Annotated[tuple[str, ...], NoDecode] = Field(
        ("https://pythoncat.top/rss.xml", "https://pythoncat.substack.com/feed"),
        description="RSS/Atom feeds that announce issues (comma separated); empty: none.",
    )
    title_pattern: str = Field(r"#(\d+)", description="Entries whose title matches are issues.")
    poll_seconds: float = Field(600, gt=0, description="How often to poll each feed.")
    timeout_seconds: float = Field(20, gt=0, description="Limit for one feed request.")
    max_body_bytes: int = Field(5 * 1024 * 1024, gt=0, description="Feed body size cap.")

    @field_validator("urls", mode="before")
    @classmethod
    def _urls(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("urls")
    @classmethod
    def _http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} must start with http:// or https://")
        return value

    @field_validator("title_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value


# The editor's script's public feeds (`resources/weekly_collection.py`); Python Weekly
# and "Python recap for week" come by email, through private addresses (README).
ROUNDUP_FEEDS: tuple[tuple[str, str], ...] = (
    ("Python 潮流周刊", "https://pythoncat.top/rss.xml"),
    ("Awesome Python Weekly", "https://python.libhunt.com/newsletter/feed"),
    ("Python Hub Weekly Digest", "https://pythonhub.dev/digest/feed/"),
    ("PyCoder's Weekly", "https://pycoders.com/feed"),
    ("Django News", "https://django-news.com/issues.rss"),
    ("Data Science Weekly", "https://datascienceweekly.substack.com/feed"),
)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Weekday = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# `[Name](https://…)`: a newsletter and its feed, as the digest's footer links are written.
_FEED_LINK = re.compile(r"\[([^\[\]]+)\]\((https?://[^\s()]+)\)")


class RoundupFeed(_Section):
    name: str = Field(min_length=1, max_length=100, description="The newsletter's name.")
    url: str = Field(description="Its RSS or Atom feed.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value


class RoundupSettings(_Section):
    enabled: bool = Field(True, description="Post the weekly roundup of other newsletters.")
    feeds: Annotated[tuple[RoundupFeed, ...], NoDecode] = Field(
        tuple(RoundupFeed(name=n, url=u) for n, u in ROUNDUP_FEEDS),
        description="The newsletters, as `[Name](https://feed)` separated by spaces or"
        " commas (TOML: a list of {name, url} tables); one name may have several feeds.",
    )
    weekday: Weekday = Field("Sun", description="The day it is posted (Mon … Sun).")
    time: dt.time = Field(dt.time(18, 0), description="The local time it is posted (HH:MM).")
    timezone: str = Field("Asia/Shanghai", description="The time zone of weekday and time.")
    lookback_days: int = Field(
        7, ge=1, le=31, description="Each newsletter's latest issue of this many days."
    )
    number_pattern: str = Field(
        r"#(\d+)", description="An entry whose title matches is an issue, preferred."
    )
    retries: int = Field(
        2, ge=0, le=5, description="Retries of a feed that failed for a moment (5xx, 429, network)."
    )
    retry_seconds: float = Field(
        30, ge=0, description="The first retry's wait, doubled after each, with jitter."
    )
    timeout_seconds: float = Field(20, gt=0, description="Limit for one feed request.")
    max_body_bytes: int = Field(5 * 1024 * 1024, gt=0, description="Feed body size cap.")

    @field_validator("feeds", mode="before")
    @classmethod
    def _feeds(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if _FEED_LINK.sub("", value).strip(" ,\t\n"):
            raise ValueError("write feeds as [Name](https://…), separated by spaces or commas")
        return tuple({"name": n.strip(), "url": u} for n, u in _FEED_LINK.findall(value))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (like Asia/Shanghai)") from None
        return value

    @field_validator("number_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def weekday_index(self) -> int:
        """Monday is 0, as `datetime.weekday` counts."""
        return _WEEKDAYS.index(self.weekday)


class SubmissionsSettings(_Section):
    enabled: bool = Field(True, description="Readers may send links with /submit.")
    daily_cap: int = Field(5, ge=1, description="Links one reader may send in any 24 hours.")
    cooldown_seconds: float = Field(
        60, ge=0, description="Seconds a reader waits between two links."
    )
    max_pending_per_user: int = Field(
        3, ge=1, description="Links of one reader waiting for review at once."
    )
    max_pending_total: int = Field(
        200, ge=1, description="Links of all readers waiting for review at once."
    )
    remind_after_hours: float = Field(
        24,
        gt=0,
        description="A link waiting for review this long is in the editors' daily reminder.",
    )
    expire_days: float = Field(
        14,
        ge=0,
        description="A link waiting for review this long expires and its submitter is told;"
        " 0: never.",
    )
    reminder_time: dt.time = Field(
        dt.time(10, 0),
        description="When the daily reminder goes out (local time of publishing.timezone, HH:MM).",
    )
    preview_allow: Annotated[tuple[tuple[str, int], ...], NoDecode] = Field(
        (),
        description="For testing only: host:port pairs (comma separated) the link preview"
        " may fetch although they are not public addresses, such as a local fake server.",
    )

    @field_validator("preview_allow", mode="before")
    @classmethod
    def _allow(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_allow_list(value)
        return value


class ExtraSettings(_Section):
    """The extra edition's queue (`/extra`, 🕒 Queue): its pace, per target."""

    max_per_day: int = Field(
        3, ge=1, le=24, description="Most queued extra-edition items per target per local day."
    )
    gap_minutes: float = Field(
        30,
        ge=1,
        le=720,
        description="Minutes a queued item keeps from any other planned post (an issue's"
        " digest or items); also the step of its times from the window's start.",
    )


class AlertsSettings(_Section):
    """Keyword alerts (`/follow`): a reader's words, and the private messages they get."""

    enabled: bool = Field(True, description="Readers may follow words and get alerts.")
    max_follows: int = Field(10, ge=1, le=100, description="Most words one reader follows.")
    max_word_length: int = Field(
        32, ge=2, le=200, description="Longest word (characters) a reader may follow."
    )
    max_items: int = Field(
        15, ge=1, le=50, description="Most items one alert lists (the rest: a count)."
    )
    per_minute: float = Field(
        600,
        gt=0,
        le=1800,
        description="Alerts sent a minute, evenly spaced (Telegram allows about 30 a"
        " second to different chats); their own worker, so the channel never waits.",
    )


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def webhook_problem(url: str | None, secret: SecretStr | None) -> str | None:
    """Why webhook settings cannot run, or None (also None when webhook mode is off).

    Telegram delivers only to https; plain http is allowed for a loopback host, where
    the fake Telegram of the tests and the demo delivers.
    """
    if url is None:
        return None
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("http", "https"):
        return f"webhook_url {url!r} is not an http(s) URL"
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        return "webhook_url must be https (Telegram delivers webhooks only over TLS)"
    if secret is None or not secret.get_secret_value():
        return (
            "webhook mode needs telegram.webhook_secret_token"
            " (WEEKLYBOT_TELEGRAM__WEBHOOK_SECRET_TOKEN): 1-256 characters of A-Z a-z 0-9 _ -"
        )
    if not _WEBHOOK_SECRET.fullmatch(secret.get_secret_value()):
        # Never echo the value.
        return "telegram.webhook_secret_token must be 1-256 characters of A-Z a-z 0-9 _ -"
    return None


class ServerSettings(_Section):
    """The bot's own HTTP server (issue 16): /healthz, /metrics and GitHub's push hook."""

    port: int | None = Field(
        None, ge=0, le=65535, description="Port of /healthz, /metrics, /github; unset: no server."
    )
    listen: str = Field("127.0.0.1", description="Address the server binds.")
    github_secret: SecretStr | None = Field(
        None,
        description="The GitHub webhook's secret (HMAC-SHA256 of X-Hub-Signature-256);"
        " unset: /github answers 404.",
    )
    github_repository: str | None = Field(
        None,
        description="owner/name whose pushes are taken; default: from repo.url on github.com.",
    )
    stale_poll_factor: float = Field(
        3.0, gt=1, description="A source is stale after this many poll intervals without success."
    )
    outbox_lag_seconds: float | None = Field(
        None, gt=0, description="/healthz fails when a due post waits longer; unset: only shown."
    )

    @field_validator("github_secret")
    @classmethod
    def _secret_given(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("github_repository")
    @classmethod
    def _owner_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", value):
            raise ValueError(f"{value!r} is not owner/name")
        return value


class StatsSettings(_Section):
    """The editors' `/stats` and `/stats season N` (`bot.stats`)."""

    font_path: Path | None = Field(
        None,
        description="A CJK font file (.ttf, .otf, .ttc) for the charts and the word cloud;"
        " unset: the packaged Noto Sans SC, else a system CJK font.",
    )
    season_size: int = Field(
        30,
        ge=1,
        le=500,
        description="Issues in a season: season N is issues"
        " size·(N−1)+1 … size·N (the newsletter's collections: 1–30, 31–60, 61–90).",
    )
    weeks: int = Field(12, ge=1, le=104, description="Weeks of submissions /stats counts.")
    top: int = Field(10, ge=1, le=20, description="Domains and submitters each ranking lists.")
    cloud_words: int = Field(80, ge=5, le=500, description="Most words in a word cloud.")
    dpi: int = Field(100, ge=30, le=300, description="Resolution of the charts.")
    cloud_width: int = Field(
        1000, ge=100, le=4000, description="Word-cloud width in pixels (height 5/8 of it)."
    )


class BackupSettings(_Section):
    """The daily backup (`bot/ops/backups.py`); `weeklybot db restore PATH` brings one back."""

    enabled: bool = Field(True, description="Write a backup of the database every day.")
    dir: Path | None = Field(
        None, description="Folder of the daily backups; default: backups/ beside the database."
    )
    keep: int = Field(14, ge=1, description="How many daily backups to keep (the newest).")
    time: dt.time = Field(
        dt.time(3, 30), description="When the daily backup runs, in publishing.timezone."
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
    )

    telegram: TelegramSettings
    x: XSettings = XSettings()
    github: GitHubSettings = GitHubSettings()
    repo: RepoSettings = RepoSettings()
    feeds: FeedSettings = FeedSettings()
    publishing: PublishingSettings = PublishingSettings()
    submissions: SubmissionsSettings = SubmissionsSettings()
    extra: ExtraSettings = ExtraSettings()
    roundup: RoundupSettings = RoundupSettings()
    alerts: AlertsSettings = AlertsSettings()
    server: ServerSettings = ServerSettings()
    stats: StatsSettings = StatsSettings()
    backups: BackupSettings = BackupSettings()
    database_path: Path = Field(
        default_factory=default_database_path, description="SQLite file (kept outside the repo)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Logging threshold."
    )
    log_format: Literal["kv", "json"] = Field("kv", description="key=value lines or JSON lines.")
    heartbeat_seconds: float = Field(30, gt=0, description="How often the running bot beats.")

    @property
    def mirror_dir(self) -> Path:
        """Where the repository mirror lives: configured, or beside the database."""
        return self.repo.mirror_dir or self.database_path.parent / "python-weekly.git"

    # Set on throwaway subclasses by `load_settings` and `settings_from_values`.
    _toml_file: ClassVar[Path | None] = None
    _read_environment: ClassVar[bool] = True

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if not cls._read_environment:
            return (init_settings,)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if cls._toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_file))
        return tuple(sources)


def settings_from_values(values: Mapping[str, Any]) -> Settings:
    """Settings from these values alone, ignoring env, `.env` and files (demo, tests)."""
    bound = type("ValuesOnlySettings", (Settings,), {"_read_environment": False})
    settings: Settings = bound(**values)
    return settings


class ConfigError(Exception):
    """Every problem found in the configuration, each with how to fix it."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def render(self) -> str:
        count = len(self.problems)
        head = f"weeklybot: the configuration has {count} problem{'s' * (count != 1)}:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


def known_env_names() -> set[str]:
    """Every `WEEKLYBOT_*` name the settings accept, upper-case."""
    names = {CONFIG_FILE_VAR}
    for name, field in Settings.model_fields.items():
        names.add(f"{ENV_PREFIX}{name}".upper())
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub in annotation.model_fields:
                names.add(f"{ENV_PREFIX}{name}__{sub}".upper())
    return names


def _dotenv_names(path: Path) -> Iterator[str]:
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        yield line.split("=", 1)[0].removeprefix("export ").strip()


def _unknown_names(env: Mapping[str, str], dotenv: Path) -> list[str]:
    known = known_env_names()
    problems = []
    seen = [(n, "environment") for n in env] + [(n, str(dotenv)) for n in _dotenv_names(dotenv)]
    for name, where in seen:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known:
            continue
        hint = difflib.get_close_matches(upper, known, n=1)
        fix = f"did you mean {hint[0]}?" if hint else "remove it or see README, Configuration"
        problems.append(f"{name} (in {where}): unknown setting; {fix}")
    return problems


def _env_name(loc: tuple[int | str, ...]) -> str:
    """The variable for a field; list positions (`editor_ids.1`) name the whole list."""
    fields = [str(part) for part in loc if isinstance(part, str)]
    if fields == ["x"]:  # a rule across the section: the four keys together
        return "the WEEKLYBOT_X__* keys"
    if fields == ["github"]:  # repo and token together
        return "WEEKLYBOT_GITHUB__REPO and WEEKLYBOT_GITHUB__TOKEN"
    return ENV_PREFIX + "__".join(fields).upper()


def _expand_missing_section(error: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Turn "telegram: missing" into one line per required field of the section."""
    loc = tuple(error["loc"])
    field = Settings.model_fields.get(str(loc[0])) if len(loc) == 1 else None
    section = field.annotation if field is not None else None
    if error["type"] != "missing" or not (
        isinstance(section, type) and issubclass(section, BaseModel)
    ):
        return [error]
    required = [n for n, f in section.model_fields.items() if f.is_required()]
    return [{"type": "missing", "loc": (*loc, name)} for name in required]


def _in_mapping(data: object, loc: tuple[int | str, ...]) -> bool:
    for part in loc:
        if not isinstance(data, Mapping) or part not in data:
            return False
        data = data[part]
    return True


def _describe(
    error: Mapping[str, Any], toml_file: Path | None, toml: Mapping[str, Any]
) -> str | None:
    loc = tuple(error["loc"])
    dotted = ".".join(str(part) for part in loc)
    kind = error["type"]
    if kind == "missing":
        return f"{dotted}: missing; set {_env_name(loc)} or {dotted} in the config file"
    if kind == "extra_forbidden":
        if not _in_mapping(toml, loc):
            return None  # an unknown variable: the environment scan already said so
        return f"{dotted}: unknown key in {toml_file}; remove it or see README, Configuration"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    secret = any(str(part).endswith(("token", "secret", "key")) for part in loc)
    shown = "" if secret or isinstance(value, Mapping) else f" (got {str(value)[:60]!r})"
    return f"{dotted}: {message}{shown}; fix {_env_name(loc)} or {dotted} in the config file"


def load_settings(
    config_file: Path | None = None,
    *,
    dotenv: Path = Path(".env"),
) -> Settings:
    """Build the settings or raise `ConfigError` listing every wrong field.

    `config_file` defaults to `$WEEKLYBOT_CONFIG`.
    """
    env = os.environ
    if config_file is None and env.get(CONFIG_FILE_VAR):
        config_file = Path(env[CONFIG_FILE_VAR])
    problems = _unknown_names(env, dotenv)
    toml: dict[str, Any] = {}
    if config_file is not None:
        try:
            toml = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            problems.append(f"config file {config_file}: cannot be read ({exc.strerror})")
            config_file = None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"config file {config_file}: not valid TOML ({exc})")
            config_file = None
    bound = type("BoundSettings", (Settings,), {"_toml_file": config_file})
    try:
        settings: Settings = bound(_env_file=dotenv if dotenv.is_file() else None)
    except ValidationError as exc:
        for error in exc.errors():
            for item in _expand_missing_section(error):
                line = _describe(item, config_file, toml)
                if line is not None:
                    problems.append(line)
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return settings


def url_credentials(url: str) -> list[str]:
    """The user and password embedded in a URL (`https://user:token@host/…`), if any."""
    parts = urlsplit(url)
    return [part for part in (parts.username, parts.password) if part]


def without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def secret_values(settings: Settings) -> list[str]:
    """The secret strings, so that logging can scrub them wherever they appear."""
    candidates = [
        settings.telegram.token,
        settings.x.consumer_key,
        settings.x.consumer_secret,
        settings.x.access_token,
        settings.x.access_token_secret,
        settings.github.token,
        settings.telegram.webhook_secret_token,
        settings.server.github_secret,
    ]
    values = [s.get_secret_value() for s in candidates if s is not None]
    return [v for v in values if v] + url_credentials(settings.repo.url)


def render_settings(settings: Settings) -> str:
    """The effective configuration as `key = value` lines, secrets masked."""
    lines = []

    def walk(prefix: str, model: BaseModel) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            key = f"{prefix}{name}"
            if isinstance(value, BaseModel):
                walk(f"{key}.", value)
            elif isinstance(value, SecretStr):
                lines.append(f"{key} = {'**********' if value.get_secret_value() else '(empty)'}")
            elif key == "repo.url":
                lines.append(f"{key} = {without_credentials(value)!r}")
            else:
                lines.append(f"{key} = {value!r}")

    walk("", settings)
    return "\n".join(lines)
