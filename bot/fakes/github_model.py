"""The rules and state of the fake GitHub: issues, labels, quotas, faults, error bodies.

Pure of HTTP (`bot.fakes.github` serves it). What GitHub's REST docs say, enforced:

- Bodies of errors are GitHub's: `{"message", "documentation_url", "status"}`, with
  `errors: [{"resource", "code", "field", "message"?}]` for a 422 "Validation Failed";
  a body that breaks the endpoint's schema is a 422 "Invalid request." naming the
  property; JSON that does not parse is a 400 "Problems parsing JSON".
- Create an issue: `title` required (a string or an integer), at most 256 characters,
  `body` a string or null of at most 65,536, `labels` an array of names (or objects
  with a name). With push access a label the repository lacks is created (colour
  `ededed`), without it the labels are silently dropped, as the docs note.
- Primary limit: an hourly quota per token; every answer carries `x-ratelimit-limit`,
  `-remaining`, `-used`, `-reset` (epoch seconds) and `-resource`; past it a 403 (or
  429) with `x-ratelimit-remaining: 0`. Secondary limit: content creation per minute
  and per hour; past it a 403 with GitHub's "secondary rate limit" message and, when
  configured, `retry-after`.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

DOCS = "https://docs.github.com/rest"
CREATE_DOCS = "https://docs.github.com/rest/issues/issues#create-an-issue"
LIST_DOCS = "https://docs.github.com/rest/issues/issues#list-repository-issues"
PRIMARY_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
)
SECONDARY_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit and have been temporarily blocked from"
    " content creation. Please retry your request again later."
)
API_VERSIONS = ("2022-11-28", "2026-03-10")
TITLE_MAX = 256
BODY_MAX = 65536
CREATE_ISSUE = "create_issue"
LIST_ISSUES = "list_issues"
GET_REPOSITORY = "get_repository"
ENDPOINTS = (CREATE_ISSUE, LIST_ISSUES, GET_REPOSITORY)


def error_body(
    status: int, message: str, docs: str = DOCS, errors: list[Json] | None = None
) -> Json:
    """An error as GitHub's REST API words it."""
    body: Json = {"message": message, "documentation_url": docs, "status": str(status)}
    if errors is not None:
        body["errors"] = errors
    return body


class GitHubError(Exception):
    """Raised by the rules to answer with GitHub's error body (and headers)."""

    def __init__(self, status: int, body: Json, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, body.get("message"))
        self.status = status
        self.body = body
        self.headers = headers or {}


def validation_failed(field_name: str, code: str, message: str | None = None) -> GitHubError:
    error: Json = {"resource": "Issue", "code": code, "field": field_name}
    if message is not None:
        error["message"] = message
    return GitHubError(422, error_body(422, "Validation Failed", CREATE_DOCS, [error]))


def invalid_request(detail: str, docs: str = CREATE_DOCS) -> GitHubError:
    return GitHubError(422, error_body(422, f"Invalid request.\n\n{detail}", docs))


