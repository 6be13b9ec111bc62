"""State of the fake X API: limits, quota windows, posts, media, faults, call log.

Pure data and bookkeeping, no I/O; `bot.fakes.x` serves it over HTTP.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

FIFTEEN_MINUTES = 15 * 60.0
ONE_DAY = 24 * 3600.0

# Endpoint names used by limits, faults and the call log.
CREATE_POST = "create_post"  # POST /2/tweets
DELETE_POST = "delete_post"  # DELETE /2/tweets/{id}
MEDIA_UPLOAD = "media_upload"  # POST /2/media/upload (one shot)
MEDIA_INITIALIZE = "media_initialize"  # POST /2/media/upload/initialize
MEDIA_APPEND = "media_append"  # POST /2/media/upload/{id}/append
MEDIA_FINALIZE = "media_finalize"  # POST /2/media/upload/{id}/finalize
MEDIA_STATUS = "media_status"  # GET /2/media/upload?command=STATUS
USERS_ME = "users_me"  # GET /2/users/me
USER_POSTS = "user_posts"  # GET /2/users/{id}/tweets
ENDPOINTS = (
    CREATE_POST,
    DELETE_POST,
    MEDIA_UPLOAD,
    MEDIA_INITIALIZE,
    MEDIA_APPEND,
    MEDIA_FINALIZE,
    MEDIA_STATUS,
    USERS_ME,
    USER_POSTS,
)


@dataclass(frozen=True, slots=True)
class XLimits:
    """Request quotas; all numbers are configuration (PLATFORMS.md D.2).

    Defaults follow the 2026 per-endpoint table on docs.x.com (POST /2/tweets
    100 per 15 min per user, 10,000 per 24 h per app); X publishes no per-user
    24 h figure for that table, so ``post_user_24h`` defaults to the app one.
    The same table meters the user post timeline (GET /2/users/:id/tweets) at
    900 per 15 min per user; GET /2/users/me at 75 per 15 min per user is the
    users-lookup figure of the earlier v2 tables.
    """

    post_15m: int = 100
    post_user_24h: int = 10_000
    post_app_24h: int = 10_000
    delete_15m: int = 50
    media_15m: int = 500  # per media endpoint
    users_me_15m: int = 75
    user_posts_15m: int = 900
    duplicate_window: float = ONE_DAY  # a repeat of a post this recent is refused
    media_expires_after: int = 86_400
    processing_polls: int = 2  # STATUS polls before video/GIF processing succeeds
    check_after_secs: int = 1


@dataclass(frozen=True, slots=True)
class WindowView:
    """One quota window as the rate-limit headers show it."""

    limit: int
    remaining: int
    reset: int  # Unix epoch seconds


@dataclass(frozen=True, slots=True)
class QuotaView:
    """The fake's view of an endpoint's remaining quota for the configured user."""

    window_15m: WindowView
    user_24h: WindowView | None
    app_24h: WindowView | None


@dataclass(slots=True)
class QuotaWindow:
    """A fixed window that opens on the first request and resets ``duration`` later."""

    limit: int
    duration: float
    start: float | None = None
    used: int = 0

    def roll(self, now: float) -> None:
        if self.start is None or now >= self.start + self.duration:
            self.start = now
            self.used = 0

    def view(self, now: float) -> WindowView:
        if self.start is None or now >= self.start + self.duration:
            return WindowView(self.limit, self.limit, math.ceil(now + self.duration))
        return WindowView(
            self.limit, max(0, self.limit - self.used), math.ceil(self.start + self.duration)
        )


@dataclass(slots=True)
class EndpointQuota:
    """The windows one endpoint is metered by."""

    window_15m: QuotaWindow
    user_24h: QuotaWindow | None = None
    app_24h: QuotaWindow | None = None

    def windows(self) -> list[QuotaWindow]:
        return [w for w in (self.window_15m, self.user_24h, self.app_24h) if w is not None]

    def try_consume(self, now: float) -> bool:
        """Count one request; False (and nothing counted) when any window is spent."""
        for window in self.windows():
            window.roll(now)
        if any(window.used >= window.limit for window in self.windows()):
            return False
        for window in self.windows():
            window.used += 1
        return True

    def view(self, now: float) -> QuotaView:
        return QuotaView(
            window_15m=self.window_15m.view(now),
            user_24h=self.user_24h.view(now) if self.user_24h else None,
            app_24h=self.app_24h.view(now) if self.app_24h else None,
        )


def build_quotas(limits: XLimits) -> dict[str, EndpointQuota]:
    """Make fresh windows for every endpoint."""
    quotas = {
        CREATE_POST: EndpointQuota(
            QuotaWindow(limits.post_15m, FIFTEEN_MINUTES),
            QuotaWindow(limits.post_user_24h, ONE_DAY),
            QuotaWindow(limits.post_app_24h, ONE_DAY),
        ),
        DELETE_POST: EndpointQuota(QuotaWindow(limits.delete_15m, FIFTEEN_MINUTES)),
        USERS_ME: EndpointQuota(QuotaWindow(limits.users_me_15m, FIFTEEN_MINUTES)),
        USER_POSTS: EndpointQuota(QuotaWindow(limits.user_posts_15m, FIFTEEN_MINUTES)),
    }
    for name in ENDPOINTS:
        quotas.setdefault(name, EndpointQuota(QuotaWindow(limits.media_15m, FIFTEEN_MINUTES)))
    return quotas


def rate_limit_headers(view: QuotaView) -> dict[str, str]:
    """Headers X sends on every response of a metered endpoint."""
    headers = {
        "x-rate-limit-limit": str(view.window_15m.limit),
        "x-rate-limit-remaining": str(view.window_15m.remaining),
        "x-rate-limit-reset": str(view.window_15m.reset),
    }
    for prefix, window in (
        ("x-user-limit-24hour", view.user_24h),
        ("x-app-limit-24hour", view.app_24h),
    ):
        if window is not None:
            headers[f"{prefix}-limit"] = str(window.limit)
            headers[f"{prefix}-remaining"] = str(window.remaining)
            headers[f"{prefix}-reset"] = str(window.reset)
    return headers


@dataclass(frozen=True, slots=True)
class FakePost:
    """A post as the fake stored it."""

    id: str
    text: str
    author_id: str
    created_at: float
    reply_to: str | None = None
    media_ids: tuple[str, ...] = ()
    deleted: bool = False


class MediaState(StrEnum):
    UPLOADING = "uploading"  # initialized, segments arriving
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FakeMedia:
    """An upload as the fake stored it (bytes left out)."""

    id: str
    media_key: str
    media_type: str
    category: str
    total_bytes: int
    state: MediaState
    expires_at: float
    chunked: bool


@dataclass(slots=True)
class MediaUpload:
    """Mutable record of one upload while it is assembled and processed."""

    id: str
    media_key: str
    owner: str
    media_type: str
    category: str
    total_bytes: int
    created_at: float
    expires_at: float
    chunked: bool
    segments: dict[int, bytes] = field(default_factory=dict)
    state: MediaState = MediaState.UPLOADING
    polls_left: int = 0

    def received_bytes(self) -> int:
        return sum(len(chunk) for chunk in self.segments.values())

    def assembled(self) -> bytes:
        return b"".join(self.segments[i] for i in sorted(self.segments))

    def view(self) -> FakeMedia:
        return FakeMedia(
            id=self.id,
            media_key=self.media_key,
            media_type=self.media_type,
            category=self.category,
            total_bytes=self.total_bytes,
            state=self.state,
            expires_at=self.expires_at,
            chunked=self.chunked,
        )


class FaultKind(StrEnum):
    """Failures the fake can inject before (or after) doing the real work."""

    RATE_LIMIT = "rate_limit"  # 429 with X's body, nothing recorded
    SERVER_ERROR = "server_error"  # 5xx with X's problem body, nothing recorded
    SLOW = "slow"  # sleep ``delay`` seconds, then answer normally
    DROP_BEFORE = "drop_before"  # connection closed, nothing recorded
    DROP_AFTER = "drop_after"  # work done and recorded, then the connection closed


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure; ``endpoint`` None matches every endpoint.

    ``after``: that many matching calls pass untouched first (a fault on the
    second part of a thread). ``elsewhere``: once the call is served (or failed),
    that many posts by the same user land from elsewhere (X's own app, another tool),
    so the call's post sinks that far down the user's timeline.
    """

    kind: FaultKind
    endpoint: str | None = None
    delay: float = 0.0
    status: int = 503
    after: int = 0
    elsewhere: int = 0


