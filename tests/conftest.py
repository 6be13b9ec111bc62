"""Shared fixtures and constants: loopback fakes of the outside world, the keys they accept."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from bot.config import Settings, settings_from_values
from bot.fakes.telegram import FAKE_TOKEN, FakeTelegram
from tests import network_guard

# Ids the Telegram fixture registers (private chat id = user id).
EDITOR_ID = 1001
READER_ID = 1002
CHANNEL_ID = -1001000000001
CHANNEL_USERNAME = "weeklybot_test"
TOKEN = FAKE_TOKEN
# The OAuth 1.0a keys FakeX is started with and every X client in the tests signs with.
X_CREDENTIALS = {
    "consumer_key": "fake-consumer-key",
    "consumer_secret": "fake-consumer-secret",
    "access_token": "4242-fake-access-token",
    "access_token_secret": "fake-access-token-secret",
}


# Locally every run draws new examples; CI (`.ci/run`) derandomises, so a landing
# never hangs on a lucky draw, and a failure found locally prints its reproduction.
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config: pytest.Config) -> None:
    """Guard the sockets from the start: collection imports code too."""
    del config
    network_guard.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    del config
    network_guard.uninstall()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every hypothesis property is `slow`: `make quick` leaves them to `make test`."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def network_guard_for_each_test() -> Iterator[network_guard.NetworkGuard]:
    """Fail a test that reached past loopback, even if the code under test swallowed it."""
    with network_guard.per_test() as guard:
        yield guard


@pytest.fixture
def fake_dns(network_guard_for_each_test: network_guard.NetworkGuard) -> network_guard.FakeDNS:
    """Opt in to resolving names: `fake_dns.add("feed.test", "10.0.0.7")`, offline.

    Connecting to what a name resolves to is still refused unless it is loopback.
    """
    del network_guard_for_each_test
    return network_guard.FakeDNS()


class ManualClock:
    """Time that moves only when a test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def settings_for(tg: FakeTelegram, tmp_path: Path, **extra: Any) -> Settings:
    """Settings for a bot talking to `tg`, no sources, its database under `tmp_path`."""
    return settings_from_values(
        {
            "telegram": {
                "token": TOKEN,
                "api_base_url": tg.base_url,
                "channel_id": CHANNEL_ID,
                "editor_ids": (EDITOR_ID,),
            },
            "repo": {"enabled": False},
            "feeds": {"urls": ()},
            "database_path": tmp_path / "state" / "weeklybot.db",
            **extra,
        }
    )


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A fresh fake Bot API on 127.0.0.1 with two users and one channel where the bot is admin.

    Flood limits are real (scale 1); tests that send in bursts pass their own
    FakeTelegram(limits_scale=…) or call ``fake_telegram.api.flood = None``.
    """
    async with FakeTelegram() as tg:
        tg.add_user(EDITOR_ID, "Editor", "editor")
        tg.add_user(READER_ID, "Reader", "reader")
        tg.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Python Trending Weekly")
        yield tg
