"""Watching the weekly: poll the repository and the feeds on PTB's JobQueue.

The repository is the canonical source; a feed entry that names an issue only
makes the repository poll sooner (the blog and Substack may publish before the
next scheduled fetch). One repository poll runs at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from telegram.ext import JobQueue

from bot.config import Settings, without_credentials
from bot.delivery.jobs import JobContext, job_data
from bot.serve.metrics import POLL_SECONDS, SOURCE_ERRORS
from bot.weekly.ingest import EventSink, Ingester, RepoPoll, poll_repo
from bot.weekly.sources.feed import FeedOptions, FeedSource
from bot.weekly.sources.git_repo import GitRepoSource, RepoOptions
from data.store import Store

log = logging.getLogger(__name__)


def repo_options(settings: Settings) -> RepoOptions:
    repo = settings.repo
    return RepoOptions(
        mirror_dir=settings.mirror_dir,
        url=repo.url,
        branch=repo.branch,
        langs=repo.langs,
        git_timeout_seconds=repo.git_timeout_seconds,
    )


def feed_options(settings: Settings) -> list[FeedOptions]:
    feeds = settings.feeds
    return [
        FeedOptions(
            url=url,
            title_pattern=feeds.title_pattern,
            poll_seconds=feeds.poll_seconds,
            timeout_seconds=feeds.timeout_seconds,
            max_body_bytes=feeds.max_body_bytes,
        )
        for url in feeds.urls
    ]


@dataclass(frozen=True, slots=True)
class PollRecord:
    """One source's polls as this run saw them: when last, when next, the last error."""

    name: str  # the `source_state` name: "github:owner/repo", "feed:https://…"
    last_at: float | None = None  # None: not polled yet in this run
    next_at: float | None = None
    error: str | None = None  # of the last poll; None when it went well
    ok_at: float | None = None  # the last poll that went well, in this run (/healthz)


