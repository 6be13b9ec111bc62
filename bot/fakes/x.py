"""A strict loopback fake of the X API v2 (posts, the user's timeline, v2 media upload).

Runs an aiohttp server on 127.0.0.1 so that the real tweepy ``AsyncClient`` and
the project's ``XClient`` talk HTTP to it (PLATFORMS.md B.2). Use it as a
library::

    async with FakeX(consumer_key=..., consumer_secret=...,
                     access_token=..., access_token_secret=...) as fx:
        client = XClient(..., api_base_url=fx.base_url)

or run ``serve_fake_x(host, port, ...)`` as a process (``weeklybot fake-x``).
Tests read what it recorded through ``posts()``, ``calls()``, ``quota()`` or
the HTTP JSON control API under ``/_control/``; faults are injected with
``inject()`` / ``set_fault_rate()`` (or ``POST /_control/faults``).

This module serves X's rules and offers the control API; the rules live in
``x_api`` (the routes: posts, timeline, media upload), ``x_media`` (media
types, sizes, processing), ``x_auth`` (OAuth 1.0a), ``x_http`` (error bodies,
decoding) and ``x_model`` (endpoints, quotas, faults, records).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot.fakes.server import LoopbackServer
from bot.fakes.x_api import (
    DUPLICATE_DETAIL,
    INVALID_MEDIA_IDS,
    REPLY_TARGET_GONE,
    TOO_LONG_MESSAGE,
    FakeXAPI,
    shown_text,
)
from bot.fakes.x_auth import OAuthCredentials, original_url, verify_oauth1
from bot.fakes.x_http import (
    RequestError,
    Work,
    control_json,
    drop_connection,
    fault_status,
    problem,
    too_many,
)
from bot.fakes.x_media import sniff_media_type
from bot.fakes.x_model import (
    CREATE_POST,
    DELETE_POST,
    ENDPOINTS,
    MEDIA_APPEND,
    MEDIA_FINALIZE,
    MEDIA_INITIALIZE,
    MEDIA_STATUS,
    MEDIA_UPLOAD,
    USER_POSTS,
    USERS_ME,
    CallRecord,
    EndpointQuota,
    FakeMedia,
    FakePost,
    Fault,
    FaultKind,
    FaultPlan,
    MediaState,
    QuotaView,
    XLimits,
    build_quotas,
    rate_limit_headers,
)

__all__ = [
    "CREATE_POST",
    "DELETE_POST",
    "DUPLICATE_DETAIL",
    "INVALID_MEDIA_IDS",
    "MEDIA_APPEND",
    "MEDIA_FINALIZE",
    "MEDIA_INITIALIZE",
    "MEDIA_STATUS",
    "MEDIA_UPLOAD",
    "REPLY_TARGET_GONE",
    "TOO_LONG_MESSAGE",
    "USERS_ME",
    "USER_POSTS",
    "CallRecord",
    "FakeMedia",
    "FakePost",
    "FakeX",
    "FaultKind",
    "MediaState",
    "QuotaView",
    "XLimits",
    "serve_fake_x",
    "shown_text",
    "sniff_media_type",
]

log = logging.getLogger(__name__)


class FakeX(LoopbackServer):
    """A strict fake X API v2 for one app and one user, on a loopback port.

    Args:
        consumer_key, consumer_secret, access_token, access_token_secret:
            the only OAuth 1.0a credentials accepted.
        user_id: the authenticated user's id; defaults to the numeric prefix of
            ``access_token`` as X issues them (``<user id>-<random>``).
        username, name: what GET /2/users/me shows for that user.
        limits: quotas and media-processing behaviour.
        clock: seconds since the epoch; inject one to move quota windows in tests.
    """

    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        access_token: str,
        access_token_secret: str,
        user_id: str | None = None,
        username: str = "weeklybot",
        name: str = "Python Trending Weekly",
        limits: XLimits | None = None,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._credentials = OAuthCredentials(
            consumer_key, consumer_secret, access_token, access_token_secret
        )
        prefix = access_token.partition("-")[0]
        super().__init__(clock=clock, host=host, port=port, client_max_size=16 * 1024 * 1024)
        self.limits = limits or XLimits()
        self.api = FakeXAPI(
            user_id=user_id or (prefix if prefix.isdigit() else "1"),
            username=username,
            name=name,
            limits=self.limits,
            now=self.now,
        )
        self._reset_state()

    def _reset_state(self) -> None:
        self.api.reset()
        self._calls: list[CallRecord] = []
        self._quotas: dict[str, EndpointQuota] = build_quotas(self.limits)
        self._faults = FaultPlan()
        self._nonces: set[tuple[str, str]] = set()

    @property
    def user_id(self) -> str:
        """The authenticated user's id (the author of every post)."""
        return self.api.user_id

    # -- control API (Python) ------------------------------------------------

    def posts(self) -> list[FakePost]:
        """Every post ever created, deleted ones included, oldest first."""
        return list(self.api.posts.values())

    def live_posts(self) -> list[FakePost]:
        return [post for post in self.api.posts.values() if not post.deleted]

    def post(self, post_id: str) -> FakePost:
        return self.api.posts[post_id]

    def media(self) -> list[FakeMedia]:
        return [upload.view() for upload in self.api.media.values()]

    def calls(self, endpoint: str | None = None) -> list[CallRecord]:
        return [c for c in self._calls if endpoint is None or c.endpoint == endpoint]

    def quota(self, endpoint: str = CREATE_POST) -> QuotaView:
        """Remaining quota of an endpoint, as the headers of its next answer would show."""
        return self._quotas[endpoint].view(self.now())

    def inject(
        self,
        kind: FaultKind,
        *,
        times: int = 1,
        endpoint: str | None = None,
        delay: float = 0.0,
        status: int = 503,
        after: int = 0,
        elsewhere: int = 0,
    ) -> None:
        """Script the next ``times`` matching calls to fail with ``kind``.

        ``after`` lets that many matching calls through first; ``elsewhere`` posts
        that many filler posts by the user after the faulty call (see
        ``Fault``), e.g. a busy account whose post sinks below the lookup's pages.
        """
        if endpoint is not None and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        if after < 0 or elsewhere < 0:
            raise ValueError("after and elsewhere must not be negative")
        self._faults.script(
            Fault(kind, endpoint, delay, status, after=after, elsewhere=elsewhere)
            for _ in range(times)
        )

    def set_fault_rate(
        self,
        rate: float,
        kinds: Sequence[FaultKind],
        *,
        seed: int = 0,
        endpoint: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Fail a seeded random share of calls with one of ``kinds``."""
        self._faults.set_rate(rate, kinds, seed=seed, endpoint=endpoint, delay=delay)

    def clear_faults(self) -> None:
        self._faults.clear()

    def reset(self) -> None:
        """Forget posts, media, calls, quotas and faults."""
        self._reset_state()

    # -- routing -------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        def metered(
            endpoint: str, work: Work
        ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
            async def handler(request: web.Request) -> web.StreamResponse:
                return await self._serve(request, endpoint, work)

            return handler

        for route in self.api.routes():
            handler = metered(route.endpoint, route.work)
            if route.method == "GET":
                app.router.add_get(route.path, handler)  # GET and HEAD
            else:
                app.router.add_route(route.method, route.path, handler)
        app.router.add_get("/_control/posts", self._control_posts)
        app.router.add_get("/_control/media", self._control_media)
        app.router.add_get("/_control/calls", self._control_calls)
        app.router.add_get("/_control/quota", self._control_quota)
        app.router.add_post("/_control/faults", self._control_inject)
        app.router.add_post("/_control/fault_rate", self._control_fault_rate)
        app.router.add_delete("/_control/faults", self._control_clear_faults)
        app.router.add_post("/_control/advance", self._control_advance)
        app.router.add_post("/_control/reset", self._control_reset)
        app.router.add_route("*", "/{tail:.*}", self._not_found)

    async def _not_found(self, request: web.Request) -> web.Response:
        self._record(request, None, 404)
        body = {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}
        return web.json_response(body, status=404)

    def _record(
        self,
        request: web.Request,
        endpoint: str | None,
        status: int | None,
        *,
        fault: FaultKind | None = None,
        auth_error: str | None = None,
    ) -> None:
        host = request.headers.get("X-Original-Host") or request.host
        self._calls.append(
            CallRecord(
                seq=len(self._calls) + 1,
                at=self.now(),
                method=request.method,
                path=request.raw_path,
                host=host,
                host_header=request.host,
                original_url=original_url(host, request.raw_path),
                endpoint=endpoint,
                status=status,
                fault=fault,
                auth_error=auth_error,
            )
        )

    async def _serve(self, request: web.Request, endpoint: str, work: Work) -> web.StreamResponse:
        """Authenticate, inject faults, meter, run ``work``; the order X applies them."""
        form_params: list[tuple[str, str]] = []
        if request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            form_params = [(k, v) for k, v in form.items() if isinstance(v, str)]
        failure = verify_oauth1(
            method=request.method,
            host=request.headers.get("X-Original-Host") or request.host,
            raw_path=request.raw_path,
            authorization=request.headers.get("Authorization"),
            form_params=form_params,
            credentials=self._credentials,
            seen_nonces=self._nonces,
        )
        if failure is not None:
            log.info("fake X refused %s %s: %s", request.method, request.path, failure.reason)
            self._record(request, endpoint, 401, auth_error=failure.reason)
            return web.json_response(problem(401, "Unauthorized", "Unauthorized"), status=401)

        quota = self._quotas[endpoint]
        fault = self._faults.take(endpoint)
        if fault is not None:
            early = await self._apply_fault_before(request, endpoint, fault, quota)
            if early is not None:
                self._post_elsewhere(fault.elsewhere)
                return early

        if not quota.try_consume(self.now()):
            self._record(request, endpoint, 429)
            return too_many(quota.view(self.now()))
        try:
            status, body = await work(request, endpoint)
        except RequestError as error:
            status, body = error.status, error.body
        if fault is not None:
            self._post_elsewhere(fault.elsewhere)
        headers = rate_limit_headers(quota.view(self.now()))
        if fault is not None and fault.kind is FaultKind.DROP_AFTER:
            self._record(request, endpoint, None, fault=fault.kind)
            return drop_connection(request)
        self._record(request, endpoint, status, fault=fault.kind if fault else None)
        if fault is not None and fault.kind is FaultKind.SLOW:
            # X acted; only the answer is late (a client timeout cannot tell).
            await asyncio.sleep(fault.delay)
        return web.json_response(body, status=status, headers=headers)

    def _post_elsewhere(self, count: int) -> None:
        """The user posts ``count`` times outside this app: no quota of it is spent."""
        for n in range(count):
            self.api.add_post(f"posted elsewhere {n + 1}/{count}")

    async def _apply_fault_before(
        self, request: web.Request, endpoint: str, fault: Fault, quota: EndpointQuota
    ) -> web.StreamResponse | None:
        if fault.kind in (FaultKind.SLOW, FaultKind.DROP_AFTER):
            return None  # both act first: see _serve
        self._record(
            request,
            endpoint,
            None if fault.kind is FaultKind.DROP_BEFORE else fault_status(fault),
            fault=fault.kind,
        )
        if fault.kind is FaultKind.RATE_LIMIT:
            return too_many(quota.view(self.now()))
        if fault.kind is FaultKind.SERVER_ERROR:
            status = fault.status
            title = "Service Unavailable" if status == 503 else "Internal Server Error"
            return web.json_response(problem(status, title, title), status=status)
        return drop_connection(request)

    # -- control API (HTTP) ------------------------------------------------

    async def _control_posts(self, request: web.Request) -> web.Response:
        return control_json({"posts": [dataclasses.asdict(p) for p in self.posts()]})

    async def _control_media(self, request: web.Request) -> web.Response:
        return control_json({"media": [dataclasses.asdict(m) for m in self.media()]})

    async def _control_calls(self, request: web.Request) -> web.Response:
        return control_json({"calls": [dataclasses.asdict(c) for c in self.calls()]})

    async def _control_quota(self, request: web.Request) -> web.Response:
        endpoint = request.query.get("endpoint", CREATE_POST)
        if endpoint not in ENDPOINTS:
            return control_json({"error": f"unknown endpoint {endpoint!r}"}, status=400)
        return control_json(dataclasses.asdict(self.quota(endpoint)))

    async def _control_inject(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.inject(
                FaultKind(body["kind"]),
                times=int(body.get("times", 1)),
                endpoint=body.get("endpoint"),
                delay=float(body.get("delay", 0.0)),
                status=int(body.get("status", 503)),
                after=int(body.get("after", 0)),
                elsewhere=int(body.get("elsewhere", 0)),
            )
        except (KeyError, ValueError) as error:
            return control_json({"error": str(error)}, status=400)
        return control_json({"ok": True})

    async def _control_fault_rate(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.set_fault_rate(
                float(body["rate"]),
                [FaultKind(kind) for kind in body.get("kinds", [])],
                seed=int(body.get("seed", 0)),
                endpoint=body.get("endpoint"),
                delay=float(body.get("delay", 0.0)),
            )
        except (KeyError, ValueError) as error:
            return control_json({"error": str(error)}, status=400)
        return control_json({"ok": True})

    async def _control_clear_faults(self, request: web.Request) -> web.Response:
        self.clear_faults()
        return control_json({"ok": True})

    async def _control_advance(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.advance(float(body["seconds"]))
        return control_json({"now": self.now()})

    async def _control_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return control_json({"ok": True})


async def serve_fake_x(
    host: str,
    port: int,
    *,
    consumer_key: str,
    consumer_secret: str,
    access_token: str,
    access_token_secret: str,
    limits: XLimits | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a fake X API until cancelled (the ``weeklybot fake-x`` command)."""
    fake = FakeX(
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        access_token=access_token,
        access_token_secret=access_token_secret,
        limits=limits,
        host=host,
        port=port,
    )
    async with fake:
        log.info("fake X API listening on %s", fake.base_url)
        if on_ready is not None:
            on_ready(fake.base_url)
        await asyncio.Event().wait()
