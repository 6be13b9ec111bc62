"""A strict loopback fake of the GitHub REST endpoints the GitHub target uses.

Serves `POST /repos/{owner}/{repo}/issues` (create an issue),
`GET /repos/{owner}/{repo}/issues` (list them) and `GET /repos/{owner}/{repo}` (the
start check) over real HTTP on 127.0.0.1, so the
bot's httpx client talks to it exactly as to api.github.com (`github.api_base_url`)::

    async with FakeGitHub(token="github_pat_…", repo="owner/name") as gh:
        settings github.api_base_url = gh.base_url

What it checks before anything else, as GitHub does: a `User-Agent` (403 without),
the token (`Authorization: Bearer …` or `token …`; 401 "Requires authentication" or
"Bad credentials"), a known `X-GitHub-Api-Version` (400), the repository (404), then
the primary quota (every request spends one) and, for a create, the issues being
enabled (410), the token's right to write (403) and the secondary content limit.
Every answer carries the `x-ratelimit-*` headers. The rules and bodies are
`bot.fakes.github_model`'s.

Faults (`inject`): any status with GitHub's body for it (401/403/404/409/410/422/5xx),
a spent primary quota, a secondary limit with or without `retry-after`, and a
connection dropped before the request is acted on or after the issue is filed.
Tests read `issues()`, `calls()` and `labels()`; `advance()` moves its clock.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable

from aiohttp import web

from bot.fakes.github_model import (
    API_VERSIONS,
    CREATE_DOCS,
    CREATE_ISSUE,
    ENDPOINTS,
    GET_REPOSITORY,
    LIST_ISSUES,
    PRIMARY_DOCS,
    SECONDARY_DOCS,
    SECONDARY_MESSAGE,
    STATUS_MESSAGES,
    CallRecord,
    ContentLimit,
    FakeIssue,
    Fault,
    FaultKind,
    FaultPlan,
    GitHubError,
    GitHubLimits,
    Json,
    Quota,
    Repository,
    error_body,
    record_headers,
)
from bot.fakes.server import LoopbackServer

__all__ = ["CREATE_ISSUE", "LIST_ISSUES", "FakeGitHub", "FakeIssue", "FaultKind", "GitHubLimits"]

log = logging.getLogger(__name__)
USER_AGENT_MESSAGE = (
    "Request forbidden by administrative rules. Please make sure your request has a"
    " User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api"
    "#user-agent-required). Check https://developer.github.com for other possible causes."
)


class FakeGitHub(LoopbackServer):
    """One repository and one token, strict about both; see the module's docstring."""

    def __init__(
        self,
        *,
        token: str,
        repo: str = "chinesehuazhou/python-weekly",
        labels: Iterable[str] = ("bug", "enhancement"),
        limits: GitHubLimits | None = None,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(clock=clock, host=host, port=port)
        self._token = token
        self.limits = limits or GitHubLimits()
        self.repo = Repository(repo, labels)
        self.token_can_write = True  # False: a token without Issues write
        self._calls: list[CallRecord] = []
        self._quota = Quota(self.limits.core_per_hour)
        self._content = ContentLimit(self.limits.content_per_minute, self.limits.content_per_hour)
        self._faults = FaultPlan()

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/repos/{owner}/{name}/issues", self._create)
        app.router.add_get("/repos/{owner}/{name}/issues", self._list)
        app.router.add_get("/repos/{owner}/{name}", self._repository)
        app.router.add_get("/_control/issues", self._control_issues)
        app.router.add_post("/_control/faults", self._control_faults)
        app.router.add_route("*", "/{tail:.*}", self._not_found)

    # -- control (Python) ----------------------------------------------------------

    def issues(self) -> list[FakeIssue]:
        return list(self.repo.issues.values())

    def labels(self) -> dict[str, str]:
        return dict(self.repo.labels)

    def calls(self, endpoint: str | None = None) -> list[CallRecord]:
        return [c for c in self._calls if endpoint is None or c.endpoint == endpoint]

    def add_issue(self, title: str, body: str = "", *, pull_request: bool = False) -> FakeIssue:
        """Someone else files an issue (or opens a pull request) now."""
        return self.repo.add(
            title, body, [], now=self.now(), user="someone", pull_request=pull_request
        )

    def inject(
        self,
        kind: FaultKind,
        *,
        times: int = 1,
        endpoint: str | None = None,
        status: int = 503,
        retry_after: int | None = None,
    ) -> None:
        """Script the next `times` matching calls to fail with `kind`."""
        if endpoint is not None and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        if kind is FaultKind.STATUS and status not in STATUS_MESSAGES:
            raise ValueError(f"no GitHub body for status {status}")
        self._faults.script(Fault(kind, endpoint, status, retry_after) for _ in range(times))

    def clear_faults(self) -> None:
        self._faults.clear()

    # -- the pipeline -----------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, CREATE_ISSUE)

    async def _list(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, LIST_ISSUES)

    async def _repository(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, GET_REPOSITORY)

    def _record(
        self,
        request: web.Request,
        endpoint: str | None,
        status: int | None,
        fault: FaultKind | None = None,
    ) -> None:
        self._calls.append(
            CallRecord(
                seq=len(self._calls) + 1,
                at=self.now(),
                method=request.method,
                path=request.path_qs,
                endpoint=endpoint,
                status=status,
                headers=record_headers(dict(request.headers)),
                fault=fault,
            )
        )

    async def _serve(self, request: web.Request, endpoint: str) -> web.StreamResponse:
        now = self.now()
        headers: dict[str, str] = {}
        fault: Fault | None = None
        try:
            self._gate(request, now)
            if not self._quota.spend(now):
                raise self._primary_limited(now)
            headers = self._quota.headers(now)
            fault = self._faults.take(endpoint)
            if fault is not None and fault.kind is not FaultKind.DROP_AFTER:
                return self._apply(request, endpoint, fault, now)
            status, body, extra = await self._work(request, endpoint, now)
        except GitHubError as error:
            answer = {**self._quota.headers(now), **error.headers}
            self._record(request, endpoint, error.status)
            return web.json_response(error.body, status=error.status, headers=answer)
        if fault is not None:  # DROP_AFTER: the work is done, the answer is lost
            self._record(request, endpoint, None, fault.kind)
            return _drop(request)
        self._record(request, endpoint, status)
        return web.json_response(body, status=status, headers={**headers, **extra})

    def _gate(self, request: web.Request, now: float) -> None:
        """User-Agent, token, API version, repository: refused before any work."""
        if not request.headers.get("User-Agent"):
            raise GitHubError(403, error_body(403, USER_AGENT_MESSAGE))
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if not value:
            raise GitHubError(401, error_body(401, "Requires authentication", CREATE_DOCS))
        if scheme.lower() not in ("bearer", "token") or value.strip() != self._token:
            raise GitHubError(401, error_body(401, "Bad credentials"))
        version = request.headers.get("X-GitHub-Api-Version")
        if version is not None and version not in API_VERSIONS:
            raise GitHubError(
                400,
                error_body(
                    400,
                    f"Unsupported 'X-GitHub-Api-Version' header '{version}'."
                    f" The supported versions are: {', '.join(API_VERSIONS)}",
                ),
            )
        full = f"{request.match_info['owner']}/{request.match_info['name']}"
        if full.lower() != self.repo.full_name.lower():
            raise GitHubError(404, error_body(404, "Not Found", CREATE_DOCS))

    def _primary_limited(self, now: float) -> GitHubError:
        message = (
            "API rate limit exceeded for user ID 1. If you reach out to GitHub Support"
            " for help, please include the request ID."
        )
        return GitHubError(
            self.limits.limited_status,
            error_body(self.limits.limited_status, message, PRIMARY_DOCS),
        )

    def _secondary_limited(self, retry_after: int | None) -> GitHubError:
        status = self.limits.limited_status
        extra = {"retry-after": str(retry_after)} if retry_after is not None else {}
        return GitHubError(status, error_body(status, SECONDARY_MESSAGE, SECONDARY_DOCS), extra)

    def _apply(
        self, request: web.Request, endpoint: str, fault: Fault, now: float
    ) -> web.StreamResponse:
        if fault.kind is FaultKind.DROP_BEFORE:
            self._record(request, endpoint, None, fault.kind)
            return _drop(request)
        if fault.kind is FaultKind.PRIMARY_LIMIT:
            self._quota.exhaust(now)
            error = self._primary_limited(now)
        elif fault.kind is FaultKind.SECONDARY_LIMIT:
            error = self._secondary_limited(fault.retry_after)
        else:
            body = error_body(fault.status, STATUS_MESSAGES[fault.status], CREATE_DOCS)
            if fault.status == 422:
                body["errors"] = [{"resource": "Issue", "code": "invalid", "field": "labels"}]
            error = GitHubError(fault.status, body)
        self._record(request, endpoint, error.status, fault.kind)
        headers = {**self._quota.headers(now), **error.headers}
        return web.json_response(error.body, status=error.status, headers=headers)

    async def _work(
        self, request: web.Request, endpoint: str, now: float
    ) -> tuple[int, Json | list[Json], dict[str, str]]:
        if endpoint == LIST_ISSUES:
            return self._listing(request, now)
        if endpoint == GET_REPOSITORY:
            return 200, self.repo.summary(self.base_url), {}
        if not self.repo.issues_enabled:
            raise GitHubError(410, error_body(410, STATUS_MESSAGES[410], CREATE_DOCS))
        if not self.token_can_write:
            raise GitHubError(403, error_body(403, STATUS_MESSAGES[403], CREATE_DOCS))
        raw = await request.read()
        try:
            body = json.loads(raw or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise GitHubError(400, error_body(400, "Problems parsing JSON", CREATE_DOCS)) from None
        if not self._content.allow(now):
            raise self._secondary_limited(self.limits.secondary_retry_after)
        issue = self.repo.create(body, now=now)
        log.info("fake GitHub filed #%d: %s", issue.number, issue.title)
        answer = self.repo.as_json(issue, self.base_url)
        return 201, answer, {"Location": str(answer["url"])}

    def _listing(
        self, request: web.Request, now: float
    ) -> tuple[int, Json | list[Json], dict[str, str]]:
        page, number, last = self.repo.listed(dict(request.query), now=now)
        links = _links(request, number, last)
        body = [self.repo.as_json(i, self.base_url) for i in page]
        return 200, body, {"Link": links} if links else {}

    # -- control (HTTP) -----------------------------------------------------------------

    async def _control_issues(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"issues": [self.repo.as_json(i, self.base_url) for i in self.issues()]}
        )

    async def _control_faults(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.inject(
                FaultKind(body["kind"]),
                times=int(body.get("times", 1)),
                endpoint=body.get("endpoint"),
                status=int(body.get("status", 503)),
                retry_after=body.get("retry_after"),
            )
        except (KeyError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response({"ok": True})

    async def _not_found(self, request: web.Request) -> web.Response:
        self._record(request, None, 404)
        return web.json_response(error_body(404, "Not Found"), status=404)


def _links(request: web.Request, page: int, last: int) -> str:
    """GitHub's `Link` header: next and last while there are more pages."""
    if page >= last:
        return ""
    url = request.url
    return ", ".join(
        f'<{url.update_query(page=str(n))}>; rel="{rel}"'
        for rel, n in (("next", page + 1), ("last", last))
    )


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer; the client sees a disconnect."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)