class WatchBoard:
    """What `/status` shows of the sources, and the one lock on the repository mirror.

    Kept in memory on purpose: an idle poll writes nothing to the database (one `git
    fetch`, one 304; `bench/poll_idle.py`), so the last and next poll times live here,
    while the last error and the failure count are `source_state`'s, which survive a
    restart. `BotServices` holds one; the `Watcher` and `/backfill` share its lock, so
    two git commands never run on the mirror at once.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.repo_lock = asyncio.Lock()
        self.clock = clock
        self._records: dict[str, PollRecord] = {}

    def planned(self, name: str, next_at: float) -> None:
        """A source is scheduled: its first poll is due at `next_at`."""
        previous = self._records.get(name, PollRecord(name))
        self._records[name] = PollRecord(
            name, previous.last_at, next_at, previous.error, previous.ok_at
        )

    def polled(self, name: str, *, next_at: float, error: str | None) -> None:
        now = self.clock()
        previous = self._records.get(name, PollRecord(name))
        ok_at = now if error is None else previous.ok_at
        self._records[name] = PollRecord(name, now, next_at, error, ok_at)

    def records(self) -> tuple[PollRecord, ...]:
        return tuple(self._records.values())


REPO_LABEL = "repo"


def feed_label(url: str) -> str:
    """A feed as /metrics and /healthz name it: its URL without credentials."""
    return f"feed:{without_credentials(url)}"


@dataclass(frozen=True, slots=True)
class WatchedSource:
    name: str  # the board's (and `source_state`'s) name
    label: str  # safe to show: never a credential of the repository URL
    interval: float  # seconds between its scheduled polls


class Watcher:
    """The bot's sources, and what to do with what they find."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        http: httpx.AsyncClient,
        deliver: EventSink,
        *,
        board: WatchBoard | None = None,
    ) -> None:
        self.repo = GitRepoSource(repo_options(settings)) if settings.repo.enabled else None
        self.ingester = Ingester(store, source_name=self.repo.name if self.repo else "repo:off")
        self.feeds = [FeedSource(options, store, http) for options in feed_options(settings)]
        self.board = board or WatchBoard()
        self._deliver = deliver
        self._repo_lock = self.board.repo_lock
        self._settings = settings
        self._wake_task: asyncio.Task[None] | None = None
        self._wake_again = False
        self.wakes = 0  # how many times `wake` was asked (observable: tests, the bench)
        self.started_at = self.board.clock()
        for source in self.sources():  # each source's series at 0 before its first poll
            SOURCE_ERRORS.labels(source.label)

    async def poll_repo(self) -> RepoPoll | None:
        if self.repo is None:
            return None
        async with self._repo_lock:
            started = time.perf_counter()
            result = await poll_repo(self.repo, self.ingester, self._deliver)
            POLL_SECONDS.labels(REPO_LABEL).observe(time.perf_counter() - started)
        if result.error:
            SOURCE_ERRORS.labels(REPO_LABEL).inc()
        self.board.polled(
            self.repo.name,
            next_at=self.board.clock() + self._settings.repo.poll_seconds,
            error=result.error,
        )
        log.log(
            logging.DEBUG if result.status == "idle" else logging.INFO,  # idle: every few minutes
            "repository polled",
            extra={"status": result.status, "events": len(result.events), "error": result.error},
        )
        return result

    async def poll_feeds(self) -> None:
        """Poll the feeds that are due; a new issue entry triggers a repository poll."""
        announced = False
        for feed in self.feeds:
            if not feed.due():
                continue
            started = time.perf_counter()
            result = await feed.poll()
            POLL_SECONDS.labels(feed_label(feed.options.url)).observe(time.perf_counter() - started)
            if result.error:
                SOURCE_ERRORS.labels(feed_label(feed.options.url)).inc()
            self.board.polled(feed.name, next_at=result.next_poll_at, error=result.error)
            if result.error:
                log.warning("feed poll failed", extra={"feed": feed.name, "error": result.error})
            announced |= any(entry.number is not None for entry in result.entries)
        if announced:
            await self.poll_repo()

    def wake(self) -> bool:
        """Poll the repository now (GitHub's push hook), beside the scheduled job.

        Wakes coalesce: while a woken poll runs, any number of further wakes make one
        more poll after it (a push that landed after its fetch is not missed). The
        repository lock keeps it from running beside the job's poll. False: no repository.
        """
        if self.repo is None:
            return False
        self.wakes += 1
        if self._wake_task is not None and not self._wake_task.done():
            self._wake_again = True
            return True
        self._wake_task = asyncio.create_task(self._woken(), name="poll:repo:woken")
        return True

    async def _woken(self) -> None:
        while True:
            self._wake_again = False
            try:
                await self.poll_repo()
            except Exception:  # the scheduled job polls again; the bot keeps running
                log.exception("woken repository poll failed")
            if not self._wake_again:
                return

    async def close(self) -> None:
        """Cancel a woken poll still running (the bot is stopping)."""
        if self._wake_task is not None and not self._wake_task.done():
            self._wake_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._wake_task

    def sources(self) -> tuple[WatchedSource, ...]:
        """Each source's board name, its label in /healthz and /metrics, and its interval."""
        found = []
        if self.repo is not None:
            interval = self._settings.repo.poll_seconds
            found.append(WatchedSource(self.repo.name, REPO_LABEL, interval))
        found.extend(
            WatchedSource(f.name, feed_label(f.options.url), f.options.poll_seconds)
            for f in self.feeds
        )
        return tuple(found)

    def schedule(self, job_queue: JobQueue[Any]) -> None:
        now = self.board.clock()
        if self.repo is not None:
            self.board.planned(self.repo.name, now + 1)
            job_queue.run_repeating(
                repo_job,
                interval=self._settings.repo.poll_seconds,
                first=1,
                data=self,
                name="poll:repo",
            )
        for feed in self.feeds:
            self.board.planned(feed.name, now + 2)
        if self.feeds:
            job_queue.run_repeating(
                feeds_job,
                interval=min(f.options.poll_seconds for f in self.feeds) / 4,
                first=2,
                data=self,
                name="poll:feeds",
            )


async def repo_job(context: JobContext) -> None:
    await job_data(context, Watcher).poll_repo()


async def feeds_job(context: JobContext) -> None:
    await job_data(context, Watcher).poll_feeds()
