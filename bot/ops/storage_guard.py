"""When the database cannot record: tell the editors, stop taking work, find the recovery.

`data.db.Database` maps SQLite's "disk full", "read-only" and "disk I/O error" to one
`StorageUnavailable` and tells its `on_unavailable` listener; `StorageGuard` is that
listener. From the first such error until a probe proves the database can record again
the guard is *down*:

- the editors are told once, with what failed, the path and the fix; and told again
  once it recovered (how long, how much work was refused meanwhile);
- `handlers.storage` refuses, before any handler runs, the work that would have to be
  recorded (`/submit`, `/extra`, every button press, the editors' commands that change
  something), and the PTB error handler answers the same refusal to a handler whose
  write failed first (the one that tripped the guard): nothing was changed;
- the delivery workers claim and send nothing (`DeliveryWorker.gate`): a send whose
  outcome could not be recorded would be resent later as if it never went out;
- `/healthz` reports the database not writable, `/status` says so first.

The probe (`Database.probe_writable`, every `PROBE_SECONDS` by a JobQueue job, only while
down) is a write that needs fresh pages, a committed write and the disk's free space;
`BEGIN IMMEDIATE; ROLLBACK` alone passes on a full disk. When it passes, the guard is up:
the workers are woken and everything resumes.

The state is plain and in memory: a restarted bot starts up and trips again at its first
failed write (or at the start's migrations, which refuse to start on a read-only file).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.texts import text
from data.db import Database, StorageKind, StorageUnavailable

log = logging.getLogger(__name__)

PROBE_SECONDS = 15.0  # how often a down guard probes for the recovery

_WHAT: dict[StorageKind, str] = {
    "full": "its disk is full",
    "read-only": "its database is read-only",
    "io": "its disk fails (I/O error)",
}

Tell = Callable[[str], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Outage:
    """What is down now: the first error of the outage and since when."""

    kind: StorageKind
    path: str
    detail: str
    fix: str
    since: float

    @property
    def what(self) -> str:
        return _WHAT[self.kind]

    def problem(self) -> str:
        """One line for /healthz and the log."""
        return (
            f"storage unavailable since {self.since:.0f}: {self.what} ({self.path}: {self.detail})"
        )


class StorageGuard:
    """Up or down, from the database's own errors and the probe; see the module."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self.outage: Outage | None = None
        self.refused = 0  # work refused during the current (or last) outage
        self.outages = 0  # outages since start (tests, the bench)
        self._up = asyncio.Event()
        self._up.set()
        self._tell: Tell | None = None
        self._told_down = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake: list[Callable[[], None]] = []
        db.on_unavailable = self.tripped

    @property
    def writable(self) -> bool:
        return self.outage is None

    def attach(self, tell: Tell, *, wake: Callable[[], None] | None = None) -> None:
        """Where the editors hear (`EditorChats.send`) and who to wake on recovery.

        The notices are sent to the editors' chats directly, not through the outbox:
        the outbox is a table of the database that cannot be written, so a notice
        queued there would be lost with the error it reports (and the workers are
        stopped). A lost notice costs nothing recorded; the log has the same line.
        """
        self._tell = tell
        if wake is not None:
            self._wake.append(wake)
        if self.outage is not None and not self._told_down:
            self._notify_down(self.outage)

    def tripped(self, exc: StorageUnavailable) -> None:
        """`Database.on_unavailable`: a write failed for want of storage (synchronous)."""
        if self.outage is not None:
            return
        outage = Outage(exc.kind, exc.path, exc.detail, exc.fix, self._clock())
        self.outage = outage
        self.outages += 1
        self.refused = 0
        self._told_down = False
        self._up.clear()
        log.error("storage unavailable: not taking work", extra={"problem": outage.problem()})
        self._notify_down(outage)

    def refusal(self) -> None:
        """Count one piece of work refused (the recovery notice says how many)."""
        self.refused += 1

    async def wait_writable(self) -> None:
        """Return once the storage is up (at once when it is)."""
        await self._up.wait()

    async def check(self) -> bool:
        """Probe while down; True when up (the recovery is announced here)."""
        outage = self.outage
        if outage is None:
            return True
        try:
            await self._db.probe_writable(now=self._clock())
        except StorageUnavailable as exc:
            log.info("storage still unavailable", extra={"error": str(exc)})
            return False
        self.outage = None
        self._up.set()
        minutes = max(0.0, self._clock() - outage.since) / 60
        log.warning(
            "storage recovered: taking work again",
            extra={"minutes": round(minutes, 2), "refused": self.refused},
        )
        for wake in self._wake:
            wake()
        if self._tell is not None:
            notice = text("storage.recovered", minutes=f"{minutes:.0f}", refused=self.refused)
            await self._send(notice)
        return True

    def status_line(self) -> str | None:
        """The first line of /status while down (Telegram HTML), else None."""
        outage = self.outage
        if outage is None:
            return None
        return text("storage.status", what=outage.what, refused=self.refused)

    def problem(self) -> str | None:
        """/healthz's database error while down, else None."""
        return None if self.outage is None else self.outage.problem()

    async def current_problem(self) -> str | None:
        """`problem` after a probe: /healthz asked while down checks for the recovery."""
        await self.check()
        return self.problem()

    async def drain(self) -> None:
        """Wait for a notice still being sent (at shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _notify_down(self, outage: Outage) -> None:
        if self._tell is None:
            return
        self._told_down = True
        notice = text(
            "storage.down", what=outage.what, path=outage.path, detail=outage.detail, fix=outage.fix
        )
        task = asyncio.get_running_loop().create_task(self._send(notice), name="storage-notice")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, notice: str) -> None:
        assert self._tell is not None
        try:
            await self._tell(notice)
        except Exception:  # the log already has it; a notice must not stop anything
            log.exception("storage notice not sent")


async def storage_probe_job(guard: StorageGuard) -> None:
    """The periodic job's body: a no-op while up."""
    await guard.check()
