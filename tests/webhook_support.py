"""Webhook mode and the ops server in tests: a free port, the settings, a signed push."""

from __future__ import annotations

import json
import socket
from typing import Any

from bot.fakes.telegram import FakeTelegram
from bot.serve.github_push import signature
from tests.conftest import CHANNEL_ID, EDITOR_ID, TOKEN

WEBHOOK_SECRET = "hook-secret_0123456789"
GITHUB_SECRET = "github-webhook-secret"
GITHUB_REPOSITORY = "cat/python-weekly"


def free_port() -> int:
    """A loopback port nobody holds now (PTB's server needs its port before it binds:
    the URL Telegram is given names it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def webhook_mode(port: int) -> dict[str, Any]:
    """The `telegram` settings that turn webhook mode on, PTB's server on `port`
    (plain http: the fake delivers to loopback, as the settings allow only there)."""
    return {
        "webhook_url": f"http://127.0.0.1:{port}/telegram/updates",
        "webhook_listen": "127.0.0.1",
        "webhook_port": port,
        "webhook_secret_token": WEBHOOK_SECRET,
    }


def webhook_telegram(tg: FakeTelegram, port: int, **extra: Any) -> dict[str, Any]:
    """The `telegram` settings of a bot in webhook mode against `tg`."""
    return {
        "token": TOKEN,
        "api_base_url": tg.base_url,
        "channel_id": CHANNEL_ID,
        "editor_ids": (EDITOR_ID,),
        **webhook_mode(port),
        **extra,
    }


def ops_server(**extra: Any) -> dict[str, Any]:
    """The `server` settings: any free port, GitHub's hook on."""
    return {
        "port": 0,
        "github_secret": GITHUB_SECRET,
        "github_repository": GITHUB_REPOSITORY,
        **extra,
    }


def push(
    repository: str = GITHUB_REPOSITORY,
    *,
    ref: str = "refs/heads/main",
    secret: str = GITHUB_SECRET,
    event: str = "push",
) -> tuple[bytes, dict[str, str]]:
    """A push delivery as GitHub sends it: the body and its headers, signed with `secret`."""
    body = json.dumps(
        {"ref": ref, "repository": {"full_name": repository}, "after": "0" * 40}
    ).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": signature(secret.encode(), body),
        "Content-Type": "application/json",
    }
    return body, headers
