"""The GitHub target: one issue of the configured repository per approved reader link.

`GitHubAPI` makes the two REST calls the target needs (create an issue, list the
repository's issues) on an `httpx.AsyncClient` the wiring owns, with the headers
GitHub's REST docs ask for (`Accept: application/vnd.github+json`,
`X-GitHub-Api-Version`, a `User-Agent`, `Authorization: Bearer <token>`). The token
lives only in those headers: never in a URL, a log line or an error.

How an answer is sorted (`classify_answer`, `classify_transport`), by GitHub's
"Rate limits for the REST API" and the create-an-issue reference:

- 201: filed; the receipt is the issue's `html_url`.
- A rate limit (403 or 429 with `retry-after`, `x-ratelimit-remaining: 0` or a
  "secondary rate limit" message, and any 429): surely not filed; wait `retry-after`
  seconds when given, else until `x-ratelimit-reset` when nothing remains, else at
  least a minute, doubling while secondary limits keep coming. The worker holds the
  whole target that long (`target_holds`), so a restart waits too.
- 401 (bad token), any other 403 (no Issues permission), 404 (no such repository, or
  the token cannot see it), 410 (issues disabled), 422 (validation) and the other 4xx:
  permanent, the row is `failed` and the editors get its card with GitHub's message.
- 500 or 503 with GitHub's JSON body, a refused connection, a connect timeout:
  retried with backoff. A 502/504 (a gateway gave up: the API behind it may have
  acted), a read timeout or a connection dropped after the request was written:
  `MaybeSent`, and `publishers.github_probe` looks for the marker before anything is
  filed again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from publishers.base import Receipt
from publishers.errors import MaybeSent, PublishError, Rejected, RetryLater
from publishers.pacing import Pacer
from publishers.posts import GitHubIssue

log = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
USER_AGENT = "weeklybot (+https://github.com/chinesehuazhou/python-weekly)"
SECONDARY_MIN_WAIT = 60.0  # "wait for at least one minute before retrying"
SECONDARY_MAX_WAIT = 15 * 60.0
# A gateway's timeout says nothing of what the API behind it did.
_GATEWAY = (502, 504)
_WHY = {
    401: "the token is not valid (expired or revoked): set a new WEEKLYBOT_GITHUB__TOKEN",
    403: "the token may not file issues there (it needs Issues: read and write)",
    404: "no such repository, or the token cannot see it",
    410: "issues are disabled in that repository",
    422: "GitHub refused the issue's fields",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """What GitHub answered, as much as the sorting needs (no request headers)."""

    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None when it was not JSON

    @property
    def message(self) -> str:
        return str(self.body.get("message", "")) if isinstance(self.body, dict) else ""

    def detail(self) -> str:
        """GitHub's message and each `errors[]` entry, on one line."""
        parts = [self.message] if self.message else []
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        for error in errors if isinstance(errors, list) else ():
            if isinstance(error, dict):
                described = error.get("message") or " ".join(
                    str(error[k]) for k in ("field", "code") if error.get(k)
                )
                parts.append(str(described))
            else:
                parts.append(str(error))
        return "; ".join(p for p in parts if p) or f"HTTP {self.status}"


def _answer(response: httpx.Response) -> Answer:
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    return Answer(response.status_code, dict(response.headers), body)


