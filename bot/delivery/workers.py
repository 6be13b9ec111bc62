"""Delivery: one worker per target moves outbox rows to the platform, exactly once.

A row is claimed with a lease, paced, published, and only then recorded as
sent. Every failure is sorted by `publishers.errors`:

- surely not sent: retried with exponential backoff and jitter (bounded), or,
  when the platform refused it for good, `failed` with the reason for editors;
- may have been sent: `in_doubt`. Where a resend is safe (X refuses duplicate
  text, so a duplicate answer proves the first post went out) the row is
  queued again at once; elsewhere (Telegram) a `DoubtSettler`, when there is
  one, looks on the platform (`publishers.telegram_probe`); what it cannot
  prove either way goes to the editors as a card.

A lease that ran out (its worker died mid-send) is treated the same way,
whoever notices; live leases of other workers are never touched. A row is
claimed before the pacer's wait but recorded as started only when the call
begins, so a crash while waiting requeues it instead of raising a false doubt.

At start (`DeliveryWorker.recover`), a worker ends the leases of its own dead
predecessors on this host at once, and finds what a crash between two writes
left unseen: doubtful or failed rows whose card was never sent, and parts of a
group stranded behind a part dropped without the editors' choice. A platform's
"wait until" (`retry_after`, a spent X window) is persisted per target, so a
restarted bot does not post early. A target an editor paused (`/pause`, a row of
`target_pauses`) is skipped by the claim itself: its worker claims nothing until
`/resume`, and the other targets' workers go on.

While the database cannot record (disk full, read-only: `data.db.StorageUnavailable`,
the worker's `gate`, `bot.ops.storage_guard`), a worker claims and sends nothing: it
waits for the gate. Every record a send depends on comes before the send (the claim,
`mark_started`), so a failed one means no send; the gate is asked once more right
before `mark_started`. A send whose outcome then cannot be recorded (`mark_sent` fails)
is kept in memory and recorded first when the storage is back (`mark_sent` takes the
lease's owner even after the lease ran out and the row turned `in_doubt`); a crash
meanwhile leaves the row `sending`, so the usual in-doubt rules settle it. Claims this
worker holds but never began are given back at the recovery, not left to their lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx
from telegram.error import TelegramError

from bot.serve.metrics import POSTS_FAILED, POSTS_IN_DOUBT, POSTS_SENT, RATE_LIMITED
from data.db import StorageUnavailable
from data.outbox import OutboxRow, OutboxStore
from publishers.base import DoubtSettler, KnownPosts, Publisher, Settlement
from publishers.errors import AlreadyPosted, MaybeSent, PublishError, Rejected, RetryLater
from publishers.pacing import Pacer

log = logging.getLogger(__name__)

Clock = Callable[[], float]


def worker_owner(target: str) -> str:
    """A lease owner unique to this process run, so a restart never reuses a lease."""
    return f"{target}@{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


def predecessor_is_dead(owner: str, *, me: str) -> bool:
    """Is `owner` an earlier run of this bot on this host whose process is gone?

    Its pid is not running, or it is this process's own pid (a container restarts
    as pid 1): one bot runs per host and database, and `me` is this run. Owners of
    other hosts are never judged; their leases run out by themselves.
    """
    if owner == me:
        return False
    _, at, rest = owner.partition("@")
    host, _, pid_token = rest.partition(":")
    pid_text, _, token = pid_token.partition(":")
    if not at or not token or not pid_text.isdigit() or host != socket.gethostname():
        return False
    pid = int(pid_text)
    return pid == os.getpid() or not _pid_alive(pid)


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# A platform's answer or a broken connection: expected, worth one WARNING line.
# The publishers turn their own library's errors (tweepy, aiohttp) into PublishError; the
# checks and cards speak Telegram or plain HTTP. X's libraries are loaded only with X.
_HANDLED = (PublishError, TelegramError, httpx.HTTPError, TimeoutError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded in delay and in attempts."""

    base: float = 2.0
    factor: float = 2.0
    cap: float = 600.0
    max_attempts: int = 8

    def delay(self, attempts: int, rng: random.Random) -> float:
        ceiling = min(self.cap, self.base * self.factor ** max(0, attempts - 1))
        return ceiling / 2 + rng.random() * ceiling / 2  # "equal jitter"


