"""GitHub's `push` webhook, judged: pure, from the request's bytes and headers.

GitHub signs each delivery with the hook's secret: `X-Hub-Signature-256:
sha256=<hex HMAC-SHA256 of the raw body>` (docs.github.com, "Validating webhook
deliveries"), compared in constant time (`hmac.compare_digest`). The signature is
checked before the body is parsed, so an unsigned request costs one HMAC and is never
read. A signed `ping` (sent when the hook is created) is answered and does nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Action = Literal["poll", "ignore", "refuse"]


@dataclass(frozen=True, slots=True)
class PushVerdict:
    """What to do with one delivery, and the HTTP answer to give."""

    action: Action
    status: int
    reason: str


def signature(secret: bytes, body: bytes) -> str:
    """The header value GitHub sends for `body` (what tests and the bench sign with)."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def judge_push(
    body: bytes,
    headers: Mapping[str, str],
    *,
    secret: bytes,
    repository: str | None,
    branch: str,
) -> PushVerdict:
    """Judge a delivery to /github. Header names are matched case-insensitively.

    `repository` is the followed `owner/name` (None: any repository the secret signs).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    given = lower.get("x-hub-signature-256", "")
    if not given:
        return PushVerdict("refuse", 401, "missing X-Hub-Signature-256")
    if not hmac.compare_digest(given.encode(), signature(secret, body).encode()):
        return PushVerdict("refuse", 401, "bad signature")
    event = lower.get("x-github-event", "")
    if event == "ping":
        return PushVerdict("ignore", 200, "pong")
    if event != "push":
        return PushVerdict("refuse", 400, f"event {event or '(none)'!r} is not a push")
    try:
        payload = json.loads(body)
        full_name = payload["repository"]["full_name"]
        ref = payload.get("ref", "")
    except (ValueError, TypeError, KeyError):
        return PushVerdict("refuse", 400, "not a push payload")
    if not isinstance(full_name, str) or not isinstance(ref, str):
        return PushVerdict("refuse", 400, "not a push payload")
    if repository is not None and full_name.lower() != repository.lower():
        return PushVerdict("refuse", 403, f"{full_name!r} is not the followed repository")
    if ref != f"refs/heads/{branch}":
        return PushVerdict("ignore", 202, f"{ref!r} is not the followed branch")
    return PushVerdict("poll", 202, "polling the repository now")


def repository_of(url: str) -> str | None:
    """`owner/name` of a github.com repository URL, else None (a local path, another host)."""
    parts = urlsplit(url)
    if parts.hostname != "github.com":
        return None
    path = parts.path.strip("/").removesuffix(".git")
    owner, _, name = path.partition("/")
    return f"{owner}/{name}" if owner and name and "/" not in name else None
