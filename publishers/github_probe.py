"""Was a doubtful GitHub issue filed? Look for its marker among the repository's issues.

GitHub files a second issue as readily as the first, so a resend after a dropped
connection could double it. Every issue the bot files ends with a hidden marker that
names its outbox key (`<!-- weeklybot:submission:<id> -->`, `publishers.format_github`),
and a reader's text can never hold one (their `<` is escaped). So:

- The repository's issues updated since shortly before the doubtful attempt began
  (`GET /repos/{owner}/{repo}/issues?state=all&since=…`, newest first, pull requests
  skipped) are read page by page; an issue the attempt filed was created, so updated,
  after it began. The list is read, not `GET /search/issues`: search is indexed a
  little later, and a miss there would be taken for "not filed".
- One issue with the marker: "sent", with its URL. More than one (a double made
  before this check existed, or by hand): "sent" with the oldest, the others named.
- The list read to its end without the marker: "not_sent", a resend is safe.
- Anything else is "unknown" and the editors get the card ([Post again]
  [Mark as sent]): an unreadable payload, an error answer, more than `max_pages`.

`quiet_seconds` waits from the start of the doubtful attempt before looking, so a
request GitHub received but had not finished has landed by then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from publishers.base import KnownPosts, Settlement
from publishers.github import GitHubAPI
from publishers.posts import GitHubIssue

CLOCK_SKEW = 300.0  # our clock against GitHub's, generously


class GitHubProbe:
    """Settles a doubtful issue by its marker; the doubt-settler of the GitHub target."""

    def __init__(
        self,
        api: GitHubAPI,
        *,
        max_pages: int = 10,
        quiet_seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = api
        self._max_pages = max_pages
        self._quiet = quiet_seconds
        self._clock = clock

    async def settle(self, payload: Mapping[str, Any], known: KnownPosts) -> Settlement:
        try:
            marker = GitHubIssue.from_payload(payload).marker
        except ValueError as exc:
            return Settlement("unknown", f"payload not comparable: {exc}")
        wait = known.claimed_at + self._quiet - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)
        found: list[tuple[int, str]] = []
        url: str | None = None
        for page in range(1, self._max_pages + 1):
            try:
                answer, url = await self._api.list_issues(
                    since=known.claimed_at - CLOCK_SKEW if url is None else None, url=url
                )
            except httpx.HTTPError as exc:
                return Settlement("unknown", f"listing issues, page {page}: {type(exc).__name__}")
            if answer.status != 200 or not isinstance(answer.body, list):
                return Settlement("unknown", f"listing issues, page {page}: {answer.detail()}")
            found += [
                (int(issue["number"]), str(issue["html_url"]))
                for issue in answer.body
                if isinstance(issue, dict)
                and "pull_request" not in issue
                and marker in str(issue.get("body") or "")
            ]
            if url is None:
                return _verdict(sorted(found), pages=page)
        return Settlement("unknown", f"more than {self._max_pages} pages of issues to read")


def _verdict(found: list[tuple[int, str]], *, pages: int) -> Settlement:
    if not found:
        return Settlement("not_sent", f"no issue holds the marker ({pages} page(s) read)")
    (number, url), others = found[0], [n for n, _ in found[1:]]
    also = f"; issues {others} hold it too" if others else ""
    return Settlement("sent", f"found as issue #{number}{also}", url)
