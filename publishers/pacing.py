"""Per-target pacing: the one place that decides when the next post may start.

Two kinds of rule live here, matching the two strategies PTB's `BaseRateLimiter`
names: *throttle always* (an `aiolimiter.AsyncLimiter` spaces sends at the
configured budget) and *react to the platform* (a hold until Telegram's
`retry_after` or X's reset has passed). The hold is ours, not PTB's: PTB 22.8's
`AIORateLimiter` releases waiting senders before `retry_after` expires when sends
are concurrent (PLATFORMS.md §A.8), so the outbox worker must keep the chat
closed itself.

Holds are kept in wall-clock seconds because X reports resets as Unix epochs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

from publishers.x_quota import XQuota

Clock = Callable[[], float]


def telegram_rate_limiter(*, global_per_second: float, posts_per_minute: float) -> AIORateLimiter:
    """PTB's limiter as a throttle only, for every Bot API call of the application.

    `max_retries=0`: a `RetryAfter` reaches the delivery worker, which holds the
    chat for exactly that long; this limiter could release waiters early (§A.8).
    Its group limit applies to channels and groups (negative chat ids).
    """
    return AIORateLimiter(
        overall_max_rate=global_per_second,
        overall_time_period=1,
        group_max_rate=posts_per_minute,
        group_time_period=60,
        max_retries=0,
    )


class Pacer(Protocol):
    def ready_at(self) -> float:
        """Wall-clock time before which no send may start (holds only)."""
        ...

    async def acquire(self) -> None:
        """Wait for the hold to pass and for the throttle's next slot."""
        ...

    def hold_until(self, until: float) -> None:
        """Keep the target closed until `until` (a platform told us to wait)."""
        ...


@runtime_checkable
class ReportsQuota(Protocol):
    """A pacer that knows what its platform said of the quota left (for `/status`)."""

    def quota(self) -> XQuota | None:
        """The windows the last response reported; None before any response."""
        ...


class _HoldingPacer:
    def __init__(self, limiters: tuple[AsyncLimiter, ...], clock: Clock) -> None:
        self._limiters = limiters
        self._clock = clock
        self._hold = 0.0

    def ready_at(self) -> float:
        return self._hold

    def hold_until(self, until: float) -> None:
        self._hold = max(self._hold, until)

    async def acquire(self) -> None:
        wait = self._hold - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)
        for limiter in self._limiters:
            await limiter.acquire()


class TelegramPacer(_HoldingPacer):
    """Evenly spaced channel posts: one every `60 / posts_per_minute` seconds.

    Even spacing (a bucket of one) rather than bursts keeps the per-chat
    one-message-per-second guidance and the 20-per-minute channel limit both
    satisfied at the configured rate, with no 429 to recover from.
    """

    def __init__(
        self, *, posts_per_minute: float, min_spacing: float = 0.0, clock: Clock = time.time
    ) -> None:
        self.interval = max(min_spacing, 60.0 / posts_per_minute)
        super().__init__((AsyncLimiter(1, self.interval),), clock)


class XPacer(_HoldingPacer):
    """X's quotas: configured budgets, corrected by the live headers.

    X allows bursts inside its windows, so the throttles are buckets the size
    of each quota; when the headers say a window is spent, the target is held
    until that window's reset.
    """

    def __init__(
        self, *, posts_per_15min: int, posts_per_24h: int, clock: Clock = time.time
    ) -> None:
        super().__init__(
            (AsyncLimiter(posts_per_15min, 15 * 60), AsyncLimiter(posts_per_24h, 24 * 3600)),
            clock,
        )
        self._quota: XQuota | None = None

    def quota(self) -> XQuota | None:
        return self._quota

    def observe(self, quota: XQuota) -> None:
        """Hold the target while any window the headers reported is spent."""
        self._quota = quota
        until = quota.blocked_until()
        if until is not None:
            self.hold_until(float(until))


class GitHubPacer(_HoldingPacer):
    """Issues a second apart at least, and within GitHub's content-creation limits.

    GitHub's best practices ask for a second between writes, and its secondary
    limits allow no more than 80 content-creating requests a minute and 500 an hour;
    a limit met anyway (its `retry-after`, a spent quota's reset) holds the target.
    """

    def __init__(self, *, min_spacing: float = 1.0, clock: Clock = time.time) -> None:
        limiters = [AsyncLimiter(80, 60), AsyncLimiter(500, 3600)]
        if min_spacing > 0:
            limiters.insert(0, AsyncLimiter(1, min_spacing))
        super().__init__(tuple(limiters), clock)
