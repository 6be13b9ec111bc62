"""Flood limits and injected faults of the fake Telegram.

Telegram's limits (Bots FAQ "My bot is hitting limits"; PLATFORMS.md §D.1) are
guidance, not contracts; the fake enforces them as sliding windows so that a
sender that is too eager meets a 429 in tests, the way it would in production:
a burst of 3 per chat per second, 20 per 60 s in a group or channel, 30 per
second overall. Every count is multiplied by ``scale``.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal[
    "retry_after", "server_error", "gateway_page", "slow", "drop_before", "drop_after"
]


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure of a Bot API call.

    - ``retry_after``: 429 with ``parameters.retry_after = seconds``; the wait
      counts as announced for the chat (early sends become violations);
    - ``server_error``: ``status`` (5xx) with an API error body;
    - ``gateway_page``: ``status`` (502) with an HTML page, as Telegram's front
      proxy answers when the API behind it is down (nothing was processed);
    - ``slow``: the call is processed, then answered after ``seconds`` (a
      "timeout" is a slow reply longer than the client's read timeout);
    - ``drop_before``: the connection closes before anything is recorded;
    - ``drop_after``: the call is processed and recorded, then the connection
      closes without an answer. The client cannot tell the two drops apart.
    """

    kind: FaultKind
    seconds: float = 0.0
    status: int = 500
    description: str = "Internal Server Error"

    @classmethod
    def retry_after(cls, seconds: int) -> Fault:
        return cls("retry_after", seconds=seconds)

    @classmethod
    def server_error(cls, status: int = 500, description: str = "Internal Server Error") -> Fault:
        return cls("server_error", status=status, description=description)

    @classmethod
    def gateway_page(cls, status: int = 502) -> Fault:
        return cls("gateway_page", status=status, description="Bad Gateway")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("slow", seconds=seconds)

    @classmethod
    def timeout(cls, seconds: float = 30.0) -> Fault:
        """A reply slower than the client waits (PTB's default read timeout is 5 s)."""
        return cls("slow", seconds=seconds)

    @classmethod
    def drop_before(cls) -> Fault:
        return cls("drop_before")

    @classmethod
    def drop_after(cls) -> Fault:
        return cls("drop_after")


@dataclass(slots=True)
class _Script:
    fault: Fault
    method: str | None
    remaining: int


@dataclass(frozen=True, slots=True)
class _Rate:
    fault: Fault
    method: str | None
    probability: float


class FaultPlan:
    """Faults to inject: scripted (the next N calls) first, then by seeded rate."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)
        self._scripts: list[_Script] = []
        self._rates: list[_Rate] = []

    def script(self, fault: Fault, *, method: str | None = None, times: int = 1) -> None:
        """Fail the next ``times`` calls of ``method`` (any method when None)."""
        self._scripts.append(_Script(fault, method, times))

    def rate(self, fault: Fault, probability: float, *, method: str | None = None) -> None:
        """Fail each call of ``method`` (any when None) with ``probability``."""
        self._rates.append(_Rate(fault, method, probability))

    def clear(self) -> None:
        self._scripts.clear()
        self._rates.clear()

    def next_fault(self, method: str) -> Fault | None:
        """Return the fault for this call, consuming a scripted one if any."""
        for script in self._scripts:
            if script.method in (None, method) and script.remaining > 0:
                script.remaining -= 1
                if script.remaining == 0:
                    self._scripts.remove(script)
                return script.fault
        for rate in self._rates:
            if rate.method in (None, method) and self._random.random() < rate.probability:
                return rate.fault
        return None


class FloodLimiter:
    """Sliding-window send limits per chat, per group/channel and overall."""

    PER_CHAT = (3, 1.0)  # burst of 3 in any 1 s
    PER_GROUP = (20, 60.0)  # groups and channels
    OVERALL = (30, 1.0)

    def __init__(self, scale: float = 1.0, clock: Callable[[], float] | None = None) -> None:
        self._scale = scale
        self._clock = clock or time.monotonic
        self._per_chat: dict[int, deque[float]] = {}
        self._overall: deque[float] = deque()
        self._announced: dict[int, float] = {}

    def _limit(self, base: int) -> int:
        return max(1, math.floor(base * self._scale))

    def announced_wait(self, chat_id: int) -> float:
        """Return seconds left of a retry_after announced for the chat (0 if none)."""
        return max(0.0, self._announced.get(chat_id, 0.0) - self._clock())

    def announce(self, chat_id: int, retry_after: int) -> None:
        until = self._clock() + retry_after
        self._announced[chat_id] = max(self._announced.get(chat_id, 0.0), until)

    def check(self, chat_id: int, *, grouped: bool, items: int = 1) -> int | None:
        """Return the retry_after for a send of ``items`` messages, or None if allowed.

        An allowed send is counted; a refused one is not, and its wait is announced.
        """
        now = self._clock()
        sent = self._per_chat.setdefault(chat_id, deque())
        waits = [
            _wait(sent, now, self._limit(self.PER_CHAT[0]), self.PER_CHAT[1], items),
            _wait(self._overall, now, self._limit(self.OVERALL[0]), self.OVERALL[1], items),
        ]
        if grouped:
            waits.append(_wait(sent, now, self._limit(self.PER_GROUP[0]), self.PER_GROUP[1], items))
        wait = max(waits)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self.announce(chat_id, retry_after)
            return retry_after
        for _ in range(items):
            sent.append(now)
            self._overall.append(now)
        _forget(sent, now, self.PER_GROUP[1])
        _forget(self._overall, now, self.OVERALL[1])
        return None


def _forget(times: deque[float], now: float, window: float) -> None:
    while times and times[0] <= now - window:
        times.popleft()


def _wait(times: deque[float], now: float, limit: int, window: float, items: int) -> float:
    """Seconds until ``items`` more sends fit in ``limit`` per ``window``."""
    recent = [t for t in times if t > now - window]
    excess = len(recent) + items - limit
    if excess <= 0:
        return 0.0
    if items > limit:
        return window
    return recent[excess - 1] + window - now