class DeliveryNotices(Protocol):
    """Where the editors hear about rows that need a human."""

    async def in_doubt(self, row: OutboxRow) -> None: ...

    async def failed(self, row: OutboxRow) -> None: ...

    async def stranded(self, row: OutboxRow) -> None:
        """`row` was dropped and the later parts of its group wait: send them or not?"""
        ...

    async def posted_without_id(self, row: OutboxRow) -> None:
        """`row` is on the platform but its id was not found: a thread cannot go on."""
        ...


class StorageGate(Protocol):
    """Whether the database can record now (`bot.ops.storage_guard.StorageGuard`)."""

    @property
    def writable(self) -> bool: ...

    async def wait_writable(self) -> None: ...


class DeliveryWorker:
    def __init__(
        self,
        *,
        outbox: OutboxStore,
        publisher: Publisher,
        pacer: Pacer,
        notices: DeliveryNotices | None = None,
        settler: DoubtSettler | None = None,
        after_sent: Callable[[OutboxRow], Awaitable[None]] | None = None,
        owner: str | None = None,
        lease_seconds: float = 120.0,
        retry: RetryPolicy = RetryPolicy(),
        idle_poll: float = 1.0,
        clock: Clock = time.time,
        rng: random.Random | None = None,
        gate: StorageGate | None = None,
    ) -> None:
        self.target = publisher.target
        # Nothing is claimed or sent while the gate is closed (`DeliveryPool.gate` sets it).
        self.gate = gate
        # A send that went out whose `mark_sent` failed for want of storage: (row, remote id).
        self.unrecorded: tuple[OutboxRow, str] | None = None
        self.owner = owner or worker_owner(self.target)
        self._outbox = outbox
        self._publisher = publisher
        self._pacer = pacer
        self._notices = notices
        self.settler = settler
        self._after_sent = after_sent  # told of each row recorded as sent (never raises)
        self._lease = lease_seconds
        self._retry = retry
        self._idle_poll = idle_poll
        self._clock = clock
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._saved_hold = 0.0
        self.idling = False  # waiting for work (observable, for tests and a status line)
        for counter in (POSTS_SENT, POSTS_FAILED, POSTS_IN_DOUBT, RATE_LIMITED):  # series at 0
            counter.labels(self.target)

    @property
    def pacer(self) -> Pacer:
        """The target's pacer (what `/status` reads of its quota)."""
        return self._pacer

    def wake(self) -> None:
        """New rows were queued: stop idling."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; a send in flight is finished and recorded."""
        log.info("delivery worker started", extra={"target": self.target, "owner": self.owner})
        self._saved_hold = await self._outbox.hold_of(self.target)
        self._pacer.hold_until(self._saved_hold)
        while not stop.is_set():
            self._wake.clear()
            try:
                if self.gate is not None and not self.gate.writable:
                    await self._wait_for_storage(stop)
                    continue
                if self.unrecorded is not None:
                    await self._record_unrecorded()
                if not await self.step():
                    await self._idle(stop)
            except StorageUnavailable as exc:
                # The guard heard it from the database too; with no gate, retry later.
                log.warning("storage unavailable: not delivering", extra={"error": str(exc)})
                if self.gate is None:
                    await self._idle(stop)
        log.info("delivery worker stopped", extra={"target": self.target})

    async def _wait_for_storage(self, stop: asyncio.Event) -> None:
        """Claim nothing until the storage is back (or `stop`); then record what a
        failed write left in memory, and give back the claims that never began."""
        assert self.gate is not None
        log.warning("storage down: delivery waits", extra={"target": self.target})
        waiters = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self.gate.wait_writable()),
        ]
        self.idling = True
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.idling = False
            for waiter in waiters:
                waiter.cancel()
        if stop.is_set() or not self.gate.writable:
            return
        if self.unrecorded is not None:
            await self._record_unrecorded()
        # This worker's own live leases: none is in flight between steps.
        await self._outbox.expire_leases(
            self.target, dead=lambda owner: owner == self.owner, now=self._clock()
        )
        await self.reap()
        log.info("storage back: delivery resumes", extra={"target": self.target})

    async def _record_unrecorded(self) -> None:
        """Record the send a failed `mark_sent` left in memory (storage is back)."""
        assert self.unrecorded is not None
        row, remote_id = self.unrecorded
        recorded = await self._outbox.mark_sent(
            row.id, owner=self.owner, remote_id=remote_id, now=self._clock()
        )
        self.unrecorded = None
        log.info(
            "sent, recorded after the storage came back",
            extra={"outbox_id": row.id, "remote_id": remote_id, "recorded": recorded},
        )
        if recorded:
            POSTS_SENT.labels(self.target).inc()
            await self._sent_hook(row)

    async def step(self) -> bool:
        """Reap expired leases, then deliver at most one row. False when idle."""
        await self.reap()
        if self._pacer.ready_at() > self._clock():
            return False
        row = await self._outbox.claim_next(
            self.target, owner=self.owner, lease_seconds=self._lease, now=self._clock()
        )
        if row is None:
            return False
        await self._deliver(row)
        return True

    async def reap(self) -> None:
        reaped = await self._outbox.reap_expired_leases(
            now=self._clock(), target=self.target, requeue=self._publisher.resend_is_safe
        )
        for row in reaped:
            log.warning("lease expired mid-send", extra={"outbox_id": row.id})
            await self._doubt(row)

    async def recover(self) -> None:
        """At start: settle what a dead predecessor or a crash left behind.

        Leases of this host's dead runs end now (the reap then requeues or doubts
        them); rows whose card was lost get it (or, in doubt, their check); parts
        stranded behind a dropped part go to the editors. Never touches live leases
        of other hosts.
        """
        expired = await self._outbox.expire_leases(
            self.target,
            dead=lambda owner: predecessor_is_dead(owner, me=self.owner),
            now=self._clock(),
        )
        if expired:
            log.warning(
                "leases of a dead predecessor ended", extra={"target": self.target, "ids": expired}
            )
        await self.reap()
        for row in await self._outbox.unnoticed(self.target):
            if row.state == "in_doubt":
                await self._doubt(row)
            else:
                await self._notify("failed", row)
        for row in await self._outbox.stranded(self.target):
            log.warning("parts stranded behind a dropped part", extra={"outbox_id": row.id})
            await self._notify("stranded", row)

    async def _idle(self, stop: asyncio.Event) -> None:
        now = self._clock()
        wake_at = now + self._idle_poll
        due = await self._outbox.next_due_at(self.target)
        if due is not None and due > now:
            wake_at = min(wake_at, due)
        wake_at = max(wake_at, self._pacer.ready_at())
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        self.idling = True
        try:
            await asyncio.wait(
                waiters, timeout=max(0.001, wake_at - now), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            self.idling = False
            for waiter in waiters:
                waiter.cancel()

    async def _deliver(self, row: OutboxRow) -> None:
        extra = {"outbox_id": row.id, "target": self.target, "attempt": row.attempts}
        after_doubt = row.attempts > 1 and await self._was_in_doubt(row)
        await self._pacer.acquire()
        if self.gate is not None and not self.gate.writable:
            # Storage went down while waiting: not begun, so the claim is given back
            # (at the recovery, or when its lease runs out) and nothing was sent.
            log.warning("storage down while waiting to send; not sent", extra=extra)
            return
        if not await self._outbox.mark_started(
            row.id, owner=self.owner, lease_seconds=self._lease, now=self._clock()
        ):
            log.warning("lease lost while waiting to send; not sent", extra=extra)
            return
        try:
            await self._attempt(row, after_doubt, extra)
        finally:
            await self._save_hold()

    async def _save_hold(self) -> None:
        """Persist a hold the platform just imposed, so a restart honours it too."""
        hold = self._pacer.ready_at()
        if hold > self._saved_hold and hold > self._clock():
            await self._outbox.set_hold(self.target, hold, now=self._clock())
            self._saved_hold = hold

    async def _attempt(self, row: OutboxRow, after_doubt: bool, extra: dict[str, object]) -> None:
        try:
            receipt = await self._publisher.publish(
                row.payload, reply_to=row.parent_remote_id, after_doubt=after_doubt
            )
        except AlreadyPosted as exc:
            # The platform holds the post; its id is known only if the publisher found it.
            recorded = await self._outbox.mark_sent(
                row.id, owner=self.owner, remote_id=exc.remote_id or "", now=self._clock()
            )
            log.info(
                "resend refused as duplicate: the first attempt went out",
                extra={**extra, "remote_id": exc.remote_id or ""},
            )
            if recorded and not exc.remote_id:
                await self._notify("posted_without_id", row)
            if recorded:
                POSTS_SENT.labels(self.target).inc()
                await self._sent_hook(row)
        except RetryLater as exc:
            await self._retry_later(row, exc, extra)
        except Rejected as exc:
            await self._fail(row, str(exc), extra)
        except MaybeSent as exc:
            log.warning("may have been sent", extra={**extra, "error": str(exc)})
            await self._in_doubt(row, str(exc))
        except PublishError as exc:  # an unknown subclass: be safe, ask a human
            await self._in_doubt(row, str(exc))
        else:
            try:
                recorded = await self._outbox.mark_sent(
                    row.id, owner=self.owner, remote_id=receipt.remote_id, now=self._clock()
                )
            except StorageUnavailable:
                # Out on the platform, not in the database: kept until it can be written.
                self.unrecorded = (row, receipt.remote_id)
                log.error(
                    "sent but not recorded: storage unavailable",
                    extra={**extra, "remote_id": receipt.remote_id},
                )
                raise
            log.info("sent", extra={**extra, "remote_id": receipt.remote_id})
            if recorded:
                POSTS_SENT.labels(self.target).inc()
                await self._sent_hook(row)

    async def _sent_hook(self, row: OutboxRow) -> None:
        """Tell the `after_sent` hook; its failure is logged, never the delivery's."""
        if self._after_sent is None:
            return
        try:
            await self._after_sent(row)
        except Exception:
            log.exception("after-sent hook failed", extra={"outbox_id": row.id})

    async def _in_doubt(self, row: OutboxRow, error: str) -> None:
        """Record the doubt; where a resend is safe, the requeue is the same write."""
        safe = self._publisher.resend_is_safe
        marked = await self._outbox.mark_in_doubt(
            row.id, owner=self.owner, error=error, now=self._clock(), requeue=safe
        )
        if marked:
            POSTS_IN_DOUBT.labels(self.target).inc()
        if marked and not safe:
            await self._doubt(row)

    async def _retry_later(self, row: OutboxRow, exc: RetryLater, extra: dict[str, object]) -> None:
        now = self._clock()
        if exc.retry_after is not None:
            RATE_LIMITED.labels(self.target).inc()
            # The platform named the wait: honour it exactly, for the whole target.
            self._pacer.hold_until(now + exc.retry_after)
        if row.attempts >= self._retry.max_attempts:
            await self._fail(row, f"gave up after {row.attempts} attempts: {exc}", extra)
            return
        delay = exc.retry_after
        if delay is None:
            delay = self._retry.delay(row.attempts, self._rng)
        log.warning("retry later", extra={**extra, "delay": round(delay, 3), "error": str(exc)})
        await self._outbox.mark_retry(
            row.id, owner=self.owner, error=str(exc), next_attempt_at=now + delay, now=now
        )

    async def _fail(self, row: OutboxRow, error: str, extra: dict[str, object]) -> None:
        log.error("failed", extra={**extra, "error": error})
        if await self._outbox.mark_failed(row.id, owner=self.owner, error=error, now=self._clock()):
            POSTS_FAILED.labels(self.target).inc()
            await self._notify("failed", row)

    async def _doubt(self, row: OutboxRow) -> None:
        """A row went `in_doubt`: resend where that is safe, settle it by looking
        where a settler can, else ask the editors."""
        if self._publisher.resend_is_safe:
            await self._outbox.resolve_in_doubt(
                row.id, as_sent=False, actor=f"{self.target}:resend-check", now=self._clock()
            )
            return
        settlement = await self._settle(row)
        extra = {"outbox_id": row.id, "target": self.target, "reason": settlement.reason}
        if settlement.verdict == "unknown":
            log.info("doubt not settled: asking the editors", extra=extra)
            await self._notify("in_doubt", row)
            return
        # False: someone settled it meanwhile (a late mark_sent, an editor): nothing to do.
        if await self._outbox.resolve_in_doubt(
            row.id,
            as_sent=settlement.verdict == "sent",
            actor=f"{self.target}:probe",
            remote_id=settlement.remote_id,
            now=self._clock(),
        ):
            log.info("doubt settled", extra={**extra, "verdict": settlement.verdict})

    async def _settle(self, row: OutboxRow) -> Settlement:
        """Ask the settler; any failure of the check itself leaves the doubt to a human."""
        if self.settler is None:
            return Settlement("unknown", "no check for this target")
        claims = [e.at for e in await self._outbox.events(row.id) if e.to_state == "sending"]
        known = KnownPosts(
            claimed_at=claims[-1] if claims else row.updated_at,
            sent=tuple(await self._outbox.sent_remote_ids(self.target)),
        )
        try:
            return await self.settler.settle(row.payload, known)
        except _HANDLED as exc:  # the platform refused or the line broke: one line
            log.warning("doubt check failed: %s", _one_line(exc), extra={"outbox_id": row.id})
            return Settlement("unknown", f"check failed: {exc}")
        except Exception as exc:  # a broken check must not stop delivery
            log.exception("doubt check failed", extra={"outbox_id": row.id})
            return Settlement("unknown", f"check failed: {exc}")

    async def _notify(
        self,
        kind: Literal["in_doubt", "failed", "stranded", "posted_without_id"],
        row: OutboxRow,
    ) -> None:
        """Tell the editors; a card that cannot be sent must not stop delivery.

        The row's state is already recorded, so a lost card costs a reminder, while
        a worker killed by it (the card goes through the same flaky API) would
        stop the whole target until a restart.
        """
        fresh = await self._outbox.get(row.id)
        if self._notices is None or fresh is None:
            return
        notices = self._notices
        if kind == "in_doubt":
            notice = notices.in_doubt
        elif kind == "failed":
            notice = notices.failed
        elif kind == "stranded":
            notice = notices.stranded
        else:
            notice = notices.posted_without_id
        try:
            await notice(fresh)
        except _HANDLED as exc:  # a 429 or a 5xx on the card: one line, keep delivering
            log.warning(
                "editor card not sent: %s",
                _one_line(exc),
                extra={"outbox_id": row.id, "state": kind},
            )
            return
        except Exception:  # any other notifier failure: log it, keep delivering
            log.exception("editor card not sent", extra={"outbox_id": row.id, "state": kind})
            return
        if kind in ("in_doubt", "failed"):
            await self._outbox.mark_noticed(row.id, state=kind, now=self._clock())

    async def _was_in_doubt(self, row: OutboxRow) -> bool:
        return any(e.to_state == "in_doubt" for e in await self._outbox.events(row.id))


async def stop_workers(
    tasks: list[asyncio.Task[None]], stop: asyncio.Event, *, grace: float = 10.0
) -> None:
    """Stop claiming; give in-flight sends `grace` seconds to finish and be recorded.

    A send still running after that is cancelled; its lease then expires and the
    row turns `in_doubt` at the next start, which is the honest outcome.
    """
    stop.set()
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for task in done:
        if task.exception() is not None:
            log.error("delivery worker crashed", exc_info=task.exception())


class DeliveryPool:
    """The running workers, one per target: started with the bot, stopped with it."""

    def __init__(self) -> None:
        self.workers: list[DeliveryWorker] = []
        # Given to every worker at `start` that has none: the storage guard.
        self.gate: StorageGate | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, worker: DeliveryWorker) -> None:
        self.workers.append(worker)

    def start(self, *, recover: bool = True) -> None:
        """Start every worker; with `recover` (the bot's start) each first runs
        `DeliveryWorker.recover`."""
        self._stop.clear()
        for worker in self.workers:
            if worker.gate is None:
                worker.gate = self.gate
        self._tasks = [
            asyncio.create_task(self._run(w, recover), name=f"delivery:{w.target}")
            for w in self.workers
        ]

    async def _run(self, worker: DeliveryWorker, recover: bool) -> None:
        if recover:
            try:
                await worker.recover()
            except Exception:  # recovery is a sweep; delivery must still start
                log.exception("start-up sweep failed", extra={"target": worker.target})
        await worker.run(self._stop)

    def wake(self) -> None:
        """Rows were queued or requeued: every idle worker looks again now."""
        for worker in self.workers:
            worker.wake()

    async def stop(self, *, grace: float = 10.0) -> None:
        await stop_workers(self._tasks, self._stop, grace=grace)
        self._tasks = []