def iso(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    """GitHub's `since`: ISO 8601, `Z` or an offset."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


@dataclass(frozen=True, slots=True)
class GitHubLimits:
    """The quotas: GitHub's own for a personal access token unless a test says less."""

    core_per_hour: int = 5000
    content_per_minute: int = 80
    content_per_hour: int = 500
    limited_status: int = 403  # GitHub answers a limit with 403 or 429
    secondary_retry_after: int | None = 60  # None: no `retry-after` (wait a minute)


class FaultKind(enum.StrEnum):
    STATUS = "status"  # answer `status` with GitHub's body for it; nothing done
    PRIMARY_LIMIT = "primary_limit"  # the hourly quota is spent now
    SECONDARY_LIMIT = "secondary_limit"  # a secondary limit, `retry_after` or none
    DROP_BEFORE = "drop_before"  # the connection closes; nothing done
    DROP_AFTER = "drop_after"  # the issue is filed, then the connection closes


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    endpoint: str | None = None
    status: int = 503
    retry_after: int | None = None


STATUS_MESSAGES = {
    400: "Problems parsing JSON",
    401: "Bad credentials",
    403: "Resource not accessible by personal access token",
    404: "Not Found",
    409: "Conflict",
    410: "Issues are disabled for this repo",
    422: "Validation Failed",
    500: "Internal Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "We couldn't respond to your request in time. Sorry about that.",
}


@dataclass(slots=True)
class FakeIssue:
    number: int
    title: str
    body: str | None
    labels: list[str]
    created_at: float
    updated_at: float
    state: str = "open"
    user: str = "weeklybot"
    pull_request: bool = False


@dataclass(frozen=True, slots=True)
class CallRecord:
    seq: int
    at: float
    method: str
    path: str
    endpoint: str | None
    status: int | None  # None: the connection was dropped
    headers: dict[str, str]  # what was sent, the Authorization value masked
    fault: FaultKind | None = None


@dataclass(slots=True)
class Quota:
    """The primary hourly quota of the token: a window from its first request."""

    limit: int
    used: int = 0
    window_start: float | None = None

    def reset_at(self, now: float) -> int:
        if self.window_start is None or now >= self.window_start + 3600:
            return math.ceil(now + 3600)
        return math.ceil(self.window_start + 3600)

    def roll(self, now: float) -> None:
        if self.window_start is None or now >= self.window_start + 3600:
            self.window_start, self.used = now, 0

    def spend(self, now: float) -> bool:
        """Count one request; False when none remained (it is refused, not counted)."""
        self.roll(now)
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def exhaust(self, now: float) -> None:
        self.roll(now)
        self.used = self.limit

    def headers(self, now: float) -> dict[str, str]:
        self.roll(now)
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(max(0, self.limit - self.used)),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(self.reset_at(now)),
            "x-ratelimit-resource": "core",
        }


@dataclass(slots=True)
class ContentLimit:
    """Content-creating requests in rolling windows (the secondary limit)."""

    per_minute: int
    per_hour: int
    times: deque[float] = field(default_factory=deque)

    def allow(self, now: float) -> bool:
        while self.times and self.times[0] <= now - 3600:
            self.times.popleft()
        last_minute = sum(1 for t in self.times if t > now - 60)
        if last_minute >= self.per_minute or len(self.times) >= self.per_hour:
            return False
        self.times.append(now)
        return True


class FaultPlan:
    def __init__(self) -> None:
        self._scripted: list[Fault] = []

    def script(self, faults: Iterable[Fault]) -> None:
        self._scripted.extend(faults)

    def take(self, endpoint: str) -> Fault | None:
        for at, fault in enumerate(self._scripted):
            if fault.endpoint in (None, endpoint):
                return self._scripted.pop(at)
        return None

    def clear(self) -> None:
        self._scripted.clear()