class GitHubAPI:
    """The REST calls of the GitHub target, for one repository and one token."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        repo: str,
        token: str,
        timeout: float = 20.0,
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.repo = repo
        self._token = token
        self._timeout = timeout

    def __repr__(self) -> str:  # never the token
        return f"GitHubAPI({self.base_url!r}, {self.repo!r})"

    def _headers(self) -> dict[str, str]:
        return {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
            "Authorization": f"Bearer {self._token}",
        }

    @property
    def issues_url(self) -> str:
        return f"{self.base_url}/repos/{self.repo}/issues"

    async def create_issue(self, title: str, body: str, labels: list[str]) -> Answer:
        """POST /repos/{owner}/{repo}/issues; raises httpx errors as they come."""
        payload: dict[str, Any] = {"title": title, "body": body}
        if labels:
            payload["labels"] = labels
        response = await self._http.post(
            self.issues_url,
            json=payload,
            headers=self._headers(),
            timeout=self._timeout,
            follow_redirects=False,
        )
        return _answer(response)

    async def repository(self) -> Answer:
        """GET /repos/{owner}/{repo}: does the token see it, may it push, are issues on."""
        response = await self._http.get(
            f"{self.base_url}/repos/{self.repo}", headers=self._headers(), timeout=self._timeout
        )
        return _answer(response)

    async def list_issues(
        self, *, since: float | None = None, url: str | None = None
    ) -> tuple[Answer, str | None]:
        """One page of GET /repos/{owner}/{repo}/issues (all states, newest first), and
        the next page's URL (only ever one of this API: the token goes nowhere else)."""
        params: dict[str, str | int] | None = None
        if url is None:
            url = self.issues_url
            params = {"state": "all", "sort": "created", "direction": "desc", "per_page": 100}
            if since is not None:
                params["since"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))
        response = await self._http.get(
            url, params=params, headers=self._headers(), timeout=self._timeout
        )
        following = response.links.get("next", {}).get("url")
        if following is not None and not following.startswith(self.issues_url + "?"):
            log.warning("GitHub's next page is elsewhere; not followed")
            following = None
        return _answer(response), following


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A rate-limited answer: how long to wait, and whether GitHub named the wait."""

    wait: float
    named: bool  # `retry-after`, or the reset of a spent quota
    secondary: bool


def rate_limit(answer: Answer, *, now: float) -> RateLimit | None:
    """The wait when `answer` is a rate limit, None when it is not one."""
    if answer.status not in (403, 429):
        return None
    headers = {k.lower(): v for k, v in answer.headers.items()}
    retry_after = _number(headers.get("retry-after"))
    remaining = headers.get("x-ratelimit-remaining")
    reset = _number(headers.get("x-ratelimit-reset"))
    told = "secondary rate limit" in answer.message.lower()
    if answer.status == 403 and retry_after is None and remaining != "0" and not told:
        return None  # a permission problem, not a limit
    secondary = told or remaining != "0"
    if retry_after is not None:
        return RateLimit(max(1.0, retry_after), named=True, secondary=secondary)
    if remaining == "0" and reset is not None:
        return RateLimit(max(1.0, reset - now + 1), named=True, secondary=secondary)
    return RateLimit(SECONDARY_MIN_WAIT, named=False, secondary=True)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def classify_answer(answer: Answer, *, now: float, strikes: int = 0) -> PublishError:
    """Sort an answer other than 201 (see the module's docstring).

    `strikes` counts the secondary limits met in a row with no wait named, so the
    minute GitHub asks for doubles each time.
    """
    limit = rate_limit(answer, now=now)
    if limit is not None:
        wait = limit.wait
        if not limit.named:
            wait = min(SECONDARY_MAX_WAIT, SECONDARY_MIN_WAIT * 2**strikes)
        kind = "secondary" if limit.secondary else "primary"
        return RetryLater(
            f"GitHub {kind} rate limit: {answer.detail()} (waiting {wait:.0f} s)",
            retry_after=wait,
        )
    status = answer.status
    if status in _GATEWAY:
        return MaybeSent(f"GitHub's gateway answered {status}: the issue may have been filed")
    if status >= 500:
        if isinstance(answer.body, dict):
            return RetryLater(f"GitHub server error {status}: {answer.detail()}")
        return MaybeSent(f"GitHub answered {status} without its error body")
    why = _WHY.get(status, "GitHub refused the request")
    return Rejected(f"GitHub {status}: {why} ({answer.detail()})")


# Raised before the request could reach GitHub: nothing was filed.
_NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def classify_transport(exc: httpx.HTTPError) -> PublishError:
    """A connection problem: before the request left (retry) or after (may be filed)."""
    if isinstance(exc, _NEVER_SENT):
        return RetryLater(f"GitHub unreachable: {type(exc).__name__}")
    return MaybeSent(f"connection to GitHub lost: {type(exc).__name__}: {exc}")


class GitHubPublisher:
    """Files one issue per outbox row; GitHub takes duplicates, so resends are not safe."""

    target = "github"
    resend_is_safe = False  # a doubt goes to `publishers.github_probe`

    def __init__(
        self,
        api: GitHubAPI,
        *,
        label: str = "",
        pacer: Pacer | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = api
        self._labels = [label] if label else []
        self._pacer = pacer
        self._clock = clock
        self._strikes = 0  # secondary limits in a row without a wait named

    async def publish(
        self,
        payload: Mapping[str, Any],
        *,
        reply_to: str | None = None,
        after_doubt: bool = False,
    ) -> Receipt:
        try:
            issue = GitHubIssue.from_payload(payload)
        except ValueError as exc:
            raise Rejected(f"unreadable outbox payload: {exc}") from exc
        try:
            answer = await self._api.create_issue(issue.title, issue.body, self._labels)
        except httpx.HTTPError as exc:
            raise classify_transport(exc) from exc
        self._observe(answer)
        if answer.status == 201 and isinstance(answer.body, dict) and answer.body.get("html_url"):
            self._strikes = 0
            return Receipt(remote_id=str(answer.body["html_url"]))
        if answer.status == 201:
            raise MaybeSent("GitHub filed something but its answer names no issue")
        now = self._clock()
        error = classify_answer(answer, now=now, strikes=self._strikes)
        limit = rate_limit(answer, now=now)
        if limit is not None and not limit.named:
            self._strikes += 1
        raise error

    def _observe(self, answer: Answer) -> None:
        """Hold the target until the reset when the hourly quota is spent."""
        headers = {k.lower(): v for k, v in answer.headers.items()}
        reset = _number(headers.get("x-ratelimit-reset"))
        if self._pacer is not None and headers.get("x-ratelimit-remaining") == "0" and reset:
            self._pacer.hold_until(reset + 1)
