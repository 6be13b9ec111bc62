"""X's rate-limit windows as its headers report them: plain data, no X library.

Apart from `publishers.x_client` so the pacer and `/status` read a quota without
loading tweepy and aiohttp in a bot that has no X target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class RateWindow:
    """One rate-limit window as X reported it."""

    limit: int
    remaining: int
    reset: int  # Unix epoch seconds


@dataclass(frozen=True, slots=True)
class XQuota:
    """Remaining quota of one endpoint: the 15-minute window and the 24-hour caps."""

    window_15m: RateWindow | None = None
    user_24h: RateWindow | None = None
    app_24h: RateWindow | None = None

    def blocked_until(self) -> int | None:
        """Latest reset among spent windows; None while every window has room."""
        resets = [
            window.reset
            for window in (self.window_15m, self.user_24h, self.app_24h)
            if window is not None and window.remaining <= 0
        ]
        return max(resets) if resets else None


_HEADER_PREFIXES: Final = (
    ("window_15m", "x-rate-limit"),
    ("user_24h", "x-user-limit-24hour"),
    ("app_24h", "x-app-limit-24hour"),
)


def quota_from_headers(headers: Mapping[str, str], previous: XQuota) -> XQuota:
    """Merge the rate-limit headers of one response into ``previous``.

    A window whose headers are absent or malformed keeps its previous value.
    """
    fields: dict[str, RateWindow | None] = {
        "window_15m": previous.window_15m,
        "user_24h": previous.user_24h,
        "app_24h": previous.app_24h,
    }
    for field_name, prefix in _HEADER_PREFIXES:
        try:
            fields[field_name] = RateWindow(
                limit=int(headers[f"{prefix}-limit"]),
                remaining=int(headers[f"{prefix}-remaining"]),
                reset=int(headers[f"{prefix}-reset"]),
            )
        except (KeyError, ValueError):
            continue
    return XQuota(**fields)
