"""/healthz and /metrics of the running bot, and `weeklybot healthcheck` asking them.

The bot runs whole (`bot_running`, long polling) on the fake Telegram with a real git
repository as its source; the server binds any free loopback port (`server.port = 0`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Runtime, bot_running
from bot.cli import main
from bot.config import render_settings, secret_values, settings_from_values
from bot.fakes.telegram import FakeTelegram, Fault
from bot.ops.maintenance import endpoint_health, endpoint_url
from bot.serve.health import Health, judge_health
from bot.weekly.watch import PollRecord, WatchedSource
from publishers.posts import TelegramPost, TelegramText
from tests.conftest import CHANNEL_ID, TOKEN, settings_for
from tests.delivery_support import eventually
from tests.test_source_git import Upstream
from tests.webhook_support import GITHUB_SECRET, WEBHOOK_SECRET, ops_server


@asynccontextmanager
async def running(
    tg: FakeTelegram, tmp_path: Path, *, repo_url: str | None = None, **server: Any
) -> AsyncIterator[Runtime]:
    """The bot with its server on, following `repo_url` (default: a fresh upstream)."""
    if repo_url is None:
        repo_url = Upstream(tmp_path / "upstream").root.as_uri()
    repo = {"url": repo_url, "mirror_dir": tmp_path / "mirror.git", "poll_seconds": 3600}
    settings = settings_for(tg, tmp_path, repo=repo, server=ops_server(**server))
    async with bot_running(settings) as runtime:
        yield runtime


async def polled(runtime: Runtime) -> None:
    """Wait for the repository's first poll (scheduled a second after the start)."""

    async def done() -> bool:
        return any(r.last_at is not None for r in runtime.watcher.board.records())

    await eventually(done)


