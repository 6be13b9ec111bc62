"""The wired bot: handlers match the command registry, dry run, graceful stop, watching."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram.ext import CommandHandler

from bot.app import bot_running, build_application
from bot.delivery.workers import DeliveryPool
from bot.fakes.telegram import FakeTelegram
from bot.ops.maintenance import HEARTBEAT_COMPONENT
from bot.weekly.watch import Watcher
from data.db import Database
from data.migrations import migrate
from data.outbox import OutboxStore
from data.store import Store
from handlers.commands import COMMANDS
from handlers.context import BotServices
from publishers.posts import TelegramPost, TelegramText
from tests.conftest import CHANNEL_ID, EDITOR_ID, READER_ID, TOKEN, settings_for
from tests.delivery_support import eventually


async def test_every_command_handler_is_in_the_registry(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = settings_for(fake_telegram, tmp_path)
    async with Database.open(":memory:") as db:
        services = BotServices(settings=settings, store=Store(db), delivery=DeliveryPool())
        application = build_application(settings, services)
    registered = {
        command
        for handlers in application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    assert registered == {spec.name for spec in COMMANDS}
    assert all(spec.description for spec in COMMANDS)


async def test_dry_run_records_posts_without_sending_them(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = settings_for(fake_telegram, tmp_path)
    payload = TelegramPost(parts=(TelegramText("<b>hello</b>"),)).to_payload()
    async with bot_running(settings, dry_run=True) as runtime:
        outbox = runtime.services.store.outbox
        row_id = await outbox.enqueue(
            idempotency_key="dry:1", target="telegram", kind="item", payload=payload, now=0
        )
        assert row_id is not None
        runtime.services.delivery.wake()
        await eventually(lambda: _is_sent(outbox, row_id))
        row = await outbox.get(row_id)
    assert row is not None
    assert row.remote_id == "dry-run-1"
    assert fake_telegram.sent(CHANNEL_ID) == []


@pytest.mark.slow  # a whole bot process
async def test_sigterm_stops_the_running_bot_cleanly_with_exit_0(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    database = tmp_path / "state" / "weeklybot.db"
    env = bot_env(fake_telegram, TOKEN, database, {"WEEKLYBOT_HEARTBEAT_SECONDS": "0.2"})
    process = await bot_command("run", env, tmp_path)
    try:
        await eventually(lambda: _has_beaten(database), within=30)
        healthy = await bot_command("healthcheck", env, tmp_path)
        assert await healthy.wait() == 0
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            _, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, err.decode()[-2000:]
    assert b"Traceback" not in err
    assert b"stopping" in err


def bot_env(tg: FakeTelegram, token: str, database: Path, extra: dict[str, str]) -> dict[str, str]:
    """Environment of a bot on `tg` with no sources, blind to WEEKLYBOT_* set around the tests."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("WEEKLYBOT_")}
    return env | {
        "WEEKLYBOT_TELEGRAM__TOKEN": token,
        "WEEKLYBOT_TELEGRAM__API_BASE_URL": tg.base_url,
        "WEEKLYBOT_TELEGRAM__CHANNEL_ID": str(CHANNEL_ID),
        "WEEKLYBOT_REPO__ENABLED": "false",
        "WEEKLYBOT_FEEDS__URLS": "",
        "WEEKLYBOT_DATABASE_PATH": str(database),
        **extra,
    }


async def bot_command(command: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """Start `python -m bot <command>` with its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def _is_sent(outbox: OutboxStore, row_id: int) -> bool:
    row = await outbox.get(row_id)
    return row is not None and row.state == "sent"


async def _has_beaten(database: Path) -> bool:
    if not await asyncio.to_thread(database.exists):
        return False
    async with Database.open(database) as db:
        try:
            return await Store(db).last_beat(HEARTBEAT_COMPONENT) is not None
        except sqlite3.OperationalError:  # the bot has not created the schema yet
            return False


@pytest.fixture
async def feed_server() -> AsyncIterator[tuple[str, list[str]]]:
    """A loopback RSS feed; append titles to the list to publish entries."""
    titles: list[str] = []

    async def feed(request: web.Request) -> web.Response:
        items = "".join(
            f"<item><title>{t}</title><link>https://example.com/{i}</link>"
            f"<guid>https://example.com/{i}</guid></item>"
            for i, t in enumerate(titles)
        )
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            f"{items}</channel></rss>"
        )
        return web.Response(text=body, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/rss.xml", feed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/rss.xml", titles
    await runner.cleanup()


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    """A local git repository with one empty commit on main."""
    repo = tmp_path / "upstream"
    repo.mkdir()
    git = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", "-C", str(repo)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)  # noqa: S603 - fixed args
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "start"], check=True)  # noqa: S603
    return repo


async def test_a_new_feed_entry_makes_the_repository_poll_now(
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    upstream: Path,
    feed_server: tuple[str, list[str]],
) -> None:
    url, titles = feed_server
    settings = settings_for(
        fake_telegram,
        tmp_path,
        repo={"url": str(upstream), "poll_seconds": 3600},
        feeds={"urls": (url,), "poll_seconds": 0.01},
    )
    async with Database.open(settings.database_path) as db:
        await migrate(db, now=time.time())
        store = Store(db)

        async def deliver(events: Any) -> None:
            return None

        async with httpx.AsyncClient() as http:
            watcher = Watcher(settings, store, http, deliver)
            assert watcher.repo is not None
            await watcher.poll_feeds()  # the feed's baseline: no repository poll
            assert await store.get_source_state(watcher.repo.name) is None
            titles.append("Python 潮流周刊#902：新的一期")
            await asyncio.sleep(0.02)
            await watcher.poll_feeds()
            state = await store.get_source_state(watcher.repo.name)
    assert state is not None
    assert state.cursor is not None  # the repository was fetched because of the entry


@pytest.mark.slow  # a whole bot process
async def test_a_token_telegram_refuses_stops_the_bot_without_printing_it(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    wrong = "654321:AAHwrongwrongwrongwrongwrongwrong99"
    env = bot_env(fake_telegram, wrong, tmp_path / "db.sqlite", {"WEEKLYBOT_LOG_LEVEL": "DEBUG"})
    process = await bot_command("run", env, tmp_path)
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    output = (out + err).decode()
    assert process.returncode == 2
    assert "Telegram refused the bot token; check WEEKLYBOT_TELEGRAM__TOKEN" in output
    assert wrong not in output
    assert wrong.split(":", 1)[1] not in output


async def test_a_failing_handler_is_logged_and_editors_hear_once(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async def boom(update: object, context: object) -> None:
        raise RuntimeError("handler bug")

    async with bot_running(settings_for(fake_telegram, tmp_path)) as runtime:
        # A group of its own: in the default group the unknown-command pointer, added
        # last at build time, would take /boom first.
        runtime.application.add_handler(CommandHandler("boom", boom), group=-5)
        fake_telegram.user_sends(READER_ID, "/boom")
        fake_telegram.user_sends(READER_ID, "/boom")

        async def told() -> bool:
            return any("failed on update" in (m.text or "") for m in fake_telegram.sent(EDITOR_ID))

        await eventually(told)
        fake_telegram.user_sends(READER_ID, "/help")  # the bot keeps answering

        async def answered() -> bool:
            return any("Commands:" in (m.text or "") for m in fake_telegram.sent(READER_ID))

        await eventually(answered)
    notices = [m for m in fake_telegram.sent(EDITOR_ID) if "failed on update" in (m.text or "")]
    assert len(notices) == 1  # throttled: two failures, one notice
    assert "RuntimeError" in (notices[0].text or "")
    assert "handler bug" not in (notices[0].text or "")