@dataclass(slots=True)
class FaultPlan:
    """Scripted faults (consumed in order) plus an optional seeded random rate."""

    scripted: deque[Fault] = field(default_factory=deque)
    rate: float = 0.0
    rate_kinds: tuple[FaultKind, ...] = ()
    rate_endpoint: str | None = None
    rate_delay: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def script(self, faults: Iterable[Fault]) -> None:
        self.scripted.extend(faults)

    def set_rate(
        self,
        rate: float,
        kinds: Sequence[FaultKind],
        *,
        seed: int,
        endpoint: str | None,
        delay: float,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        if rate and not kinds:
            raise ValueError("a fault rate needs at least one kind")
        self.rate = rate
        self.rate_kinds = tuple(kinds)
        self.rate_endpoint = endpoint
        self.rate_delay = delay
        self.rng = random.Random(seed)

    def clear(self) -> None:
        self.scripted.clear()
        self.rate = 0.0
        self.rate_kinds = ()

    def take(self, endpoint: str) -> Fault | None:
        """Return the fault to apply to this call, if any."""
        for index, fault in enumerate(self.scripted):
            if fault.endpoint in (None, endpoint):
                if fault.after > 0:  # this call passes; the fault waits for a later one
                    self.scripted[index] = replace(fault, after=fault.after - 1)
                    return None
                self.scripted.remove(fault)
                return fault
        if self.rate and self.rate_endpoint in (None, endpoint) and self.rng.random() < self.rate:
            return Fault(self.rng.choice(self.rate_kinds), endpoint, delay=self.rate_delay)
        return None


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One request the fake received (control API calls excluded)."""

    seq: int
    at: float
    method: str
    path: str
    host: str  # X-Original-Host if sent, else the Host header
    host_header: str
    original_url: str
    endpoint: str | None
    status: int | None  # None when the connection was dropped
    fault: FaultKind | None = None
    auth_error: str | None = None
