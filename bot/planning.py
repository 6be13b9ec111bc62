"""The publication plan: which posts an issue becomes on each target, as outbox rows.

Pure: it formats and names rows, the caller enqueues them. Each row's
idempotency key is derived from what it is (issue, lang, section, index), so
planning the same issue twice, after a restart or a re-parse, queues nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.issue import Issue, Lang
from data.db import When
from data.outbox import NewPost
from publishers.format_common import NotPostable
from publishers.format_telegram import format_digest_telegram, format_item_telegram
from publishers.format_x import format_digest_x, format_item_x
from publishers.posts import TelegramPost

TELEGRAM, X = "telegram", "x"

SOURCE_URLS: dict[Lang, str] = {
    "zh": "https://github.com/chinesehuazhou/python-weekly/blob/main/docs/{date}-weekly.md",
    "en": "https://github.com/chinesehuazhou/python-weekly/blob/main/docs/en/{date}-weekly.md",
    "ja": "https://github.com/chinesehuazhou/python-weekly/blob/main/docs/ja/{date}-weekly.md",
}


def issue_url(issue: Issue) -> str | None:
    """Where a reader finds the whole issue: its file in the newsletter's repository."""
    if issue.date is None:
        return None
    return SOURCE_URLS[issue.lang].format(date=issue.date.isoformat())


def issue_key(issue: Issue) -> str:
    number = issue.number if issue.number is not None else issue.date
    return f"issue:{number}:{issue.lang}"


@dataclass(frozen=True, slots=True)
class Plan:
    """What one target gets of a new issue."""

    target: str
    digest: bool = True
    items: bool = True


def plan_issue(
    issue: Issue, plans: Sequence[Plan], *, not_before: When | None = None
) -> list[NewPost]:
    """Outbox rows for `issue` on each planned target, in posting order."""
    rows: list[NewPost] = []
    url = issue_url(issue)
    base = issue_key(issue)
    for plan in plans:
        if plan.digest:
            rows.extend(_digest_rows(issue, plan.target, url, base, not_before))
        if plan.items:
            rows.extend(_item_rows(issue, plan.target, url, base, not_before))
    return rows


def _digest_rows(
    issue: Issue, target: str, url: str | None, base: str, not_before: When | None
) -> list[NewPost]:
    group = f"{base}:digest"
    payloads = [
        post.to_payload()
        for post in (
            format_digest_telegram(issue, issue_url=url, lang=issue.lang)
            if target == TELEGRAM
            else format_digest_x(issue, issue_url=url, lang=issue.lang)
        )
    ]
    return [
        NewPost(
            idempotency_key=f"{group}:{seq}",
            target=target,
            kind="digest",
            payload=payload,
            group_key=group,
            seq=seq,
            not_before=not_before,
        )
        for seq, payload in enumerate(payloads, start=1)
    ]


def _item_rows(
    issue: Issue, target: str, url: str | None, base: str, not_before: When | None
) -> list[NewPost]:
    rows: list[NewPost] = []
    for section, item in issue.items():
        if not item.postable:
            continue
        key = f"{base}:{section.kind}:{item.index}"
        try:
            if target == TELEGRAM:
                post = format_item_telegram(
                    item, section_kind=section.kind, issue=issue, issue_url=url, lang=issue.lang
                )
            else:
                x_post = format_item_x(
                    item, section_kind=section.kind, issue=issue, issue_url=url, lang=issue.lang
                )
        except NotPostable:
            continue
        if target != TELEGRAM:
            rows.append(NewPost(key, target, "item", x_post.to_payload(), not_before=not_before))
            continue
        # One row per Telegram message, ordered in a group, so a photo that went
        # out is never resent when the text after it has to be retried.
        for seq, part in enumerate(post.parts, start=1):
            single = TelegramPost(parts=(part,))
            grouped = len(post.parts) > 1
            rows.append(
                NewPost(
                    f"{key}:{seq}" if grouped else key,
                    target,
                    "item",
                    single.to_payload(),
                    group_key=key if grouped else None,
                    seq=seq if grouped else None,
                    not_before=not_before,
                )
            )
    return rows
