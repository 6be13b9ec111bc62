"""When the roundup goes: the weekly slot (pure), and its job on PTB's JobQueue.

The slot (`roundup.weekday`, `roundup.time` in `roundup.timezone`, Sunday 18:00 in
Asia/Shanghai by default) is computed from an injected clock, and the job is a
`run_once` at the next slot that schedules the one after when it fires: a test moves
the clock and sees it fire, and nothing depends on the host's time zone. The job holds
only a wake-up; what ran is in the database (`data.roundups`), so a restart rebuilds
the job (`schedule`) and a slot missed while the bot was down is run at start if it
is less than `CATCH_UP` old and the bot had made a roundup before (a new bot never
posts one it was not running for).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.ext import JobQueue

from bot.config import RoundupSettings, TelegramSettings
from bot.delivery.jobs import JobContext, job_data
from bot.delivery.workers import DeliveryPool
from bot.editors.kit import ChatSpacer, EditorChats
from bot.roundup.report import run_report
from bot.roundup.service import RoundupService, RunResult

log = logging.getLogger(__name__)

JOB_NAME = "roundup"
CATCH_UP = dt.timedelta(hours=6)


def next_slot(after: dt.datetime, *, weekday: int, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The first slot strictly after `after` (`weekday`: Monday 0 … Sunday 6)."""
    local = after.astimezone(zone)
    day = local.date() + dt.timedelta(days=(weekday - local.weekday()) % 7)
    slot = dt.datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)
    if slot <= local:
        slot = dt.datetime.combine(day + dt.timedelta(days=7), at.replace(tzinfo=None), tzinfo=zone)
    return slot


def last_slot(
    at_or_before: dt.datetime, *, weekday: int, at: dt.time, zone: ZoneInfo
) -> dt.datetime:
    """The latest slot at or before `at_or_before`."""
    following = next_slot(at_or_before, weekday=weekday, at=at, zone=zone)
    day = following.date() - dt.timedelta(days=7)  # `following` is strictly after
    return dt.datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)


def slot_after(options: RoundupSettings, after: dt.datetime) -> dt.datetime:
    return next_slot(after, weekday=options.weekday_index, at=options.time, zone=options.zone)


@dataclass(frozen=True, slots=True)
class _Due:
    scheduler: RoundupScheduler
    slot: dt.datetime


class RoundupScheduler:
    """Keeps one `roundup` job on the JobQueue, at the next slot by `clock`."""

    def __init__(
        self,
        service: RoundupService,
        pool: DeliveryPool,
        telegram: TelegramSettings,
        *,
        spacer: ChatSpacer | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.service = service
        self.options = service.options
        self.pool = pool
        self.telegram = telegram
        self.spacer = spacer or ChatSpacer()
        self.clock = clock or service.clock
        self.slot: dt.datetime | None = None

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def schedule(
        self, job_queue: JobQueue[Any], *, after: dt.datetime | None = None
    ) -> dt.datetime:
        """(Re)place the job at the first slot after `after` (default: now); the slot."""
        slot = slot_after(self.options, max(self.now(), after) if after else self.now())
        for job in job_queue.get_jobs_by_name(JOB_NAME):
            job.schedule_removal()
        delay = max(0.0, slot.timestamp() - self.clock())
        job_queue.run_once(roundup_job, when=delay, data=_Due(self, slot), name=JOB_NAME)
        self.slot = slot
        log.info("roundup scheduled", extra={"slot": slot.isoformat(), "in_seconds": round(delay)})
        return slot

    async def catch_up(self, job_queue: JobQueue[Any]) -> dt.datetime | None:
        """Run now a slot missed while the bot was down (see the module's note); its time."""
        options = self.options
        now = self.now()
        missed = last_slot(now, weekday=options.weekday_index, at=options.time, zone=options.zone)
        if now - missed > CATCH_UP:
            return None
        roundups = self.service.store.roundups
        if await roundups.latest() is None or await roundups.get(missed.date()) is not None:
            return None
        job_queue.run_once(roundup_job, when=0, data=_Due(self, missed), name=f"{JOB_NAME}:late")
        log.info("roundup caught up", extra={"slot": missed.isoformat()})
        return missed

    async def fire(self, bot: Bot, slot: dt.datetime) -> RunResult:
        """The slot's run: queue the roundup once, wake delivery, tell the editors."""
        result = await self.service.run(slot)
        if result.prepared is None:
            return result
        roundup = result.prepared.roundup
        if result.prepared.posts:
            self.pool.wake()
        editors = EditorChats.of(bot, self.telegram, spacer=self.spacer)
        report = run_report(roundup, days=self.options.lookback_days)
        await editors.send(report, html=False, best_effort=True, what="the roundup report")
        return result


async def roundup_job(context: JobContext) -> None:
    due = job_data(context, _Due)
    scheduler = due.scheduler
    if context.job is not None and context.job.name == JOB_NAME and context.job_queue is not None:
        scheduler.schedule(context.job_queue, after=due.slot)  # the next one, first
    await scheduler.fire(context.bot, due.slot)
