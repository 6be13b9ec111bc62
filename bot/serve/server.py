"""The bot's own small HTTP server: /healthz, /metrics and GitHub's /github push hook.

aiohttp (already the fakes' and tweepy's), one `web.AppRunner` started and stopped by
`bot.app.bot_running` in polling and webhook mode alike. Telegram's updates do not come
here: in webhook mode PTB's own (tornado) server takes them and checks their secret token
(`bot.serve.webhook`). See ARCHITECTURE.md, "Webhooks, health and metrics".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import Settings
from bot.serve.github_push import judge_push, repository_of
from bot.serve.health import Health, judge_health
from bot.serve.metrics import Snapshot, render
from bot.weekly.watch import Watcher
from data.health import depths, oldest_due
from data.store import Store

log = logging.getLogger(__name__)

GITHUB_BODY_MAX = 25 * 1024 * 1024  # GitHub caps a delivery's payload at 25 MB
PROBE_COMPONENT = "healthz"


class OpsServer:
    """Serves the three routes over the running bot's store and watcher."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        watcher: Watcher,
        *,
        clock: Callable[[], float] = time.time,
        update_queue_length: Callable[[], int] = lambda: 0,
        storage_problem: Callable[[], Awaitable[str | None]] | None = None,
    ) -> None:
        self.settings = settings
        # The storage guard's outage, probed for the recovery first (`StorageGuard.
        # current_problem`): a full disk still takes the heartbeat's update in place.
        self.storage_problem = storage_problem
        self.update_queue_length = update_queue_length
        self.store = store
        self.watcher = watcher
        self.clock = clock
        self.repository = settings.server.github_repository or repository_of(settings.repo.url)
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one picked for port 0)."""
        return self._port

    async def start(self) -> None:
        app = web.Application(client_max_size=GITHUB_BODY_MAX)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_post("/github", self._github)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        server = self.settings.server
        site = web.TCPSite(runner, server.listen, server.port or 0)
        await site.start()
        self._runner = runner
        bound = site._server  # aiohttp exposes the bound port only here
        assert bound is not None
        self._port = bound.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        log.info("ops server listening", extra={"listen": server.listen, "port": self._port})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- /healthz ---

    async def health(self) -> Health:
        now = self.clock()
        error = None
        try:
            await self.store.beat(PROBE_COMPONENT, now=now)  # a real write proves writable
        except Exception as exc:  # any failure to write is the answer, not a crash
            error = f"{type(exc).__name__}: {exc}"
        if self.storage_problem is not None:
            error = await self.storage_problem() or error
        try:
            due = await oldest_due(self.store.db, now=now)
        except Exception as exc:
            due = None
            error = error or f"{type(exc).__name__}: {exc}"
        return judge_health(
            now=now,
            started_at=self.watcher.started_at,
            database_error=error,
            sources=self.watcher.sources(),
            records=self.watcher.board.records(),
            oldest_due_at=due,
            stale_factor=self.settings.server.stale_poll_factor,
            outbox_lag_seconds=self.settings.server.outbox_lag_seconds,
        )

    async def _healthz(self, request: web.Request) -> web.Response:
        health = await self.health()
        return web.json_response(health.to_json(), status=200 if health.ok else 503)

    # --- /metrics ---

    async def snapshot(self) -> Snapshot:
        now = self.clock()
        records = {r.name: r for r in self.watcher.board.records()}
        ages: dict[str, float | None] = {}
        for source in self.watcher.sources():
            ok_at = records[source.name].ok_at if source.name in records else None
            ages[source.label] = None if ok_at is None else now - ok_at
        try:
            found = await depths(self.store.db)
            due = await oldest_due(self.store.db, now=now)
        except Exception:
            log.warning("metrics: the database could not be read", exc_info=True)
            return Snapshot(
                poll_ok_age_seconds=ages, update_queue_length=self.update_queue_length()
            )
        return Snapshot(
            outbox_by_state=found.outbox,
            submissions_by_state=found.submissions,
            extra_queue_length=found.extra_queued,
            oldest_due_age_seconds=None if due is None else max(now - due, 0.0),
            poll_ok_age_seconds=ages,
            update_queue_length=self.update_queue_length(),
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        body = render(await self.snapshot())
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    # --- /github ---

    async def _github(self, request: web.Request) -> web.Response:
        secret = self.settings.server.github_secret
        if secret is None:
            raise web.HTTPNotFound(text="no GitHub webhook is configured")
        body = await request.read()
        verdict = judge_push(
            body,
            request.headers,
            secret=secret.get_secret_value().encode(),
            repository=self.repository,
            branch=self.settings.repo.branch,
        )
        delivery = request.headers.get("X-GitHub-Delivery", "")[:64]
        if verdict.action == "refuse":
            log.warning(
                "github webhook refused", extra={"reason": verdict.reason, "delivery": delivery}
            )
        elif verdict.action == "poll":
            woken = self.watcher.wake()
            log.info(
                "github push: polling the repository now",
                extra={"woken": woken, "delivery": delivery},
            )
        return web.Response(status=verdict.status, text=verdict.reason + "\n")