async def get(runtime: Runtime, path: str) -> httpx.Response:
    assert runtime.ops is not None
    async with httpx.AsyncClient() as http:
        return await http.get(f"http://127.0.0.1:{runtime.ops.port}{path}")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition text: (name, sorted labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def read_only(runtime: Runtime, on: bool) -> Any:
    """SQLite's own switch: every write of the bot's connection is refused while on."""
    db = runtime.services.store.db

    async def switch() -> None:
        async with db.transaction(write=False) as tx:
            await tx.execute(f"PRAGMA query_only = {'ON' if on else 'OFF'}")

    return switch()


def healthcheck_config(runtime: Runtime, tg: FakeTelegram, path: Path) -> Path:
    """A config file for `weeklybot healthcheck` beside the running bot: its database, its
    server's port."""
    assert runtime.ops is not None
    settings = runtime.services.settings
    lines = [
        f"database_path = '{settings.database_path}'",
        "[telegram]",
        f'token = "{settings.telegram.token.get_secret_value()}"',
        f'api_base_url = "{tg.base_url}"',
        f"channel_id = {CHANNEL_ID}",
        "[server]",
        f"port = {runtime.ops.port}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def healthcheck(config: Path) -> int:
    code: int = await asyncio.to_thread(main, ["--config", str(config), "healthcheck"])
    return code


async def test_healthz_fields_an_unwritable_database_a_waiting_post_and_the_command(
    fake_telegram: FakeTelegram, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running(fake_telegram, tmp_path, outbox_lag_seconds=60) as runtime:
        await polled(runtime)
        answer = await get(runtime, "/healthz")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "ok"
        assert body["process"] == "up"
        assert body["database"] == {"writable": True, "error": None}
        repo = body["sources"]["repo"]
        assert repo["stale"] is False
        assert repo["last_error"] is None
        assert 0 <= repo["last_ok_age_seconds"] < 60
        assert body["outbox"] == {"oldest_due_age_seconds": None}
        assert body["problems"] == []
        config = healthcheck_config(runtime, fake_telegram, tmp_path / "weeklybot.toml")
        assert await healthcheck(config) == 0

        await read_only(runtime, True)
        refused = await get(runtime, "/healthz")
        refused_code = await healthcheck(config)
        await read_only(runtime, False)
        assert refused.status_code == 503
        body = refused.json()
        assert body["database"]["writable"] is False
        assert "readonly" in body["database"]["error"]
        assert any(p.startswith("database not writable") for p in body["problems"])
        assert refused_code == 1
        assert "unhealthy: database not writable" in capsys.readouterr().err
        assert (await get(runtime, "/healthz")).status_code == 200  # it recovers

        # A post due two minutes ago for a target no worker sends (X is off): it waits.
        await runtime.services.store.outbox.enqueue(
            idempotency_key="issue:1:en:digest:1",
            target="x",
            kind="digest",
            payload={"parts": []},
            now=time.time() - 120,
        )
        late = await get(runtime, "/healthz")
    assert late.status_code == 503
    waited = late.json()
    assert waited["outbox"]["oldest_due_age_seconds"] >= 120
    assert any("a due post has waited" in p for p in waited["problems"])


async def test_healthz_is_503_when_a_source_has_not_polled_successfully(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    gone = (tmp_path / "no-such-repository").as_uri()
    # Stale after 3 × 0.1 s without a success; the poll at 1 s fails.
    repo = {"url": gone, "mirror_dir": tmp_path / "mirror.git", "poll_seconds": 0.1}
    settings = settings_for(fake_telegram, tmp_path, repo=repo, server=ops_server())
    async with bot_running(settings) as runtime:
        await polled(runtime)
        answer = await get(runtime, "/healthz")
        assert runtime.ops is not None
        problems = await endpoint_health(endpoint_url("127.0.0.1", runtime.ops.port))
    assert answer.status_code == 503
    repo_health = answer.json()["sources"]["repo"]
    assert repo_health["stale"] is True
    assert repo_health["last_ok_age_seconds"] is None
    assert repo_health["last_error"]
    assert any(p.startswith("repo: no successful poll for") for p in problems)


async def test_metrics_after_a_publish_name_every_series(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake_telegram.inject(Fault.retry_after(1), method="sendMessage")  # one 429 first
    async with running(fake_telegram, tmp_path) as runtime:
        before = samples((await get(runtime, "/metrics")).text)
        payload = TelegramPost(parts=(TelegramText("<b>published</b>"),)).to_payload()
        await runtime.services.store.outbox.enqueue(
            idempotency_key="issue:7:zh:digest:1",
            target="telegram",
            kind="digest",
            payload=payload,
            now=time.time(),
        )
        runtime.services.delivery.wake()

        async def published() -> bool:
            return bool(fake_telegram.sent(CHANNEL_ID))

        await eventually(published)
        await polled(runtime)
        await asyncio.sleep(0)
        answer = await get(runtime, "/metrics")
    assert answer.status_code == 200
    after = samples(answer.text)
    tg = (("target", "telegram"),)

    def grew(name: str, labels: tuple[tuple[str, str], ...]) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert grew("weeklybot_posts_sent_total", tg) == 1
    assert grew("weeklybot_rate_limited_total", tg) == 1
    assert grew("weeklybot_posts_failed_total", tg) == 0
    assert grew("weeklybot_posts_in_doubt_total", tg) == 0
    assert after[("weeklybot_outbox_rows", (("state", "sent"), *tg))] == 1
    assert ("weeklybot_extra_queue_length", ()) in after
    assert after[("weeklybot_update_queue_length", ())] == 0  # every update handled
    assert ("weeklybot_outbox_oldest_due_age_seconds", ()) in after
    repo = (("source", "repo"),)
    assert grew("weeklybot_poll_duration_seconds_count", repo) >= 1
    assert ("weeklybot_source_errors_total", repo) in after
    assert after[("weeklybot_source_last_ok_age_seconds", repo)] >= 0
    names = {name for name, _ in after}
    assert "weeklybot_submissions" in answer.text  # a family with no rows yet: declared
    assert "weeklybot_posts_failed_total" in names


def test_judge_health_counts_staleness_from_the_start_until_a_first_success() -> None:
    repo = WatchedSource("git:x#main", "repo", 600)
    feed = WatchedSource("feed:https://f.example/rss", "feed:https://f.example/rss", 60)

    def judge(records: list[PollRecord], now: float, lag: float | None = None) -> Health:
        return judge_health(
            now=now,
            started_at=1000.0,
            database_error=None,
            sources=(repo, feed),
            records=records,
            oldest_due_at=now - 500,
            stale_factor=3,
            outbox_lag_seconds=lag,
        )

    assert judge([], now=1000 + 179).ok  # the feed's 3 × 60 s have not passed yet
    young = judge([], now=1000 + 181)
    assert [s.stale for s in young.sources] == [False, True]
    assert young.problems == ("feed:https://f.example/rss: no successful poll for 181s",)
    failing = PollRecord(feed.name, last_at=2900.0, error="HTTP 500", ok_at=2850.0)
    later = judge([PollRecord(repo.name, last_at=2000.0, ok_at=2000.0), failing], now=3000)
    assert later.ok  # the feed failed just now but succeeded 150 s ago
    assert later.to_json()["sources"]["feed:https://f.example/rss"] == {
        "last_ok_age_seconds": 150.0,
        "last_error": "HTTP 500",
        "stale": False,
    }
    assert later.oldest_due_age_seconds == 500
    assert not judge([], now=1001, lag=499).ok  # the outbox lag counts only when set
    assert judge([], now=1001, lag=501).ok


def test_secrets_of_the_webhooks_are_scrubbed_from_logs() -> None:
    settings = settings_from_values(
        {
            "telegram": {
                "token": TOKEN,
                "channel_id": CHANNEL_ID,
                "webhook_url": "https://bot.example.com/tg",
                "webhook_secret_token": WEBHOOK_SECRET,
            },
            "server": {"github_secret": GITHUB_SECRET},
        }
    )
    assert {WEBHOOK_SECRET, GITHUB_SECRET} <= set(secret_values(settings))
    rendered = render_settings(settings)
    assert WEBHOOK_SECRET not in rendered
    assert GITHUB_SECRET not in rendered