class Repository:
    """One repository's issues and labels, and the create/list rules."""

    def __init__(self, full_name: str, labels: Iterable[str] = ()) -> None:
        self.full_name = full_name
        self.issues: dict[int, FakeIssue] = {}
        self.labels: dict[str, str] = {name: "ededed" for name in labels}  # name -> colour
        self.push_access = True  # may the token's user set labels (else dropped)
        self.issues_enabled = True

    def html_url(self, number: int) -> str:
        return f"https://github.com/{self.full_name}/issues/{number}"

    def add(
        self,
        title: str,
        body: str | None,
        labels: list[str],
        *,
        now: float,
        user: str = "weeklybot",
        pull_request: bool = False,
    ) -> FakeIssue:
        number = len(self.issues) + 1  # issues and pull requests share the numbers
        issue = FakeIssue(
            number, title, body, labels, now, now, user=user, pull_request=pull_request
        )
        self.issues[number] = issue
        return issue

    def create(self, body: object, *, now: float) -> FakeIssue:
        """POST /repos/{owner}/{repo}/issues: validate like GitHub, then file."""
        if not isinstance(body, dict):
            raise GitHubError(400, error_body(400, "Problems parsing JSON", CREATE_DOCS))
        if "title" not in body:
            raise invalid_request('"title" wasn\'t supplied.')
        title = body["title"]
        if isinstance(title, bool) or not isinstance(title, str | int):
            raise invalid_request(
                f"For 'properties/title', {_shown(title)} is not a string or integer."
            )
        text = str(title).strip()
        if not text:
            raise validation_failed("title", "missing_field")
        if len(text) > TITLE_MAX:
            raise validation_failed(
                "title", "custom", f"title is too long (maximum is {TITLE_MAX} characters)"
            )
        issue_body = body.get("body")
        if issue_body is not None and not isinstance(issue_body, str):
            raise invalid_request(
                f"For 'properties/body', {_shown(issue_body)} is not a string or null."
            )
        if issue_body is not None and len(issue_body) > BODY_MAX:
            raise validation_failed(
                "body", "custom", f"body is too long (maximum is {BODY_MAX} characters)"
            )
        names = self._label_names(body.get("labels", []))
        if not self.push_access:
            names = []  # "Labels are silently dropped otherwise"
        for name in names:
            self.labels.setdefault(name, "ededed")
        return self.add(text, issue_body, names, now=now)

    @staticmethod
    def _label_names(raw: object) -> list[str]:
        if not isinstance(raw, list):
            raise invalid_request(f"For 'properties/labels', {_shown(raw)} is not an array.")
        names: list[str] = []
        for item in raw:
            name = item.get("name") if isinstance(item, dict) else item
            if not isinstance(name, str) or not name.strip():
                raise invalid_request(
                    f"For 'items', {_shown(item)} is not a string or object with a name."
                )
            if name.strip() not in names:
                names.append(name.strip())
        return names

    def listed(self, query: dict[str, str], *, now: float) -> tuple[list[FakeIssue], int, int]:
        """GET /repos/{owner}/{repo}/issues: (this page, page, last page)."""
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise invalid_request(
                f"For 'state', {state!r} is not one of open, closed, all.", LIST_DOCS
            )
        sort = query.get("sort", "created")
        direction = query.get("direction", "desc")
        if sort not in ("created", "updated", "comments") or direction not in ("asc", "desc"):
            raise invalid_request("sort or direction is not one GitHub knows.", LIST_DOCS)
        try:
            per_page = min(100, max(1, int(query.get("per_page", "30"))))
            page = max(1, int(query.get("page", "1")))
            since = parse_iso(query["since"]) if "since" in query else None
        except ValueError as exc:
            raise invalid_request(str(exc), LIST_DOCS) from exc
        wanted = [name for name in query.get("labels", "").split(",") if name]
        chosen = [
            issue
            for issue in self.issues.values()
            if (state == "all" or issue.state == state)
            and (since is None or issue.updated_at >= since)
            and all(name in issue.labels for name in wanted)
        ]
        key = {"created": "created_at", "updated": "updated_at", "comments": "number"}[sort]
        chosen.sort(key=lambda i: (getattr(i, key), i.number), reverse=direction == "desc")
        last = max(1, math.ceil(len(chosen) / per_page))
        return chosen[(page - 1) * per_page : page * per_page], page, last

    def summary(self, api_base: str) -> Json:
        """GET /repos/{owner}/{repo}, the fields the start check reads."""
        return {
            "full_name": self.full_name,
            "html_url": f"https://github.com/{self.full_name}",
            "url": f"{api_base}/repos/{self.full_name}",
            "private": False,
            "has_issues": self.issues_enabled,
            "permissions": {"admin": False, "push": self.push_access, "pull": True},
        }

    def as_json(self, issue: FakeIssue, api_base: str) -> Json:
        owner = self.full_name.split("/")[0]
        answer: Json = {
            "id": 1_000_000 + issue.number,
            "node_id": f"I_kw{issue.number:08d}",
            "url": f"{api_base}/repos/{self.full_name}/issues/{issue.number}",
            "html_url": self.html_url(issue.number),
            "number": issue.number,
            "state": issue.state,
            "title": issue.title,
            "body": issue.body,
            "user": {"login": issue.user, "type": "User"},
            "labels": [
                {"name": n, "color": self.labels.get(n, "ededed"), "default": False}
                for n in issue.labels
            ],
            "comments": 0,
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": None,
            "repository_url": f"{api_base}/repos/{self.full_name}",
            "author_association": "OWNER" if issue.user == owner else "NONE",
        }
        if issue.pull_request:
            answer["pull_request"] = {
                "url": f"{api_base}/repos/{self.full_name}/pulls/{issue.number}"
            }
        return answer


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value).lower()


def record_headers(headers: dict[str, str]) -> dict[str, str]:
    """What a call sent, the credential masked (a record is no place for a token)."""
    kept = {k.lower(): v for k, v in headers.items()}
    if "authorization" in kept:
        scheme = kept["authorization"].split(" ", 1)[0]
        kept["authorization"] = f"{scheme} ***"
    return kept
