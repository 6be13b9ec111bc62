"""Structured logging: one line per event, secrets scrubbed at the handler.

Scrubbing happens on the formatted line, after exception text is added, so
nothing a library logs (httpx logs request URLs, which contain the bot token;
tweepy logs signed headers at DEBUG) can reach the output unredacted.
Pass context with `extra=`: `log.info("sent", extra={"outbox_id": 7})`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, Literal, TextIO

REDACTED = "[REDACTED]"

# Secrets we may not have been told about: bot tokens in URLs, OAuth headers.
_SECRET_PATTERNS = (
    re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}"),  # Telegram bot token
    re.compile(r'(oauth_(?:signature|token|consumer_key)=)"?[^",&\s]+"?'),
    re.compile(r"((?:Authorization|authorization)['\"]?\s*[:=]\s*['\"]?)[^'\"\n]+"),
)

# Attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

# Libraries whose INFO/DEBUG lines carry URLs with tokens or signed headers.
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "tweepy": logging.INFO,
    "oauthlib": logging.WARNING,
    "requests_oauthlib": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "apscheduler": logging.WARNING,
    "aiosqlite": logging.INFO,
    "asyncio": logging.INFO,
}


class Redactor:
    """Replace known secret values and secret-looking patterns in a string."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub(
                lambda m: (m.group(1) if m.groups() else "") + REDACTED,
                text,
            )
        return text


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class _StructuredFormatter(logging.Formatter):
    """Collect the event's fields, scrub each one, then render them."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return {
            k: self._redact(v) if isinstance(v, str) else self._scrub(v) for k, v in doc.items()
        }

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self._redact(str(value))


class KeyValueFormatter(_StructuredFormatter):
    """`ts=… level=INFO logger=bot.app event="…" key=value` lines."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_kv(v)}" for k, v in self.fields(record).items())


class JsonFormatter(_StructuredFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.fields(record), ensure_ascii=False, default=str)


def _kv(value: object) -> str:
    text = str(value)
    if text and not any(c.isspace() or c in '"=' for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def configure_logging(
    level: str = "INFO",
    *,
    fmt: Literal["kv", "json"] = "kv",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Install one scrubbing handler on the root logger, replacing others."""
    redact = Redactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else KeyValueFormatter(redact))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))
