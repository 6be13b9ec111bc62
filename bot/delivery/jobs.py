"""The core's side of PTB's JobQueue: what job callbacks receive, and the outbox wake-ups.

A core job takes what it needs from its `job.data`, set when it is scheduled (the
watcher, the delivery pool), never from `bot_data`: that is the handlers' typed state
(`handlers.context`), and the core does not import the handler layer.

Wake-ups: a scheduled outbox row keeps its `next_attempt_at` in the database, so a
restart loses nothing; a `run_once` job per distinct due second only makes the
delivery workers look at once when a row becomes due, instead of at their next idle
check. `rebuild_wakeups` adds them again at start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TypeAlias, TypeVar

from telegram.ext import CallbackContext, JobQueue

from bot.delivery.workers import DeliveryPool
from data.store import Store

# Whatever bot and data types the Application was built with: core jobs read none of them.
JobContext: TypeAlias = CallbackContext[Any, Any, Any, Any]

WAKE_PREFIX = "wake:"

_T = TypeVar("_T")


def job_data(context: JobContext, kind: type[_T]) -> _T:
    """The `data` the running job was scheduled with, checked to be a `kind`."""
    assert context.job is not None, "called outside a job"
    data = context.job.data
    assert isinstance(data, kind), f"job data is {type(data).__name__}, not {kind.__name__}"
    return data


async def wake_job(context: JobContext) -> None:
    """A scheduled row is due: wake the delivery workers (the rows stay in the outbox)."""
    job_data(context, DeliveryPool).wake()


def schedule_wakeups(job_queue: JobQueue[Any], due: Iterable[float], pool: DeliveryPool) -> int:
    """One `run_once` wake-up per distinct due second; returns how many were added."""
    added = 0
    for ts in sorted(set(due)):
        name = f"{WAKE_PREFIX}{ts:.0f}"
        if job_queue.get_jobs_by_name(name):
            continue
        job_queue.run_once(
            wake_job, when=dt.datetime.fromtimestamp(ts, dt.UTC), name=name, data=pool
        )
        added += 1
    return added


async def rebuild_wakeups(
    job_queue: JobQueue[Any], store: Store, pool: DeliveryPool, *, now: float | None = None
) -> int:
    """Add a wake-up for every future due time of queued rows; returns how many.

    Call once at start, after migrations. Rows already due need none: the workers
    take them on their first look.
    """
    at = dt.datetime.now(dt.UTC).timestamp() if now is None else now
    due = [
        row.next_attempt_at
        for row in await store.outbox.list_by_state("queued", limit=100_000)
        if row.next_attempt_at > at
    ]
    return schedule_wakeups(job_queue, due, pool)
